// Gradient check of one training step against a float64 reference: the model's loss and every
// trainable weight's gradient from tfjs (cpu and wasm backends, float32) and from the ONNX Runtime
// training graph (float32), each compared with the same step evaluated in float64 by PyTorch autograd
// (bench/train_grad_reference.py, Debian python3-torch). Prints per engine the worst and median relative
// error over the weights, the stem kernel's error, and the pre-activation values nearest a ReLU kink
// (where float32 engines may take the other branch). With FLIPS=k it also evaluates the reference with the
// derivative flipped at each of the k values nearest a kink in every ReLU layer (one at a time) and
// reports, per engine, the error left after the flips that explain its gradients best (chosen greedily);
// an engine whose whole difference from float64 is such branch choices then drops to float32 noise. Only the
// FLIP_LIMIT (default 48) nearest candidates overall are tried: each is a whole gradient vector in the output.
// With WEIGHT=regex it prints, for each weight whose name matches, its gradient's size (largest element, as a
// fraction of the model's largest gradient) and each engine's largest absolute difference from float64 (also as
// such a fraction), and the engines' largest difference from each other: where a near-zero gradient's
// difference stands against float32 noise.
// With PER_WEIGHT=n it lists, per engine, the n weights nearest the output whose error exceeds 1e-3 (in
// model order, output first): backward errors start at the output, so the first listed is where they appear.
// DATA_SEED=k: the batch of test/ml/onnx/training/gradients.test.ts's case with that data seed (same model seed and classes).
// usage: [FLIPS=k] [PER_WEIGHT=n] [WEIGHT=regex] [DATA_SEED=k] [DEPTH=json] node --import tsx bench/train-grad-check.ts ARCH SIZE BATCH [LOSS=bce|ce|focal|JSON] [SEED=5]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '../src/ml/tf.ts';
import { initBackend } from '../src/ml/backend.ts';
import { makeLoss, type LossConfig } from '../src/ml/losses/index.ts';
import { buildModel, type Architecture, type ModelSpec } from '../src/ml/models/index.ts';
import { topologicalNodes } from '../src/ml/onnx/export-model.ts';
import { OrtTrainer, trainLossOf } from '../src/ml/onnx/training/ort-trainer.ts';
import { trainingObjective } from '../src/ml/training/objective.ts';

