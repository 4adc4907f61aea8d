import { reduceSum } from '../graph-ops.ts';
import { reduceLoss, softplus, weightedByClass } from './common.ts';
import { registerLogitsLossEmitter, type LogitsLossEmitContext } from './registry.ts';

/**
 * Binary cross-entropy from the logits under a sigmoid (losses.ts `binaryCrossEntropy().logits`, PyTorch's
 * BCEWithLogitsLoss): mean over N*K of w (max(z, 0) - z y + log(1 + exp(-|z|))), gradient w (sigmoid(z) - y) / (N K).
 */
function binaryCrossEntropyFromLogits(ctx: LogitsLossEmitContext) {
  const { g, y, z } = ctx;
  const base = 'loss_bce_logits';
  const weighted = weightedByClass(ctx, base);
  // softplus(z) - z y = max(z, 0) - z y + log(1 + exp(-|z|))
  const perElement = weighted(g.node('Sub', [softplus(ctx, z, `${base}/softplus`), g.node('Mul', [z, y], `${base}/zy`)], `${base}/per`), `${base}/per_w`);
  const { value, inverseCount } = reduceLoss(ctx, perElement, 'elements', base);
  const dUnit = g.node('Sub', [g.node('Sigmoid', [z], `${base}/sigmoid`), y], `${base}/dz_unit`);
  return { loss: value, dz: g.node('Mul', [weighted(dUnit, `${base}/dz_w`), inverseCount], `${base}/dz`) };
}

/**
 * Categorical cross-entropy from the logits under a softmax (losses.ts `crossEntropy().logits`, PyTorch's
 * CrossEntropyLoss with probability targets): mean over N of -sum_K w y log_softmax(z); gradient
 * (softmax(z) sum_K(w y) - w y) / N (softmax(z) - y for unweighted targets summing to 1).
 */
function crossEntropyFromLogits(ctx: LogitsLossEmitContext) {
  const { g, y, z } = ctx;
  const base = 'loss_ce_logits';
  const weighted = weightedByClass(ctx, base);
  const logSoftmax = g.node('LogSoftmax', [z], `${base}/log_softmax`, [{ name: 'axis', int: 1 }]);
  const wy = weighted(y, `${base}/wy`);
  const perElement = g.node('Neg', [g.node('Mul', [wy, logSoftmax], `${base}/wy_log_softmax`)], `${base}/per`);
  const { value, inverseCount } = reduceLoss(ctx, perElement, 'samples', base);
  const softmax = g.node('Exp', [logSoftmax], `${base}/softmax`);
  const targetMass = reduceSum(g, wy, [1], true, `${base}/sum_wy`);
  const dUnit = g.node('Sub', [g.node('Mul', [softmax, targetMass], `${base}/softmax_sum_wy`), wy], `${base}/dz_unit`);
  return { loss: value, dz: g.node('Mul', [dUnit, inverseCount], `${base}/dz`) };
}

registerLogitsLossEmitter('bce', 'sigmoid', binaryCrossEntropyFromLogits);
registerLogitsLossEmitter('ce', 'softmax', crossEntropyFromLogits);
