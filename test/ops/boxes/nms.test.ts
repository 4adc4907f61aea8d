import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { nonMaximumSuppression, OrderedHardNms } from '../../../src/ops/boxes/nms.ts';
import type { ScoredBox } from '../../../src/ops/boxes/wbf.ts';
import { mulberry32 } from '../../../src/util/random.ts';
import { DEBIAN_PYTHON, needs } from '../../support/reference-tools.ts';

const box = (label: string, x_min: number, y_min: number, x_max: number, y_max: number, score: number): ScoredBox => ({ label, x_min, y_min, x_max, y_max, score });
const near = (a: number, b: number, msg?: string) => assert.ok(Math.abs(a - b) < 1e-12, `${msg ?? ''} ${a} vs ${b}`);

// A (0..10) and B (1..11) overlap by IoU 81/119 = 0.6807; C (A shifted 5 right) overlaps A by 50/150 = 1/3
// and B by 54/146 = 0.3699 (B ∩ C = [5, 11] × [1, 10]); D is far away; E is another label on top of A.
const A = box('a', 0, 0, 10, 10, 0.9);
const B = box('a', 1, 1, 11, 11, 0.8);
const C = box('a', 5, 0, 15, 10, 0.7);
const D = box('a', 100, 100, 110, 110, 0.6);
const E = box('b', 0, 0, 10, 10, 0.5);

test('hard NMS: class-wise greedy suppression at IoU > thr, highest score first', () => {
  assert.deepEqual(nonMaximumSuppression([C, E, B, D, A], { iouThr: 0.5 }), [A, C, D, E]);
  // At .3, B (IoU .68) and C (IoU 1/3) both go under A. E is another label.
  assert.deepEqual(nonMaximumSuppression([A, B, C, D, E], { iouThr: 0.3 }), [A, D, E]);
  // IoU exactly at the threshold is kept (strictly greater suppresses, as torchvision).
  assert.deepEqual(nonMaximumSuppression([A, C], { iouThr: 1 / 3 }), [A, C]);
  // Class-agnostic: E (IoU 1 with A) goes too.
  assert.deepEqual(nonMaximumSuppression([A, B, C, D, E], { iouThr: 0.5, classAgnostic: true }), [A, C, D]);
  // Score threshold and max_det.
  assert.deepEqual(nonMaximumSuppression([A, B, C, D, E], { iouThr: 0.5, scoreThr: 0.65 }), [A, C]);
  assert.deepEqual(nonMaximumSuppression([A, B, C, D, E], { iouThr: 0.5, maxDet: 2 }), [A, C]);
  // Equal scores: input order decides; extra fields survive; inputs are not modified.
  const tied = [{ ...B, score: 0.9, reader: 'r1' }, { ...A, reader: 'r2' }];
  assert.deepEqual(nonMaximumSuppression(tied), [tied[0]]);
  assert.equal(B.score, 0.8);
});

test('linear soft-NMS: scores of boxes overlapping the kept one by IoU > thr are multiplied by 1 − IoU', () => {
  const out = nonMaximumSuppression([A, B, C, D], { method: 'linear', iouThr: 0.3 });
  // Round 1 keeps A (.9): B → .8·(1 − 81/119) = .8·38/119 = .25546; C → .7·(2/3) = .46667; D untouched.
  // Round 2 keeps D (.6), no overlaps. Round 3 keeps C (.46667): B overlaps C by 54/146 > .3: × 92/146. Round 4: B.
  assert.deepEqual(out.map((b) => b.x_min), [0, 100, 5, 1]);
  near(out[0].score, 0.9);
  near(out[1].score, 0.6);
  near(out[2].score, 0.7 * (2 / 3));
  near(out[3].score, 0.8 * (38 / 119) * (92 / 146));
});

test('gaussian soft-NMS: every overlapping box decays by exp(−IoU²/σ), boxes under the floor are dropped', () => {
  const out = nonMaximumSuppression([A, B, C], { method: 'gaussian', sigma: 0.5 });
  const iouAB = 81 / 119;
  const iouAC = 1 / 3;
  const bc = 54 / 146;
  const b1 = 0.8 * Math.exp(-(iouAB ** 2) / 0.5);
  const c1 = 0.7 * Math.exp(-(iouAC ** 2) / 0.5);
  assert.ok(c1 > b1); // C is kept second, then B decays again by its overlap with C
  assert.deepEqual(out.map((b) => b.x_min), [0, 5, 1]);
  near(out[1].score, c1);
  near(out[2].score, b1 * Math.exp(-(bc ** 2) / 0.5));
  // With a floor above B's decayed score B is dropped.
  assert.deepEqual(nonMaximumSuppression([A, B, C], { method: 'gaussian', softScoreThr: 0.3 }).map((b) => b.x_min), [0, 5]);
  // A box that overlaps nothing is never dropped by the floor (as the reference).
  assert.equal(nonMaximumSuppression([box('a', 0, 0, 1, 1, 0.0005)], { method: 'gaussian' }).length, 1);
});

