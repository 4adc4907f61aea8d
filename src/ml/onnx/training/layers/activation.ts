import { maskGrad, positiveGrad, reduceSum, scalar } from '../graph-ops.ts';
import { layerConfig, unsupported, type EmitContext, type Emitted } from './types.ts';
import { registerLayerEmitter } from './registry.ts';

/** A forward activation and its gradient, with tfjs's gradient at the kinks (see each case). */
export interface EmittedActivation {
  y: string;
  grad(dy: string): string;
}

/**
 * Emits a Keras activation identifier applied to `x` (NCHW or [N, K]) with the gradient tfjs computes:
 * relu: dy where x > 0 (0 at x = 0); relu6 (tfjs `minimum(6, relu(x))`): dy where 0 < x < 6; sigmoid:
 * dy*y*(1-y); swish (tfjs `sigmoid(x)*x`): dy*(s + x*s*(1-s)); softmax over axis 1: dy*y - sum(dy*y)*y.
 */
export function emitActivation(ctx: EmitContext, x: string, kind: string, base: string): EmittedActivation {
  const { g } = ctx;
  switch (kind) {
    case 'linear':
      return { y: x, grad: (dy) => dy };
    case 'relu': {
      const y = g.node('Relu', [x], base);
      return { y, grad: (dy) => positiveGrad(g, y, dy, `${base}/grad`) };
    }
    case 'relu6':
      return cappedRelu(ctx, x, 6, 'below', base);
    case 'sigmoid': {
      const y = g.node('Sigmoid', [x], base);
      return { y, grad: (dy) => g.node('Mul', [dy, g.node('Mul', [y, g.node('Sub', [scalar(g, 1, `${base}/one`), y], `${base}/1-y`)], `${base}/dydx`)], `${base}/grad`) };
    }
    case 'swish': {
      const s = g.node('Sigmoid', [x], `${base}/sigmoid`);
      const y = g.node('Mul', [s, x], base);
      return {
        y,
        grad: (dy) => {
          // d(s*x)/dx = s + x * s * (1 - s)
          const ds = g.node('Mul', [s, g.node('Sub', [scalar(g, 1, `${base}/one`), s], `${base}/1-s`)], `${base}/ds`);
          const slope = g.node('Add', [s, g.node('Mul', [x, ds], `${base}/x*ds`)], `${base}/slope`);
          return g.node('Mul', [dy, slope], `${base}/grad`);
        },
      };
    }
    case 'softmax': {
      if (ctx.outputShape.length !== 2) unsupported(ctx, 'softmax over a rank > 2 tensor');
      const y = g.node('Softmax', [x], base, [{ name: 'axis', int: 1 }]);
      return {
        y,
        grad: (dy) => {
          const dyY = g.node('Mul', [dy, y], `${base}/dy*y`);
          return g.node('Sub', [dyY, g.node('Mul', [reduceSum(g, dyY, [1], true, `${base}/sum`), y], `${base}/sum*y`)], `${base}/grad`);
        },
      };
    }
    default:
      return unsupported(ctx, `activation '${kind}'`);
  }
}

/**
 * min(max(x, 0), cap). tfjs differentiates the two forms it has differently at x = cap: the ReLU layer
 * (`relu` then `clipByValue(0, cap)`) passes the gradient for 0 < x <= cap, the relu6 activation
 * (`minimum(6, relu(x))`) for 0 < x < 6. `atCap` says which.
 */
function cappedRelu(ctx: EmitContext, x: string, cap: number, atCap: 'inclusive' | 'below', base: string): EmittedActivation {
  const { g } = ctx;
  const capValue = scalar(g, cap, `${base}/cap`);
  const y = g.node('Clip', [x, scalar(g, 0, `${base}/min`), capValue], base);
  return {
    y,
    grad: (dy) => {
      const positive = g.node('Greater', [x, scalar(g, 0, `${base}/zero`)], `${base}/positive`);
      const underCap = g.node(atCap === 'inclusive' ? 'LessOrEqual' : 'Less', [x, capValue], `${base}/under_cap`);
      return maskGrad(g, g.node('And', [positive, underCap], `${base}/pass`), dy, `${base}/grad`);
    },
  };
}

function activationLayer(ctx: EmitContext): Emitted {
  const act = emitActivation(ctx, ctx.inputs[0].name, layerConfig<{ activation: string }>(ctx.layer).activation, ctx.layer.name);
  return { output: act.y, backward: (dy) => ({ inputs: [act.grad(dy)], weights: [] }) };
}

/** tfjs's ReLU layer: relu, then clipByValue(0, maxValue) when maxValue is set. */
function reluLayer(ctx: EmitContext): Emitted {
  const { maxValue } = layerConfig<{ maxValue?: number | null }>(ctx.layer);
  const act = maxValue === undefined || maxValue === null ? emitActivation(ctx, ctx.inputs[0].name, 'relu', ctx.layer.name) : cappedRelu(ctx, ctx.inputs[0].name, maxValue, 'inclusive', ctx.layer.name);
  return { output: act.y, backward: (dy) => ({ inputs: [act.grad(dy)], weights: [] }) };
}

registerLayerEmitter('Activation', activationLayer);
registerLayerEmitter('ReLU', reluLayer);
