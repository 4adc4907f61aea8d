import type { OnnxGraphBuilder } from '../../graph-builder.ts';
import { multiOutputNode, reduceMean, reduceSum, reshape, scalar, sumGrads } from '../graph-ops.ts';

/**
 * A small reverse-mode tape over ONNX values, for layers that are a composition of many tensor ops (the
 * transformer blocks): each op writes its forward nodes at once and records how to write its inputs'
 * gradients. `backward` then walks the records in reverse and writes gradient nodes only for the values
 * that lead from a wanted input or weight, so nothing unused is emitted. Shapes passed to the ops are
 * the static dimensions after the batch (the batch stays dynamic: reshapes use -1 for it).
 */

interface Record {
  out: string[];
  inputs: string[];
  /** Writes the gradients of the inputs that `need` from the outputs' gradients (undefined: none reached it). */
  back(dys: (string | undefined)[], need: (input: string) => boolean): void;
}

export class Tape {
  private readonly records: Record[] = [];
  private readonly grads = new Map<string, string[]>();
  private readonly summed = new Map<string, string>();
  private needs = new Set<string>();

  constructor(
    readonly g: OnnxGraphBuilder,
    readonly base: string,
  ) {}

  private name(op: string): string {
    return `${this.base}/${op}`;
  }

  private node(op: string, inputs: readonly string[], label: string, attributes: Parameters<OnnxGraphBuilder['node']>[3] = []): string {
    return this.g.node(op, inputs, this.name(label), attributes);
  }

  private record(out: string | string[], inputs: string[], back: Record['back']): void {
    this.records.push({ out: Array.isArray(out) ? out : [out], inputs, back });
  }

  private accumulate(x: string, d: string): void {
    if (this.needs.has(x)) (this.grads.get(x) ?? this.grads.set(x, []).get(x)!).push(d);
  }

  /** The gradient reaching `x` (summed over its uses), undefined if none does. */
  gradOf(x: string): string | undefined {
    const cached = this.summed.get(x);
    if (cached) return cached;
    const parts = this.grads.get(x);
    if (!parts?.length) return undefined;
    const sum = sumGrads(this.g, parts, this.name('dsum'));
    this.summed.set(x, sum);
    return sum;
  }

  /**
   * Writes the gradient nodes from `dy` at `out` back to `wanted` (inputs and weights): values on a path
   * from a wanted value get gradients, others none.
   */
  backward(out: string, dy: string, wanted: readonly string[]): void {
    this.needs = new Set(wanted);
    for (const r of this.records) if (r.inputs.some((i) => this.needs.has(i))) for (const o of r.out) this.needs.add(o);
    this.grads.set(out, [dy]);
    for (let i = this.records.length - 1; i >= 0; i--) {
      const r = this.records[i];
      if (!r.out.some((o) => this.needs.has(o))) continue;
      const dys = r.out.map((o) => this.gradOf(o));
      if (dys.every((d) => d === undefined)) continue;
      r.back(dys, (input) => this.needs.has(input));
    }
  }

  // ---- ops ----

  /** x @ w (+ b) on the last axis of x with static dims `dims` (after the batch); w is [K, M]. */
  linear(x: string, dims: readonly number[], w: string, m: number, b?: string): string {
    const k = dims[dims.length - 1];
    const x2 = reshape(this.g, x, [-1, k], this.name('x2d'));
    const y2 = this.node('Gemm', b ? [x2, w, b] : [x2, w], 'linear');
    const y = reshape(this.g, y2, [-1, ...dims.slice(0, -1), m], this.name('linear_nd'));
    this.record(y, [x, w, ...(b ? [b] : [])], ([dy], need) => {
      const dy2 = reshape(this.g, dy!, [-1, m], this.name('dy2d'));
      if (need(w)) this.accumulate(w, this.node('Gemm', [x2, dy2], 'dkernel', [{ name: 'transA', int: 1 }]));
      if (b && need(b)) this.accumulate(b, reduceSum(this.g, dy2, [0], false, this.name('dbias')));
      if (need(x)) this.accumulate(x, reshape(this.g, this.node('Gemm', [dy2, w], 'dx2d', [{ name: 'transB', int: 1 }]), [-1, ...dims], this.name('dx')));
    });
    return y;
  }

