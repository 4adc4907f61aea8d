import type { OnnxGraphBuilder } from '../../graph-builder.ts';
import { scalar } from '../graph-ops.ts';
import { clippedProbabilities, one, reduceLoss, weightedByClass } from './common.ts';
import { registerLossEmitter, type LossEmitContext } from './registry.ts';

/**
 * t^gamma and its derivative gamma * t^(gamma-1), the way tfjs's pow differentiates (so gamma 0 gives 0,
 * and t >= 1e-7 here, never 0).
 */
export function power(g: OnnxGraphBuilder, t: string, gamma: number, base: string): { value: string; derivative: string } {
  const value = g.node('Pow', [t, scalar(g, gamma, `${base}/gamma`)], base);
  const derivative = g.node('Mul', [scalar(g, gamma, `${base}/gamma_factor`), g.node('Pow', [t, scalar(g, gamma - 1, `${base}/gamma-1`)], `${base}/pow_gamma-1`)], `${base}/d`);
  return { value, derivative };
}

/**
 * Focal loss as losses.ts `focalLoss` (Lin et al. 2017). Sigmoid form, mean over N*K of
 * -(alpha y (1-q)^g log q + (1-alpha)(1-y) q^g log(1-q)); softmax form (`softmax: true`), mean over N of
 * the sum over K of -alpha y (1-q)^g log q.
 */
function focal(ctx: LossEmitContext) {
  const { g, y } = ctx;
  const alpha = Number(ctx.loss.options?.alpha ?? 0.25);
  const gamma = Number(ctx.loss.options?.gamma ?? 2);
  const softmax = Boolean(ctx.loss.options?.softmax);
  const base = 'loss_focal';
  const { q, passGradient } = clippedProbabilities(ctx, base);
  const weighted = weightedByClass(ctx, base);
  const oneMinusQ = g.node('Sub', [one(ctx, base), q], `${base}/1-q`);
  const logQ = g.node('Log', [q], `${base}/log_q`);
  // positive term y (1-q)^g log q and its derivative y (-g (1-q)^(g-1) log q + (1-q)^g / q)
  const focusPos = power(g, oneMinusQ, gamma, `${base}/(1-q)^g`);
  const pos = g.node('Mul', [g.node('Mul', [y, focusPos.value], `${base}/y(1-q)^g`), logQ], `${base}/pos`);
  const dPosUnit = g.node('Sub', [g.node('Div', [focusPos.value, q], `${base}/(1-q)^g/q`), g.node('Mul', [focusPos.derivative, logQ], `${base}/g(1-q)^(g-1)log_q`)], `${base}/dpos_unit`);
  const dPos = g.node('Mul', [y, dPosUnit], `${base}/dpos`);
  if (softmax) {
    const minusAlpha = scalar(g, -alpha, `${base}/-alpha`);
    const perElement = weighted(g.node('Mul', [pos, minusAlpha], `${base}/per`), `${base}/per_w`);
    const { value, inverseCount } = reduceLoss(ctx, perElement, 'samples', base);
    const dq = g.node('Mul', [weighted(g.node('Mul', [dPos, minusAlpha], `${base}/dq_unit`), `${base}/dq_w`), inverseCount], `${base}/dq`);
    return { loss: value, dp: passGradient(dq) };
  }
  // negative term (1-y) q^g log(1-q) and its derivative (1-y) (g q^(g-1) log(1-q) - q^g / (1-q))
  const oneMinusY = g.node('Sub', [one(ctx, base), y], `${base}/1-y`);
  const logOneMinusQ = g.node('Log', [oneMinusQ], `${base}/log_1-q`);
  const focusNeg = power(g, q, gamma, `${base}/q^g`);
  const neg = g.node('Mul', [g.node('Mul', [oneMinusY, focusNeg.value], `${base}/(1-y)q^g`), logOneMinusQ], `${base}/neg`);
  const dNegUnit = g.node('Sub', [g.node('Mul', [focusNeg.derivative, logOneMinusQ], `${base}/gq^(g-1)log_1-q`), g.node('Div', [focusNeg.value, oneMinusQ], `${base}/q^g/(1-q)`)], `${base}/dneg_unit`);
  const dNeg = g.node('Mul', [oneMinusY, dNegUnit], `${base}/dneg`);
  const a = scalar(g, alpha, `${base}/alpha`);
  const b = scalar(g, 1 - alpha, `${base}/1-alpha`);
  const combine = (p: string, n: string, name: string) => g.node('Neg', [g.node('Add', [g.node('Mul', [p, a], `${name}/a`), g.node('Mul', [n, b], `${name}/b`)], `${name}/sum`)], name);
  const perElement = weighted(combine(pos, neg, `${base}/per`), `${base}/per_w`);
  const { value, inverseCount } = reduceLoss(ctx, perElement, 'elements', base);
  const dq = g.node('Mul', [weighted(combine(dPos, dNeg, `${base}/dq_unit`), `${base}/dq_w`), inverseCount], `${base}/dq`);
  return { loss: value, dp: passGradient(dq) };
}

registerLossEmitter('focal', focal);
