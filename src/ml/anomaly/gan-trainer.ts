import * as tf from '../tf.ts';
import { restoreTfjsOptimizerState, tfjsOptimizerState, type NamedTensor } from '../training/optimizer-state.ts';
import { setLearningRate } from '../training/optimizer.ts';
import type { ExternalTrainer } from '../training/train-engine.ts';
import { variablesOf, type Fanogan } from './fanogan.ts';
import { clipWeights, SpectralProjection, variableKernels, type LipschitzMethod } from './lipschitz.ts';

export interface GanSettings {
  /** Critic steps per generator step. */
  nCritic: number;
  /** The critic's constraint after each step: spectral-norm projection, or weight clipping to [-clip, clip]. */
  lipschitz: LipschitzMethod;
  /** Weight clipping bound c. */
  clip: number;
  /** Seed of the noise draws (each draw's seed follows from it and the critic's step count, so a resumed run draws the same z). */
  seed: number;
}

/**
 * The WGAN of f-AnoGAN's first stage on tfjs, as the epoch loop's external trainer: each batch of normal
 * images is one critic step (RMSProp on mean D(G(z)) - mean D(x), then the critic's Lipschitz constraint:
 * each kernel projected to spectral norm <= 1, or every weight clipped to [-c, c]); after every
 * `nCritic`-th critic step one generator step (RMSProp on -mean D(G(z))). A constraint after the step
 * rather than WGAN-GP's gradient penalty: the penalty needs second-order gradients (the gradient of the
 * critic's input gradient), which neither training engine here provides (docs/training.md says why
 * spectral is the default). The variables are the model's own, so writeToModel / readFromModel have
 * nothing to copy; the optimizer state is both RMSProps' (`critic/`, `generator/`) and the power iteration
 * vectors (`spectral/`), so a checkpoint resumes exactly.
 */
export class GanTrainer implements WganTrainer {
  private readonly criticOptimizer: tf.Optimizer;
  private readonly generatorOptimizer: tf.Optimizer;
  private readonly criticVars: tf.Variable[];
  private readonly generatorVars: tf.Variable[];
  private readonly latentShape: number[];
  private readonly generatorLosses = new GeneratorLosses();
  private readonly spectral: SpectralProjection | undefined;

  constructor(
    private readonly gan: Pick<Fanogan, 'generator' | 'critic'>,
    private readonly settings: GanSettings,
    lr: number,
  ) {
    const { decay, momentum, epsilon } = WGAN_RMSPROP;
    this.criticOptimizer = tf.train.rmsprop(lr, decay, momentum, epsilon);
    this.generatorOptimizer = tf.train.rmsprop(lr, decay, momentum, epsilon);
    this.criticVars = variablesOf(gan.critic);
    this.generatorVars = variablesOf(gan.generator);
    this.latentShape = gan.generator.inputs[0].shape.slice(1) as number[];
    this.spectral = settings.lipschitz === 'spectral' ? new SpectralProjection(variableKernels(this.criticVars), settings.seed) : undefined;
  }

  get criticSteps(): number {
    return this.criticOptimizer.iterations;
  }

  /** The batch is NHWC images in [0, 1]; returns the critic loss (minus the Wasserstein estimate). */
  async step(x: Float32Array, _target: Float32Array, n: number, lr: number): Promise<number> {
    setLearningRate(this.criticOptimizer, lr);
    setLearningRate(this.generatorOptimizer, lr);
    const { generator, critic } = this.gan;
    const shape = critic.inputs[0].shape.slice(1) as number[];
    const step = this.criticSteps;
    const criticLoss = tf.tidy(() => {
      const real = tf.tensor(x, [n, ...shape]);
      const fake = generator.apply(this.noise(n, 2 * step), { training: true }) as tf.Tensor;
      const value = (t: tf.Tensor) => (critic.apply(t, { training: true }) as tf.Tensor).mean();
      return this.criticOptimizer.minimize(() => value(fake).sub(value(real)) as tf.Scalar, true, this.criticVars)!.dataSync()[0];
    });
    if (this.spectral) this.spectral.project();
    else clipWeights(this.criticVars, this.settings.clip);
    if ((step + 1) % this.settings.nCritic === 0) {
      const loss = tf.tidy(() => {
        const z = this.noise(n, 2 * step + 1);
        return this.generatorOptimizer.minimize(() => (critic.apply(generator.apply(z, { training: true }) as tf.Tensor, { training: true }) as tf.Tensor).mean().neg() as tf.Scalar, true, this.generatorVars)!.dataSync()[0];
      });
      this.generatorLosses.push(loss);
    }
    return criticLoss;
  }

