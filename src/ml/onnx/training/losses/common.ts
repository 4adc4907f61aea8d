import { EPSILON } from '../../../losses/losses.ts';
import { inverseCount, maskGrad, reduceMean, reduceSum, scalar } from '../graph-ops.ts';
import type { LossEmitContext } from './registry.ts';

/** What the class weights and the reductions read (a probability or a logits loss's context). */
type TargetsContext = Pick<LossEmitContext, 'g' | 'y' | 'classes' | 'loss'>;

/**
 * Pieces shared by the losses of losses.ts: q = clip(p, EPSILON, 1 - EPSILON) with tfjs's clipByValue
 * gradient (passed where EPSILON <= p <= 1 - EPSILON, else 0), class weights, and the reductions.
 */
export function clippedProbabilities(ctx: LossEmitContext, base: string): { q: string; passGradient(dq: string): string } {
  const { g, p } = ctx;
  const lo = scalar(g, EPSILON, `${base}/eps`);
  const hi = scalar(g, 1 - EPSILON, `${base}/1-eps`);
  const q = g.node('Clip', [p, lo, hi], `${base}/q`);
  const inRange = g.node('And', [g.node('GreaterOrEqual', [p, lo], `${base}/above`), g.node('LessOrEqual', [p, hi], `${base}/below`)], `${base}/in_range`);
  return { q, passGradient: (dq) => maskGrad(g, inRange, dq, `${base}/dp`) };
}

/** Multiplies per-element terms [N, K] by the class weights, if any. */
export function weightedByClass(ctx: TargetsContext, base: string): (t: string, name: string) => string {
  const weights = ctx.loss.classWeights;
  if (!weights) return (t) => t;
  const w = ctx.g.floats(`${base}/class_weights`, [weights.length], Float32Array.from(weights));
  return (t, name) => ctx.g.node('Mul', [t, w], name);
}

/**
 * The loss value and the scale of its gradient for per-element terms [N, K]: `elements` = mean over N*K
 * (sigmoid losses), `samples` = sum over K, mean over N (softmax losses).
 */
export function reduceLoss(ctx: TargetsContext, perElement: string, mean: 'elements' | 'samples', base: string): { value: string; inverseCount: string } {
  const { g, y } = ctx;
  if (mean === 'elements') return { value: reduceMean(g, perElement, [0, 1], false, 'loss'), inverseCount: inverseCount(g, y, [ctx.classes], [0, 1], `${base}/inv_nk`) };
  return { value: reduceMean(g, reduceSum(g, perElement, [1], false, `${base}/per_sample`), [0], false, 'loss'), inverseCount: inverseCount(g, y, [ctx.classes], [0], `${base}/inv_n`) };
}

export const one = (ctx: TargetsContext, base: string) => scalar(ctx.g, 1, `${base}/one`);

/** softplus(x) = log(1 + e^x) = Relu(x) + log(1 + e^-|x|), without overflow (-log sigmoid(-x)), as from-logits.ts. */
export function softplus(ctx: TargetsContext, x: string, base: string): string {
  const { g } = ctx;
  const tail = g.node('Log', [g.node('Add', [one(ctx, base), g.node('Exp', [g.node('Neg', [g.node('Abs', [x], `${base}/|x|`)], `${base}/-|x|`)], `${base}/exp`)], `${base}/1+exp`)], `${base}/log1p_exp`);
  return g.node('Add', [g.node('Relu', [x], `${base}/max0`), tail], base);
}
