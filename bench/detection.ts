/**
 * Our detector on BCCD (the ours side of bench/detection.sh): the train stage with task: detection on the
 * dataset's train.txt images, then inference of the val.txt images on the trained model (letterboxed
 * images in memory, ONNX Runtime forward + decode + NMS timed, as the torchvision side times model(images)
 * in eval mode), and mAP@0.5 of both sides' val predictions with the same function (VOC all-point).
 * usage: node --import tsx bench/detection.ts BCCD_DIR SIZE EPOCHS BATCH LR THREADS TORCH_OUT.json
 */
import { readFile } from 'node:fs/promises';
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

const [root, sizeArg, epochsArg, batchArg, lrArg, threadsArg, torchOut] = process.argv.slice(2);
const [size, epochs, batch, lr, threads] = [sizeArg, epochsArg, batchArg, lrArg, threadsArg].map(Number);
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

const params = { task: 'detection', model: 'resnet18', size, channels: 3, batch, epochs, lr, seed: 1, engine: 'onnxruntime', inference: 'onnxruntime', detection: { neck: 'fpn', neck_channels: 64, head_convs: 2 } };
let started = Date.now();
const trained = await runStage(trainStage, { store, params, inputs: [{ name: 'data', artifact: { kind: 'dataset', rows: train, meta: {} } }] });
const trainSeconds = (Date.now() - started) / 1000;
const meta = trained.artifact.meta as { classes: string[]; history: { train_loss: number }[] };
console.error(`ours: train losses ${meta.history.map((h) => h.train_loss.toFixed(3)).join(' ')}`);

const model = await loadModel(store, trained.artifact);
const predictor = await createPredictor(model, { engine: 'onnxruntime', threads });
const points = anchorPoints(pyramidLevels(size));
const per = points.count * (CLASS_OFFSET + meta.classes.length);
const images = await Promise.all(val.map(async (r) => decodeLetterboxed(await store.getBlob(r.image!), size, 3)));
const ours: Box[][] = [];
started = Date.now();
for (let i = 0; i < val.length; i += 8) {
  const chunk = images.slice(i, i + 8);
  const x = new Float32Array(chunk.length * size * size * 3);
  chunk.forEach((c, k) => x.set(c.raster.data, k * size * size * 3));
  const raw = await predictor.predict(x, chunk.length);
  chunk.forEach((c, k) => ours.push(decodeDetections(raw.subarray(k * per, (k + 1) * per), points, meta.classes, defaultDecode).map((b) => fromLetterbox(b, c.geometry))));
}
const inferSeconds = (Date.now() - started) / 1000;
const params_count = model.countParams();
await predictor.dispose();

const torch = JSON.parse(await readFile(torchOut, 'utf8')) as { train_img_s: number; infer_img_s: number; params: number; predictions: Record<string, Box[]> };
const classes = meta.classes;
const mapOf = (predicted: Box[][]) => meanAveragePrecision(val.map((r, i) => ({ truth: r.boxes!, predicted: predicted[i] })), classes, 0.5).map;
const oursMap = mapOf(ours);
const torchMap = mapOf(val.map((r) => torch.predictions[r.id] ?? []));
const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`;
console.log(`BCCD ${train.length} train / ${val.length} val images, ${size} px, ${epochs} epochs, batch ${batch}, Adam lr ${lr}, ${threads} thread(s); ours ResNet-18 + FPN(64) detector (${params_count} params) vs torchvision FCOS ResNet-18 + FPN(64) (${torch.params} params), both from scratch`);
console.log(`  val mAP@0.5: ours ${oursMap.toFixed(3)} vs torchvision ${torchMap.toFixed(3)} = ${ratio(oursMap, torchMap)}`);
console.log(`  training: ours ${(train.length * epochs / trainSeconds).toFixed(2)} vs ${torch.train_img_s.toFixed(2)} img/s = ${ratio(train.length * epochs / trainSeconds, torch.train_img_s)}`);
console.log(`  inference: ours ${(val.length / inferSeconds).toFixed(2)} vs ${torch.infer_img_s.toFixed(2)} img/s = ${ratio(val.length / inferSeconds, torch.infer_img_s)}`);