const [arch, size, n] = [process.argv[2] as Architecture, Number(process.argv[3] ?? 64), Number(process.argv[4] ?? 4)];
const lossArg = process.argv[5] ?? 'bce';
const lossConfig = (lossArg.startsWith('{') ? JSON.parse(lossArg) : lossArg) as LossConfig; // a name or JSON, e.g. '{"asl":{}}'
const seed = Number(process.argv[6] ?? 5);
const spec: ModelSpec = { arch, inputSize: size, channels: 1, classes: Number(process.env.CLASSES ?? 3), task: lossConfig === 'ce' ? 'multiclass' : 'multilabel', seed };
/** DEPTH: a shallower DenseNet / MobileNetV2 as JSON, e.g. '{"blocks":[2,2,2],"growth":8}' (buildModel's `depth`). */
const depth = process.env.DEPTH ? JSON.parse(process.env.DEPTH) : undefined;
const build = () => buildModel(spec, { depth });
/** The batch: uniform LCG images, or with DATA_SEED the gradient test's batch (its first kink-free batch on tfjs wasm from that data seed). */
async function makeBatch(): Promise<{ xs: Float32Array; ys: Float32Array }> {
  if (process.env.DATA_SEED) {
    await initBackend('wasm');
    const { kinkFreeBatch } = await import('../test/ml/onnx/training/step-fixtures.ts');
    const b = kinkFreeBatch(build(), spec, n, Number(process.env.DATA_SEED));
    return { xs: Float32Array.from(b.xs), ys: Float32Array.from(b.ys) };
  }
  let s = seed;
  const xs = Float32Array.from({ length: n * size * size }, () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
  const ys = Float32Array.from({ length: n * spec.classes }, (_, i) => (spec.task === 'multiclass' ? Number(i % spec.classes === Math.floor(i / spec.classes) % spec.classes) : Number((i * 7) % 3 === 0)));
  return { xs, ys };
}
const { xs, ys } = await makeBatch();
const trainLoss = trainLossOf(lossConfig, spec.task);

async function tfjsStep(backend: 'cpu' | 'wasm') {
  await initBackend(backend);
  const model = build();
  const x = tf.tensor4d(xs, [n, size, size, 1]);
  const y = tf.tensor2d(ys, [n, spec.classes]);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  // as training computes it: BCE / CE from the logits when the model ends in a sigmoid / softmax
  const { value, grads } = tf.variableGrads(() => trainingObjective(model, makeLoss(lossConfig, spec.task))(x, y), vars);
  return { model, x, loss: value.dataSync()[0], grads: vars.map((v) => Float32Array.from(grads[v.name].dataSync())) };
}

const cpu = await tfjsStep('cpu');
const wasm = await tfjsStep('wasm');
const model = wasm.model;
const trainer = await OrtTrainer.create(build(), { loss: trainLoss, optimizer: { name: 'adam' }, threads: 1, exposeGradients: true });
const ortLoss = await trainer.step(xs, ys, n, 1e-3);
const ort = trainer.lastGradients();

// float64 reference
const dir = mkdtempSync(join(tmpdir(), 'grad-check-'));
const nodes = topologicalNodes(model.outputs[0]);
const ids = new Map<unknown, number>();
nodes.forEach((node, i) => node.outputTensors.forEach((t) => ids.set(t, i)));
const parts: Float32Array[] = [xs, ys];
const description = {
  x: [n, size, size, 1],
  y: [n, spec.classes],
  loss: trainLoss,
  trainable: model.trainableWeights.map((w) => w.name),
  nodes: nodes.map((node, i) => {
    const layer = node.outboundLayer;
    return {
      id: i,
      name: layer.name,
      class: layer.getClassName(),
      config: layer.getConfig(),
      inputs: layer.getClassName() === 'InputLayer' ? [] : node.inputTensors.map((t) => ids.get(t)),
      weights: layer.weights.map((w) => {
        parts.push(Float32Array.from(w.read().dataSync()));
        return { name: w.name, shape: w.shape, trainable: w.trainable };
      }),
    };
  }),
};
writeFileSync(join(dir, 'model.json'), JSON.stringify(description));
writeFileSync(join(dir, 'data.bin'), Buffer.concat(parts.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength))));
const flips = Number(process.env.FLIPS ?? 0);
const { kinks } = JSON.parse(execFileSync('/usr/bin/python3', [join(import.meta.dirname, 'train_grad_reference.py'), join(dir, 'model.json'), join(dir, 'data.bin'), join(dir, 'out.bin'), String(flips), process.env.FLIP_LIMIT ?? '48'], { encoding: 'utf8' })) as { kinks: { distance: number; layer: string; index: number }[] };
const out = new Float64Array(readFileSync(join(dir, 'out.bin')).buffer.slice(0));
rmSync(dir, { recursive: true, force: true });
const refLoss = out[0];
let offset = 1;
const total = model.trainableWeights.reduce((sum, w) => sum + (w.shape as number[]).reduce((a, b) => a * b, 1), 0);
const split = (flat: Float64Array) => {
  let at = 0;
  return model.trainableWeights.map((w) => flat.subarray(at, (at += (w.shape as number[]).reduce((a, b) => a * b, 1))));
};
const reference = split(out.subarray(offset, (offset += total)));
const flipped = Array.from({ length: flips ? kinks.length : 0 }, () => out.subarray(offset, (offset += total)));

