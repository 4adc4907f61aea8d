import * as tf from '../tf.ts';
import type { OnnxRuntime } from '../onnx/runtime.ts';
import { meanCombinationLoss } from '../onnx/training/mean-loss-graph.ts';
import { OrtTrainer, recheckPools } from '../onnx/training/ort-trainer.ts';
import { PoolSpinGovernor } from '../onnx/pool-respin.ts';
import { ortSpinMode } from '../onnx/pool-spin.ts';
import type { FrozenBuffer, WeightSlot } from '../onnx/training/train-graph.ts';
import type { NamedTensor } from '../training/optimizer-state.ts';
import { chain, replay, type Fanogan } from './fanogan.ts';
import { ganNoise, GeneratorLosses, prefixedState, stateUnder, WGAN_RMSPROP, type GanSettings, type WganTrainer } from './gan-trainer.ts';
import { clipBuffers, SpectralProjection, type KernelMatrix } from './lipschitz.ts';

type T = tf.SymbolicTensor;

/** Models over the networks' layers (shared weights) for the two WGAN steps: [x, z] -> [D(x), D(G(z))] and z -> D(G(z)). */
export function wganStepModels(gan: Pick<Fanogan, 'generator' | 'critic'>): { pair: tf.LayersModel; adversary: tf.LayersModel } {
  const [image, z] = [gan.critic.inputs[0], gan.generator.inputs[0]];
  const criticLayers = chain(image, gan.critic.outputs[0]);
  const judged = () => replay(criticLayers, gan.generator.outputs[0] as T);
  return {
    pair: tf.model({ name: 'wgan_critic_step', inputs: [image, z], outputs: [gan.critic.outputs[0], judged()] }),
    adversary: tf.model({ name: 'wgan_generator_step', inputs: z, outputs: judged() }),
  };
}

/**
 * The WGAN of f-AnoGAN's first stage on ONNX Runtime, step for step as `GanTrainer` (tfjs): two step
 * graphs, the critic's (RMSProp on mean D(G(z)) - mean D(x), G run forward as a frozen input) and the
 * generator's (RMSProp on -mean D(G(z)), the gradient flowing through the frozen D into G). Each network's
 * parameters live in its own trainer's output chunks, which the other graph takes as its frozen input as
 * they are (no copy); the generator's batch-norm statistics, updated by both steps (G runs in training
 * mode in both, as in tfjs), pass from one graph to the other the same way. The critic's Lipschitz
 * constraint runs in JS on its parameter chunks, in place, after each critic step.
 */
export class OrtGanTrainer implements WganTrainer {
  private readonly generatorLosses = new GeneratorLosses();
  private readonly spectral: SpectralProjection | undefined;
  private readonly latentShape: number[];

  private constructor(
    private readonly critic: OrtTrainer,
    private readonly generator: OrtTrainer,
    private readonly settings: GanSettings,
    private readonly governor: PoolSpinGovernor,
  ) {
    this.latentShape = generator.graph.inputs[0].shape;
    this.spectral = settings.lipschitz === 'spectral' ? new SpectralProjection(this.criticKernels(), settings.seed) : undefined;
  }

  /** `governor`: the pool policy of both step sessions (default: PIPELINE_ORT_SPIN's, pool-respin.ts). */
  static async create(gan: Pick<Fanogan, 'generator' | 'critic'>, settings: GanSettings, runtime: OnnxRuntime, threads: number, governor = new PoolSpinGovernor(threads, ortSpinMode())): Promise<OrtGanTrainer> {
    const { pair, adversary } = wganStepModels(gan);
    const criticVars = gan.critic.trainableWeights;
    const generatorVars = gan.generator.trainableWeights;
    const optimizer = { name: 'rmsprop', ...WGAN_RMSPROP };
    const critic = await OrtTrainer.create(pair, { loss: meanCombinationLoss([-1, 1]), optimizer, trainable: criticVars, frozen: [{ name: 'generator', variables: generatorVars }], threads, runtime, governor });
    const generator = await OrtTrainer.create(adversary, { loss: meanCombinationLoss([-1]), optimizer, trainable: generatorVars, frozen: [{ name: 'critic', variables: criticVars }], threads, runtime, governor });
    sameLayout(critic.graph.weights, generator.graph.frozen[0]);
    sameLayout(generator.graph.weights, critic.graph.frozen[0]);
    const statsOf = (t: OrtTrainer) => t.graph.states.map((s) => s.variable.name).join();
    if (statsOf(critic) !== statsOf(generator)) throw new Error(`the WGAN step graphs order the generator's batch-norm statistics differently (${statsOf(critic)} / ${statsOf(generator)})`);
    return new OrtGanTrainer(critic, generator, settings, governor);
  }

