import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ensemble } from '../../src/stages/ensemble.ts';
import { evaluate } from '../../src/stages/evaluate.ts';
import { runStage } from '../../src/testing/harness.ts';
import { applyNoFinding } from '../../src/ops/ensemble/no-finding.ts';
import type { Box } from '../../src/data-model.ts';

const box = (label: string, x: number, score: number, w = 10): Box => ({ label, x_min: x, y_min: 0, x_max: x + w, y_max: 10, score });
const near = (a: number, e: number, msg = '') => assert.ok(Math.abs(a - e) < 1e-12, `${msg} ${a} vs ${e}`);
const NF = { label: 'No finding', x_min: 0, y_min: 0, x_max: 1, y_max: 1 };

test('"No finding" rules on constructed boxes: gate, rescale and the 2-class filter', () => {
  const boxes = [box('Nodule', 10, 0.8), box('No finding', 0, 0.3), box('Effusion', 40, 0.5)];
  assert.deepEqual(applyNoFinding(boxes, 0.7, { mode: 'gate', threshold: 0.6 }, 'No finding'), [{ ...NF, score: 0.7 }]);
  assert.deepEqual(applyNoFinding(boxes, 0.5, { mode: 'gate', threshold: 0.6 }, 'No finding'), [boxes[0], boxes[2], { ...NF, score: 0.5 }]);
  const rescaled = applyNoFinding(boxes, 0.25, { mode: 'rescale' }, 'No finding');
  assert.deepEqual(rescaled.map((b) => b.label), ['Nodule', 'Effusion', 'No finding']);
  [0.8 * 0.75, 0.5 * 0.75, 0.25].forEach((score, i) => near(rescaled[i].score!, score));
  const filter = { mode: 'filter' as const, low: 0.08, high: 0.95 };
  assert.deepEqual(applyNoFinding(boxes, 0.95, filter, 'No finding'), [{ ...NF, score: 1 }]); // P(finding) .05 < .08
  assert.deepEqual(applyNoFinding(boxes, 0.5, filter, 'No finding'), [boxes[0], boxes[2], { ...NF, score: 0.5 }]);
  assert.deepEqual(applyNoFinding(boxes, 0.02, filter, 'No finding'), [boxes[0], boxes[2]]); // P(finding) .98 >= .95
  assert.throws(() => applyNoFinding(boxes, 1.5, filter, 'No finding'), /not in \[0, 1\]/);
});

// Two fold models x two TTA transforms (tagged model|transform) predict two test images; an image classifier
// (mean of its two rows per image) says image n1 is normal.
const det = (id: string, model: string, boxes: Box[]) => ({ id, split: 'test', patient: id, model, boxes });
const detections = {
  kind: 'predictions' as const,
  meta: { classes: ['Nodule'], task: 'detection' },
  rows: [
    det('a1', 'train[fold=0]|identity', [box('Nodule', 10, 0.9)]),
    det('a1', 'train[fold=0]|hflip', [box('Nodule', 11, 0.7)]),
    det('a1', 'train[fold=1]|identity', [box('Nodule', 12, 0.8)]),
    det('a1', 'train[fold=1]|hflip', []),
    det('n1', 'train[fold=0]|identity', [box('Nodule', 50, 0.4)]),
    det('n1', 'train[fold=0]|hflip', []),
    det('n1', 'train[fold=1]|identity', []),
    det('n1', 'train[fold=1]|hflip', []),
  ],
};
const classifier = {
  kind: 'predictions' as const,
  meta: { classes: ['Nodule', 'No finding'], task: 'multilabel' },
  rows: [
    { id: 'a1', split: 'test', model: 'm0', scores: [0.9, 0.1] },
    { id: 'a1', split: 'test', model: 'm1', scores: [0.8, 0.3] },
    { id: 'n1', split: 'test', model: 'm0', scores: [0.1, 0.9] },
    { id: 'n1', split: 'test', model: 'm1', scores: [0.2, 0.95] },
  ],
};

