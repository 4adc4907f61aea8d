import { availableParallelism } from 'node:os';
import * as tf from '../../tf.ts';
import type { LossConfig } from '../../losses/index.ts';
import type { Task } from '../../models/index.ts';
import { EXACT_PREFIX, splitExactState, type NamedTensor } from '../../training/optimizer-state.ts';
import { loadOnnxRuntime, onnxRuntimeLoadError, type OnnxRuntime, type OrtSession, type OrtTensor } from '../runtime.ts';
import { lossEmitterFor, type TrainLoss } from './losses/index.ts';
import { optimizerFactoryFor, type OptimizerConfig, type OptimizerGraph } from './optimizers/index.ts';
import type { LayerVariable } from './layers/index.ts';
import { buildTrainGraph, fromLayout, toLayout, type ChunkedBuffer, type CustomTrainLoss, type FlatBuffer, type FrozenGroup, type OutputsTrainLoss, type TrainGraph, type WeightSlot } from './train-graph.ts';
import { UnsupportedTrainingError } from './unsupported.ts';
import { unrollTrainGraph, type MultiStepGraph } from './multi-step-graph.ts';
import { stepsPerRun } from './steps-per-run.ts';
import { DataType, encodeModel } from '../onnx-model.ts';
import { NCHWC_DOMAIN } from './graph-ops.ts';
import { ortSessionOptions, ortSpinMode, type OrtSpinMode, type PoolSpin } from '../pool-spin.ts';
import { PoolSpinGovernor } from '../pool-respin.ts';

export { UnsupportedTrainingError } from './unsupported.ts';
export type { NamedTensor } from '../../training/optimizer-state.ts';
export type { OptimizerConfig } from './optimizers/index.ts';
export type { TrainLoss } from './losses/index.ts';

/**
 * The graph's loss for a train-stage loss config and task (focal takes its softmax form for multi-class,
 * as losses.ts `makeLoss`).
 */
export function trainLossOf(config: LossConfig, task: Task, classWeights?: readonly number[]): TrainLoss {
  const withWeights = (loss: TrainLoss): TrainLoss => (classWeights ? { ...loss, classWeights } : loss);
  if (config === 'focal' || (typeof config === 'object' && 'focal' in config)) {
    const options = typeof config === 'object' ? config.focal : {};
    return withWeights({ kind: 'focal', options: { ...options, softmax: task === 'multiclass' } });
  }
  if (config === 'asl' || (typeof config === 'object' && 'asl' in config)) return withWeights({ kind: 'asl', options: typeof config === 'object' ? config.asl : {} });
  if (typeof config === 'string' && lossEmitterFor(config)) return withWeights({ kind: config });
  throw new UnsupportedTrainingError(`loss ${JSON.stringify(config)} is not implemented by the ONNX training graph`);
}

/** One step's batch: one array per model input (`graph.inputs` order), the targets when the loss has them. */
export interface StepBatch {
  xs: readonly Float32Array[];
  y?: Float32Array;
}

export interface OrtTrainerOptions {
  loss: TrainLoss | CustomTrainLoss | OutputsTrainLoss;
  /** The weights trained (default: the model's trainable weights); the others are frozen (train-graph.ts). */
  trainable?: readonly LayerVariable[];
  /** Frozen weights fed as inputs (`feedFrozen`), initially the model's values. */
  frozen?: readonly FrozenGroup[];
  /** false: the layers in inference mode (default true). */
  training?: boolean;
  optimizer: OptimizerConfig;
  /** ONNX Runtime intra-op threads (default: os.availableParallelism()). */
  threads?: number;
  /** Default: `loadOnnxRuntime()`. */
  runtime?: OnnxRuntime;
  /** Also fetch every weight's gradient each step (`lastGradients`; tests). */
  exposeGradients?: boolean;
  /** Elements per chunk of the parameter and optimizer buffers (train-graph.ts; benchmarks). */
  paramChunkElements?: number;
  /** Use ONNX Runtime's NCHWc convolutions where they fit (default true; false for comparisons). */
  nchwc?: boolean;
  /** Whether the pool threads spin between ops (pool-spin.ts; default: PIPELINE_ORT_SPIN, else auto). */
  spin?: OrtSpinMode;
  /** The policy deciding it over time (pool-respin.ts; default: one of this trainer's own from `threads` and `spin`). */
  governor?: PoolSpinGovernor;
  /** Batches per `stepMany` call the training loop should hand over (default: steps-per-run.ts's choice). */
  stepsPerRun?: number;
}

