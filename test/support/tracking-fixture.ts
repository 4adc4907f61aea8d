import sharp from 'sharp';
import { commitArtifact } from '../../src/engine/artifact.ts';
import type { EventSink, PipelineEvent } from '../../src/engine/events.ts';
import type { Store } from '../../src/store/store.ts';

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
  const instances = ['ingest', ...Array.from({ length: folds }, (_, k) => `train[fold=${k}]`), 'evaluate'];
  await emit({ type: 'run-start', runId, experiment: o.experiment ?? 'demo', file: 'experiments/demo.yaml', instances, params: { size: 64, folds, seed: 42 }, time: t });
  const dataset = await commitArtifact(store, { kind: 'dataset', rows: [{ id: 'img1', patient: 'p-1a2b', labels: [] }], meta: { classes: ['Cardiomegaly'] } });
  const ingestParams = { source: 'data/x', pseudonymise: true };
  await emit({ type: 'instance-start', runId, instance: 'ingest', stage: 'ingest', uses: 'ingest-images', params: ingestParams, cacheKey: 'c'.repeat(64), time: t });
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
    }
    const model = await commitArtifact(store, { kind: 'model', files: { 'model.json': `{"fold":${k},"run":"${runId}"}` }, meta: { classes: ['Cardiomegaly'], backend: 'wasm', metrics: { val_auc: o.auc - 0.01 * k, best_epoch: epochs - 1 } } });
    await emit({ type: 'instance-end', runId, instance, stage: 'train', uses: 'train', params, status: o.cached ? 'cached' : 'ran', cacheKey: `${k}`.repeat(64).slice(0, 64), artifact: model.digest, durationMs: epochs * 1000, time: t });
  }
  const fpr = [0, 0.1, 0.3, 1];
  const tpr = fpr.map((x) => (x === 0 || x === 1 ? x : Math.min(1, x + (o.auc - 0.5) * 1.6)));
  const reportJson = {
    metrics: { auc_macro: o.auc, auc_macro_ci_low: o.auc - 0.05, auc_macro_ci_high: o.auc + 0.04, f1_macro: o.auc - 0.2 },
    roc: { Cardiomegaly: { fpr, tpr, auc: o.auc } },
    confusion: { labels: ['negative', 'positive'], matrix: [[40, 10], [8, 42]] },
  };
  // A small heat-map-like image, written by sharp/libvips.
  const png = await sharp({ create: { width: 32, height: 32, channels: 3, background: { r: Math.round(255 * o.auc), g: 64, b: 32 } } }).png().toBuffer();
  const report = await commitArtifact(store, {
    kind: 'report',
    files: { 'report.json': JSON.stringify(reportJson), 'report.html': `<html><body><h1>Report ${o.reportLabel ?? runId}</h1></body></html>`, 'plots/roc.svg': '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>', 'gradcam/img1.png': png },
    meta: { metrics: reportJson.metrics, classes: ['Cardiomegaly'] },
  });
  const evalParams = { metrics: ['auc', 'f1'], bootstrap: 200 };
  await emit({ type: 'instance-start', runId, instance: 'evaluate', stage: 'evaluate', uses: 'evaluate', params: evalParams, cacheKey: 'e'.repeat(64), time: t });
  t += 500;
  await emit({ type: 'instance-end', runId, instance: 'evaluate', stage: 'evaluate', uses: 'evaluate', params: evalParams, status: 'ran', cacheKey: 'e'.repeat(64), artifact: report.digest, durationMs: 500, time: t });
  await emit({ type: 'run-end', runId, status: o.status ?? 'succeeded', durationMs: t - (o.start ?? t), time: t });
}
