import { clippedProbabilities, one, reduceLoss, weightedByClass } from './common.ts';
import { registerLossEmitter, type LossEmitContext } from './registry.ts';

/** Binary cross-entropy, mean over N*K of -(y log q + (1-y) log(1-q)) (losses.ts `binaryCrossEntropy`). */
function binaryCrossEntropy(ctx: LossEmitContext) {
  const { g, y } = ctx;
  const base = 'loss_bce';
  const { q, passGradient } = clippedProbabilities(ctx, base);
  const weighted = weightedByClass(ctx, base);
  const oneMinusY = g.node('Sub', [one(ctx, base), y], `${base}/1-y`);
  const oneMinusQ = g.node('Sub', [one(ctx, base), q], `${base}/1-q`);
  const positive = g.node('Mul', [y, g.node('Log', [q], `${base}/log_q`)], `${base}/pos`);
  const negative = g.node('Mul', [oneMinusY, g.node('Log', [oneMinusQ], `${base}/log_1-q`)], `${base}/neg`);
  const perElement = weighted(g.node('Neg', [g.node('Add', [positive, negative], `${base}/sum`)], `${base}/per`), `${base}/per_w`);
  const { value, inverseCount } = reduceLoss(ctx, perElement, 'elements', base);
  // d/dq of -(y log q + (1-y) log(1-q)) = (1-y)/(1-q) - y/q, times 1/(N*K) and the class weight
  const dUnit = g.node('Sub', [g.node('Div', [oneMinusY, oneMinusQ], `${base}/(1-y)/(1-q)`), g.node('Div', [y, q], `${base}/y/q`)], `${base}/dq_unit`);
  const dq = g.node('Mul', [weighted(dUnit, `${base}/dq_w`), inverseCount], `${base}/dq`);
  return { loss: value, dp: passGradient(dq) };
}

/** Categorical cross-entropy, mean over N of the sum over K of -y log q (losses.ts `crossEntropy`). */
function crossEntropy(ctx: LossEmitContext) {
  const { g, y } = ctx;
  const base = 'loss_ce';
  const { q, passGradient } = clippedProbabilities(ctx, base);
  const weighted = weightedByClass(ctx, base);
  const perElement = weighted(g.node('Neg', [g.node('Mul', [y, g.node('Log', [q], `${base}/log_q`)], `${base}/y_log_q`)], `${base}/per`), `${base}/per_w`);
  const { value, inverseCount } = reduceLoss(ctx, perElement, 'samples', base);
  const dUnit = g.node('Neg', [g.node('Div', [y, q], `${base}/y/q`)], `${base}/dq_unit`);
  const dq = g.node('Mul', [weighted(dUnit, `${base}/dq_w`), inverseCount], `${base}/dq`);
  return { loss: value, dp: passGradient(dq) };
}

registerLossEmitter('bce', binaryCrossEntropy);
registerLossEmitter('ce', crossEntropy);
