/**
 * Where the detector's inference time goes on BCCD's val images (the inference half of bench/detection.ts):
 * ONNX Runtime session run, decode of the heads (scores, threshold, boxes, NMS) and the letterbox inverse, each
 * timed apart over PASSES passes of batches of 8, alternating the current decode with the straightforward one
 * it replaced (img/s by wall time and per CPU second, and whether both give the same boxes), then ORT's
 * profiler per op over one pass.
 * The model is bench/detection.ts's recipe (ResNet-18 + FPN(64), 256 x 192, train.txt only, seed 1) trained
 * once and cached in MODEL_DIR (model.json + weights.bin); the val images are only predicted.
 * usage: node --import tsx bench/detection-infer-profile.ts BCCD_DIR MODEL_DIR [EPOCHS=8] [THREADS=1] [PASSES=5]
 */
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Box, DatasetRow } from '../src/data-model.ts';
import { trainStage } from '../src/stages/train.ts';
import { runStage, tempStore } from '../src/testing/harness.ts';
import { loadModel, modelFromBytes, saveModelFiles } from '../src/ml/model-io.ts';
import { createPredictor } from '../src/ml/inference/predictor.ts';
import { anchorPoints } from '../src/ml/detection/assign.ts';
import { decodeDetections, defaultDecode } from '../src/ml/detection/decode.ts';
import { CLASS_OFFSET, pyramidLevels } from '../src/ml/detection/detector.ts';
import { decodeLetterboxed } from '../src/ml/detection/letterbox-image.ts';
import { fromLetterbox } from '../src/ops/boxes/letterbox.ts';
import { loadOnnxRuntime } from '../src/ml/onnx/runtime.ts';
import { printOpTimes, profileNextSession } from './ort-profiler.ts';
import { referenceDecode } from '../test/ml/detection/decode-reference.ts';

const [root, modelDir, epochsArg = '8', threadsArg = '1', passesArg = '5'] = process.argv.slice(2);
if (!root || !modelDir) throw new Error('usage: detection-infer-profile.ts BCCD_DIR MODEL_DIR [EPOCHS] [THREADS] [PASSES]');
const [epochs, threads, passes] = [epochsArg, threadsArg, passesArg].map(Number);
const [size, height, batch] = [256, 192, 8];
process.env.PIPELINE_WASM_THREADS = String(threads);
const CLASSES = ['Platelets', 'RBC', 'WBC'];

const ids = async (split: string) => (await readFile(join(root, 'ImageSets/Main', `${split}.txt`), 'utf8')).split(/\s+/).filter(Boolean);
const exists = (file: string) => stat(file).then(() => true, () => false);

if (!(await exists(join(modelDir, 'model.json')))) {
  const store = await tempStore();
  const vocBoxes = (xml: string): Box[] =>
    xml.split('<object>').slice(1).flatMap((o) => {
      const num = (k: string) => Number(new RegExp(`<${k}>([^<]+)</${k}>`).exec(o)![1]);
      const [x0, y0, x1, y1] = ['xmin', 'ymin', 'xmax', 'ymax'].map(num);
      return x1 > x0 && y1 > y0 ? [{ label: /<name>([^<]+)<\/name>/.exec(o)![1], x_min: x0 - 1, y_min: y0 - 1, x_max: x1, y_max: y1 }] : [];
    });
  const rows: DatasetRow[] = await Promise.all((await ids('train')).map(async (id) => ({ id, split: 'train', image: await store.putBlob(await readFile(join(root, 'JPEGImages', `${id}.jpg`))), boxes: vocBoxes(await readFile(join(root, 'Annotations', `${id}.xml`), 'utf8')), width: 640, height: 480 })));
  const augment = { hflip: 0.5, vflip: 0, scale: 0, translate: 0, mosaic: 0 };
  const params = { task: 'detection', model: 'resnet18', size, channels: 3, batch, epochs, lr: 0.001, schedule: { type: 'cosine', warmup_epochs: 1 }, seed: 1, engine: 'onnxruntime', inference: 'onnxruntime', detection: { neck: 'fpn', neck_channels: 64, head_convs: 2, augment, height } };
  const trained = await runStage(trainStage, { store, params, inputs: [{ name: 'data', artifact: { kind: 'dataset', rows, meta: {} } }] });
  if (JSON.stringify((trained.artifact.meta as { classes: string[] }).classes) !== JSON.stringify(CLASSES)) throw new Error('unexpected classes');
  const files = await saveModelFiles(await loadModel(store, trained.artifact));
  await mkdir(modelDir, { recursive: true });
  for (const [name, data] of Object.entries(files)) await writeFile(join(modelDir, name), data);
}
const model = await modelFromBytes(await readFile(join(modelDir, 'model.json')), await readFile(join(modelDir, 'weights.bin')));
const images = await Promise.all((await ids('val')).map(async (id) => decodeLetterboxed(await readFile(join(root, 'JPEGImages', `${id}.jpg`)), size, 3, height)));
const points = anchorPoints(pyramidLevels(size, height));
const per = points.count * (CLASS_OFFSET + CLASSES.length);