  /** Batched a @ b (same rank >= 3, ONNX MatMul); `rank` is the rank of both. */
  matmul(a: string, b: string, rank: number): string {
    const y = this.node('MatMul', [a, b], 'matmul');
    const swap = [...Array(rank - 2).keys(), rank - 1, rank - 2];
    this.record(y, [a, b], ([dy], need) => {
      if (need(a)) this.accumulate(a, this.node('MatMul', [dy!, this.node('Transpose', [b], 'b_t', [{ name: 'perm', ints: swap }])], 'da'));
      if (need(b)) this.accumulate(b, this.node('MatMul', [this.node('Transpose', [a], 'a_t', [{ name: 'perm', ints: swap }]), dy!], 'db'));
    });
    return y;
  }

  /** a + b of equal shapes. */
  add(a: string, b: string): string {
    const y = this.node('Add', [a, b], 'add');
    this.record(y, [a, b], ([dy], need) => {
      if (need(a)) this.accumulate(a, dy!);
      if (need(b)) this.accumulate(b, dy!);
    });
    return y;
  }

  /** x + b where b broadcasts over x's `axes` (b keeps them as size 1, or lacks leading ones: `bShape`). */
  addBroadcast(x: string, b: string, axes: readonly number[], bShape: readonly number[]): string {
    const y = this.node('Add', [x, b], 'add_b');
    this.record(y, [x, b], ([dy], need) => {
      if (need(x)) this.accumulate(x, dy!);
      if (need(b)) this.accumulate(b, reshape(this.g, reduceSum(this.g, dy!, axes, true, this.name('db_sum')), bShape, this.name('db')));
    });
    return y;
  }

  /** x + c for a value c that needs no gradient (a mask). */
  addConstant(x: string, c: string): string {
    const y = this.node('Add', [x, c], 'add_c');
    this.record(y, [x], ([dy], need) => need(x) && this.accumulate(x, dy!));
    return y;
  }

  scale(x: string, factor: number): string {
    const f = scalar(this.g, factor, this.name('factor'));
    const y = this.node('Mul', [x, f], 'scale');
    this.record(y, [x], ([dy], need) => need(x) && this.accumulate(x, this.node('Mul', [dy!, f], 'dscale')));
    return y;
  }

  /** Reshape to `shape` (-1 for the batch); `back` is the input's shape in the same form. */
  reshape(x: string, shape: readonly number[], back: readonly number[]): string {
    const y = reshape(this.g, x, shape, this.name('reshape'));
    this.record(y, [x], ([dy], need) => need(x) && this.accumulate(x, reshape(this.g, dy!, back, this.name('dreshape'))));
    return y;
  }

  transpose(x: string, perm: readonly number[]): string {
    const y = this.node('Transpose', [x], 'transpose', [{ name: 'perm', ints: perm }]);
    const inverse = perm.map((_, i) => perm.indexOf(i));
    this.record(y, [x], ([dy], need) => need(x) && this.accumulate(x, this.node('Transpose', [dy!], 'dtranspose', [{ name: 'perm', ints: inverse }])));
    return y;
  }

  /** Splits x along `axis` into parts of `sizes`. */
  split(x: string, axis: number, sizes: readonly number[]): string[] {
    const parts = multiOutputNode(this.g, 'Split', [x, this.g.int64s(this.name('split'), sizes)], sizes.map((_, i) => this.name(`part${i}`)), [{ name: 'axis', int: axis }]);
    this.record(parts, [x], (dys, need) => {
      if (!need(x)) return;
      // a part no gradient reached contributes zeros of its shape
      const filled = dys.map((d, i) => d ?? this.node('Mul', [parts[i], scalar(this.g, 0, this.name('zero'))], 'dzero'));
      this.accumulate(x, this.node('Concat', filled, 'dsplit', [{ name: 'axis', int: axis }]));
    });
    return parts;
  }

  /** Concatenates along `axis`; `sizes` are the inputs' sizes on it. */
  concat(xs: readonly string[], axis: number, sizes: readonly number[]): string {
    const y = this.node('Concat', xs, 'concat', [{ name: 'axis', int: axis }]);
    this.record(y, [...xs], ([dy], need) => {
      if (!xs.some(need)) return;
      const parts = multiOutputNode(this.g, 'Split', [dy!, this.g.int64s(this.name('dsplit'), sizes)], sizes.map((_, i) => this.name(`dpart${i}`)), [{ name: 'axis', int: axis }]);
      xs.forEach((x, i) => need(x) && this.accumulate(x, parts[i]));
    });
    return y;
  }

