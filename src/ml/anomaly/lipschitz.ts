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

/** Power iterations per projection, warm-started from the previous step's vector. */
const POWER_ITERATIONS = 3;
const WARM_UP_ITERATIONS = 50;

/**
 * Spectral-norm projection (Miyato et al., ICLR 2018, as a constraint after each step as in Gouk et al.,
 * Machine Learning 110, 2021): each kernel W, viewed as a matrix [fan-in, outputs], is divided by
 * max(1, sigma(W)), sigma estimated by power iteration with one persistent vector per kernel (part of the
 * trainer's state, so a resumed run projects identically). Biases are left alone (they do not change the
 * Lipschitz constant). First-order only: no gradient of the constraint is taken.
 */
export class SpectralProjection {
  private readonly kernels: tf.Variable[];
  private readonly vectors: tf.Tensor[];

  constructor(vars: readonly tf.Variable[], seed: number) {
    this.kernels = vars.filter((v) => v.rank >= 2);
    this.vectors = this.kernels.map((k, i) => tf.randomNormal([k.shape[k.rank - 1], 1], 0, 1, 'float32', seed + i));
    // converge the vectors on the initial kernels, so that the first projection's estimate is already close
    this.kernels.forEach((_, i) => this.iterate(i, WARM_UP_ITERATIONS).sigma.dispose());
  }

  /** Projects every kernel onto sigma <= 1; returns the sigmas estimated before the projection. */
  project(): number[] {
    return this.kernels.map((kernel, i) => {
      const { sigma } = this.iterate(i, POWER_ITERATIONS);
      tf.tidy(() => kernel.assign(kernel.div(tf.maximum(sigma, 1))));
      const value = sigma.dataSync()[0];
      sigma.dispose();
      return value;
    });
  }

  /** `iterations` power iterations from kernel i's vector (kept); sigma = ||W v||. */
  private iterate(i: number, iterations: number): { sigma: tf.Scalar } {
    const kernel = this.kernels[i];
    const [v, sigma] = tf.tidy(() => {
      const w = kernel.reshape([-1, kernel.shape[kernel.rank - 1]]) as tf.Tensor2D;
      let v = this.vectors[i].div(tf.norm(this.vectors[i]).add(1e-12)) as tf.Tensor2D;
      for (let k = 0; k < iterations; k++) {
        const u = tf.matMul(w, v);
        const next = tf.matMul(w, u.div(tf.norm(u).add(1e-12)), true);
        v = next.div(tf.norm(next).add(1e-12));
      }
      return [v, tf.norm(tf.matMul(w, v)) as tf.Scalar];
    });
    this.vectors[i].dispose();
    this.vectors[i] = v;
    return { sigma };
  }

  /** Copies of the vectors (the caller disposes them). */
  state(prefix: string): NamedTensor[] {
    return this.vectors.map((v, i) => ({ name: `${prefix}/${i}`, tensor: v.clone() }));
  }

  /** Entries named `<i>` (as `state` wrote them, without its prefix), in any order. */
  restore(list: readonly NamedTensor[]): void {
    const byIndex = new Map(list.map((t) => [Number(t.name), t.tensor]));
    const missing = this.vectors.findIndex((_, i) => !byIndex.has(i));
    if (list.length !== this.vectors.length || missing >= 0) throw new Error(`spectral projection state has ${list.length} vectors (${list.map((t) => t.name).join(', ')}), the critic ${this.vectors.length} kernels`);
    tf.dispose(this.vectors);
    this.vectors.forEach((_, i) => (this.vectors[i] = byIndex.get(i)!.clone()));
  }

  dispose(): void {
    tf.dispose(this.vectors);
  }
}
