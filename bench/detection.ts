/**
 * Our detector on BCCD (the ours side of bench/detection.sh): the train stage with task: detection on the
 * dataset's train.txt images, then inference of the val.txt images on the trained model (letterboxed
 * images in memory, ONNX Runtime forward + decode + NMS timed, as the torchvision side times model(images)
 * in eval mode; the fastest of three passes on each side, by wall time and by the process's CPU time, the
 * ratio to quote when other jobs share the cores), and mAP@0.5 of both sides' val predictions with the same function (VOC all-point).
 * Both sides: Adam, the same per-epoch learning rates (SCHEDULE), random horizontal flips as the only
 * augmentation (torchvision's detection references' default), RGB input. Training img/s counts the epochs'
 * time (optimizer steps and batch building, as the torchvision side's timer around its epoch loop); model
 * building, ONNX Runtime session creation and the per-epoch checkpoints in the store are printed apart.
 * The torchvision side may run at the same time (bench/detection.sh): its output is awaited at the end.
 * Input: INPUT=rect (default) letterboxes into SIZE x (SIZE * 3/4 rounded up to a multiple of 32), the tensor
 * torchvision's transform batches BCCD's 4:3 images into; INPUT=square into SIZE x SIZE (a third more pixels).
 * DETECTION_PREDICTIONS=file.json also writes both sides' val boxes and the truth (for a closer look).
 * usage: node --import tsx bench/detection.ts BCCD_DIR SIZE EPOCHS BATCH LR THREADS TORCH_OUT.json [SCHEDULE=cosine] [INPUT=rect] [SEED=1]
 */
