import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '../../../src/ml/tf.ts';
import { initBackend } from '../../../src/ml/backend.ts';
import { anchorPoints, assignTargets, targetChannels, TARGET_CENTERNESS, TARGET_POSITIVE } from '../../../src/ml/detection/assign.ts';
import { decodeDetections, defaultDecode } from '../../../src/ml/detection/decode.ts';
import { pyramidLevels } from '../../../src/ml/detection/detector.ts';
import { detectionLoss } from '../../../src/ml/detection/loss.ts';

test('detection loss on hand-computed values: focal, GIoU weighted by centerness, centerness BCE', async () => {
  await initBackend('wasm');
  // point 0 at (8, 8), stride 8: raw distances 0 -> exp(0) * 8 = 8 each side -> predicted box [0, 16]^2;
  // target [4, 20]^2: intersection 144, union 368, enclosing 400 -> GIoU = 144/368 - 32/400 = .311304
  // class logit 0 (target 1): p = .5, focal = .25 * .5^2 * ln 2 = .0433217; centerness logit 0, target .5: BCE = ln 2
  // point 1 at (24, 8), negative, class logit -2: focal = .75 * sigmoid(-2)^2 * ln(1 + e^-2) = .00135267
  const pred = tf.tensor3d([[[0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, -2]]]);
  const target = tf.tensor3d([[[4, 4, 20, 20, 1, 0.5, 1], [0, 0, 0, 0, 0, 0, 0]]]);
  const anchors = { cx: tf.tensor1d([8, 24]), cy: tf.tensor1d([8, 8]), stride: tf.tensor1d([8, 8]) };
  const l = detectionLoss(pred, target, anchors, { alpha: 0.25, gamma: 2, boxWeight: 1 });
  const close = (got: tf.Scalar, want: number, what: string) => assert.ok(Math.abs(got.dataSync()[0] - want) < 1e-5, `${what}: ${got.dataSync()[0]} vs ${want}`);
  close(l.cls, 0.0433217 + 0.0013527, 'cls (sum over points / 1 positive)');
  close(l.box, 1 - 0.3113043, 'box');
  close(l.ctr, Math.LN2, 'ctr');
  close(l.total, 1.4265172, 'total');
  // a perfect box gives GIoU 1: box loss 0; box_weight scales it
  const exact = detectionLoss(tf.tensor3d([[[0, 0, 0, 0, 0, 0]]]), tf.tensor3d([[[0, 0, 16, 16, 1, 1, 1]]]), { cx: tf.tensor1d([8]), cy: tf.tensor1d([8]), stride: tf.tensor1d([8]) }, { alpha: 0.25, gamma: 2, boxWeight: 3 });
  assert.ok(Math.abs(exact.box.dataSync()[0]) < 1e-6);
  const doubled = detectionLoss(pred, target, anchors, { alpha: 0.25, gamma: 2, boxWeight: 2 });
  assert.ok(Math.abs(doubled.box.dataSync()[0] - 2 * (1 - 0.3113043)) < 1e-5);
});

test('label assignment: inside the box, centre sampling, level ranges, smallest box wins, every box gets a point', () => {
  const points = anchorPoints(pyramidLevels(64)); // 8x8 at stride 8, 4x4 at 16, 2x2 at 32
  assert.equal(points.count, 64 + 16 + 4);
  assert.deepEqual([points.cx[0], points.cy[0], points.cx[9], points.cy[9], points.cx[64], points.stride[64]], [4, 4, 12, 12, 8, 16]);
  const k = targetChannels(2);
  const positives = (y: Float32Array) => Array.from({ length: points.count }, (_, a) => a).filter((a) => y[a * k + TARGET_POSITIVE] === 1);
  // a 16 x 16 box [8, 24)^2: max distance <= 16 -> stride-8 level only; points within 1.5 strides (12 px) of the centre (16, 16)
  const small = assignTargets(points, [{ x_min: 8, y_min: 8, x_max: 24, y_max: 24, cls: 1 }], 2, { radius: 1.5 });
  assert.deepEqual(positives(small), [9, 10, 17, 18]); // centres (12|20, 12|20)
  assert.equal(small[9 * k + 6 + 1], 1);
  assert.ok(Math.abs(small[9 * k + TARGET_CENTERNESS] - Math.sqrt((4 / 12) * (4 / 12))) < 1e-6);
  // a 60 x 60 box: largest distances from points near its centre are 34-38, in (32, 64]: stride 16's range (level_range 4)
  const large = assignTargets(points, [{ x_min: 2, y_min: 2, x_max: 62, y_max: 62, cls: 0 }], 2, { radius: 1.5 });
  assert.ok(positives(large).length > 0 && positives(large).every((a) => points.stride[a] === 16), `levels ${positives(large).map((a) => points.stride[a])}`);
  // two boxes claiming a point: the smaller wins
  const both = assignTargets(points, [{ x_min: 0, y_min: 0, x_max: 30, y_max: 30, cls: 0 }, { x_min: 8, y_min: 8, x_max: 17, y_max: 17, cls: 1 }], 2, { radius: 1.5 });
  assert.equal(both[9 * k + 6 + 1], 1, 'point (12, 12) goes to the 9 x 9 box');
  // a 3 x 3 box between points still gets the nearest point of the finest level
  const tiny = assignTargets(points, [{ x_min: 5, y_min: 5, x_max: 8, y_max: 8, cls: 0 }], 2, { radius: 1.5 });
  assert.deepEqual(positives(tiny), [0]);
});

test('decode: scores, boxes from distances, NMS and soft-NMS (src/ops/boxes/nms.ts), max_det', () => {
  const points = anchorPoints([{ stride: 8, height: 1, width: 2 }]);
  const classes = ['a', 'b'];
  // point 0 (4, 4): distances e^1 * 8 = 21.75; class a logit 3, centerness logit 3 -> score sigmoid(3) = .9526
  // point 1 (12, 4): same box shifted 8 px, class a logit 1 -> lower score; class b logit -9 -> below .05
  const raw = Float32Array.from([1, 1, 1, 1, 3, 3, -9, 1, 1, 1, 1, 3, 1, -9]);
  const boxes = decodeDetections(raw, points, classes, { ...defaultDecode, iouThr: 0.5 });
  const d = Math.E * 8;
  assert.equal(boxes.length, 1, JSON.stringify(boxes)); // IoU of the two = (2d - 8) / (2d + 8) = .69 > .5: suppressed
  assert.ok(Math.abs(boxes[0].x_min - (4 - d)) < 1e-4 && Math.abs(boxes[0].x_max - (4 + d)) < 1e-4 && boxes[0].label === 'a');
  assert.ok(Math.abs(boxes[0].score! - 1 / (1 + Math.exp(-3))) < 1e-6);
  assert.equal(decodeDetections(raw, points, classes, { ...defaultDecode, iouThr: 0.75 }).length, 2);
  assert.equal(decodeDetections(raw, points, classes, { ...defaultDecode, iouThr: 0.75, maxDet: 1 }).length, 1);
  // soft-NMS keeps the overlapping box with a decayed score
  const soft = decodeDetections(raw, points, classes, { ...defaultDecode, nms: 'gaussian', sigma: 0.5 });
  assert.equal(soft.length, 2);
  const sig = (v: number) => 1 / (1 + Math.exp(-v));
  const overlap = (2 * d - 8) / (2 * d + 8);
  assert.ok(Math.abs(soft[1].score! - Math.sqrt(sig(1) * sig(3)) * Math.exp(-(overlap ** 2) / 0.5)) < 1e-5, `decayed score ${soft[1].score}`);
});
