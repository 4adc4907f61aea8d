import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { evaluate } from '../../src/stages/evaluate.ts';
import sharp from 'sharp';
import { runStage, tempStore } from '../../src/testing/harness.ts';
import { rocAuc } from '../../src/ops/metrics/roc.ts';
import { youdenThreshold } from '../../src/ops/metrics/threshold.ts';
import { seededRandom } from '../../src/util/random.ts';
import { DEBIAN_PYTHON, needs } from '../support/reference-tools.ts';

const random = seededRandom(1);
const classes = ['Nodule', 'Effusion', '<b>Mass</b>'];

/** 300 images of 150 patients; scores separate the classes with noise; a third is the test split. */
function multilabelRows() {
  return Array.from({ length: 300 }, (_, i) => {
    const labels = classes.filter((_, c) => random() < 0.2 + 0.1 * c);
    const scores = classes.map((cls) => Math.min(1, Math.max(0, (labels.includes(cls) ? 0.6 : 0.35) + (random() - 0.5) * 0.6)));
    return { id: `img${i}`, patient: `p${Math.floor(i / 2)}`, split: i % 3 === 0 ? 'test' : 'train', fold: i % 5, labels, scores };
  });
}

test('evaluate: multi-label metrics equal scikit-learn on the test split, thresholds from out-of-fold rows, CIs, escaped report', { skip: needs('sklearn', 'numpy') }, async () => {
  const rows = multilabelRows();
  const result = await runStage(evaluate, {
    inputs: [{ name: 'ensemble', artifact: { kind: 'predictions', rows, meta: { classes, task: 'multilabel' } } }],
    params: { bootstrap: { n: 200, seed: 3 } },
  });
  const m = result.artifact.meta.metrics as Record<string, number>;
  const test = rows.filter((r) => r.split === 'test');
  const val = rows.filter((r) => r.split !== 'test');
  // threshold of each class = Youden on the out-of-fold rows
  classes.forEach((cls, c) => {
    const expected = youdenThreshold(val.map((r) => (r.labels.includes(cls) ? 1 : 0)), val.map((r) => r.scores[c])).threshold;
    assert.equal(m[`threshold/${cls}`], expected);
  });
  const reference = sklearnMultilabel(test, classes.map((cls) => m[`threshold/${cls}`]));
  for (const key of ['auc_macro', 'auc_micro', 'ap_macro', 'f1_macro', 'f1_micro', 'accuracy']) {
    assert.ok(Math.abs(m[key] - reference[key]) < 1e-9, `${key}: ${m[key]} vs sklearn ${reference[key]}`);
  }
  assert.ok(m.auc_macro > 0.7, `auc_macro ${m.auc_macro}`);
  for (const key of ['auc_macro', 'f1_macro', 'auc/Nodule', 'ece_macro']) {
    assert.ok(m[`${key}_ci_low`] < m[key] && m[key] < m[`${key}_ci_high`], `${key} CI [${m[`${key}_ci_low`]}, ${m[`${key}_ci_high`]}] around ${m[key]}`);
  }
  assert.ok(m.auc_macro_ci_high - m.auc_macro_ci_low < 0.2);
  const report = JSON.parse((await result.file('report.json')).toString());
  assert.equal(report.rows, 100);
  assert.equal(report.bootstrap.by, 'patient');
  for (const plot of ['plots/roc.svg', 'plots/pr.svg', 'plots/confusion.svg', 'plots/calibration.svg']) {
    assert.match((await result.file(plot)).toString(), /^<svg[\s\S]*<\/svg>\n$/);
  }
  const html = (await result.file('report.html')).toString();
  assert.ok(!html.includes('<b>Mass</b>') && html.includes('&lt;b&gt;Mass&lt;/b&gt;'), 'class names are escaped');
  assert.ok(!/<script|src=|href=/.test(html), 'self-contained');
  // same seed, same CIs; the stage is deterministic
  const again = await runStage(evaluate, { inputs: [{ name: 'ensemble', artifact: { kind: 'predictions', rows, meta: { classes, task: 'multilabel' } } }], params: { bootstrap: { n: 200, seed: 3 } } });
  assert.equal(again.artifact.digest, result.artifact.digest);
});