test('OrderedHardNms fed boxes best first keeps what hard NMS keeps, in its order (IoU at the threshold kept)', () => {
  const rand = mulberry32(11);
  // integer corners on a small grid: many pairs overlap at exactly 1/3, 1/2 (e.g. [0,0,10,10] and [0,0,10,5]), ...
  const boxes: ScoredBox[] = Array.from({ length: 400 }, () => {
    const [x, y] = [Math.floor(rand() * 6) * 5, Math.floor(rand() * 6) * 5];
    return box(String(Math.floor(rand() * 2)), x, y, x + 5 * (1 + Math.floor(rand() * 3)), y + 5 * (1 + Math.floor(rand() * 3)), Math.floor(rand() * 20) / 20);
  });
  const sorted = boxes.map((b, i) => ({ b, i })).sort((p, q) => q.b.score - p.b.score || p.i - q.i).map((p) => p.b);
  for (const iouThr of [0, 1 / 3, 0.5, 0.6, 1]) {
    const nms = new OrderedHardNms(iouThr, sorted.length);
    const kept = sorted.filter((b) => nms.offer(Number(b.label), b.x_min, b.y_min, b.x_max, b.y_max));
    assert.deepEqual(kept, nonMaximumSuppression(boxes, { iouThr }), `iouThr ${iouThr}`);
    assert.equal(nms.count, kept.length);
  }
  const nms = new OrderedHardNms(0.5, 2);
  assert.ok(nms.offer(0, 0, 0, 10, 10) && nms.offer(0, 0, 0, 10, 5), 'IoU exactly .5 is kept at iouThr .5');
  const below = new OrderedHardNms(0.49, 2);
  assert.ok(below.offer(0, 0, 0, 10, 10) && !below.offer(0, 0, 0, 10, 5) && below.count === 1, 'suppressed at iouThr .49');
  assert.throws(() => nms.offer(1, 0, 0, 1, 1), /more than 2 kept/);
  assert.throws(() => new OrderedHardNms(-0.1, 1), /iouThr/);
});

test('NMS rejects bad options', () => {
  assert.throws(() => nonMaximumSuppression([A], { iouThr: 1.5 }), /iouThr/);
  assert.throws(() => nonMaximumSuppression([A], { method: 'gaussian', sigma: 0 }), /sigma/);
});

test('hard NMS equals torchvision.ops.batched_nms on random boxes', { skip: needs('torchvision', 'numpy') }, () => {
  const rand = mulberry32(7);
  const boxes: ScoredBox[] = [];
  for (let i = 0; i < 300; i++) {
    const x = rand() * 200, y = rand() * 200;
    // Distinct scores: torch.sort is not stable, so ties could legitimately order differently.
    boxes.push(box(String(Math.floor(rand() * 3)), x, y, x + 5 + rand() * 40, y + 5 + rand() * 40, (i + 1) / 301));
  }
  boxes.sort(() => rand() - 0.5);
  const script = `
import json, sys, torch, torchvision
b = json.loads(sys.stdin.read())
xyxy = torch.tensor([[x['x_min'], x['y_min'], x['x_max'], x['y_max']] for x in b], dtype=torch.float64)
scores = torch.tensor([x['score'] for x in b], dtype=torch.float64)
labels = torch.tensor([int(x['label']) for x in b])
print(json.dumps({t: torchvision.ops.batched_nms(xyxy, scores, labels, float(t)).tolist() for t in ['0.3', '0.5', '0.7']} | {'agnostic': torchvision.ops.nms(xyxy, scores, 0.5).tolist()}))
`;
  const ref = JSON.parse(execFileSync(DEBIAN_PYTHON, ['-c', script], { input: JSON.stringify(boxes), encoding: 'utf8' })) as Record<string, number[]>;
  const indexOf = new Map(boxes.map((b, i) => [b, i]));
  const ours = (opts: Parameters<typeof nonMaximumSuppression>[1]) => {
    const kept = nonMaximumSuppression(boxes.map((b) => b), opts);
    return kept.map((k) => indexOf.get(boxes.find((b) => b.x_min === k.x_min && b.y_min === k.y_min && b.score === k.score)!)!);
  };
  for (const thr of ['0.3', '0.5', '0.7']) assert.deepEqual(ours({ iouThr: Number(thr) }), ref[thr], `IoU ${thr}`);
  assert.deepEqual(ours({ iouThr: 0.5, classAgnostic: true }), ref.agnostic);
  assert.ok(ref['0.5'].length > 50 && ref['0.5'].length < 300);
});
