import { FastBatchNormalization } from '../../../layers/batch-norm.ts';
import { onnxAxis } from '../../layer-converters.ts';
import { inverseCount, reduceMean, reduceSum, reshape, scalar } from '../graph-ops.ts';
import { registerLayerEmitter } from './registry.ts';
import { layerConfig, NCHW_BATCH_AND_SPACE, staticDims, unsupported, type EmitContext, type Emitted, type LayerVariable } from './types.ts';

interface BatchNormConfig {
  axis: number;
  epsilon: number;
  momentum: number;
  center: boolean;
  scale: boolean;
}

/**
 * FastBatchNormalization in training mode (in inference mode when the step says so: `inferenceBatchNorm`): batch mean and biased variance over N, H, W, y = (x - mean) *
 * gamma / sqrt(var + eps) + beta; moving stats += (batch stat - moving) * (1 - momentum). Backward in
 * closed form (as batch-norm-ops.ts): dx = a*dy - xc * a*sum(dy*xc)*inv^2/m - a*sum(dy)/m, a = gamma*inv.
 */
function batchNorm(ctx: EmitContext): Emitted {
  const { g, layer } = ctx;
  if (!(layer instanceof FastBatchNormalization)) unsupported(ctx, 'not the FastBatchNormalization class (its training maths is the one emitted)');
  const c = layerConfig<BatchNormConfig>(layer);
  const rank = ctx.inputs[0].shape.length;
  if (rank !== 4 || onnxAxis(c.axis, rank) !== 1) unsupported(ctx, `axis ${c.axis} of a rank-${rank} input`);
  if (!c.center || !c.scale) unsupported(ctx, 'center or scale off');
  // gamma, beta, moving mean, moving variance (creation order, whether the layer is trainable or not)
  const [gammaVar, betaVar, meanVar, varianceVar] = layer.weights;
  if (!varianceVar) unsupported(ctx, 'weights not built');
  const [h, w, channels] = staticDims(ctx, ctx.inputs[0].shape);
  const base = layer.name;
  const x = ctx.inputs[0].name;
  if (!ctx.training) return inferenceBatchNorm(ctx, { gammaVar, betaVar, meanVar, varianceVar, channels, epsilon: c.epsilon });
  const mean = reduceMean(g, x, NCHW_BATCH_AND_SPACE, true, `${base}/mean`);
  const xc = g.node('Sub', [x, mean], `${base}/xc`);
  const variance = reduceMean(g, g.node('Mul', [xc, xc], `${base}/xc2`), NCHW_BATCH_AND_SPACE, true, `${base}/var`);
  const invStd = g.node('Reciprocal', [g.node('Sqrt', [g.node('Add', [variance, scalar(g, c.epsilon, `${base}/eps`)], `${base}/var+eps`)], `${base}/std`)], `${base}/inv_std`);
  const a = g.node('Mul', [reshape(g, ctx.weight(gammaVar), [1, channels, 1, 1], `${base}/gamma4`), invStd], `${base}/a`);
  const y = g.node('Add', [g.node('Mul', [xc, a], `${base}/xc*a`), reshape(g, ctx.weight(betaVar), [1, channels, 1, 1], `${base}/beta4`)], base);
  const keep = scalar(g, 1 - c.momentum, `${base}/1-momentum`);
  for (const [label, variable, batchStat] of [['moving_mean', meanVar, mean], ['moving_variance', varianceVar, variance]] as const) {
    const old = ctx.state(variable);
    const stat = reshape(g, batchStat, [channels], `${base}/${label}/batch`);
    ctx.setNextState(variable, g.node('Sub', [old, g.node('Mul', [g.node('Sub', [old, stat], `${base}/${label}/drift`), keep], `${base}/${label}/step`)], `${base}/${label}`));
  }
  return {
    output: y,
    backward(dy, [wantInput]) {
      const sumDy = reduceSum(g, dy, NCHW_BATCH_AND_SPACE, true, `${base}/sum_dy`);
      const sumDyXc = reduceSum(g, g.node('Mul', [dy, xc], `${base}/dy*xc`), NCHW_BATCH_AND_SPACE, true, `${base}/sum_dy_xc`);
      const weights: [LayerVariable, string][] = [
        [gammaVar, reshape(g, g.node('Mul', [sumDyXc, invStd], `${base}/dgamma4`), [channels], `${base}/dgamma`)],
        [betaVar, reshape(g, sumDy, [channels], `${base}/dbeta`)],
      ];
      if (!wantInput) return { inputs: [undefined], weights };
      const invM = inverseCount(g, x, [channels, h, w], NCHW_BATCH_AND_SPACE, `${base}/inv_m`);
      const k = g.node('Mul', [g.node('Mul', [g.node('Mul', [a, sumDyXc], `${base}/a*sdx`), g.node('Mul', [invStd, invStd], `${base}/inv2`)], `${base}/k_m`), invM], `${base}/k`);
      const d = g.node('Mul', [g.node('Mul', [a, sumDy], `${base}/a*sd`), invM], `${base}/d`);
      const dx = g.node('Sub', [g.node('Sub', [g.node('Mul', [dy, a], `${base}/dy*a`), g.node('Mul', [xc, k], `${base}/xc*k`)], `${base}/dx_part`), d], `${base}/dx`);
      return { inputs: [dx], weights };
    },
  };
}

/**
 * Inference mode (a frozen network's batch norms, as tfjs applies them with training: false): y = (x -
 * moving mean) * a + beta, a = gamma / sqrt(moving variance + eps); dx = a * dy. The moving statistics
 * are read as weights (a frozen input or constants) and left alone.
 */
function inferenceBatchNorm(ctx: EmitContext, v: { gammaVar: LayerVariable; betaVar: LayerVariable; meanVar: LayerVariable; varianceVar: LayerVariable; channels: number; epsilon: number }): Emitted {
  const { g, layer } = ctx;
  const base = layer.name;
  const x = ctx.inputs[0].name;
  const per = (variable: LayerVariable, label: string) => reshape(g, ctx.weight(variable), [1, v.channels, 1, 1], `${base}/${label}4`);
  const invStd = g.node('Reciprocal', [g.node('Sqrt', [g.node('Add', [per(v.varianceVar, 'variance'), scalar(g, v.epsilon, `${base}/eps`)], `${base}/var+eps`)], `${base}/std`)], `${base}/inv_std`);
  const a = g.node('Mul', [per(v.gammaVar, 'gamma'), invStd], `${base}/a`);
  const xc = g.node('Sub', [x, per(v.meanVar, 'mean')], `${base}/xc`);
  const y = g.node('Add', [g.node('Mul', [xc, a], `${base}/xc*a`), per(v.betaVar, 'beta')], base);
  return {
    output: y,
    backward(dy, [wantInput]) {
      const weights: [LayerVariable, string][] = [
        [v.gammaVar, reshape(g, g.node('Mul', [reduceSum(g, g.node('Mul', [dy, xc], `${base}/dy*xc`), NCHW_BATCH_AND_SPACE, true, `${base}/sum_dy_xc`), invStd], `${base}/dgamma4`), [v.channels], `${base}/dgamma`)],
        [v.betaVar, reshape(g, reduceSum(g, dy, NCHW_BATCH_AND_SPACE, true, `${base}/sum_dy`), [v.channels], `${base}/dbeta`)],
      ];
      return { inputs: [wantInput ? g.node('Mul', [dy, a], `${base}/dx`) : undefined], weights };
    },
  };
}

registerLayerEmitter('BatchNormalization', batchNorm);
