import { availableParallelism } from 'node:os';
import * as tf from '../../tf.ts';
import type { LossConfig } from '../../losses/index.ts';
import type { OptimizerName } from '../../training/optimizer.ts';
import { OnnxExportError } from '../errors.ts';
import { loadOnnxRuntime, onnxRuntimeLoadError, type OnnxRuntime, type OrtSession, type OrtTensor } from '../runtime.ts';
import type { AdamConfig } from './adam-graph.ts';
import type { TrainLoss } from './loss-graph.ts';
import { buildTrainGraph, fromLayout, toLayout, type CustomTrainLoss, type TrainGraph } from './train-graph.ts';

/** tfjs's optimizer state entry (tfjs-core's NamedTensor). */
export type NamedTensor = { name: string; tensor: tf.Tensor };

/** A loss or optimizer the ONNX training graph does not implement (callers fall back to tfjs). */
export class UnsupportedTrainingError extends OnnxExportError {
  constructor(message: string) {
    super(message);
    this.name = 'UnsupportedTrainingError';
  }
}

/** The graph's loss for a train-stage loss config: BCE and CE (on whatever head the model has); others unsupported. */
export function trainLossOf(config: LossConfig, classWeights?: readonly number[]): TrainLoss {
  if (config === 'bce' || config === 'ce') return { kind: config, classWeights };
  throw new UnsupportedTrainingError(`loss ${JSON.stringify(config)} is not implemented by the ONNX training graph (bce and ce are)`);
}

export interface OrtOptimizerConfig {
  name: OptimizerName;
  beta1?: number;
  beta2?: number;
  /** Default: tfjs's backend epsilon (1e-7 on the float32 backends), as `tf.train.adam(lr)` uses. */
  epsilon?: number;
}

export interface OrtTrainerOptions {
  loss: TrainLoss | CustomTrainLoss;
  optimizer: OrtOptimizerConfig;
  /** ONNX Runtime intra-op threads (default: os.availableParallelism()). */
  threads?: number;
  /** Default: `loadOnnxRuntime()`. */
  runtime?: OnnxRuntime;
  /** Also fetch every weight's gradient each step (`lastGradients`; tests). */
  exposeGradients?: boolean;
}

function adamConfigOf(optimizer: OrtOptimizerConfig): AdamConfig {
  if (optimizer.name !== 'adam') throw new UnsupportedTrainingError(`optimizer ${optimizer.name} is not implemented by the ONNX training graph (adam is)`);
  return { beta1: optimizer.beta1 ?? 0.9, beta2: optimizer.beta2 ?? 0.999, epsilon: optimizer.epsilon ?? tf.backend().epsilon() };
}

/**
 * Runs a tfjs model's training steps in ONNX Runtime: one session of the step graph (train-graph.ts)
 * whose outputs (weights, Adam moments, BN moving stats, beta powers) are fed back as the next step's
 * inputs; the tfjs model is only read at creation and written by `writeToModel()`. Optimizer state
 * reads and writes in tfjs Adam's `getWeights()` format (iteration count, first moments, second
 * moments, in model.trainableWeights order), so checkpoints move between the two engines.
 */
export class OrtTrainer {
  private readonly state = new Map<string, OrtTensor>();
  private iterations = 0;
  private gradients: OrtTensor[] | undefined;

  private constructor(
    private readonly ort: OnnxRuntime,
    private readonly session: OrtSession,
    readonly graph: TrainGraph,
    private readonly adam: AdamConfig,
  ) {}

  static async create(model: tf.LayersModel, options: OrtTrainerOptions): Promise<OrtTrainer> {
    const adam = adamConfigOf(options.optimizer);
    const graph = buildTrainGraph(model, { loss: options.loss, adam, exposeGradients: options.exposeGradients });
    const ort = options.runtime ?? (await loadOnnxRuntime());
    if (!ort) throw new Error(`onnxruntime-node is not available (${onnxRuntimeLoadError() ?? 'not installed'})`);
    // Pool threads sleep between ops instead of spinning. Small CNN 64 px, batch 32, 2 threads, on this
    // shared 2-core machine, spinning vs not, img/s: 19.9 vs 24.1 and 19.1 vs 48.8 while another job held
    // a core, 49.4 vs 47.5 and 50.9 vs 51.8 while it did not (then 10-20 % less CPU per image).
    const session = await ort.InferenceSession.create(graph.bytes, {
      graphOptimizationLevel: 'all',
      intraOpNumThreads: options.threads ?? availableParallelism(),
      executionMode: 'sequential',
      extra: { session: { intra_op: { allow_spinning: '0' } } },
    });
    const trainer = new OrtTrainer(ort, session, graph, adam);
    trainer.readFromModel();
    trainer.resetOptimizer();
    return trainer;
  }

  /** One step on a batch: x NHWC [n, H, W, C], y [n, ...targetShape]; returns the loss (before the update). */
  async step(x: Float32Array, y: Float32Array, n: number, lr: number): Promise<number> {
    const { graph } = this;
    const feeds: Record<string, OrtTensor> = Object.fromEntries(this.state);
    feeds[graph.input] = this.tensor(x, [n, ...graph.inputShape]);
    feeds[graph.target] = this.tensor(y, [n, ...graph.targetShape]);
    feeds[graph.lr] = this.tensor(Float32Array.of(lr), []);
    const out = await this.session.run(feeds);
    for (const slot of graph.weights) {
      this.state.set(slot.value, out[slot.next.value]);
      this.state.set(slot.m, out[slot.next.m]);
      this.state.set(slot.v, out[slot.next.v]);
    }
    for (const slot of graph.states) this.state.set(slot.value, out[slot.next]);
    this.state.set(graph.accBeta1.value, out[graph.accBeta1.next]);
    this.state.set(graph.accBeta2.value, out[graph.accBeta2.next]);
    if (graph.weights[0]?.grad) this.gradients = graph.weights.map((s) => out[s.grad!]);
    this.iterations++;
    return (out[graph.loss].data as Float32Array)[0];
  }

