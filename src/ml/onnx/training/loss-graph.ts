import { EPSILON } from '../../losses/losses.ts';
import type { OnnxGraphBuilder } from '../graph-builder.ts';
import { inverseCount, maskGrad, reduceMean, reduceSum, scalar } from './graph-ops.ts';

/**
 * The losses of losses.ts on the model's probabilities p [N, K] (after its sigmoid/softmax) and targets
 * y [N, K], with the same epsilon clipping of p and its gradient (tfjs's clipByValue passes the gradient
 * where EPSILON <= p <= 1 - EPSILON, else 0), so loss and gradients match tfjs's.
 * bce: mean over N*K of -(y log q + (1-y) log(1-q)); ce: mean over N of sum over K of -y log q; q = clip(p);
 * optional class weights scale each class's terms.
 */
export type TrainLossKind = 'bce' | 'ce';

export interface TrainLoss {
  kind: TrainLossKind;
  classWeights?: readonly number[];
}

export function emitLoss(g: OnnxGraphBuilder, loss: TrainLoss, p: string, y: string): { loss: string; dp: string } {
  const base = `loss_${loss.kind}`;
  const q = g.node('Clip', [p, scalar(g, EPSILON, `${base}/eps`), scalar(g, 1 - EPSILON, `${base}/1-eps`)], `${base}/q`);
  const inRange = g.node(
    'And',
    [g.node('GreaterOrEqual', [p, scalar(g, EPSILON, `${base}/lo`)], `${base}/above`), g.node('LessOrEqual', [p, scalar(g, 1 - EPSILON, `${base}/hi`)], `${base}/below`)],
    `${base}/in_range`,
  );
  const weights = loss.classWeights ? g.floats(`${base}/class_weights`, [loss.classWeights.length], Float32Array.from(loss.classWeights)) : undefined;
  const weighted = (t: string, name: string) => (weights ? g.node('Mul', [t, weights], name) : t);
  const yOverQ = g.node('Div', [y, q], `${base}/y/q`);
  if (loss.kind === 'bce') {
    const one = scalar(g, 1, `${base}/one`);
    const oneMinusY = g.node('Sub', [one, y], `${base}/1-y`);
    const oneMinusQ = g.node('Sub', [one, q], `${base}/1-q`);
    const positive = g.node('Mul', [y, g.node('Log', [q], `${base}/log_q`)], `${base}/pos`);
    const negative = g.node('Mul', [oneMinusY, g.node('Log', [oneMinusQ], `${base}/log_1-q`)], `${base}/neg`);
    const perElement = weighted(g.node('Neg', [g.node('Add', [positive, negative], `${base}/sum`)], `${base}/per`), `${base}/per_w`);
    const value = reduceMean(g, perElement, [0, 1], false, 'loss');
    // d/dq of -(y log q + (1-y) log(1-q)) = (1-y)/(1-q) - y/q, times 1/(N*K) and the class weight
    const dPer = weighted(g.node('Sub', [g.node('Div', [oneMinusY, oneMinusQ], `${base}/(1-y)/(1-q)`), yOverQ], `${base}/dq_unit`), `${base}/dq_w`);
    const dq = g.node('Mul', [dPer, inverseCount(g, y, [0, 1], `${base}/inv_nk`)], `${base}/dq`);
    return { loss: value, dp: maskGrad(g, inRange, dq, `${base}/dp`) };
  }
  const perElement = weighted(g.node('Neg', [g.node('Mul', [y, g.node('Log', [q], `${base}/log_q`)], `${base}/y_log_q`)], `${base}/per`), `${base}/per_w`);
  const value = reduceMean(g, reduceSum(g, perElement, [1], false, `${base}/per_sample`), [0], false, 'loss');
  const dq = g.node('Mul', [weighted(g.node('Neg', [yOverQ], `${base}/dq_unit`), `${base}/dq_w`), inverseCount(g, y, [0], `${base}/inv_n`)], `${base}/dq`);
  return { loss: value, dp: maskGrad(g, inRange, dq, `${base}/dp`) };
}