const absMax = (a: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
};
const globalMax = Math.max(...reference.map(absMax));
/** max |got - ref| relative to max |ref| (or to 1e-4 of the largest gradient of the model, for gradients that are ~0 by cancellation). */
const error = (got: ArrayLike<number>, ref: ArrayLike<number>) => {
  let d = 0;
  for (let i = 0; i < ref.length; i++) d = Math.max(d, Math.abs(got[i] - ref[i]));
  return d / Math.max(absMax(ref), 1e-4 * globalMax);
};
const names = model.trainableWeights.map((w) => w.name);
const stem = names.findIndex((name) => /stem.*kernel|block1a.*kernel/.test(name));
console.log(`${arch} ${size} px, batch ${n}, loss ${JSON.stringify(lossConfig)}, seed ${seed}: float64 loss ${refLoss.toPrecision(9)}; nearest float64 pre-activation to a ReLU kink ${kinks[0] ? `${kinks[0].distance.toExponential(1)} (${kinks[0].layer})` : 'none'}`);
const flat = (grads: readonly ArrayLike<number>[]) => {
  const f = new Float64Array(total);
  let at = 0;
  for (const g of grads) for (let i = 0; i < g.length; i++) f[at++] = g[i];
  return f;
};
const refFlat = out.subarray(1, 1 + total);
/** Single-kink flips whose summed effect brings the reference closest to `grads` (least squares, greedy: add the best flip while it removes >= 10 % of the misfit, at most 12). */
function bestFlips(grads: readonly ArrayLike<number>[]): { subset: number[]; corrected: Float64Array[] } {
  const g = flat(grads);
  const current = refFlat.slice();
  const misfit = (extra?: Float64Array) => {
    let cost = 0;
    for (let i = 0; i < total; i++) cost += (g[i] - current[i] - (extra ? extra[i] - refFlat[i] : 0)) ** 2;
    return cost;
  };
  const subset: number[] = [];
  let cost = misfit();
  while (subset.length < 12) {
    let best = { cost, k: -1 };
    flipped.forEach((f, k) => {
      if (subset.includes(k)) return;
      const c = misfit(f);
      if (c < best.cost) best = { cost: c, k };
    });
    if (best.k < 0 || best.cost > 0.9 * cost) break;
    subset.push(best.k);
    for (let i = 0; i < total; i++) current[i] += flipped[best.k][i] - refFlat[i];
    cost = best.cost;
  }
  return { subset, corrected: split(current) };
}
/** The gradient test's measure between two float32 engines: worst per-weight max difference relative to the weight's largest gradient (floor 1e-4 of the model's largest). */
const between = (a: readonly ArrayLike<number>[], b: readonly ArrayLike<number>[]) => {
  const errors = a.map((g, i) => error(g, b[i]));
  const worst = errors.reduce((m, e, i) => (e > m[0] ? [e, i] : m), [0, 0]);
  return `${worst[0].toExponential(2)} (${names[worst[1]]})`;
};
console.log(`  engine vs engine (as gradients.test.ts): onnxruntime vs tfjs wasm ${between(ort, wasm.grads)}, vs tfjs cpu ${between(ort, cpu.grads)}; tfjs cpu vs wasm ${between(cpu.grads, wasm.grads)}`);
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let d = 0;
  for (let i = 0; i < b.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
};
if (process.env.WEIGHT) {
  const pattern = new RegExp(process.env.WEIGHT);
  const ofModel = (v: number) => (v / globalMax).toExponential(2);
  for (const [i, name] of names.entries()) {
    if (!pattern.test(name)) continue;
    const engines = [['tfjs cpu', cpu.grads[i]], ['tfjs wasm', wasm.grads[i]], ['onnxruntime', ort[i]]] as const;
    console.log(`  ${name}: largest |gradient| ${ofModel(absMax(reference[i]))} of the model's largest (${globalMax.toExponential(3)}); largest |engine - float64| ${engines.map(([e, g]) => `${e} ${ofModel(maxDiff(g, reference[i]))}`).join(', ')}; onnxruntime - tfjs wasm ${ofModel(maxDiff(ort[i], wasm.grads[i]))}, tfjs cpu - wasm ${ofModel(maxDiff(cpu.grads[i], wasm.grads[i]))} (all as fractions of the model's largest)`);
  }
}
for (const [engine, loss, grads] of [['tfjs cpu', cpu.loss, cpu.grads], ['tfjs wasm', wasm.loss, wasm.grads], ['onnxruntime', ortLoss, ort]] as const) {
  const errors = grads.map((g, i) => error(g, reference[i]));
  const order = errors.map((e, i) => [e, i] as const).sort((a, b) => b[0] - a[0]);
  const median = order[order.length >> 1][0];
  console.log(`  ${engine.padEnd(12)} loss ${loss.toPrecision(9)}; gradient error vs float64: worst ${order[0][0].toExponential(2)} (${names[order[0][1]]}), median ${median.toExponential(2)}, stem kernel ${errors[stem].toExponential(2)}`);
  const listed = Number(process.env.PER_WEIGHT ?? 0);
  if (listed > 0) {
    const nearOutput = errors.map((e, i) => [e, i] as const).reverse().filter(([e]) => e > 1e-3).slice(0, listed);
    console.log(`  ${''.padEnd(12)} nearest the output above 1e-3: ${nearOutput.map(([e, i]) => `${names[i]} ${e.toExponential(2)}`).join(', ') || 'none'}`);
  }
  if (flips > 0) {
    const { subset, corrected } = bestFlips(grads);
    const left = grads.map((g, i) => error(g, corrected[i]));
    const worst = left.reduce((a, e, i) => (e > a[0] ? [e, i] : a), [0, 0]);
    console.log(`  ${''.padEnd(12)} after its branch choices at kinks (flipped: ${subset.map((k) => `${kinks[k].layer}[${kinks[k].index}] ${kinks[k].distance.toExponential(1)}`).join(', ') || 'none'}): worst ${worst[0].toExponential(2)} (${names[worst[1]]}), stem kernel ${left[stem].toExponential(2)}`);
  }
}