function sklearnMultilabel(rows: ReturnType<typeof multilabelRows>, thresholds: number[]): Record<string, number> {
  const Y = rows.map((r) => classes.map((c) => (r.labels.includes(c) ? 1 : 0)));
  const S = rows.map((r) => r.scores);
  const script = `
import json, sys, numpy as np
from sklearn import metrics
d = json.load(sys.stdin); Y = np.array(d['Y']); S = np.array(d['S']); P = (S >= np.array(d['t'])).astype(int)
print(json.dumps({'auc_macro': metrics.roc_auc_score(Y, S), 'auc_micro': metrics.roc_auc_score(Y, S, average='micro'),
  'ap_macro': metrics.average_precision_score(Y, S), 'f1_macro': metrics.f1_score(Y, P, average='macro', zero_division=0),
  'f1_micro': metrics.f1_score(Y, P, average='micro', zero_division=0), 'accuracy': metrics.accuracy_score(Y, P)}))`;
  const run = spawnSync(DEBIAN_PYTHON, ['-c', script], { input: JSON.stringify({ Y, S, t: thresholds }), encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`scikit-learn reference failed (Debian python3-sklearn needed): ${run.stderr}`);
  return JSON.parse(run.stdout);
}

test('evaluate: binary with fixed threshold and image-level bootstrap; multi-class confusion', async () => {
  const rows = Array.from({ length: 60 }, (_, i) => ({ id: `i${i}`, split: 'test', labels: i % 2 ? ['Pneumonia'] : [], scores: [((i % 2) * 0.3 + (i % 7) / 10)] }));
  const result = await runStage(evaluate, {
    inputs: [{ name: 'p', artifact: { kind: 'predictions', rows, meta: { classes: ['Pneumonia'], task: 'binary' } } }],
    params: { threshold: { fixed: 0.5 }, bootstrap: { n: 50, by: 'image' }, metrics: ['auc', 'sensitivity', 'specificity'] },
  });
  const m = result.artifact.meta.metrics as Record<string, number>;
  assert.equal(m.auc, rocAuc(rows.map((r) => r.labels.length), rows.map((r) => r.scores[0])));
  const pos = rows.filter((r) => r.labels.length);
  const neg = rows.filter((r) => !r.labels.length);
  assert.equal(m.sensitivity, pos.filter((r) => r.scores[0] >= 0.5).length / pos.length);
  assert.equal(m.specificity, neg.filter((r) => r.scores[0] < 0.5).length / neg.length);
  assert.equal(m.f1, undefined);
  // a fixed threshold is chosen on no rows: nothing to warn about (it warned 'no out-of-fold ... optimistic')
  assert.ok(!result.logs.some((l) => /out-of-fold|optimistic/.test(l)), result.logs.join('\n'));
  assert.equal(m['threshold/Pneumonia'], 0.5);

  const mc = ['a', 'b', 'c'];
  const mcRows = [0, 1, 2, 2, 1, 0].map((k, i) => ({ id: `m${i}`, split: 'test', labels: [mc[k]], scores: mc.map((_, c) => (c === (i === 5 ? 2 : k) ? 0.8 : 0.1)) }));
  const r2 = await runStage(evaluate, { inputs: [{ name: 'p', artifact: { kind: 'predictions', rows: mcRows, meta: { classes: mc, task: 'multiclass' } } }], params: { bootstrap: { n: 0 } } });
  const report = JSON.parse((await r2.file('report.json')).toString());
  assert.deepEqual(report.confusion.matrix, [[1, 0, 1], [0, 2, 0], [0, 0, 2]]);
  assert.equal((r2.artifact.meta.metrics as Record<string, number>).accuracy, 5 / 6);
  assert.equal((r2.artifact.meta.metrics as Record<string, number>).auc, undefined, 'a 3-class model has no positive class');
});

test('evaluate: a 2-way softmax (binary MedMNIST set) reports the plain auc/f1/sensitivity of its second class, the positive one', async () => {
  const classes = ['normal', 'disease'];
  const rows = Array.from({ length: 40 }, (_, i) => {
    const p1 = (i % 2) * 0.35 + (i % 5) / 8;
    return { id: `s${i}`, split: 'test', labels: [classes[i % 2]], scores: [1 - p1, p1] };
  });
  const result = await runStage(evaluate, { inputs: [{ name: 'p', artifact: { kind: 'predictions', rows, meta: { classes, task: 'multiclass' } } }], params: { bootstrap: { n: 0 }, metrics: ['auc', 'f1', 'sensitivity', 'specificity'] } });
  const m = result.artifact.meta.metrics as Record<string, number>;
  assert.equal(m.auc, m['auc/disease']);
  assert.equal(m.auc, rocAuc(rows.map((r) => (r.labels[0] === 'disease' ? 1 : 0)), rows.map((r) => r.scores[1])));
  assert.equal(m.f1, m['f1/disease']);
  assert.equal(m.sensitivity, m['sensitivity/disease']);
  assert.notEqual(m.sensitivity, m['sensitivity/normal'], 'the two classes differ here, so the plain name names one of them');
  assert.equal(m.specificity, m['specificity/disease']);
  assert.ok(Number.isFinite(m.f1_macro), 'macro averages are kept');
});

test('evaluate: a 2-way softmax whose first class is the finding (abnormal / normal) reports it as positive; positive: overrides; the log and report say which and why', async () => {
  const classes = ['abnormal', 'normal'];
  const rows = Array.from({ length: 40 }, (_, i) => {
    const p0 = (i % 2 === 0 ? 0.35 : 0) + (i % 5) / 8;
    return { id: `s${i}`, split: 'test', labels: [classes[i % 2]], scores: [p0, 1 - p0] };
  });
  const inputs = [{ name: 'p', artifact: { kind: 'predictions' as const, rows, meta: { classes, task: 'multiclass' } } }];
  const params = { bootstrap: { n: 0 }, metrics: ['auc', 'f1', 'sensitivity'] };
  const byRule = await runStage(evaluate, { inputs, params });
  const m = byRule.artifact.meta.metrics as Record<string, number>;
  assert.equal(byRule.artifact.meta.positive, 'abnormal');
  assert.equal(m.sensitivity, m['sensitivity/abnormal']);
  assert.notEqual(m.sensitivity, m['sensitivity/normal'], 'the two classes differ here, so the plain name names one of them');
  assert.equal(m.f1, m['f1/abnormal']);
  assert.ok(byRule.logs.some((l) => /positive class "abnormal" \(a 2-way softmax whose other class "normal" reads as the negative \(normal\) class\)/.test(l)), byRule.logs.join('\n'));
  const report = JSON.parse((await byRule.file('report.json')).toString());
  assert.deepEqual(report.positive, { class: 'abnormal', why: 'a 2-way softmax whose other class "normal" reads as the negative (normal) class' });
  assert.match((await byRule.file('report.html')).toString(), /positive class/);

  const named = await runStage(evaluate, { inputs, params: { ...params, positive: 'normal' } });
  const n = named.artifact.meta.metrics as Record<string, number>;
  assert.equal(named.artifact.meta.positive, 'normal');
  assert.equal(n.sensitivity, n['sensitivity/normal']);
  assert.equal(n.f1, n['f1/normal']);
  assert.ok(named.logs.some((l) => l.includes('positive class "normal" (positive param)')), named.logs.join('\n'));

  await assert.rejects(runStage(evaluate, { inputs, params: { ...params, positive: 'Normal' } }), /evaluate: positive "Normal" is not one of the classes \[abnormal, normal\]/);
  await assert.rejects(runStage(evaluate, { inputs, params: { ...params, positive: '' } }), /invalid params for evaluate: positive/);
  const three = { name: 'p', artifact: { kind: 'predictions' as const, rows: [{ id: 'a', split: 'test', labels: ['x'], scores: [0.5, 0.3, 0.2] }], meta: { classes: ['x', 'y', 'z'], task: 'multiclass' } } };
  await assert.rejects(runStage(evaluate, { inputs: [three], params: { ...params, positive: 'x' } }), /positive "x" is for a binary model .* this multiclass model has 3 classes/);
});

test('evaluate: detection map_40 with "No finding" boxes, truth joined from a dataset input', async () => {
  const data = { kind: 'dataset' as const, rows: [
    { id: 'a', boxes: [{ label: 'Nodule', x_min: 10, y_min: 10, x_max: 20, y_max: 20 }] },
    { id: 'b', boxes: [] },
  ] };
  const predictions = { kind: 'predictions' as const, meta: { classes: ['Nodule', 'No finding'], task: 'multilabel' }, rows: [
    { id: 'a', split: 'test', labels: ['Nodule'], scores: [0.9, 0.1], boxes: [{ label: 'Nodule', x_min: 11, y_min: 11, x_max: 20, y_max: 20, score: 0.9 }] },
    { id: 'b', split: 'test', labels: ['No finding'], scores: [0.2, 0.7], boxes: [{ label: 'Nodule', x_min: 50, y_min: 50, x_max: 60, y_max: 60, score: 0.95 }] },
  ] };
  const result = await runStage(evaluate, { inputs: [{ name: 'p', artifact: predictions }, { name: 'data', artifact: data }], params: { bootstrap: { n: 0 }, metrics: ['auc'] } });
  const m = result.artifact.meta.metrics as Record<string, number>;
  // Nodule: FP (0.95) then TP (0.9): AP 0.5; No finding: image b's 0.7 box matches, image a's 0.1 is a FP after it: AP 1
  assert.equal(m['ap_40/Nodule'], 0.5);
  assert.equal(m['ap_40/No finding'], 1);
  assert.equal(m.map_40, 0.75);
});

test('evaluate: truth of a cropped and pad-resized dataset is compared in original pixels; the gallery draws in the stored image\'s frame', async () => {
  const store = await tempStore();
  // original 200 x 100; preprocess: crop x 20..180 (160 x 100), pad-resize to 80 x 80 (scale .5, content 80 x 50 at top 15)
  const geometry = { width: 200, height: 100, steps: [{ op: 'crop' as const, x: 20, y: 0, width: 160, height: 100 }, { op: 'scale' as const, sx: 0.5, sy: 0.5, dx: 0, dy: 15, width: 80, height: 80 }] };
  const image = await store.putBlob(await sharp(Buffer.alloc(80 * 80, 60), { raw: { width: 80, height: 80, channels: 1 } }).toColourspace('b-w').png().toBuffer());
  // the truth (40, 20)-(80, 60) of the original is (10, 25)-(30, 45) in the stored 80 x 80 image
  const data = { kind: 'dataset' as const, rows: [{ id: 'a', split: 'test', image, width: 80, height: 80, geometry, boxes: [{ label: 'Cell', x_min: 10, y_min: 25, x_max: 30, y_max: 45 }] }] };
  const predictions = { kind: 'predictions' as const, meta: { classes: ['Cell'], task: 'detection' }, rows: [
    { id: 'a', split: 'test', width: 200, height: 100, boxes: [{ label: 'Cell', x_min: 40, y_min: 20, x_max: 80, y_max: 60, score: 0.9 }, { label: 'Cell', x_min: 10, y_min: 25, x_max: 30, y_max: 45, score: 0.5 }] },
  ] };
  const result = await runStage(evaluate, { store, inputs: [{ name: 'p', artifact: predictions }, { name: 'data', artifact: data }], params: { bootstrap: { n: 0 }, no_finding: false, gallery: { per_group: 1, score_thr: 0 } } });
  const m = result.artifact.meta.metrics as Record<string, number>;
  // the 0.9 box hits the mapped-back truth; the 0.5 box, in the stored image's frame, is a false positive after it
  assert.equal(m.map_50, 1);
  const svg = (await result.file('gallery/best/a.svg')).toString('utf8');
  assert.match(svg, /width="80" height="98"/, 'drawn at the stored image size (80 x 80, 18 px title)');
  assert.match(svg, /<rect class="box" x="10.0" y="43.0" width="20.0" height="20.0" fill="none" stroke="#2ca02c"/, 'the truth (found) on its pixels of the stored image');
  assert.match(svg, /<rect class="box" x="10.0" y="43.0" width="20.0" height="20.0" fill="none" stroke="#1f77b4"/, 'the matched prediction on the same pixels');
});

test('evaluate: clear errors for a missing split and duplicate predictions', async () => {
  const meta = { classes: ['x'], task: 'binary' };
  await assert.rejects(
    runStage(evaluate, { inputs: [{ name: 'p', artifact: { kind: 'predictions', rows: [{ id: 'a', split: 'train', labels: [], scores: [0.1] }], meta } }] }),
    /no rows in the "test" part \(splits present: train\)/,
  );
  const dup = [{ id: 'a', split: 'test', labels: [], scores: [0.1], model: '0' }, { id: 'a', split: 'test', labels: [], scores: [0.2], model: '1' }];
  await assert.rejects(runStage(evaluate, { inputs: [{ name: 'p', artifact: { kind: 'predictions', rows: dup, meta } }] }), /image a has several predictions/);
  await assert.rejects(runStage(evaluate, { params: { metrics: ['auroc'] }, inputs: [] }), /invalid params for evaluate: metrics\.0/);
});

test('evaluate: if_no_rows skip turns a missing split into a logged report without metrics', async () => {
  const meta = { classes: ['x'], task: 'detection' };
  const rows = [{ id: 'a', split: 'val', boxes: [], truth_boxes: [{ label: 'x', x_min: 0, y_min: 0, x_max: 4, y_max: 4 }], width: 8, height: 8 }];
  const r = await runStage(evaluate, { params: { split: 'test', if_no_rows: 'skip' }, inputs: [{ name: 'p', artifact: { kind: 'predictions', rows, meta } }] });
  assert.deepEqual([r.artifact.meta.metrics, r.artifact.meta.rows], [{}, 0]);
  assert.match(String(r.artifact.meta.skipped), /no rows in the "test" part of input "p" \(splits present: val\): nothing evaluated/);
  assert.ok(r.logs.some((l) => l.includes('nothing evaluated (if_no_rows: skip)')));
  assert.match((await r.file('report.html')).toString('utf8'), /skipped/);
  // the rows that are there are evaluated as usual
  const val = await runStage(evaluate, { params: { split: 'val', if_no_rows: 'skip', bootstrap: { n: 0 } }, inputs: [{ name: 'p', artifact: { kind: 'predictions', rows, meta } }] });
  assert.equal((val.artifact.meta.metrics as Record<string, number>).map_50, 0);
});

test('evaluate: threshold_transfer rate moves out-of-fold thresholds to a narrower ensemble scale by positive rate', async () => {
  const rng = seededRandom(7);
  const cls = ['Nodule'];
  // Out-of-fold scores spread over [0, 1]; test scores (an ensemble mean) squeezed into [0.2, 0.5].
  const rows = Array.from({ length: 400 }, (_, i) => {
    const positive = rng() < 0.25;
    const raw = Math.min(1, Math.max(0, (positive ? 0.8 : 0.2) + (rng() - 0.5) * 0.5));
    const test = i % 2 === 1;
    return { id: `i${i}`, patient: `p${i}`, split: test ? 'test' : 'train', fold: i % 5, labels: positive ? cls : [], scores: [test ? 0.2 + 0.3 * raw : raw] };
  });
  const run = (transfer: 'score' | 'rate') =>
    runStage(evaluate, { inputs: [{ name: 'ensemble', artifact: { kind: 'predictions', rows, meta: { classes: cls, task: 'multilabel' } } }], params: { bootstrap: { n: 0 }, threshold_transfer: transfer } });
  const byScore = (await run('score')).artifact.meta.metrics as Record<string, number>;
  const byRate = (await run('rate')).artifact.meta.metrics as Record<string, number>;
  const val = rows.filter((r) => r.split !== 'test').map((r) => r.scores[0]);
  const testScores = rows.filter((r) => r.split === 'test').map((r) => r.scores[0]);
  const chosen = youdenThreshold(rows.filter((r) => r.split !== 'test').map((r) => (r.labels.length ? 1 : 0)), val).threshold;
  assert.equal(byScore['threshold/Nodule'], chosen);
  assert.ok(chosen > Math.max(...testScores), `the out-of-fold threshold ${chosen} lies above every test score`);
  assert.equal(byScore['sensitivity/Nodule'], 0);
  // Same positive rate: the fraction of test scores at or above the moved threshold equals the out-of-fold one.
  const rate = val.filter((s) => s >= chosen).length / val.length;
  const movedRate = testScores.filter((s) => s >= byRate['threshold/Nodule']).length / testScores.length;
  assert.ok(Math.abs(movedRate - rate) <= 1 / testScores.length, `rate ${movedRate} vs ${rate}`);
  assert.ok(byRate['f1/Nodule'] > 0.8, `f1 ${byRate['f1/Nodule']} at ${byRate['threshold/Nodule']} (rate ${rate}, moved ${movedRate})`);
  assert.equal(byRate.auc_macro, byScore.auc_macro); // threshold-free metrics unchanged
  // a fixed threshold stays where it was put: MedMNIST's ACC is 'score >= 0.5' whatever the other rows score
  const fixed = await runStage(evaluate, { inputs: [{ name: 'ensemble', artifact: { kind: 'predictions', rows, meta: { classes: cls, task: 'multilabel' } } }], params: { bootstrap: { n: 0 }, threshold: { fixed: 0.5 }, threshold_transfer: 'rate' } });
  assert.equal((fixed.artifact.meta.metrics as Record<string, number>)['threshold/Nodule'], 0.5);
  assert.ok(!fixed.logs.some((l) => /positive rate|optimistic/.test(l)), fixed.logs.join('\n'));
});

test('evaluate: an anomaly detector\'s normal label is its negatives, not a stray label (the warning "labels not among the classes count as negative: normal" on every anomaly run)', async () => {
  const rows = Array.from({ length: 20 }, (_, i) => ({ id: `a${i}`, split: 'test', labels: i % 2 ? ['abnormal'] : ['normal'], scores: [(i % 2) * 0.02 + (i % 5) * 0.01] }));
  const run = (meta: Record<string, unknown>) => runStage(evaluate, { inputs: [{ name: 'tta', artifact: { kind: 'predictions', rows, meta: { classes: ['abnormal'], task: 'binary', ...meta } } }], params: { bootstrap: { n: 0 } } });
  const anomaly = await run({ scores: 'anomaly' });
  assert.ok(!anomaly.logs.some((l) => l.includes('not among the classes')), anomaly.logs.join('\n'));
  assert.equal((anomaly.artifact.meta.metrics as Record<string, number>).auc, rocAuc(rows.map((r) => (r.labels[0] === 'abnormal' ? 1 : 0)), rows.map((r) => r.scores[0])));
  // from a classifier, a label outside its classes is still worth a note
  const classifier = await run({});
  assert.ok(classifier.logs.some((l) => l.includes('labels not among the classes count as negative: normal')), classifier.logs.join('\n'));
});
