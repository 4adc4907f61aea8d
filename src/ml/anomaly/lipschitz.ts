import * as tf from '../tf.ts';
import type { NamedTensor } from '../training/optimizer-state.ts';

/** How the WGAN critic is kept (approximately) 1-Lipschitz without second-order gradients. */
export type LipschitzMethod = 'spectral' | 'clip';

/** WGAN's original constraint (Arjovsky et al. 2017): every weight clipped to [-c, c]. */
export function clipWeights(vars: readonly tf.Variable[], c: number): void {
  tf.tidy(() => {
    for (const v of vars) v.assign(tf.clipByValue(v, -c, c));
  });
}

/** The same on flat parameter buffers (the ONNX Runtime trainer's), in place. */
export function clipBuffers(buffers: readonly Float32Array[], c: number): void {
  for (const b of buffers) for (let i = 0; i < b.length; i++) b[i] = Math.min(c, Math.max(-c, b[i]));
}

/**
 * A kernel as a matrix W [fan-in, outputs] (outputs: its last tfjs axis), stored either in that order
 * (tfjs) or transposed [outputs, fan-in] (an ONNX OIHW conv kernel: its fan-in is in another order,
 * which changes neither sigma nor the right singular vector).
 */
export interface KernelMatrix {
  outputs: number;
  outputsFirst: boolean;
  read(): Float32Array;
  write(values: Float32Array): void;
}

/** tfjs variables of rank >= 2 as kernel matrices (read: a copy; write: assign). */
export function variableKernels(vars: readonly tf.Variable[]): KernelMatrix[] {
  return vars
    .filter((v) => v.rank >= 2)
    .map((v) => ({
      outputs: v.shape[v.rank - 1],
      outputsFirst: false,
      read: () => v.dataSync() as Float32Array,
      write: (values) => tf.tidy(() => v.assign(tf.tensor(values, v.shape))),
    }));
}

/** Power iterations per projection, warm-started from the previous step's vector. */
const POWER_ITERATIONS = 3;
const WARM_UP_ITERATIONS = 50;
const TINY = 1e-12;

/**
 * Spectral-norm projection (Miyato et al., ICLR 2018, as a constraint after each step as in Gouk et al.,
 * Machine Learning 110, 2021): each kernel W, viewed as a matrix [fan-in, outputs], is divided by
 * max(1, sigma(W)), sigma estimated by power iteration with one persistent vector per kernel (part of the
 * trainer's state, so a resumed run projects identically). Biases are left alone (they do not change the
 * Lipschitz constant). First-order only: no gradient of the constraint is taken. In JS (float64 sums)
 * on the kernels' values, so both training engines project with the same arithmetic.
 */
export class SpectralProjection {
  private readonly vectors: Float32Array[];

  constructor(
    private readonly kernels: readonly KernelMatrix[],
    seed: number,
  ) {
    this.vectors = kernels.map((k, i) => tf.tidy(() => tf.randomNormal([k.outputs, 1], 0, 1, 'float32', seed + i).dataSync() as Float32Array).slice());
    // converge the vectors on the initial kernels, so that the first projection's estimate is already close
    this.kernels.forEach((k, i) => this.iterate(i, k.read(), WARM_UP_ITERATIONS));
  }

  /** Projects every kernel onto sigma <= 1; returns the sigmas estimated before the projection. */
  project(): number[] {
    return this.kernels.map((kernel, i) => {
      const w = kernel.read();
      const sigma = Math.fround(this.iterate(i, w, POWER_ITERATIONS));
      if (sigma > 1) kernel.write(w.map((x) => x / sigma));
      return sigma;
    });
  }

  /** `iterations` power iterations from kernel i's vector (kept); returns sigma = ||W v||. */
  private iterate(i: number, w: Float32Array, iterations: number): number {
    const { outputs, outputsFirst } = this.kernels[i];
    const fanIn = w.length / outputs;
    let v = normalized(Float64Array.from(this.vectors[i]));
    /** u = W v [fan-in]; with `transpose` W^T u [outputs]. */
    const times = (x: Float64Array, transpose: boolean): Float64Array => {
      const out = new Float64Array(transpose ? outputs : fanIn);
      for (let o = 0; o < outputs; o++)
        for (let f = 0; f < fanIn; f++) {
          const value = w[outputsFirst ? o * fanIn + f : f * outputs + o];
          if (transpose) out[o] += value * x[f];
          else out[f] += value * x[o];
        }
      return out;
    };
    for (let k = 0; k < iterations; k++) v = normalized(times(normalized(times(v, false)), true));
    this.vectors[i] = Float32Array.from(v);
    return norm(times(v, false));
  }

  /** Copies of the vectors as [outputs, 1] tensors (the caller disposes them). */
  state(prefix: string): NamedTensor[] {
    return this.vectors.map((v, i) => ({ name: `${prefix}/${i}`, tensor: tf.tensor2d(v, [v.length, 1]) }));
  }

  /** Entries named `<i>` (as `state` wrote them, without its prefix), in any order. */
  restore(list: readonly NamedTensor[]): void {
    const byIndex = new Map(list.map((t) => [Number(t.name), t.tensor]));
    const missing = this.vectors.findIndex((_, i) => !byIndex.has(i));
    if (list.length !== this.vectors.length || missing >= 0) throw new Error(`spectral projection state has ${list.length} vectors (${list.map((t) => t.name).join(', ')}), the critic ${this.vectors.length} kernels`);
    this.vectors.forEach((_, i) => (this.vectors[i] = Float32Array.from(byIndex.get(i)!.dataSync())));
  }
}

const norm = (x: Float64Array): number => Math.sqrt(x.reduce((s, a) => s + a * a, 0));

const normalized = (x: Float64Array): Float64Array => {
  const scale = 1 / (norm(x) + TINY);
  return x.map((a) => a * scale);
};