  /** The gradients of the last step, in tfjs layout and model.trainableWeights order (needs `exposeGradients`). */
  lastGradients(): Float32Array[] {
    if (!this.gradients) throw new Error('no gradients: create the trainer with exposeGradients and run a step');
    return this.graph.weights.map((s, i) => fromLayout(this.gradients![i].data as Float32Array, s.variable.shape as number[], s.layout));
  }

  /** Copies the weights and BN moving statistics into the tfjs model's variables. */
  writeToModel(): void {
    tf.tidy(() => {
      for (const slot of this.graph.weights) slot.variable.write(tf.tensor(this.read(slot.value, slot.variable.shape as number[], slot.layout), slot.variable.shape as number[]));
      for (const slot of this.graph.states) slot.variable.write(tf.tensor(this.read(slot.value, slot.dims, 'same'), slot.variable.shape as number[]));
    });
  }

  /** Takes the tfjs model's current weights and moving statistics (e.g. after restoring a checkpoint). */
  readFromModel(): void {
    for (const slot of this.graph.weights) this.state.set(slot.value, this.tensor(toLayout(Float32Array.from(slot.variable.read().dataSync()), slot.variable.shape as number[], slot.layout), slot.dims));
    for (const slot of this.graph.states) this.state.set(slot.value, this.tensor(Float32Array.from(slot.variable.read().dataSync()), slot.dims));
  }

  /** tfjs Adam's `getWeights()`: [iter (int32), `<var>/m`..., `<var>/v`...]; the caller disposes the tensors. */
  getOptimizerWeights(): NamedTensor[] {
    const moments = (key: 'm' | 'v') =>
      this.graph.weights.map((slot) => ({ name: `${(slot.variable.read() as tf.Variable).name}/${key}`, tensor: tf.tensor(this.read(slot[key], slot.variable.shape as number[], slot.layout), slot.variable.shape as number[]) }));
    return [{ name: 'iter', tensor: tf.scalar(this.iterations, 'int32') }, ...moments('m'), ...moments('v')];
  }

  /** Restores what `getOptimizerWeights` (or tfjs Adam's `getWeights`) gave; an empty list resets. */
  setOptimizerWeights(weights: readonly NamedTensor[]): void {
    if (weights.length === 0) return this.resetOptimizer();
    const count = this.graph.weights.length;
    if (weights.length !== 1 + 2 * count) throw new Error(`optimizer state of ${weights.length} tensors for ${count} weights (Adam needs ${1 + 2 * count})`);
    this.iterations = weights[0].tensor.dataSync()[0];
    this.graph.weights.forEach((slot, i) => {
      const shape = slot.variable.shape as number[];
      this.state.set(slot.m, this.tensor(toLayout(Float32Array.from(weights[1 + i].tensor.dataSync()), shape, slot.layout), slot.dims));
      this.state.set(slot.v, this.tensor(toLayout(Float32Array.from(weights[1 + count + i].tensor.dataSync()), shape, slot.layout), slot.dims));
    });
    // the next step's powers beta^(iterations + 1), rounded as the graph accumulates them (a float32 Mul per
    // step) so that a resumed run continues bit for bit; Math.pow differs in the last bits from the 2nd step on
    this.state.set(this.graph.accBeta1.value, this.tensor(Float32Array.of(float32Power(this.adam.beta1, this.iterations + 1)), []));
    this.state.set(this.graph.accBeta2.value, this.tensor(Float32Array.of(float32Power(this.adam.beta2, this.iterations + 1)), []));
  }

  async dispose(): Promise<void> {
    this.state.clear();
    await this.session.release();
  }

  private resetOptimizer(): void {
    this.iterations = 0;
    for (const slot of this.graph.weights) {
      const size = slot.dims.reduce((a, b) => a * b, 1);
      this.state.set(slot.m, this.tensor(new Float32Array(size), slot.dims));
      this.state.set(slot.v, this.tensor(new Float32Array(size), slot.dims));
    }
    this.state.set(this.graph.accBeta1.value, this.tensor(Float32Array.of(this.adam.beta1), []));
    this.state.set(this.graph.accBeta2.value, this.tensor(Float32Array.of(this.adam.beta2), []));
  }

  private read(name: string, tfjsShape: readonly number[], layout: 'same' | 'hwio-as-oihw'): Float32Array {
    return fromLayout(this.state.get(name)!.data as Float32Array, tfjsShape, layout);
  }

  private tensor(data: Float32Array, dims: readonly number[]): OrtTensor {
    return new this.ort.Tensor('float32', data, dims);
  }
}

/** beta^n as n - 1 float32 multiplications from float32(beta), the way the step graph's Mul accumulates it. */
function float32Power(beta: number, n: number): number {
  const b = Math.fround(beta);
  let power = b;
  for (let i = 1; i < n; i++) power = Math.fround(power * b);
  return power;
}