import { readFile, stat, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import type { Box, DatasetRow } from '../src/data-model.ts';
import { trainStage } from '../src/stages/train.ts';
import { runStage, tempStore } from '../src/testing/harness.ts';
import { meanAveragePrecision } from '../src/ops/boxes/map.ts';
import { fromLetterbox } from '../src/ops/boxes/letterbox.ts';
import { loadModel } from '../src/ml/model-io.ts';
import { createPredictor } from '../src/ml/inference/predictor.ts';
import { anchorPoints } from '../src/ml/detection/assign.ts';
import { decodeDetections, defaultDecode } from '../src/ml/detection/decode.ts';
import { CLASS_OFFSET, pyramidLevels } from '../src/ml/detection/detector.ts';
import { decodeLetterboxed } from '../src/ml/detection/letterbox-image.ts';

const [root, sizeArg, epochsArg, batchArg, lrArg, threadsArg, torchOut, scheduleArg = 'cosine', inputArg = 'rect', seedArg = '1'] = process.argv.slice(2);
const [size, epochs, batch, lr, threads] = [sizeArg, epochsArg, batchArg, lrArg, threadsArg].map(Number);
const height = inputArg === 'square' ? size : Math.ceil((size * 3) / 4 / 32) * 32;
process.env.PIPELINE_WASM_THREADS = String(threads);

/** The few VOC fields this bench needs (the pipeline's own reader is ingest's `voc` format). */
function vocBoxes(xml: string): Box[] {
  const boxes: Box[] = [];
  for (const object of xml.split('<object>').slice(1)) {
    const num = (k: string) => Number(new RegExp(`<${k}>([^<]+)</${k}>`).exec(object)![1]);
    const label = /<name>([^<]+)<\/name>/.exec(object)![1];
    const [x0, y0, x1, y1] = ['xmin', 'ymin', 'xmax', 'ymax'].map(num);
    if (x1 > x0 && y1 > y0) boxes.push({ label, x_min: x0 - 1, y_min: y0 - 1, x_max: x1, y_max: y1 });
  }
  return boxes;
}

const store = await tempStore();
async function rows(split: 'train' | 'val'): Promise<DatasetRow[]> {
  const ids = (await readFile(join(root, 'ImageSets/Main', `${split}.txt`), 'utf8')).split(/\s+/).filter(Boolean);
  return Promise.all(ids.map(async (id) => ({ id, split, image: await store.putBlob(await readFile(join(root, 'JPEGImages', `${id}.jpg`))), boxes: vocBoxes(await readFile(join(root, 'Annotations', `${id}.xml`), 'utf8')), width: 640, height: 480 })));
}
const [train, val] = [await rows('train'), await rows('val')];

const schedule = scheduleArg === 'cosine' ? { type: 'cosine', warmup_epochs: 1 } : { type: 'constant' };
const augment = { hflip: 0.5, vflip: 0, scale: 0, translate: 0, mosaic: 0 };
const params = { task: 'detection', model: 'resnet18', size, channels: 3, batch, epochs, lr, schedule, seed: Number(seedArg), engine: 'onnxruntime', inference: 'onnxruntime', detection: { neck: 'fpn', neck_channels: 64, head_convs: 2, augment, height } };
let started = Date.now();
const trained = await runStage(trainStage, { store, params, inputs: [{ name: 'data', artifact: { kind: 'dataset', rows: train, meta: {} } }] });
const stageSeconds = (Date.now() - started) / 1000;
const trainSeconds = trained.metrics.filter((m) => m.name === 'epoch_seconds').reduce((sum, m) => sum + m.value, 0);
const meta = trained.artifact.meta as { classes: string[]; history: { train_loss: number; lr: number }[] };
console.error(`ours: lr ${meta.history.map((h) => h.lr.toPrecision(3)).join(' ')}; train losses ${meta.history.map((h) => h.train_loss.toFixed(3)).join(' ')}; epochs ${trainSeconds.toFixed(0)} s of ${stageSeconds.toFixed(0)} s in the stage`);

// Both sides train at the same time; inference starts when both have trained (see detection.py).
await writeFile(`${torchOut}.ours-trained`, '');
const exists = (file: string) => stat(file).then(() => true, () => false);
while (!(await exists(`${torchOut}.torch-trained`)) && !(await exists(`${torchOut}.failed`))) await sleep(2000);
const model = await loadModel(store, trained.artifact);
const predictor = await createPredictor(model, { engine: 'onnxruntime', threads });
const points = anchorPoints(pyramidLevels(size, height));
const per = points.count * (CLASS_OFFSET + meta.classes.length);
const images = await Promise.all(val.map(async (r) => decodeLetterboxed(await store.getBlob(r.image!), size, 3, height)));
let ours: Box[][] = [];
let inferSeconds = Infinity;
let inferCpuSeconds = Infinity;
for (let pass = 0; pass < 3; pass++) {
  // the fastest of three passes over the val images, as the torchvision side (a short measurement on a shared machine)
  ours = [];
  started = Date.now();
  const cpu = process.cpuUsage();
  for (let i = 0; i < val.length; i += 8) {
    const chunk = images.slice(i, i + 8);
    const x = new Float32Array(chunk.length * size * height * 3);
    chunk.forEach((c, k) => x.set(c.raster.data, k * size * height * 3));
    const raw = await predictor.predict(x, chunk.length);
    chunk.forEach((c, k) => ours.push(decodeDetections(raw.subarray(k * per, (k + 1) * per), points, meta.classes, defaultDecode).map((b) => fromLetterbox(b, c.geometry))));
  }
  inferSeconds = Math.min(inferSeconds, (Date.now() - started) / 1000);
  const used = process.cpuUsage(cpu);
  inferCpuSeconds = Math.min(inferCpuSeconds, (used.user + used.system) / 1e6);
}
const params_count = model.countParams();
await predictor.dispose();

while (!(await exists(torchOut))) {
  if (await exists(`${torchOut}.failed`)) throw new Error('the torchvision side failed (see its output above)');
  await sleep(5000);
}
const torch = JSON.parse(await readFile(torchOut, 'utf8')) as { train_img_s: number; infer_img_s: number; infer_img_cpu_s: number; params: number; predictions: Record<string, Box[]> };
const classes = meta.classes;
const torchBoxes = val.map((r) => torch.predictions[r.id] ?? []);
const apOf = (predicted: Box[][], iou = 0.5) => meanAveragePrecision(val.map((r, i) => ({ truth: r.boxes!, predicted: predicted[i] })), classes, iou);
const [oursAp, torchAp] = [apOf(ours), apOf(torchBoxes)];
const [oursMap, torchMap] = [oursAp.map, torchAp.map];
if (process.env.DETECTION_PREDICTIONS) await writeFile(process.env.DETECTION_PREDICTIONS, JSON.stringify({ ids: val.map((r) => r.id), truth: val.map((r) => r.boxes), ours, torchvision: torchBoxes }));
const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`;
console.log(`BCCD ${train.length} train / ${val.length} val images, ${size} px (ours ${size}x${height} input), ${epochs} epochs, batch ${batch}, Adam lr ${lr} (${scheduleArg}), hflip only, seed ${seedArg}, ${threads} thread(s); ours ResNet-18 + FPN(64) detector (${params_count} params) vs torchvision FCOS ResNet-18 + FPN(64) (${torch.params} params), both from scratch`);
console.log(`  val mAP@0.5: ours ${oursMap.toFixed(3)} vs torchvision ${torchMap.toFixed(3)} = ${ratio(oursMap, torchMap)}`);
const perClass = (ap: typeof oursAp) => ap.perClass.map((c) => `${c.label} ${c.ap.toFixed(3)}`).join(', ');
console.log(`  AP@0.5 per class: ours ${perClass(oursAp)}; torchvision ${perClass(torchAp)}`);
console.log(`  mAP@0.75 (localisation): ours ${apOf(ours, 0.75).map.toFixed(3)} vs torchvision ${apOf(torchBoxes, 0.75).map.toFixed(3)}`);
console.log(`  training: ours ${(train.length * epochs / trainSeconds).toFixed(2)} vs ${torch.train_img_s.toFixed(2)} img/s = ${ratio(train.length * epochs / trainSeconds, torch.train_img_s)} (ours ${(stageSeconds - trainSeconds).toFixed(0)} s more in the stage: model, session, checkpoints)`);
console.log(`  inference: ours ${(val.length / inferSeconds).toFixed(2)} vs ${torch.infer_img_s.toFixed(2)} img/s = ${ratio(val.length / inferSeconds, torch.infer_img_s)}; per CPU second ${(val.length / inferCpuSeconds).toFixed(2)} vs ${torch.infer_img_cpu_s.toFixed(2)} = ${ratio(val.length / inferCpuSeconds, torch.infer_img_cpu_s)}`);