const ort = (await loadOnnxRuntime())!;
type Decode = typeof decodeDetections;
const decoders: Record<string, Decode> = { current: decodeDetections, reference: referenceDecode };
const time: Record<string, { run: number; decode: number; letterbox: number; pack: number; cpu: number }> = {};
const outputs: Record<string, string> = {};
async function pass(predictor: Awaited<ReturnType<typeof createPredictor>>, name: string | undefined): Promise<void> {
  const t0 = time[name ?? ''] ?? { run: 0, decode: 0, letterbox: 0, pack: 0, cpu: 0 };
  const cpu = process.cpuUsage();
  const boxes: unknown[] = [];
  for (let i = 0; i < images.length; i += batch) {
    let t = performance.now();
    const tick = (key: 'run' | 'decode' | 'letterbox' | 'pack') => {
      const now = performance.now();
      t0[key] += now - t;
      t = now;
    };
    const chunk = images.slice(i, i + batch);
    const x = new Float32Array(chunk.length * size * height * 3);
    chunk.forEach((c, k) => x.set(c.raster.data, k * size * height * 3));
    tick('pack');
    const raw = await predictor.predict(x, chunk.length);
    tick('run');
    const decoded = chunk.map((_, k) => decoders[name ?? 'current'](raw.subarray(k * per, (k + 1) * per), points, CLASSES, defaultDecode));
    tick('decode');
    boxes.push(...decoded.map((d, k) => d.map((b) => fromLetterbox(b, chunk[k].geometry))));
    tick('letterbox');
  }
  const used = process.cpuUsage(cpu);
  t0.cpu += (used.user + used.system) / 1000;
  if (name) {
    time[name] = t0;
    outputs[name] = JSON.stringify(boxes);
  }
}
// Passes alternate between the current decode and the straightforward one it replaced (test/ml/detection/decode-reference.ts):
// the same model, session and images, so the difference is the decode's.
const predictor = await createPredictor(model, { engine: 'onnxruntime', threads });
await pass(predictor, undefined);
for (let p = 0; p < passes; p++) for (const name of p % 2 ? ['reference', 'current'] : ['current', 'reference']) await pass(predictor, name);
await predictor.dispose();
console.log(`${images.length} val images, ${size} x ${height}, batch ${batch}, ${threads} thread(s), ${passes} passes each, alternating`);
for (const [name, t] of Object.entries(time)) {
  const wall = t.run + t.decode + t.letterbox + t.pack;
  const parts = (['run', 'decode', 'letterbox', 'pack'] as const).map((k) => `${k} ${(t[k] / passes).toFixed(1)} ms (${((100 * t[k]) / wall).toFixed(1)} %)`).join(', ');
  console.log(`  ${name.padEnd(9)} decode: ${((images.length * passes * 1000) / wall).toFixed(2)} img/s wall, ${((images.length * passes * 1000) / t.cpu).toFixed(2)} img/CPU-s; per pass ${parts}`);
}
console.log(`  same boxes from both: ${outputs.current === outputs.reference}`);

const profile = profileNextSession(ort, 'det-infer-profile');
const profiled = await createPredictor(model, { engine: 'onnxruntime', threads });
await pass(profiled, undefined);
printOpTimes(await profile(), Math.ceil(images.length / batch), 15, Number(process.env.TOP_NODES ?? 15));
await profiled.dispose();