test('ensemble of detections: WBF over folds x TTA, then the classifier rescales the boxes; evaluate scores map_40 the VinBig way', async () => {
  const fusedOnly = await runStage(ensemble, { inputs: [{ name: 'detections', artifact: detections }] });
  const plain = await fusedOnly.rows<any>();
  assert.equal(fusedOnly.artifact.meta.task, 'detection');
  // a1: three boxes of four sources fuse into one: coordinates weighted by score, score = (.9+.7+.8)/3 * min(4, 3)/4.
  assert.equal(plain[0].boxes.length, 1);
  near(plain[0].boxes[0].x_min, (10 * 0.9 + 11 * 0.7 + 12 * 0.8) / 2.4, 'x_min');
  near(plain[0].boxes[0].score, 0.6, 'score');
  near(plain[1].boxes[0].score, 0.1, 'n1: one of four sources'); // .4 * 1/4
  assert.deepEqual(plain.map((r) => r.models), [4, 4]);

  const store = fusedOnly.store;
  const gated = await runStage(ensemble, {
    store,
    inputs: [{ name: 'detections', artifact: detections }, { name: 'classifier', artifact: classifier }],
    params: { no_finding: { mode: 'rescale' } },
  });
  const rows = await gated.rows<any>();
  assert.deepEqual(gated.artifact.meta.classes, ['Nodule', 'No finding']);
  // a1: P(no finding) = mean(.1, .3) = .2 -> box score .6 x .8; a No finding box scored .2.
  near(rows[0].boxes[0].score, 0.6 * 0.8);
  assert.deepEqual({ ...rows[0].boxes[1], score: Math.round(rows[0].boxes[1].score * 1e12) / 1e12 }, { ...NF, score: 0.2 });
  // n1: P(no finding) = .925 -> the false box drops to .1 x .075, the No finding box .925.
  near(rows[1].boxes[0].score, 0.1 * 0.075);
  near(rows[1].boxes[1].score, 0.925);
  assert.match(gated.logs.join('\n'), /"No finding" rescale from classifier on 2 images/);

  // Truth: a1 has its nodule at 10..20, n1 is normal. With the No finding class the VinBig convention applies.
  const data = { kind: 'dataset' as const, rows: [{ id: 'a1', labels: ['Nodule'], boxes: [{ label: 'Nodule', x_min: 10, y_min: 0, x_max: 20, y_max: 10 }] }, { id: 'n1', labels: ['No finding'] }] };
  const ev = await runStage(evaluate, { store, inputs: [{ name: 'predictions', artifact: gated.artifact }, { name: 'data', artifact: data }], params: { bootstrap: { n: 0 } } });
  const m = ev.artifact.meta.metrics as Record<string, number>;
  // Nodule: TP .48 (a1) before FP .0075 (n1): AP 1. No finding: n1's .925 matches n1's truth [0,0,1,1], a1's .2 is a FP after it: AP 1.
  assert.equal(m['ap_40/Nodule'], 1);
  assert.equal(m['ap_40/No finding'], 1);
  assert.equal(m.map_40, 1);
  // Without the classifier, the fused boxes alone: the Nodule AP is still 1 (TP .6 before FP .1) but the No finding class
  // gets a score-1 box only on images that predict nothing, and n1 predicts a box: No finding AP 0.
  const evPlain = await runStage(evaluate, { store, inputs: [{ name: 'predictions', artifact: fusedOnly.artifact }, { name: 'data', artifact: data }], params: { bootstrap: { n: 0 } } });
  const mp = evPlain.artifact.meta.metrics as Record<string, number>;
  assert.equal(mp['ap_40/Nodule'], 1);
  assert.equal(mp['ap_40/No finding'], 0);
  assert.equal(mp.map_40, 0.5);

  await assert.rejects(runStage(ensemble, { store, inputs: [{ name: 'detections', artifact: detections }], params: { no_finding: { mode: 'gate' } } }), /no_finding needs an input named "classifier"/);
  await assert.rejects(
    runStage(ensemble, { store, inputs: [{ name: 'detections', artifact: detections }, { name: 'classifier', artifact: classifier }], params: { no_finding: { class: 'Normal' } } }),
    /input "classifier" has no class "Normal" \(classes: Nodule, No finding\)/,
  );
});
