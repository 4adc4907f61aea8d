/**
 * Where the detector's inference time goes on BCCD's val images (the inference half of bench/detection.ts):
 * ONNX Runtime session run, decode of the heads (scores, threshold, boxes), NMS and the letterbox inverse, each
 * timed apart over PASSES passes of batches of 8, then ORT's profiler per op over one pass.
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
const time = { run: 0, decode: 0, letterbox: 0, pack: 0 };
let boxes = 0;
async function pass(predictor: Awaited<ReturnType<typeof createPredictor>>, timed: boolean): Promise<void> {
  for (let i = 0; i < images.length; i += batch) {
    let t = performance.now();
    const chunk = images.slice(i, i + batch);
    const x = new Float32Array(chunk.length * size * height * 3);
    chunk.forEach((c, k) => x.set(c.raster.data, k * size * height * 3));
    const tick = (key: keyof typeof time) => {
      const now = performance.now();
      if (timed) time[key] += now - t;
      t = now;
    };
    tick('pack');
    const raw = await predictor.predict(x, chunk.length);
    tick('run');
    const decoded = chunk.map((_, k) => decodeDetections(raw.subarray(k * per, (k + 1) * per), points, CLASSES, defaultDecode));
    tick('decode');
    const mapped = decoded.map((d, k) => d.map((b) => fromLetterbox(b, chunk[k].geometry)));
    tick('letterbox');
    if (timed) boxes += mapped.reduce((s, d) => s + d.length, 0);
  }
}
const predictor = await createPredictor(model, { engine: 'onnxruntime', threads });
await pass(predictor, false);
for (let p = 0; p < passes; p++) await pass(predictor, true);
await predictor.dispose();
const total = Object.values(time).reduce((a, b) => a + b, 0);
const ms = (v: number) => `${(v / passes).toFixed(1)} ms/pass (${((100 * v) / total).toFixed(1)} %)`;
console.log(`${images.length} val images, ${size} x ${height}, batch ${batch}, ${threads} thread(s), ${passes} passes: ${(total / passes).toFixed(0)} ms/pass = ${((images.length * passes * 1000) / total).toFixed(2)} img/s; ${(boxes / passes / images.length).toFixed(1)} boxes/image`);
for (const [k, v] of Object.entries(time)) console.log(`  ${k.padEnd(10)} ${ms(v)}`);

const profile = profileNextSession(ort, 'det-infer-profile');
const profiled = await createPredictor(model, { engine: 'onnxruntime', threads });
await pass(profiled, false);
printOpTimes(await profile(), Math.ceil(images.length / batch), 15, Number(process.env.TOP_NODES ?? 15));
await profiled.dispose();