  /** x[start:end] on `axis` of size `size`. */
  slice(x: string, axis: number, start: number, end: number, size: number, rank: number): string {
    const g = this.g;
    const y = this.node('Slice', [x, g.int64s(this.name('starts'), [start]), g.int64s(this.name('ends'), [end]), g.int64s(this.name('axes'), [axis])], 'slice');
    this.record(y, [x], ([dy], need) => {
      if (!need(x)) return;
      const pads = new Array(2 * rank).fill(0);
      pads[axis] = start;
      pads[rank + axis] = size - end;
      this.accumulate(x, this.node('Pad', [dy!, g.int64s(this.name('dslice_pads'), pads)], 'dslice'));
    });
    return y;
  }

  /** Zero padding at the end of `axes` by `amounts` (rank `rank`); `sizes` are the unpadded sizes. */
  padEnd(x: string, axes: readonly number[], amounts: readonly number[], sizes: readonly number[], rank: number): string {
    const g = this.g;
    const pads = new Array(2 * rank).fill(0);
    axes.forEach((a, i) => (pads[rank + a] = amounts[i]));
    const y = this.node('Pad', [x, g.int64s(this.name('pads'), pads)], 'pad');
    this.record(y, [x], ([dy], need) => {
      if (!need(x)) return;
      const unpad = this.node('Slice', [dy!, g.int64s(this.name('dpad_starts'), axes.map(() => 0)), g.int64s(this.name('dpad_ends'), sizes), g.int64s(this.name('dpad_axes'), axes)], 'dpad');
      this.accumulate(x, unpad);
    });
    return y;
  }

  /** Softmax over the last axis: dx = y * (dy - sum(dy * y)). */
  softmax(x: string, rank: number): string {
    const y = this.node('Softmax', [x], 'softmax', [{ name: 'axis', int: rank - 1 }]);
    this.record(y, [x], ([dy], need) => {
      if (!need(x)) return;
      const dyY = this.node('Mul', [dy!, y], 'dy_y');
      const sum = reduceSum(this.g, dyY, [rank - 1], true, this.name('dy_y_sum'));
      this.accumulate(x, this.node('Sub', [dyY, this.node('Mul', [y, sum], 'y_sum')], 'dsoftmax'));
    });
    return y;
  }

  /** GELU, exact form 0.5 x (1 + erf(x / sqrt 2)); dx = dy (Phi(x) + x phi(x)). */
  gelu(x: string): string {
    const g = this.g;
    const half = scalar(g, 0.5, this.name('half'));
    const one = scalar(g, 1, this.name('one'));
    const phi = this.node('Mul', [half, this.node('Add', [one, this.node('Erf', [this.node('Mul', [x, scalar(g, Math.SQRT1_2, this.name('rsqrt2'))], 'x_rsqrt2')], 'erf')], 'one_erf')], 'cdf');
    const y = this.node('Mul', [x, phi], 'gelu');
    this.record(y, [x], ([dy], need) => {
      if (!need(x)) return;
      const density = this.node('Mul', [this.node('Exp', [this.node('Mul', [this.node('Mul', [x, x], 'x2'), scalar(g, -0.5, this.name('mhalf'))], 'mx2')], 'exp'), scalar(g, 1 / Math.sqrt(2 * Math.PI), this.name('rsqrt2pi'))], 'pdf');
      const slope = this.node('Add', [phi, this.node('Mul', [x, density], 'x_pdf')], 'dgelu_dx');
      this.accumulate(x, this.node('Mul', [dy!, slope], 'dgelu'));
    });
    return y;
  }

