import sharp from 'sharp';
import { commitArtifact } from '../../src/engine/artifact.ts';
import { writeDicom } from '../../src/ops/dicom/write.ts';
import type { EventSink, PipelineEvent } from '../../src/engine/events.ts';
import type { Store } from '../../src/store/store.ts';
import type { Artifact } from '../../src/engine/artifact.ts';
import { evaluate } from '../../src/stages/evaluate.ts';
import { runStage } from '../../src/testing/harness.ts';
import { seededRandom } from '../../src/util/random.ts';

export interface FakeRunOptions {
  runId: string;
  experiment?: string;
  /** Final AUC of the evaluate stage (and the shape of its ROC curve). */
  auc: number;
  lr?: number;
  epochs?: number;
  folds?: number;
  /** Mark train instances as cached. */
  cached?: boolean;
  /** Extra train params (e.g. a very long value). */
  trainParams?: Record<string, unknown>;
  start?: number;
  status?: 'succeeded' | 'failed';
  /** Name in the report's HTML (default: the run id); runs with the same label and AUC share one report artifact. */
  reportLabel?: string;
  /**
   * The evaluate instance's report is produced by the real `evaluate` stage (report.json, report.html,
   * plots/*.svg in its own layout) over seeded synthetic predictions whose AUC is about `auc`.
   */
  realReport?: boolean;
  /** Per-epoch learning rate logged by the train instances (as trainers do). */
  logLr?: boolean;
  /** Extra experiment params (`params:` of the experiment file), logged on the parent as `params.<name>`. */
  runParams?: Record<string, unknown>;
  /**
   * PHI present where a pipeline has it but trackers must never send it: the ingest dataset keeps the
   * original DICOM (patient name, id, birth date in its header) while its rows hold pseudonyms, and the
   * stages log lines mentioning the patient.
   */
  phi?: { name: string; id: string; birthDate: string };
}

/**
 * The report artifact that `evaluate` writes for 100 synthetic binary predictions (60 test, 40
 * out-of-fold) of class Cardiomegaly whose ROC-AUC is about `auc`: positives' scores are uniform
 * noise shifted by 1 - sqrt(2 (1 - auc)), which gives that AUC in expectation.
 */
export async function realEvaluateReport(store: Store, auc: number, seed: number): Promise<Artifact> {
  const random = seededRandom(seed);
  const shift = 1 - Math.sqrt(2 * (1 - auc));
  const rows = Array.from({ length: 100 }, (_, i) => {
    const positive = i % 2 === 0;
    return { id: `img${i}`, patient: `p${Math.floor(i / 2)}`, split: i < 60 ? 'test' : 'train', fold: i < 60 ? undefined : i % 3, labels: positive ? ['Cardiomegaly'] : [], scores: [(random() + (positive ? shift : 0)) / (1 + shift)] };
  });
  const result = await runStage(evaluate, {
    store,
    inputs: [{ name: 'predictions', stage: 'ensemble', artifact: { kind: 'predictions', rows, meta: { classes: ['Cardiomegaly'], task: 'binary' } } }],
    params: { bootstrap: { n: 100, seed } },
  });
  return result.artifact;
}

/**
 * Emits the events of a realistic small pipeline run (ingest -> train[fold=k] -> evaluate) into a sink:
 * per-epoch metrics, a model artifact with final metrics and a report artifact with report.json
 * (ROC curve, confusion matrix), report.html and a plot. Artifacts are committed to `store` first,
 * as the engine does.
 */
