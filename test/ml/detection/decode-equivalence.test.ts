import { test } from 'node:test';
import assert from 'node:assert/strict';
import { anchorPoints } from '../../../src/ml/detection/assign.ts';
import { decodeDetections, defaultDecode, type DecodeOptions } from '../../../src/ml/detection/decode.ts';
import { DescendingOrder } from '../../../src/ml/detection/descending-order.ts';
import { CLASS_OFFSET, pyramidLevels } from '../../../src/ml/detection/detector.ts';
import { mulberry32 } from '../../../src/util/random.ts';
import { referenceDecode } from './decode-reference.ts';

const classes = ['Platelets', 'RBC', 'WBC'];
const points = anchorPoints(pyramidLevels(256, 192));
const k = CLASS_OFFSET + classes.length;

/** Raw head outputs of a detector that fires everywhere: dense candidates, boxes overlapping their neighbours' (NMS busy). */
function rawOutputs(seed: number, quantise: boolean): Float32Array {
  const random = mulberry32(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const raw = new Float32Array(points.count * k);
  for (let a = 0; a < points.count; a++) {
    for (let j = 0; j < 4; j++) raw[a * k + j] = 1 + 0.5 * normal();
    raw[a * k + 4] = normal();
    for (let c = 0; c < classes.length; c++) raw[a * k + CLASS_OFFSET + c] = normal() * 2 - 1;
    // integer logits and distances: many exactly equal scores and identical boxes (ties broken by point, class)
    if (quantise) for (let j = 0; j < k; j++) raw[a * k + j] = Math.round(raw[a * k + j]);
  }
  return raw;
}

const variants: Array<[string, Partial<DecodeOptions>]> = [
  ['defaults', {}],
  ['iou .3', { iouThr: 0.3 }],
  ['iou .9', { iouThr: 0.9 }],
  ['iou 0', { iouThr: 0 }],
  ['pre_nms 50 cuts the candidates', { preNms: 50 }],
  ['max_det 5', { maxDet: 5 }],
  ['max_det above what survives', { maxDet: 5000, preNms: 5000 }],
  ['score_thr .6: few candidates', { scoreThr: 0.6 }],
  ['score_thr 0: every point and class', { scoreThr: 0 }],
  ['score_thr 1: none', { scoreThr: 1 }],
  ['linear soft-NMS', { nms: 'linear', iouThr: 0.5 }],
  ['gaussian soft-NMS', { nms: 'gaussian', sigma: 0.5, preNms: 300 }],
];

test('decode equals the straightforward version (one object per candidate, full sort, generic NMS) to the bit', () => {
  for (const seed of [1, 2, 3]) {
    for (const quantise of [false, true]) {
      const raw = rawOutputs(seed, quantise);
      for (const [name, change] of variants) {
        const options = { ...defaultDecode, ...change };
        const want = referenceDecode(raw, points, classes, options);
        const got = decodeDetections(raw, points, classes, options);
        assert.equal(JSON.stringify(got), JSON.stringify(want), `seed ${seed}${quantise ? ' quantised' : ''}, ${name}`);
        if (name === 'defaults') assert.ok(got.length === 100, `the default case keeps max_det boxes (${got.length}): NMS and the cap are exercised`);
      }
    }
  }
});

test('decode drops NaN scores and keeps boxes whose coordinates are NaN out of every suppression, as the generic NMS', () => {
  const raw = rawOutputs(4, false);
  for (let a = 0; a < points.count; a += 7) raw[a * k + CLASS_OFFSET] = Number.NaN;
  for (let a = 3; a < points.count; a += 11) raw[a * k] = Number.NaN;
  const got = decodeDetections(raw, points, classes, { ...defaultDecode, maxDet: 1000 });
  assert.ok(got.length > 100 && got.every((b) => Number.isFinite(b.score)));
  assert.ok(got.some((b) => Number.isNaN(b.x_min)));
});

test('DescendingOrder gives the indices by key, largest first, equal keys by index', () => {
  const random = mulberry32(9);
  for (const n of [0, 1, 2, 3, 10, 257]) {
    const keys = Float64Array.from({ length: n }, () => Math.floor(random() * 6) / 5);
    const ids = Uint32Array.from({ length: n }, (_, i) => i);
    const order = new DescendingOrder(keys, ids.slice());
    const got: number[] = [];
    while (order.remaining > 0) got.push(order.next());
    assert.deepEqual(got, [...ids].sort((a, b) => keys[b] - keys[a] || a - b), `n ${n}`);
  }
});