  /** Both step sessions wait alike (one governor); the critic's, for the log. */
  get pool(): string | undefined {
    return this.critic.pool;
  }

  /** Both sessions move together when the governor changes the policy. */
  recheckPool(): Promise<string | undefined> {
    return recheckPools(this.governor, [this.critic, this.generator]);
  }

  get criticSteps(): number {
    return this.critic.steps;
  }

  async step(x: Float32Array, _target: Float32Array, n: number, lr: number): Promise<number> {
    const step = this.criticSteps;
    this.critic.feedFrozen('generator', this.generator.paramChunks());
    const criticLoss = await this.critic.stepOn([x, this.noise(n, 2 * step)], n, lr);
    this.generator.statsTensor = this.critic.statsTensor;
    if (this.spectral) this.spectral.project();
    else clipBuffers(this.critic.paramChunks().map((t) => t.data as Float32Array), this.settings.clip);
    if ((step + 1) % this.settings.nCritic === 0) {
      this.generator.feedFrozen('critic', this.critic.paramChunks());
      this.generatorLosses.push(await this.generator.stepOn([this.noise(n, 2 * step + 1)], n, lr));
      this.critic.statsTensor = this.generator.statsTensor;
    }
    return criticLoss;
  }

  takeGeneratorLosses(): { mean: number | undefined; steps: number } {
    return this.generatorLosses.take();
  }

  writeToModel(): void {
    this.critic.writeToModel();
    this.generator.writeToModel();
  }

  readFromModel(): void {
    this.critic.readFromModel();
    this.generator.readFromModel();
  }

  getOptimizerWeights(): NamedTensor[] {
    return [...prefixedState('critic', this.critic.getOptimizerWeights()), ...prefixedState('generator', this.generator.getOptimizerWeights()), ...(this.spectral?.state('spectral') ?? [])];
  }

  setOptimizerWeights(weights: readonly NamedTensor[]): void {
    this.critic.setOptimizerWeights(stateUnder('critic', weights));
    this.generator.setOptimizerWeights(stateUnder('generator', weights));
    this.spectral?.restore(stateUnder('spectral', weights));
  }

  async dispose(): Promise<void> {
    await Promise.all([this.critic.dispose(), this.generator.dispose()]);
  }

  private noise(n: number, draw: number): Float32Array {
    const z = ganNoise(n, this.latentShape, this.settings.seed, draw);
    const data = z.dataSync() as Float32Array;
    z.dispose();
    return data;
  }

  /** The critic's kernels as live views of its parameter chunks (ONNX conv kernels are OIHW: outputs first). */
  private criticKernels(): KernelMatrix[] {
    return this.critic.graph.weights
      .filter((w) => w.variable.shape.length >= 2)
      .map((w) => {
        if (w.layout === 'depthwise-as-oihw') throw new Error(`critic weight ${w.variable.name}: a depthwise kernel has no spectral projection`);
        const view = () => this.critic.paramView(w);
        return { outputs: w.variable.shape.at(-1) as number, outputsFirst: w.layout === 'hwio-as-oihw', read: view, write: (values) => view().set(values) };
      });
  }
}

/** A network's weights are read by the other step graph in the layout its own graph trains them in (else its chunks could not be handed over as they are). */
function sameLayout(trained: readonly WeightSlot[], frozen: FrozenBuffer): void {
  trained.forEach((w, i) => {
    const f = frozen.weights[i];
    if (f.variable !== w.variable || (f.used && f.layout !== w.layout)) throw new Error(`weight ${w.variable.name}: layout ${w.layout} where it is trained, ${f.layout} in the ${frozen.name} input of the other step`);
  });
}
