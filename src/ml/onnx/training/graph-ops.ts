import type { OnnxGraphBuilder } from '../graph-builder.ts';
import type { OnnxAttribute } from '../onnx-model.ts';

/**
 * Small emitters shared by the training graph's layers, loss and optimizer (opset 17: ReduceSum takes
 * its axes as an input, ReduceMean and ReduceProd as an attribute).
 */

/** A float32 scalar constant. */
export function scalar(g: OnnxGraphBuilder, value: number, base = 'const'): string {
  return g.floats(base, [], Float32Array.of(value));
}

/** A node with several outputs (e.g. MaxPool's values and indices); returns their names. */
export function multiOutputNode(g: OnnxGraphBuilder, opType: string, inputs: readonly string[], outputs: readonly string[], attributes: readonly OnnxAttribute[] = []): string[] {
  const names = outputs.map((o) => g.unique(o));
  g.nodes.push({ opType, inputs, outputs: names, name: names[0], attributes });
  return names;
}

export function reduceSum(g: OnnxGraphBuilder, x: string, axes: readonly number[], keepDims: boolean, base: string): string {
  return g.node('ReduceSum', [x, g.int64s(`${base}/axes`, axes)], base, [{ name: 'keepdims', int: keepDims ? 1 : 0 }]);
}

export function reduceMean(g: OnnxGraphBuilder, x: string, axes: readonly number[], keepDims: boolean, base: string): string {
  return g.node('ReduceMean', [x], base, [{ name: 'axes', ints: axes }, { name: 'keepdims', int: keepDims ? 1 : 0 }]);
}

export function reshape(g: OnnxGraphBuilder, x: string, shape: readonly number[], base: string): string {
  return g.node('Reshape', [x, g.int64s(`${base}/shape`, shape)], base);
}

/** 1 / (product of x's sizes along `axes`) as a float scalar computed at run time (the batch size is dynamic). */
export function inverseCount(g: OnnxGraphBuilder, x: string, axes: readonly number[], base: string): string {
  const shape = g.node('Shape', [x], `${base}/shape`);
  const sizes = g.node('Gather', [shape, g.int64s(`${base}/axes`, axes)], `${base}/sizes`);
  const count = g.node('ReduceProd', [sizes], `${base}/count`, [{ name: 'keepdims', int: 0 }]);
  return g.node('Reciprocal', [g.node('Cast', [count], `${base}/countf`, [{ name: 'to', int: 1 }])], base);
}

/** dy where the mask is true, else 0. */
export function maskGrad(g: OnnxGraphBuilder, mask: string, dy: string, base: string): string {
  return g.node('Where', [mask, dy, scalar(g, 0, `${base}/zero`)], base);
}

/** The sum of the gradients reaching a value used more than once (a residual's fan-out). */
export function sumGrads(g: OnnxGraphBuilder, grads: readonly string[], base: string): string {
  return grads.length === 1 ? grads[0] : g.node('Sum', grads, base);
}