function optimizerGraphOf(config: OptimizerConfig): OptimizerGraph {
  const factory = optimizerFactoryFor(config.name);
  if (!factory) throw new UnsupportedTrainingError(`optimizer ${config.name} is not implemented by the ONNX training graph`);
  return factory(config, tf.backend().epsilon());
}

/**
 * The step graph of a model, loss and optimizer (no session): throws UnsupportedLayerError /
 * UnsupportedTrainingError (both OnnxExportError) for what the graph does not implement.
 */
export function compileTrainStep(model: tf.LayersModel, options: Pick<OrtTrainerOptions, 'loss' | 'optimizer' | 'exposeGradients' | 'paramChunkElements' | 'trainable' | 'frozen' | 'training'> & { nchwcBlock?: number }): { graph: TrainGraph; optimizer: OptimizerGraph } {
  const optimizer = optimizerGraphOf(options.optimizer);
  const { loss, exposeGradients, paramChunkElements, nchwcBlock, trainable, frozen, training } = options;
  return { graph: buildTrainGraph(model, { loss, optimizer, exposeGradients, paramChunkElements, nchwcBlock, trainable, frozen, training }), optimizer };
}

/**
 * Runs a tfjs model's training steps in ONNX Runtime: one session of the step graph (train-graph.ts)
 * whose outputs (weights, optimizer state, BN moving stats) are fed back as the next step's inputs; the
 * tfjs model is only read at creation and written by `writeToModel()`. Optimizer state reads and writes
 * tfjs's `getWeights()` format of the same optimizer (plus its exact scalars, optimizer-state.ts), so
 * checkpoints move between the two engines.
 */
export class OrtTrainer {
  private readonly state = new Map<string, OrtTensor>();
  private iterations = 0;
  private gradients: OrtTensor | undefined;
  /** Sessions of the chained step graphs, by steps per run. */
  private readonly multi = new Map<number, { graph: MultiStepGraph; session: OrtSession }>();

  private constructor(
    private readonly ort: OnnxRuntime,
    private session: OrtSession,
    readonly graph: TrainGraph,
    private readonly optimizer: OptimizerGraph,
    /** Milliseconds spent building the graph and creating the session. */
    readonly setupMs: { build: number; session: number },
    private readonly threads: number,
    private readonly governor: PoolSpinGovernor,
    private poolPolicy: PoolSpin | undefined,
    /** Batches per `stepMany` call that pay off (steps-per-run.ts); the training loop groups batches by it. */
    readonly stepsPerRun: number,
  ) {}

  static async create(model: tf.LayersModel, options: OrtTrainerOptions): Promise<OrtTrainer> {
    const started = performance.now();
    const threads = options.threads ?? availableParallelism();
    const governor = options.governor ?? new PoolSpinGovernor(threads, options.spin ?? ortSpinMode());
    if (governor.threads !== threads) throw new Error(`the pool governor decides for ${governor.threads} threads, the trainer runs ${threads}`);
    const spin = governor.current(); // sampled while the graph is built
    const ort = options.runtime ?? (await loadOnnxRuntime());
    if (!ort) throw new Error(`onnxruntime-node is not available (${onnxRuntimeLoadError() ?? 'not installed'})`);
    const nchwcBlock = options.nchwc === false ? undefined : await nchwcBlockSize(ort);
    const { graph, optimizer } = compileTrainStep(model, { ...options, nchwcBlock });
    const built = performance.now();
    const pool = await spin;
    const session = await stepSession(ort, graph.bytes, threads, pool);
    const trainer = new OrtTrainer(ort, session, graph, optimizer, { build: built - started, session: performance.now() - built }, threads, governor, pool, options.stepsPerRun ?? stepsPerRun(graph));
    trainer.readFromModel();
    trainer.resetOptimizer();
    return trainer;
  }

  /** How the pool threads wait between ops, for the engine's log (undefined: one thread, no pool). */
  get pool(): string | undefined {
    return this.poolPolicy?.reason;
  }

  /**
   * Asks the governor whether the pool should now wait the other way (pool-respin.ts; the training loop
   * asks at each epoch start) and moves to a session that does; the log line of the change, else undefined.
   */
  recheckPool(): Promise<string | undefined> {
    return recheckPools(this.governor, [this]);
  }

  /**
   * Replaces the session by one over the same graph whose pool waits as `pool` says. The parameters,
   * optimizer state and moving statistics are inputs fed each step (JS-side tensors, not the session's),
   * so the next step gives the bits the old session would have.
   */
  async usePool(pool: PoolSpin): Promise<void> {
    const session = await stepSession(this.ort, this.graph.bytes, this.threads, pool);
    const old = [this.session];
    this.session = session;
    for (const entry of this.multi.values()) {
      old.push(entry.session);
      entry.session = await stepSession(this.ort, entry.graph.bytes, this.threads, pool, true);
    }
    this.poolPolicy = pool;
    for (const s of old) await s.release();
  }