  /**
   * LayerNorm over `axis` (biased variance, as tfjs's moments and PyTorch): y = (x - mean) * rstd * gamma + beta,
   * gamma/beta [D] reshaped to `paramShape` to broadcast (e.g. [D, 1, 1] for NCHW channels). Backward:
   * dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)), dxhat = dy * gamma.
   */
  layerNorm(x: string, gamma: string, beta: string, epsilon: number, axis: number, rank: number, paramShape: readonly number[]): string {
    const g = this.g;
    const mean = reduceMean(g, x, [axis], true, this.name('ln_mean'));
    const xc = this.node('Sub', [x, mean], 'ln_centred');
    const variance = reduceMean(g, this.node('Mul', [xc, xc], 'ln_sq'), [axis], true, this.name('ln_var'));
    const rstd = this.node('Reciprocal', [this.node('Sqrt', [this.node('Add', [variance, scalar(g, epsilon, this.name('ln_eps'))], 'ln_var_eps')], 'ln_std')], 'ln_rstd');
    const xhat = this.node('Mul', [xc, rstd], 'ln_xhat');
    const gammaB = paramShape.length === 1 ? gamma : reshape(g, gamma, paramShape, this.name('ln_gamma'));
    const betaB = paramShape.length === 1 ? beta : reshape(g, beta, paramShape, this.name('ln_beta'));
    const y = this.node('Add', [this.node('Mul', [xhat, gammaB], 'ln_scaled'), betaB], 'ln');
    const others = [...Array(rank).keys()].filter((a) => a !== axis);
    this.record(y, [x, gamma, beta], ([dy], need) => {
      if (need(gamma)) this.accumulate(gamma, reshape(g, reduceSum(g, this.node('Mul', [dy!, xhat], 'ln_dy_xhat'), others, false, this.name('ln_dgamma_sum')), [-1], this.name('ln_dgamma')));
      if (need(beta)) this.accumulate(beta, reshape(g, reduceSum(g, dy!, others, false, this.name('ln_dbeta_sum')), [-1], this.name('ln_dbeta')));
      if (!need(x)) return;
      const dxhat = this.node('Mul', [dy!, gammaB], 'ln_dxhat');
      const meanD = reduceMean(g, dxhat, [axis], true, this.name('ln_mean_dxhat'));
      const meanDX = reduceMean(g, this.node('Mul', [dxhat, xhat], 'ln_dxhat_xhat'), [axis], true, this.name('ln_mean_dxhat_xhat'));
      const inner = this.node('Sub', [this.node('Sub', [dxhat, meanD], 'ln_d1'), this.node('Mul', [xhat, meanDX], 'ln_xhat_m')], 'ln_d2');
      this.accumulate(x, this.node('Mul', [inner, rstd], 'ln_dx'));
    });
    return y;
  }

  /** table[index] along axis 0 for a constant int64 `index` of `count` entries; gradient: scatter-add. */
  gather(table: string, index: readonly number[], tableShape: readonly number[]): string {
    const g = this.g;
    const y = this.node('Gather', [table, g.int64s(this.name('index'), index)], 'gather', [{ name: 'axis', int: 0 }]);
    this.record(y, [table], ([dy], need) => {
      if (!need(table)) return;
      const width = tableShape.slice(1).reduce((a, b) => a * b, 1);
      const rows = index.flatMap((i) => new Array(width).fill(i));
      const zeros = g.floats(this.name('dgather_zeros'), [tableShape[0], width], new Float32Array(tableShape[0] * width));
      const indices = g.node('Reshape', [g.int64s(this.name('dgather_rows'), rows), g.int64s(this.name('dgather_rows_shape'), [index.length, width])], this.name('dgather_indices'));
      const d2 = reshape(g, dy!, [index.length, width], this.name('dgather_dy'));
      const scattered = this.node('ScatterElements', [zeros, indices, d2], 'dgather', [{ name: 'axis', int: 0 }, { name: 'reduction', string: 'add' }]);
      this.accumulate(table, reshape(g, scattered, tableShape, this.name('dtable')));
    });
    return y;
  }

  /** [1, ...rest] broadcast to [N, ...rest] with N the batch of `like`; gradient summed over the batch. */
  expandBatch(x: string, like: string, rest: readonly number[]): string {
    const g = this.g;
    const batch = g.node('Slice', [g.node('Shape', [like], this.name('like_shape')), g.int64s(this.name('b0'), [0]), g.int64s(this.name('b1'), [1])], this.name('batch'));
    const shape = g.node('Concat', [batch, g.int64s(this.name('rest'), rest)], this.name('expand_shape'), [{ name: 'axis', int: 0 }]);
    const y = this.node('Expand', [x, shape], 'expand');
    this.record(y, [x], ([dy], need) => need(x) && this.accumulate(x, reduceSum(g, dy!, [0], true, this.name('dexpand'))));
    return y;
  }
}