export async function emitFakeRun(sink: EventSink, store: Store, o: FakeRunOptions): Promise<void> {
  const folds = o.folds ?? 2;
  const epochs = o.epochs ?? 3;
  const lr = o.lr ?? 0.001;
  let t = o.start ?? Date.now();
  const emit = async (e: PipelineEvent) => void (await sink.handle(e));
  const runId = o.runId;
  const instances = ['ingest', ...Array.from({ length: folds }, (_, k) => `train[fold=${k}]`), 'evaluate', ...(o.realReport ? ['gradcam'] : [])];
  await emit({ type: 'run-start', runId, experiment: o.experiment ?? 'demo', file: 'experiments/demo.yaml', instances, params: { size: 64, folds, seed: 42, ...o.runParams }, time: t });
  const dicom = o.phi ? { 'dicom/img1.dcm': writeDicom({ rows: 2, columns: 2, pixels: new Uint16Array(4), patient: o.phi }) } : undefined;
  const dataset = await commitArtifact(store, { kind: 'dataset', rows: [{ id: 'img1', patient: 'p-1a2b', labels: [], ...(dicom ? { dicom: 'dicom/img1.dcm' } : {}) }], ...(dicom ? { files: dicom } : {}), meta: { classes: ['Cardiomegaly'] } });
  const ingestParams = { source: 'data/x', pseudonymise: true };
  await emit({ type: 'instance-start', runId, instance: 'ingest', stage: 'ingest', uses: 'ingest-images', params: ingestParams, cacheKey: 'c'.repeat(64), time: t });
  if (o.phi) {
    for (const level of ['debug', 'info', 'warn', 'error'] as const) {
      await emit({ type: 'log', runId, instance: 'ingest', level, message: `read ${o.phi.name} (${o.phi.id}, born ${o.phi.birthDate})`, time: t });
    }
  }
  t += 100;
  await emit({ type: 'instance-end', runId, instance: 'ingest', stage: 'ingest', uses: 'ingest-images', params: ingestParams, status: 'cached', cacheKey: 'c'.repeat(64), artifact: dataset.digest, durationMs: 100, time: t });
  for (let k = 0; k < folds; k++) {
    const instance = `train[fold=${k}]`;
    const params = { model: 'small-cnn', epochs, lr, fold: k, augment: { flip: true, rotation: 10 }, ...o.trainParams };
    await emit({ type: 'instance-start', runId, instance, stage: 'train', uses: 'train', params, cacheKey: `${k}`.repeat(64).slice(0, 64), time: t });
    for (let epoch = 0; epoch < epochs; epoch++) {
      t += 1000;
      const progress = (epoch + 1) / epochs;
      await emit({ type: 'metric', runId, instance, name: 'loss', value: 0.7 - 0.3 * progress, step: epoch, time: t });
      await emit({ type: 'metric', runId, instance, name: 'val_auc', value: 0.5 + (o.auc - 0.5) * progress, step: epoch, time: t });
      if (o.logLr) await emit({ type: 'metric', runId, instance, name: 'lr', value: lr * 0.5 ** epoch, step: epoch, time: t });
    }
    const model = await commitArtifact(store, { kind: 'model', files: { 'model.json': `{"fold":${k},"run":"${runId}"}` }, meta: { classes: ['Cardiomegaly'], backend: 'wasm', metrics: { val_auc: o.auc - 0.01 * k, best_epoch: epochs - 1 } } });
    await emit({ type: 'instance-end', runId, instance, stage: 'train', uses: 'train', params, status: o.cached ? 'cached' : 'ran', cacheKey: `${k}`.repeat(64).slice(0, 64), artifact: model.digest, durationMs: epochs * 1000, time: t });
  }
  const report = o.realReport ? await realEvaluateReport(store, o.auc, Math.round(o.auc * 1000)) : await handMadeReport(store, o);
  const evalParams = { metrics: ['auc', 'f1'], bootstrap: 200 };
  await emit({ type: 'instance-start', runId, instance: 'evaluate', stage: 'evaluate', uses: 'evaluate', params: evalParams, cacheKey: 'e'.repeat(64), time: t });
  t += 500;
  await emit({ type: 'instance-end', runId, instance: 'evaluate', stage: 'evaluate', uses: 'evaluate', params: evalParams, status: 'ran', cacheKey: 'e'.repeat(64), artifact: report.digest, durationMs: 500, time: t });
  if (o.realReport) {
    // gradcam's report layout (gallery/<group>/<id>.png, index.html, report.json); the overlays themselves
    // are plain PNGs here (the real stage needs a trained model).
    const png = await sharp({ create: { width: 32, height: 32, channels: 3, background: { r: Math.round(255 * o.auc), g: 64, b: 32 } } }).png().toBuffer();
    const gallery = await commitArtifact(store, {
      kind: 'report',
      files: { 'gallery/TP/img0.png': png, 'gallery/FN/img2.png': png, 'index.html': '<html><body>gallery</body></html>', 'report.json': JSON.stringify({ class: 'Cardiomegaly', threshold: 0.5, images: [{ group: 'TP', id: 'img0', file: 'gallery/TP/img0.png', score: 0.9, truth: true }, { group: 'FN', id: 'img2', file: 'gallery/FN/img2.png', score: 0.2, truth: true }] }) },
      meta: { class: 'Cardiomegaly', counts: { TP: 1, FP: 0, FN: 1, TN: 0 }, images: 2 },
    });
    const gcParams = { per_group: 1 };
    await emit({ type: 'instance-start', runId, instance: 'gradcam', stage: 'gradcam', uses: 'gradcam', params: gcParams, cacheKey: 'g'.repeat(64), time: t });
    await emit({ type: 'instance-end', runId, instance: 'gradcam', stage: 'gradcam', uses: 'gradcam', params: gcParams, status: 'ran', cacheKey: 'g'.repeat(64), artifact: gallery.digest, durationMs: 10, time: t });
  }
  await emit({ type: 'run-end', runId, status: o.status ?? 'succeeded', durationMs: t - (o.start ?? t), time: t });
}

/** A small report in the layout older tests use (ROC under `roc`, one confusion matrix), plus a PNG. */
async function handMadeReport(store: Store, o: FakeRunOptions): Promise<Artifact> {
  const fpr = [0, 0.1, 0.3, 1];
  const tpr = fpr.map((x) => (x === 0 || x === 1 ? x : Math.min(1, x + (o.auc - 0.5) * 1.6)));
  const reportJson = {
    metrics: { auc_macro: o.auc, auc_macro_ci_low: o.auc - 0.05, auc_macro_ci_high: o.auc + 0.04, f1_macro: o.auc - 0.2 },
    roc: { Cardiomegaly: { fpr, tpr, auc: o.auc } },
    confusion: { labels: ['negative', 'positive'], matrix: [[40, 10], [8, 42]] },
  };
  // A small heat-map-like image, written by sharp/libvips.
  const png = await sharp({ create: { width: 32, height: 32, channels: 3, background: { r: Math.round(255 * o.auc), g: 64, b: 32 } } }).png().toBuffer();
  return commitArtifact(store, {
    kind: 'report',
    files: { 'report.json': JSON.stringify(reportJson), 'report.html': `<html><body><h1>Report ${o.reportLabel ?? o.runId}</h1></body></html>`, 'plots/roc.svg': '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>', 'gradcam/img1.png': png },
    meta: { metrics: reportJson.metrics, classes: ['Cardiomegaly'] },
  });
}