  /** One step on a batch: x NHWC [n, H, W, C], y [n, ...targetShape]; returns the loss (before the update). */
  async step(x: Float32Array, y: Float32Array, n: number, lr: number): Promise<number> {
    return this.stepOn([x], n, lr, y);
  }

  /** One step on one batch per model input (`graph.inputs` order), y when the loss has targets. */
  async stepOn(xs: readonly Float32Array[], n: number, lr: number, y?: Float32Array): Promise<number> {
    const { graph } = this;
    const feeds = this.feeds(lr);
    this.feedBatch(feeds, { xs, y }, n, graph.inputs.map((i) => i.name), graph.target);
    const out = await this.session.run(feeds);
    this.takeState(out);
    if (graph.gradients) this.gradients = out[graph.gradients];
    this.iterations++;
    return (out[graph.loss].data as Float32Array)[0];
  }

  /**
   * `batches.length` steps in one `session.run` of the chained step graph (multi-step-graph.ts; one
   * session per count, created on first use): the same updates as that many `stepOn` calls, the state
   * copied out of the runtime once. Returns each step's loss.
   */
  async stepMany(batches: readonly StepBatch[], n: number, lr: number): Promise<number[]> {
    if (batches.length === 1) return [await this.stepOn(batches[0].xs, n, lr, batches[0].y)];
    const { graph, session } = await this.multiStep(batches.length);
    const feeds = this.feeds(lr);
    batches.forEach((batch, k) => this.feedBatch(feeds, batch, n, graph.perStep[k].inputs, graph.perStep[k].target));
    const out = await session.run(feeds);
    this.takeState(out);
    this.iterations += batches.length;
    return graph.perStep.map((s) => (out[s.loss].data as Float32Array)[0]);
  }

  private async multiStep(steps: number): Promise<{ graph: MultiStepGraph; session: OrtSession }> {
    let entry = this.multi.get(steps);
    if (!entry) {
      const graph = unrollTrainGraph(this.graph, steps);
      entry = { graph, session: await stepSession(this.ort, graph.bytes, this.threads, this.poolPolicy, true) };
      this.multi.set(steps, entry);
    }
    return entry;
  }

  /** The state tensors and the learning rate, as a run's feeds. */
  private feeds(lr: number): Record<string, OrtTensor> {
    const feeds: Record<string, OrtTensor> = Object.fromEntries(this.state);
    feeds[this.graph.lr] = this.tensor(Float32Array.of(lr), []);
    return feeds;
  }

  private feedBatch(feeds: Record<string, OrtTensor>, batch: StepBatch, n: number, inputs: readonly string[], target: string | undefined): void {
    const { graph } = this;
    inputs.forEach((name, i) => (feeds[name] = this.tensor(batch.xs[i], [n, ...graph.inputs[i].shape])));
    if (target) feeds[target] = this.tensor(batch.y!, [n, ...graph.targetShape]);
  }

  /** A run's next state becomes the state the next run reads. */
  private takeState(out: Record<string, OrtTensor>): void {
    for (const buffer of this.buffers()) this.state.set(buffer.value, out[buffer.next]);
    for (const s of this.graph.optimizerScalars) this.state.set(s.value, out[s.next]);
  }

  /** Optimizer steps taken (restored with the optimizer state). */
  get steps(): number {
    return this.iterations;
  }

  /** The current parameter chunks (the step's last outputs; edits to their data are the next step's input). */
  paramChunks(): OrtTensor[] {
    return this.graph.params.chunks.map((c) => this.state.get(c.value)!);
  }

  /** A trained weight's live values in the current parameter chunk (graph layout; edits are the next step's input). */
  paramView(w: WeightSlot): Float32Array {
    const chunk = this.graph.params.chunks[w.chunk];
    const start = w.offset - chunk.offset;
    return (this.state.get(chunk.value)!.data as Float32Array).subarray(start, start + w.size);
  }

  /** Feeds a frozen group from now on: another trainer's `paramChunks()` over the same variables (laid out alike: checked). */
  feedFrozen(name: string, chunks: readonly OrtTensor[]): void {
    const group = this.graph.frozen.find((f) => f.name === name);
    if (!group || group.chunks.length !== chunks.length) throw new Error(`frozen group ${name}: ${chunks.length} chunks for ${group ? group.chunks.length : 'no such group'}`);
    group.chunks.forEach((c, k) => this.state.set(c.value, chunks[k]));
  }

