import { maskGrad, reduceSum, scalar } from '../graph-ops.ts';
import { one, reduceLoss, softplus, weightedByClass } from './common.ts';
import { registerLogitsLossEmitter, type LogitsLossEmitContext } from './registry.ts';

/**
 * A focusing term of the sigmoid losses, t^gamma softplus(x) with t = sigmoid(x) the wrong side's probability
 * (x = -z for a positive, z for a negative), and its derivative t^gamma (gamma u softplus(x) + t) with
 * u = sigmoid(-x): from-logits.ts `focusing`.
 */
function focusing(ctx: LogitsLossEmitContext, x: string, gamma: number, base: string): { value: string; derivative: string } {
  const { g } = ctx;
  const t = g.node('Sigmoid', [x], `${base}/t`);
  const u = g.node('Sigmoid', [g.node('Neg', [x], `${base}/-x`)], `${base}/u`);
  const sp = softplus(ctx, x, `${base}/softplus`);
  const tg = g.node('Pow', [t, scalar(g, gamma, `${base}/gamma`)], `${base}/t^g`);
  const inner = g.node('Add', [g.node('Mul', [g.node('Mul', [u, sp], `${base}/u_sp`), scalar(g, gamma, `${base}/gamma_factor`)], `${base}/g_u_sp`), t], `${base}/inner`);
  return { value: g.node('Mul', [tg, sp], `${base}/value`), derivative: g.node('Mul', [tg, inner], `${base}/derivative`) };
}

/**
 * Positive and negative terms weighted by a and b ([N, K]), mean over N*K: the loss and its gradient at z,
 * w (b neg' - a pos') / (N K) (pos is a function of -z).
 */
function sigmoidTerms(ctx: LogitsLossEmitContext, a: string, pos: { value: string; derivative: string }, b: string, neg: { value: string; derivative: string }, base: string) {
  const { g } = ctx;
  const weighted = weightedByClass(ctx, base);
  const perElement = weighted(g.node('Add', [g.node('Mul', [a, pos.value], `${base}/a_pos`), g.node('Mul', [b, neg.value], `${base}/b_neg`)], `${base}/per`), `${base}/per_w`);
  const { value, inverseCount } = reduceLoss(ctx, perElement, 'elements', base);
  const dUnit = g.node('Sub', [g.node('Mul', [b, neg.derivative], `${base}/b_dneg`), g.node('Mul', [a, pos.derivative], `${base}/a_dpos`)], `${base}/dz_unit`);
  return { loss: value, dz: g.node('Mul', [weighted(dUnit, `${base}/dz_w`), inverseCount], `${base}/dz`) };
}

/**
 * Focal loss from the logits (losses.ts `focalLoss().logits`, from-logits.ts). Sigmoid form, mean over N*K of
 * w (alpha y (1-p)^g softplus(-z) + (1-alpha)(1-y) p^g softplus(z)) (torchvision's sigmoid_focal_loss on 0/1
 * targets); softmax form, mean over N of -alpha sum_K w y (1-p)^g log_softmax(z), gradient
 * -alpha (a - p sum_K a) / N with a = w y ((1-p)^g - g p log p (1-p)^(g-1)), the second term 0 where 1 - p is 0.
 */
function focalFromLogits(ctx: LogitsLossEmitContext) {
  const { g, y, z } = ctx;
  const alpha = Number(ctx.loss.options?.alpha ?? 0.25);
  const gamma = Number(ctx.loss.options?.gamma ?? 2);
  const base = 'loss_focal_logits';
  if (!ctx.loss.options?.softmax) {
    const a = g.node('Mul', [y, scalar(g, alpha, `${base}/alpha`)], `${base}/a`);
    const b = g.node('Mul', [g.node('Sub', [one(ctx, base), y], `${base}/1-y`), scalar(g, 1 - alpha, `${base}/1-alpha`)], `${base}/b`);
    const pos = focusing(ctx, g.node('Neg', [z], `${base}/-z`), gamma, `${base}/pos`);
    return sigmoidTerms(ctx, a, pos, b, focusing(ctx, z, gamma, `${base}/neg`), base);
  }
  const weighted = weightedByClass(ctx, base);
  const logP = g.node('LogSoftmax', [z], `${base}/log_p`, [{ name: 'axis', int: 1 }]);
  const p = g.node('Exp', [logP], `${base}/p`);
  const q = g.node('Sub', [one(ctx, base), p], `${base}/1-p`);
  const focus = g.node('Pow', [q, scalar(g, gamma, `${base}/gamma`)], `${base}/(1-p)^g`);
  const minusAlpha = scalar(g, -alpha, `${base}/-alpha`);
  const perElement = g.node('Mul', [weighted(g.node('Mul', [g.node('Mul', [y, focus], `${base}/y_focus`), logP], `${base}/y_focus_log_p`), `${base}/per_w`), minusAlpha], `${base}/per`);
  const { value, inverseCount } = reduceLoss(ctx, perElement, 'samples', base);
  const positive = g.node('Greater', [q, scalar(g, 0, `${base}/zero`)], `${base}/q>0`);
  const safeQ = g.node('Where', [positive, q, one(ctx, `${base}/safe`)], `${base}/safe_q`);
  const gpLogP = g.node('Mul', [g.node('Mul', [p, logP], `${base}/p_log_p`), scalar(g, gamma, `${base}/gamma_factor`)], `${base}/g_p_log_p`);
  const second = maskGrad(g, positive, g.node('Mul', [gpLogP, g.node('Pow', [safeQ, scalar(g, gamma - 1, `${base}/gamma-1`)], `${base}/q^(g-1)`)], `${base}/second_raw`), `${base}/second`);
  const a = weighted(g.node('Mul', [y, g.node('Sub', [focus, second], `${base}/u`)], `${base}/y_u`), `${base}/a`);
  const dUnit = g.node('Sub', [a, g.node('Mul', [p, reduceSum(g, a, [1], true, `${base}/sum_a`)], `${base}/p_sum_a`)], `${base}/dz_unit`);
  return { loss: value, dz: g.node('Mul', [dUnit, g.node('Mul', [inverseCount, minusAlpha], `${base}/scale`)], `${base}/dz`) };
}

