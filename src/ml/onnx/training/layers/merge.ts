import { onnxAxis } from '../../layer-converters.ts';
import { multiOutputNode, reduceSum } from '../graph-ops.ts';
import { registerLayerEmitter } from './registry.ts';
import { layerConfig, staticDims, unsupported, type EmitContext, type Emitted } from './types.ts';

const sameShapes = (ctx: EmitContext) => ctx.inputs.every((v) => v.shape.length === ctx.inputs[0].shape.length && v.shape.every((d, i) => d === ctx.inputs[0].shape[i]));

function add(ctx: EmitContext): Emitted {
  const { g, layer } = ctx;
  if (!sameShapes(ctx)) unsupported(ctx, 'inputs of different shapes (broadcasting)');
  let y = ctx.inputs[0].name;
  for (const v of ctx.inputs.slice(1)) y = g.node('Add', [y, v.name], layer.name);
  return { output: y, backward: (dy, want) => ({ inputs: want.map((w) => (w ? dy : undefined)), weights: [] }) };
}

/**
 * Product of two inputs of the same shape, or of a feature map [N,H,W,C] and per-channel [N,C] scales
 * (squeeze-excite: Keras expands the [N,C] input to [N,1,1,C]); the scales' gradient sums over H, W.
 */
function multiply(ctx: EmitContext): Emitted {
  const { g, layer } = ctx;
  if (ctx.inputs.length !== 2) unsupported(ctx, `${ctx.inputs.length} inputs (two are supported)`);
  const base = layer.name;
  const ranks = ctx.inputs.map((v) => v.shape.length);
  if (!sameShapes(ctx) && !(ranks.includes(4) && ranks.includes(2))) unsupported(ctx, `inputs of shapes ${ctx.inputs.map((v) => `[${v.shape.join(', ')}]`).join(' and ')}`);
  const operands = ctx.inputs.map((v, i) => (v.shape.length === 2 && ranks.includes(4) ? g.node('Unsqueeze', [v.name, g.int64s(`${base}/axes`, [2, 3])], `${base}/expand${i}`) : v.name));
  const y = g.node('Mul', operands, base);
  return {
    output: y,
    backward(dy, want) {
      const inputs = ctx.inputs.map((v, i) => {
        if (!want[i]) return undefined;
        const d = g.node('Mul', [dy, operands[1 - i]], `${base}/d${i}`);
        return v.shape.length === 2 && ranks.includes(4) ? reduceSum(g, d, [2, 3], false, `${base}/d${i}_sum`) : d;
      });
      return { inputs, weights: [] };
    },
  };
}

/** Concatenation (DenseNet's channel axis, or any axis); the gradient is dy split back into the inputs' pieces. */
function concatenate(ctx: EmitContext): Emitted {
  const { g, layer } = ctx;
  const rank = ctx.inputs[0].shape.length;
  if (ctx.inputs.some((v) => v.shape.length !== rank)) unsupported(ctx, 'inputs of different ranks');
  const tfAxis = layerConfig<{ axis: number }>(layer).axis;
  const axis = onnxAxis(tfAxis, rank);
  const tfAxisIndex = tfAxis < 0 ? tfAxis + rank : tfAxis;
  const sizes = ctx.inputs.map((v) => {
    const d = v.shape[tfAxisIndex];
    if (d === null) return unsupported(ctx, 'unknown size along the concatenation axis');
    return d;
  });
  staticDims(ctx, ctx.outputShape);
  const base = layer.name;
  const y = g.node('Concat', ctx.inputs.map((v) => v.name), base, [{ name: 'axis', int: axis }]);
  return {
    output: y,
    backward(dy, want) {
      const pieces = multiOutputNode(g, 'Split', [dy, g.int64s(`${base}/sizes`, sizes)], sizes.map((_, i) => `${base}/d${i}`), [{ name: 'axis', int: axis }]);
      return { inputs: pieces.map((p, i) => (want[i] ? p : undefined)), weights: [] };
    },
  };
}

registerLayerEmitter('Add', add);
registerLayerEmitter('Multiply', multiply);
registerLayerEmitter('Concatenate', concatenate);