  /** The batch-norm moving statistics (undefined without batch norms), to hand to a graph over the same layers. */
  get statsTensor(): OrtTensor | undefined {
    return this.graph.stats && this.state.get(this.graph.stats.value);
  }

  set statsTensor(t: OrtTensor | undefined) {
    if (this.graph.stats && t) this.state.set(this.graph.stats.value, t);
  }

  /** The gradients of the last step, in tfjs layout and model.trainableWeights order (needs `exposeGradients`). */
  lastGradients(): Float32Array[] {
    if (!this.gradients) throw new Error('no gradients: create the trainer with exposeGradients and run a step');
    const flat = this.gradients.data as Float32Array;
    return this.graph.weights.map((w) => this.weightView(flat, w));
  }

  /** Copies the weights and BN moving statistics into the tfjs model's variables. */
  writeToModel(): void {
    const params = this.read(this.graph.params);
    const stats = this.graph.stats ? this.read(this.graph.stats) : undefined;
    tf.tidy(() => {
      for (const w of this.graph.weights) w.variable.write(tf.tensor(this.weightView(params, w), w.variable.shape as number[]));
      for (const s of this.graph.states) s.variable.write(tf.tensor(stats!.slice(s.offset, s.offset + s.size), s.variable.shape as number[]));
    });
  }

  /** Takes the tfjs model's current weights and moving statistics (e.g. after restoring a checkpoint). */
  readFromModel(): void {
    this.write(this.graph.params, this.modelValues(this.graph.params.size, this.graph.weights));
    for (const group of this.graph.frozen) this.write(group, this.modelValues(group.size, group.weights));
    if (this.graph.stats) {
      const stats = new Float32Array(this.graph.stats.size);
      for (const s of this.graph.states) stats.set(s.variable.read().dataSync(), s.offset);
      this.write(this.graph.stats, stats);
    }
  }

  /**
   * tfjs's `getWeights()` of the same optimizer: [iter (int32), then per slot suffix `<var>/<suffix>` for
   * every weight], then the exact scalars (`exact:<key>`); the caller disposes the tensors.
   */
  getOptimizerWeights(): NamedTensor[] {
    const groups = this.optimizer.slots.map((suffix, k) => {
      const flat = this.read(this.graph.slots[k]);
      return this.graph.weights.map((w) => ({ name: `${(w.variable.read() as tf.Variable).name}/${suffix}`, tensor: tf.tensor(this.weightView(flat, w), w.variable.shape as number[]) }));
    });
    const exact = this.optimizer.scalars.map((s, i) => ({ name: `${EXACT_PREFIX}${s.key}`, tensor: tf.scalar(this.scalar(this.graph.optimizerScalars[i].value)) }));
    return [{ name: 'iter', tensor: tf.scalar(this.iterations, 'int32') }, ...groups.flat(), ...exact];
  }

  /** Restores what `getOptimizerWeights` (or tfjs's `getWeights` of the same optimizer) gave; an empty list resets. */
  setOptimizerWeights(weights: readonly NamedTensor[]): void {
    const { tfjs, exact } = splitExactState(weights);
    if (tfjs.length === 0) return this.resetOptimizer();
    const count = this.graph.weights.length;
    const expected = 1 + this.optimizer.slots.length * count;
    if (tfjs.length !== expected) throw new Error(`optimizer state of ${tfjs.length} tensors for ${count} weights (${this.optimizer.slots.length} slots each: ${expected} with the iteration count)`);
    this.iterations = tfjs[0].tensor.dataSync()[0];
    this.graph.slots.forEach((slot, k) => {
      const flat = new Float32Array(slot.size);
      this.graph.weights.forEach((w, i) => flat.set(toLayout(Float32Array.from(tfjs[1 + k * count + i].tensor.dataSync()), w.variable.shape as number[], w.layout), w.offset));
      this.write(slot, flat);
    });
    this.optimizer.scalars.forEach((s, i) => {
      const given = exact.get(s.key);
      this.state.set(this.graph.optimizerScalars[i].value, this.tensor(Float32Array.of(given ? given.dataSync()[0] : s.before(this.iterations)), []));
    });
  }

  async dispose(): Promise<void> {
    this.state.clear();
    await this.session.release();
    for (const entry of this.multi.values()) await entry.session.release();
    this.multi.clear();
  }

  private resetOptimizer(): void {
    this.iterations = 0;
    for (const slot of this.graph.slots) this.write(slot, new Float32Array(slot.size));
    this.optimizer.scalars.forEach((s, i) => this.state.set(this.graph.optimizerScalars[i].value, this.tensor(Float32Array.of(s.before(0)), [])));
  }

