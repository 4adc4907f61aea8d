import type { OnnxGraphBuilder } from '../graph-builder.ts';
import type { OnnxAttribute } from '../onnx-model.ts';

/**
 * Small emitters shared by the training graph's layers, loss and optimizer (opset 17: ReduceSum takes
 * its axes as an input, ReduceMean and ReduceProd as an attribute).
 *
 * Thread-invariant products: the step must give the same bits on any number of ONNX Runtime threads
 * (a resumed or rescheduled training gets another share of the cores). MLAS splits a product C[M, N]
 * over N when N > M and then sizes its K blocks from each thread's share of N (unless A is transposed),
 * so the rounding of a long sum changed with the thread count (seen: a stacked-taps filter gradient
 * [16, 144] over K = 16,384 differed between 1 and 2 threads); with M >= N it splits M only. So the
 * emitters put the larger output dimension first in products over long sums, or a weight in Gemm's
 * transposed A slot; test/ml/onnx/training/determinism.test.ts holds the whole step to it.
 */

/** A float32 scalar constant. */
export function scalar(g: OnnxGraphBuilder, value: number, base = 'const'): string {
  return g.floats(base, [], Float32Array.of(value));
}

/** ONNX Runtime's NCHWc operator set (blocked-channel convolutions and their layout reorders). */
export const NCHWC_DOMAIN = 'com.microsoft.nchwc';

/** A single-output node of ONNX Runtime's NCHWc operator set. */
export function nchwcNode(g: OnnxGraphBuilder, opType: string, inputs: readonly string[], base: string, attributes: readonly OnnxAttribute[] = []): string {
  const name = g.unique(base);
  g.nodes.push({ opType, inputs, outputs: [name], name, attributes, domain: NCHWC_DOMAIN });
  return name;
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

/**
 * 1 / (product of x's sizes along `axes`) as a float scalar. Axis 0 is the batch, known only at run
 * time: its size is read once per graph (every tensor of the step has the same batch); the other sizes
 * are static (`dims`: x's shape after the batch axis).
 */
export function inverseCount(g: OnnxGraphBuilder, x: string, dims: readonly number[], axes: readonly number[], base: string): string {
  const fixed = axes.filter((a) => a > 0).reduce((p, a) => p * dims[a - 1], 1);
  if (!axes.includes(0)) return scalar(g, 1 / fixed, `${base}/inv_count`);
  const batch = g.memo('batch_size', () => {
    const shape = g.node('Shape', [x], 'batch/shape');
    return g.node('Cast', [g.node('Gather', [shape, g.int64s('batch/axis', [0])], 'batch/size_i')], 'batch/size', [{ name: 'to', int: 1 }]);
  });
  return g.memo(`inverse_count/${fixed}`, () => g.node('Reciprocal', [g.node('Mul', [batch, scalar(g, fixed, `${base}/fixed`)], `inverse_count_${fixed}/count`)], `inverse_count_${fixed}`));
}

/** dy where the mask is true, else 0 (Where: ONNX Runtime runs it on one thread; `positiveGrad` is the hot path's). */
export function maskGrad(g: OnnxGraphBuilder, mask: string, dy: string, base: string): string {
  return g.node('Where', [mask, dy, scalar(g, 0, `${base}/zero`)], base);
}

/** 2^127: HardSigmoid with this slope is 1 for every x >= 2^-127 (every normal float32 > 0), 0 for x <= 0. */
const STEP_SLOPE = 2 ** 127;

/**
 * dy where x > 0, else 0, for x >= 0 (a ReLU's output): dy * HardSigmoid(x, 2^127, 0), two ops ONNX
 * Runtime splits over its threads, where Greater + Where ran Where on one thread (ResNet-18 128 px,
 * batch 32: 17 ReLU masks of up to 8.4M elements per step). Only a subnormal x below 2^-127 would get a
 * fractional mask instead of 1.
 */
export function positiveGrad(g: OnnxGraphBuilder, x: string, dy: string, base: string): string {
  const mask = g.node('HardSigmoid', [x], `${base}/mask`, [{ name: 'alpha', float: STEP_SLOPE }, { name: 'beta', float: 0 }]);
  return g.node('Mul', [dy, mask], base);
}

/**
 * The sum of the gradients reaching a value used more than once (a residual's fan-out): a chain of Adds,
 * which ONNX Runtime splits over its threads (its variadic Sum runs on one).
 */
export function sumGrads(g: OnnxGraphBuilder, grads: readonly string[], base: string): string {
  return grads.slice(1).reduce((sum, d) => g.node('Add', [sum, d], base), grads[0]);
}
