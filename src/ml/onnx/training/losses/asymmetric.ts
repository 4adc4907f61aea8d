import { EPSILON } from '../../../losses/losses.ts';
import { maskGrad, scalar } from '../graph-ops.ts';
import { clippedProbabilities, one, reduceLoss, weightedByClass } from './common.ts';
import { power } from './focal.ts';
import { registerLossEmitter, type LossEmitContext } from './registry.ts';

/**
 * Asymmetric loss as losses.ts `asymmetricLoss` (Ridnik et al. 2021), mean over N*K of
 * -(y (1-q)^gp log q + (1-y) m^gn log(clip(1-m, EPSILON, 1))) with the shifted probability
 * m = max(q - clip, 0). Gradients at the kinks as tfjs: max passes where q - clip >= 0, the inner clip
 * where EPSILON <= 1-m <= 1.
 */
function asymmetric(ctx: LossEmitContext) {
  const { g, y } = ctx;
  const gammaNeg = Number(ctx.loss.options?.gamma_neg ?? 4);
  const gammaPos = Number(ctx.loss.options?.gamma_pos ?? 1);
  const clip = Number(ctx.loss.options?.clip ?? 0.05);
  const base = 'loss_asl';
  const { q, passGradient } = clippedProbabilities(ctx, base);
  const weighted = weightedByClass(ctx, base);
  const logQ = g.node('Log', [q], `${base}/log_q`);
  const focusPos = power(g, g.node('Sub', [one(ctx, base), q], `${base}/1-q`), gammaPos, `${base}/(1-q)^gp`);
  const pos = g.node('Mul', [g.node('Mul', [y, focusPos.value], `${base}/y(1-q)^gp`), logQ], `${base}/pos`);
  const dPos = g.node('Mul', [y, g.node('Sub', [g.node('Div', [focusPos.value, q], `${base}/(1-q)^gp/q`), g.node('Mul', [focusPos.derivative, logQ], `${base}/gp(1-q)^(gp-1)log_q`)], `${base}/dpos_unit`)], `${base}/dpos`);

  const zero = scalar(g, 0, `${base}/zero`);
  const qMinusClip = clip > 0 ? g.node('Sub', [q, scalar(g, clip, `${base}/clip`)], `${base}/q-clip`) : q;
  const shifted = clip > 0 ? g.node('Max', [qMinusClip, zero], `${base}/m`) : q;
  const oneMinusShifted = g.node('Sub', [one(ctx, base), shifted], `${base}/1-m`);
  const epsilon = scalar(g, EPSILON, `${base}/eps_inner`);
  const inner = g.node('Clip', [oneMinusShifted, epsilon, one(ctx, `${base}/inner`)], `${base}/clip(1-m)`);
  const innerPasses = g.node('And', [g.node('GreaterOrEqual', [oneMinusShifted, epsilon], `${base}/inner_above`), g.node('LessOrEqual', [oneMinusShifted, one(ctx, `${base}/inner_hi`)], `${base}/inner_below`)], `${base}/inner_pass`);
  const logInner = g.node('Log', [inner], `${base}/log_inner`);
  const oneMinusY = g.node('Sub', [one(ctx, base), y], `${base}/1-y`);
  const focusNeg = power(g, shifted, gammaNeg, `${base}/m^gn`);
  const neg = g.node('Mul', [g.node('Mul', [oneMinusY, focusNeg.value], `${base}/(1-y)m^gn`), logInner], `${base}/neg`);
  // d/dm of m^gn log(inner) = gn m^(gn-1) log(inner) - m^gn / inner (where the inner clip passes)
  const dLogInner = maskGrad(g, innerPasses, g.node('Neg', [g.node('Div', [focusNeg.value, inner], `${base}/m^gn/inner`)], `${base}/-m^gn/inner`), `${base}/dlog_inner`);
  const dNegDm = g.node('Add', [g.node('Mul', [focusNeg.derivative, logInner], `${base}/gn_m^(gn-1)log_inner`), dLogInner], `${base}/dneg_dm`);
  const dNegDq = clip > 0 ? maskGrad(g, g.node('GreaterOrEqual', [qMinusClip, zero], `${base}/shift_passes`), dNegDm, `${base}/dneg_dq`) : dNegDm;
  const dNeg = g.node('Mul', [oneMinusY, dNegDq], `${base}/dneg`);

  const perElement = weighted(g.node('Neg', [g.node('Add', [pos, neg], `${base}/sum`)], `${base}/per`), `${base}/per_w`);
  const { value, inverseCount } = reduceLoss(ctx, perElement, 'elements', base);
  const dq = g.node('Mul', [weighted(g.node('Neg', [g.node('Add', [dPos, dNeg], `${base}/dsum`)], `${base}/dq_unit`), `${base}/dq_w`), inverseCount], `${base}/dq`);
  return { loss: value, dp: passGradient(dq) };
}

registerLossEmitter('asl', asymmetric);