  /** The buffers a step replaces (every chunk of the parameters and optimizer slots, the moving statistics). */
  private buffers(): FlatBuffer[] {
    return [...[this.graph.params, ...this.graph.slots].flatMap((b) => b.chunks), ...(this.graph.stats ? [this.graph.stats] : [])];
  }

  /** A buffer's current value, its chunks laid end to end. */
  private read(buffer: ChunkedBuffer | FlatBuffer): Float32Array {
    if (!('chunks' in buffer)) return this.state.get(buffer.value)!.data as Float32Array;
    const flat = new Float32Array(buffer.size);
    for (const chunk of buffer.chunks) flat.set(this.state.get(chunk.value)!.data as Float32Array, chunk.offset);
    return flat;
  }

  /** Sets a buffer's value (copied into one tensor per chunk). */
  private write(buffer: { chunks: readonly { value: string; offset: number; size: number }[] } | FlatBuffer, flat: Float32Array): void {
    for (const chunk of 'chunks' in buffer ? buffer.chunks : [{ ...buffer, offset: 0 }]) this.state.set(chunk.value, this.tensor(flat.slice(chunk.offset, chunk.offset + chunk.size), [chunk.size]));
  }

  private scalar(name: string): number {
    return (this.state.get(name)!.data as Float32Array)[0];
  }

  /** The variables' current values laid out as a buffer of `size`. */
  private modelValues(size: number, weights: readonly WeightSlot[]): Float32Array {
    const flat = new Float32Array(size);
    for (const w of weights) flat.set(toLayout(Float32Array.from(w.variable.read().dataSync()), w.variable.shape as number[], w.layout), w.offset);
    return flat;
  }

  /** One weight's part of a flat buffer, in tfjs layout. */
  private weightView(flat: Float32Array, w: WeightSlot): Float32Array {
    return fromLayout(flat.slice(w.offset, w.offset + w.size), w.variable.shape as number[], w.layout);
  }

  private tensor(data: Float32Array, dims: readonly number[]): OrtTensor {
    return new this.ort.Tensor('float32', data, dims);
  }
}

/** Asks `governor` again and moves each of `trainers` (which it decides for) to a changed policy; the log line of a change, else undefined. */
export async function recheckPools(governor: PoolSpinGovernor, trainers: readonly OrtTrainer[]): Promise<string | undefined> {
  const next = await governor.recheck();
  if (!next) return undefined;
  for (const trainer of trainers) await trainer.usePool(next);
  return `ORT pool: now ${next.reason}`;
}

/**
 * A session of a step graph. `chained` (several steps per run): without memory patterns, which planned
 * every step's intermediates apart (ResNet-18 128 px batch 32, 4 steps: +1.1 GB resident against one
 * step per run; without them +0.1 GB, as fast: bench/results/train.md round 9).
 */
function stepSession(ort: OnnxRuntime, bytes: Uint8Array, threads: number, pool: PoolSpin | undefined, chained = false): Promise<OrtSession> {
  return ort.InferenceSession.create(bytes, { ...ortSessionOptions(threads, pool), ...(chained && { enableMemPattern: false }) });
}

let nchwcBlock: Promise<number | undefined> | undefined;

/**
 * ONNX Runtime's NCHWc channel block on this CPU (16 with AVX-512, 8 with AVX2), read from the shape
 * ReorderInput gives 4 channels; undefined where the runtime has no NCHWc kernels. Asked once per process.
 */
export function nchwcBlockSize(ort: OnnxRuntime): Promise<number | undefined> {
  nchwcBlock ??= (async () => {
    const bytes = encodeModel({
      irVersion: 8,
      opsetVersion: 17,
      extraOpsets: [{ domain: NCHWC_DOMAIN, version: 1 }],
      producerName: 'pipeline',
      graph: {
        name: 'nchwc_probe',
        nodes: [{ opType: 'ReorderInput', inputs: ['x'], outputs: ['y'], name: 'reorder', domain: NCHWC_DOMAIN }],
        initializers: [],
        inputs: [{ name: 'x', elemType: DataType.FLOAT, shape: [1, 4, 1, 1] }],
        outputs: [{ name: 'y', elemType: DataType.FLOAT, shape: [1, 'channels', 1, 1] }],
      },
    });
    try {
      const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1 });
      const out = await session.run({ x: new ort.Tensor('float32', new Float32Array(4), [1, 4, 1, 1]) });
      await session.release();
      const block = out.y.dims[1];
      return block > 4 ? block : undefined;
    } catch {
      return undefined;
    }
  })();
  return nchwcBlock;
}