/**
 * Asymmetric loss from the logits (losses.ts `asymmetricLoss().logits`, from-logits.ts), mean over N*K of
 * w (y (1-p)^gp softplus(-z) - (1-y) m^gn log(1-m)), m = max(p - clip, 0), log(1-m) = log(min(sigmoid(-z) + clip, 1))
 * (clip > 0; the gradient of the negative term is 0 where m = 0) or -softplus(z) (clip = 0).
 */
function asymmetricFromLogits(ctx: LogitsLossEmitContext) {
  const { g, y, z } = ctx;
  const gammaNeg = Number(ctx.loss.options?.gamma_neg ?? 4);
  const gammaPos = Number(ctx.loss.options?.gamma_pos ?? 1);
  const clip = Number(ctx.loss.options?.clip ?? 0.05);
  const base = 'loss_asl_logits';
  const pos = focusing(ctx, g.node('Neg', [z], `${base}/-z`), gammaPos, `${base}/pos`);
  const oneMinusY = g.node('Sub', [one(ctx, base), y], `${base}/1-y`);
  if (clip <= 0) return sigmoidTerms(ctx, y, pos, oneMinusY, focusing(ctx, z, gammaNeg, `${base}/neg`), base);
  const p = g.node('Sigmoid', [z], `${base}/p`);
  const u = g.node('Sigmoid', [g.node('Neg', [z], `${base}/-z_u`)], `${base}/u`);
  const inner = g.node('Min', [g.node('Add', [u, scalar(g, clip, `${base}/clip`)], `${base}/u+clip`), one(ctx, `${base}/inner`)], `${base}/1-m`);
  const logInner = g.node('Log', [inner], `${base}/log_1-m`);
  const m = g.node('Max', [g.node('Sub', [p, scalar(g, clip, `${base}/clip_m`)], `${base}/p-clip`), scalar(g, 0, `${base}/zero`)], `${base}/m`);
  const shifted = g.node('Greater', [m, scalar(g, 0, `${base}/zero_m`)], `${base}/m>0`);
  const safeM = g.node('Where', [shifted, m, one(ctx, `${base}/safe`)], `${base}/safe_m`);
  const mg = g.node('Pow', [m, scalar(g, gammaNeg, `${base}/gn`)], `${base}/m^gn`);
  const gnTerm = g.node('Mul', [g.node('Mul', [g.node('Pow', [safeM, scalar(g, gammaNeg - 1, `${base}/gn-1`)], `${base}/m^(gn-1)`), logInner], `${base}/m^(gn-1)_log`), scalar(g, gammaNeg, `${base}/gn_factor`)], `${base}/gn_term`);
  const dm = g.node('Sub', [gnTerm, g.node('Div', [mg, inner], `${base}/m^gn/(1-m)`)], `${base}/dm`);
  const derivative = maskGrad(g, shifted, g.node('Neg', [g.node('Mul', [dm, g.node('Mul', [p, u], `${base}/pu`)], `${base}/dm_pu`)], `${base}/dneg_raw`), `${base}/dneg`);
  const neg = { value: g.node('Neg', [g.node('Mul', [mg, logInner], `${base}/m^gn_log`)], `${base}/neg`), derivative };
  return sigmoidTerms(ctx, y, pos, oneMinusY, neg, base);
}

registerLogitsLossEmitter('focal', (loss) => (loss.options?.softmax ? 'softmax' : 'sigmoid'), focalFromLogits);
registerLogitsLossEmitter('asl', 'sigmoid', asymmetricFromLogits);
