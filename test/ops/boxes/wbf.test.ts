import { test } from 'node:test';
import assert from 'node:assert/strict';
import { iou } from '../../../src/ops/boxes/iou.ts';
import { weightedBoxesFusion, type ScoredBox } from '../../../src/ops/boxes/wbf.ts';

const box = (label: string, x_min: number, y_min: number, x_max: number, y_max: number, score: number): ScoredBox => ({ label, x_min, y_min, x_max, y_max, score });
const near = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-12, `${a} vs ${b}`);

test('IoU of hand-made boxes', () => {
  assert.equal(iou(box('a', 0, 0, 2, 2, 1), box('a', 1, 1, 3, 3, 1)), 1 / 7);
  assert.equal(iou(box('a', 0, 0, 2, 2, 1), box('a', 2, 0, 4, 2, 1)), 0);
  assert.equal(iou(box('a', 0, 0, 2, 2, 1), box('a', 0, 0, 2, 2, 1)), 1);
});

// Model A: an 'a' box and a lone box far away; model B: an 'a' box overlapping A's (IoU 81/119 = .68) and a 'b' box on top.
const modelA = [box('a', 0, 0, 10, 10, 0.9), box('a', 50, 50, 60, 60, 0.8)];
const modelB = [box('a', 1, 1, 11, 11, 0.6), box('b', 0, 0, 10, 10, 0.5)];

test('WBF avg: overlapping same-label boxes fuse with score-weighted coordinates; lone boxes are down-weighted', () => {
  const fused = weightedBoxesFusion([modelA, modelB]);
  assert.equal(fused.length, 3);
  const [cluster, lone, other] = fused;
  assert.equal(cluster.label, 'a');
  near(cluster.x_min, 0.6 / 1.5);
  near(cluster.x_max, (9 + 6.6) / 1.5);
  near(cluster.score, 0.75); // mean of .9 and .6, both models present
  assert.deepEqual([lone.x_min, lone.label], [50, 'a']);
  near(lone.score, 0.4); // .8 seen by 1 of 2 models
  assert.equal(other.label, 'b'); // different label never fuses
  near(other.score, 0.25);
});

test('WBF conf types and model weights', () => {
  const max = weightedBoxesFusion([modelA, modelB], { confType: 'max' });
  near(max[0].score, 0.9);
  const weighted = weightedBoxesFusion([modelA, modelB], { weights: [2, 1] });
  near(weighted[0].x_min, 0.6 / 2.4);
  near(weighted[0].score, 0.8); // (1.8 + .6) / 2 * 2 / 3
  const boxAndModel = weightedBoxesFusion([modelA, modelB], { weights: [2, 1], confType: 'box_and_model_avg' });
  near(boxAndModel.find((b) => b.x_min === 50)!.score, 1.6 * (2 / 3) / 2);
  near(boxAndModel[0].score, 0.8);
  const absentAware = weightedBoxesFusion([modelA, modelB], { weights: [2, 1], confType: 'absent_model_aware_avg' });
  near(absentAware.find((b) => b.x_min === 50)!.score, 1.6 / 3);
});

test('WBF iou_thr and skip_box_thr', () => {
  assert.equal(weightedBoxesFusion([modelA, modelB], { iouThr: 0.7 }).filter((b) => b.label === 'a').length, 3);
  const skipped = weightedBoxesFusion([modelA, modelB], { skipBoxThr: 0.7 });
  assert.equal(skipped.length, 2);
  near(skipped[0].score, 0.45);
  assert.equal(skipped[0].x_max, 10);
});