  takeGeneratorLosses(): { mean: number | undefined; steps: number } {
    return this.generatorLosses.take();
  }

  private noise(n: number, draw: number): tf.Tensor {
    return ganNoise(n, this.latentShape, this.settings.seed, draw);
  }

  writeToModel(): void {}

  readFromModel(): void {}

  /** Both optimizers' state; the caller disposes entries that are not optimizer variables (as for tfjs's getWeights). */
  async getOptimizerWeights(): Promise<NamedTensor[]> {
    return [...prefixedState('critic', await tfjsOptimizerState(this.criticOptimizer)), ...prefixedState('generator', await tfjsOptimizerState(this.generatorOptimizer)), ...(this.spectral?.state('spectral') ?? [])];
  }

  async setOptimizerWeights(weights: readonly NamedTensor[]): Promise<void> {
    await restoreTfjsOptimizerState(this.criticOptimizer, stateUnder('critic', weights));
    await restoreTfjsOptimizerState(this.generatorOptimizer, stateUnder('generator', weights));
    this.spectral?.restore(stateUnder('spectral', weights));
  }

  async dispose(): Promise<void> {
    this.criticOptimizer.dispose();
    this.generatorOptimizer.dispose();
  }
}

/** A WGAN trainer of either engine: the epoch loop's external trainer, plus what the f-AnoGAN loop reads. */
export interface WganTrainer extends ExternalTrainer {
  /** Critic steps taken (restored with the optimizer state). */
  readonly criticSteps: number;
  /** Mean generator loss and generator steps since the last call. */
  takeGeneratorLosses(): { mean: number | undefined; steps: number };
}

/** The trainer's state is both optimizers' and the projection's, each under its prefix (`critic/`, `generator/`, `spectral/`): the same names on both engines. */
export const prefixedState = (prefix: string, list: readonly NamedTensor[]): NamedTensor[] => list.map((t) => ({ name: `${prefix}/${t.name}`, tensor: t.tensor }));

export const stateUnder = (prefix: string, list: readonly NamedTensor[]): NamedTensor[] => list.filter((w) => w.name.startsWith(`${prefix}/`)).map((w) => ({ name: w.name.slice(prefix.length + 1), tensor: w.tensor }));

/** The z of draw `draw` (critic step s draws 2s, its generator step 2s + 1): N x latent standard normal values. */
export function ganNoise(n: number, latentShape: readonly number[], seed: number, draw: number): tf.Tensor {
  return tf.randomNormal([n, ...latentShape], 0, 1, 'float32', seed * 1_000_003 + draw);
}

/** The generator losses of an epoch's steps. */
export class GeneratorLosses {
  private losses: number[] = [];

  push(loss: number): void {
    this.losses.push(loss);
  }

  /** Mean generator loss and generator steps since the last call. */
  take(): { mean: number | undefined; steps: number } {
    const losses = this.losses;
    this.losses = [];
    return { mean: losses.length ? losses.reduce((a, b) => a + b, 0) / losses.length : undefined, steps: losses.length };
  }
}

/** RMSProp as the WGAN reference implementation used it: PyTorch's defaults, decay 0.99, epsilon 1e-8, no momentum. */
export const WGAN_RMSPROP = { decay: 0.99, momentum: 0, epsilon: 1e-8 } as const;
