import sharp from 'sharp';
import type { ArtifactDraft } from '../engine/artifact.ts';
import type { DatasetRow } from '../data-model.ts';
import { StageInputError, type StageContext, type StageInput } from '../engine/stage.ts';
import type { GradcamParams } from './gradcam.ts';
import type { PredictionRow } from '../evaluation/predictions.ts';
import { initBackend } from '../ml/backend.ts';
import { gradCam } from '../ml/gradcam.ts';
import { loadImageBatch } from '../ml/image-tensor.ts';
import { loadModel } from '../ml/model-io.ts';
import type * as tf from '../ml/tf.ts';
import { seededRandom } from '../util/random.ts';
import { escapeXml } from '../ops/report/escape.ts';
import { overlayHeatmap, resizeMap } from '../ops/report/heatmap.ts';
import { selectSplit } from '../evaluation/predictions.ts';
import { positiveClass } from '../ops/metrics/positive-class.ts';
import { anomalyTruth, normalLabelOf } from '../evaluation/anomaly-labels.ts';
import { residualMaps } from '../ml/anomaly/autoencoder.ts';

const GROUPS = ['TP', 'FP', 'FN', 'TN'] as const;
type Group = (typeof GROUPS)[number];

interface Candidate {
  row: DatasetRow;
  /** Every class's score, from the predictions input (else computed when the image is explained). */
  scores?: number[];
}

/**
 * When a prediction counts as positive for the explained class: its score at or above a threshold, or,
 * for a multi-class model (softmax, one label per image), being the class with the highest score, as
 * evaluate's confusion matrix and accuracy count it (it chooses no threshold there).
 */
interface Decision {
  positive(scores: readonly number[]): boolean;
  threshold: number | null;
  source: string;
}

/** The implementation of the stage, imported on first run (it loads TensorFlow.js). */
export async function run(ctx: StageContext, inputs: StageInput[], p: GradcamParams): Promise<ArtifactDraft> {
  const model = inputs.find((i) => i.artifact.kind === 'model');
  const data = inputs.find((i) => i.artifact.kind === 'dataset');
  const predictions = inputs.find((i) => i.artifact.kind === 'predictions');
  const evaluation = inputs.find((i) => i.artifact.kind === 'report');
  if (!model || !data) throw new StageInputError(`gradcam needs a model and a dataset input, got ${inputs.map((i) => `${i.name}: ${i.artifact.kind}`).join(', ')}`, 'write from: { model: train, data: split } (optionally predictions: tta)');
  if (inputs.filter((i) => i.artifact.kind === 'model').length > 1) ctx.log.warn(`several models: explaining ${model.instance}`);
  const classes = (model.artifact.meta.classes as string[] | undefined) ?? [];
  const { cls, why } = explainedClass(p.class, classes, model.artifact.meta.task, evaluation);
  const classIndex = classes.indexOf(cls);
  if (classIndex < 0) throw new StageInputError(`class "${cls}" is not one of the model's classes [${classes.join(', ')}]`, 'set class: to one of them');
  ctx.log.info(`explaining class ${classIndex} "${cls}" (${why})`);
  // an anomaly detector's heat map is its squared residual (x - reconstruction)^2, its score's per-pixel terms
  const normal = normalLabelOf(model.artifact.meta);
  const truthOf = (row: DatasetRow) => (normal === undefined ? (row.labels ?? []) : anomalyTruth(row.labels, normal)).includes(cls);
  if (normal !== undefined && p.layer) throw new StageInputError(`gradcam: layer ${p.layer} is for Grad-CAM; the anomaly detector ${model.instance} is explained by its residual maps`, 'remove layer:');
  const decision = chooseDecision(p.threshold, evaluation, cls, classIndex, normal !== undefined, model.artifact.meta.task === 'multiclass');
  ctx.log.info(decision.threshold === null ? `"${cls}" positive when ${decision.source}` : `threshold ${decision.threshold} for "${cls}" (${decision.source})`);
  const size = Number(model.artifact.meta.inputSize);
  const channels = Number(model.artifact.meta.channels) as 1 | 3;
  await initBackend(p.backend, (m) => ctx.log.info(m));
  const tfModel = await loadModel(ctx.store, model.artifact);
  try {
    const rows = selectSplit(await ctx.readRows<DatasetRow>(data.artifact), p.split).filter((r) => typeof r.image === 'string');
    if (rows.length === 0) throw new StageInputError(`dataset ${data.instance} has no rows with images in the "${p.split}" part`, 'set split: val or all');
    const candidates = await scoredCandidates(ctx, rows, predictions);
    const sample = sampleGroups(candidates, truthOf, decision, p.per_group, p.seed);
    const files: Record<string, Uint8Array | string> = {};
    const entries: Array<{ group: Group; id: string; file: string; score: number; truth: boolean }> = [];
    const heat: Array<{ image: string; map: Float32Array; height: number; width: number }> = [];
    const picked = GROUPS.flatMap((g) => sample[g]);
    for (let start = 0; start < picked.length; start += 8) {
      const chunk = picked.slice(start, start + 8);
      const batch = await loadImageBatch(ctx.store, chunk.map((c) => c.row.image!), { size, channels });
      let cam;
      let probs: number[][];
      try {
        cam = normal === undefined ? gradCam(tfModel, batch as tf.Tensor4D, classIndex, p.layer) : residualMaps(tfModel, batch as tf.Tensor4D);
        const out = tfModel.predict(batch) as tf.Tensor2D;
        probs = out.arraySync();
        out.dispose();
      } finally {
        batch.dispose();
      }
      for (const [i, c] of chunk.entries()) {
        const truth = truthOf(c.row);
        const scores = c.scores ?? probs[i];
        const score = scores[classIndex];
        const group = groupOf(truth, decision.positive(scores));
        if (entries.filter((e) => e.group === group).length >= p.per_group) continue;
        const file = `gallery/${group}/${safeName(c.row.id)}.png`;
        heat.push({ image: c.row.image!, map: cam.maps[i], height: cam.height, width: cam.width });
        entries.push({ group, id: c.row.id, file, score, truth });
      }
    }
    // Grad-CAM maps are normalised per image; residuals share one scale so that hotter means a larger error
    const scale = normal === undefined ? 1 : 1 / sharedResidualScale(heat.map((h) => h.map));
    for (const [i, h] of heat.entries()) files[entries[i].file] = await overlayPng(await ctx.store.getBlob(h.image), scale === 1 ? h.map : h.map.map((v) => v * scale), h.height, h.width, p.display_size, p.alpha);
    const counts = Object.fromEntries(GROUPS.map((g) => [g, entries.filter((e) => e.group === g).length]));
    ctx.log.info(`${normal === undefined ? 'Grad-CAM' : 'residual maps'} of "${cls}" for ${entries.length} images (${GROUPS.map((g) => `${g} ${counts[g]}`).join(', ')})`);
    files['index.html'] = galleryHtml(normal === undefined ? gradCamExplanation(cls, p.layer ?? 'features') : residualExplanation(cls), decision, entries);
    files['report.json'] = JSON.stringify({ class: cls, class_source: why, layer: p.layer ?? null, threshold: decision.threshold, threshold_source: decision.source, images: entries }, null, 1);
    return { kind: 'report', files, meta: { class: cls, counts, images: entries.length, threshold: decision.threshold } };
  } finally {
    tfModel.dispose();
  }
}

/**
 * The `class` param, else a binary model's positive class: the one the evaluate report input took (its
 * `positive:` param or the rule), else the shared rule (positiveClass, as evaluate's plain auc / f1); else the first class.
 */
function explainedClass(param: string | undefined, classes: readonly string[], task: unknown, evaluation: StageInput | undefined): { cls: string; why: string } {
  if (param !== undefined) return { cls: param, why: 'class param' };
  const positive = positiveClass(classes, task);
  if (positive === undefined) return { cls: classes[0], why: `the first class: a ${String(task)} model has no one positive class; set class: to explain another` };
  const reported = evaluation?.artifact.meta.positive;
  if (typeof reported === 'string' && classes.includes(reported)) return { cls: reported, why: `the positive class of ${evaluation!.instance}'s plain auc and f1` };
  return { cls: classes[positive.index], why: `the positive class, as evaluate's plain auc and f1: ${positive.why}` };
}

/**
 * The decision: the `threshold` param when set; else, for a multi-class model, the argmax; else the
 * threshold evaluate chose for the class (`threshold/<class>` in an evaluate report input's metrics), so
 * that the gallery's groups are the cells of the report's confusion matrix; else 0.5.
 */
function chooseDecision(param: number | undefined, evaluation: StageInput | undefined, cls: string, classIndex: number, anomaly: boolean, multiclass: boolean): Decision {
  const at = (value: number, source: string): Decision => ({ positive: (scores) => scores[classIndex] >= value, threshold: value, source });
  if (param !== undefined) return at(param, 'threshold param');
  if (multiclass) return { positive: (scores) => argmax(scores) === classIndex, threshold: null, source: 'its score is the highest of the classes (multi-class: argmax, as evaluate counts it)' };
  if (evaluation) {
    const metrics = (evaluation.artifact.meta.metrics ?? {}) as Record<string, unknown>;
    const chosen = metrics[`threshold/${cls}`];
    if (typeof chosen === 'number' && Number.isFinite(chosen)) return at(chosen, `threshold chosen by ${evaluation.instance}`);
    throw new StageInputError(`report input ${evaluation.instance} has no threshold for class "${cls}" (metrics threshold/<class>)`, 'give gradcam the evaluate stage of the same predictions, or set threshold:');
  }
  if (anomaly) throw new StageInputError(`gradcam: anomaly scores are reconstruction errors, not probabilities: no default threshold for "${cls}"`, 'give gradcam the evaluate stage of the same predictions (from: { ..., evaluation: evaluate }), or set threshold:');
  return at(0.5, 'default 0.5: no evaluate report input');
}

function argmax(scores: readonly number[]): number {
  let best = 0;
  for (let k = 1; k < scores.length; k++) if (scores[k] > scores[best]) best = k;
  return best;
}

/** Scores from the predictions input when given; else candidates are grouped after the model scored them. */
async function scoredCandidates(ctx: StageContext, rows: DatasetRow[], predictions: StageInput | undefined): Promise<Candidate[]> {
  if (!predictions) return rows.map((row) => ({ row }));
  const scores = new Map<string, number[]>();
  for (const r of await ctx.readRows<PredictionRow>(predictions.artifact)) if (Array.isArray(r.scores) && !scores.has(r.id)) scores.set(r.id, r.scores);
  return rows.filter((r) => scores.has(r.id)).map((row) => ({ row, scores: scores.get(row.id) }));
}

/**
 * Seeded sample of up to `perGroup` images per outcome group. Without scores (no predictions input),
 * positives and negatives by truth are sampled and grouped after Grad-CAM scored them.
 */
function sampleGroups(candidates: Candidate[], truthOf: (row: DatasetRow) => boolean, decision: Decision, perGroup: number, seed: number): Record<Group, Candidate[]> {
  const random = seededRandom(seed);
  const shuffled = candidates.map((c) => ({ c, k: random() })).sort((a, b) => a.k - b.k).map((x) => x.c);
  const out: Record<Group, Candidate[]> = { TP: [], FP: [], FN: [], TN: [] };
  for (const c of shuffled) {
    const truth = truthOf(c.row);
    const group: Group = c.scores === undefined ? (truth ? 'TP' : 'TN') : groupOf(truth, decision.positive(c.scores));
    if (out[group].length < (c.scores === undefined ? 2 * perGroup : perGroup)) out[group].push(c);
  }
  return out;
}

/** The 99th percentile of the gallery's residual values (hotter pixels saturate): the heat of 1. */
function sharedResidualScale(maps: readonly Float32Array[]): number {
  const values = Float32Array.from(maps.flatMap((m) => Array.from(m))).sort();
  return values.length ? Math.max(values[Math.floor(0.99 * (values.length - 1))], 1e-12) : 1;
}

function groupOf(truth: boolean, positive: boolean): Group {
  return positive ? (truth ? 'TP' : 'FP') : truth ? 'FN' : 'TN';
}

async function overlayPng(imageBytes: Buffer, cam: Float32Array, h: number, w: number, displayWidth: number, alpha: number): Promise<Buffer> {
  const meta = await sharp(imageBytes).metadata();
  const width = displayWidth;
  const height = Math.max(1, Math.round((displayWidth * (meta.height ?? 1)) / (meta.width ?? 1)));
  const grey = await sharp(imageBytes).removeAlpha().resize(width, height, { fit: 'fill' }).toColourspace('b-w').raw().toBuffer();
  const heat = resizeMap(cam, h, w, height, width);
  return sharp(Buffer.from(overlayHeatmap(new Uint8Array(grey.buffer, grey.byteOffset, width * height), heat, alpha)), { raw: { width, height, channels: 3 } }).png().toBuffer();
}

function safeName(id: string): string {
  return id.replace(/[^A-Za-z0-9._-]/g, '_');
}

/** Title and first paragraph of a Grad-CAM gallery. */
function gradCamExplanation(cls: string, layer: string): { title: string; heading: string; text: string } {
  return { title: `Grad-CAM: ${escapeXml(cls)}`, heading: `Grad-CAM of “${escapeXml(cls)}” at layer ${escapeXml(layer)}`, text: 'Heat = ReLU of gradient-weighted feature maps, drawn over the stored image.' };
}

/** Title and first paragraph of an anomaly detector's gallery. */
function residualExplanation(cls: string): { title: string; heading: string; text: string } {
  return { title: `Residual maps: ${escapeXml(cls)}`, heading: `Residual maps of the anomaly score (“${escapeXml(cls)}”)`, text: 'Heat = squared reconstruction residual (x - x̂)², summed over channels: the per-pixel terms of the anomaly score, drawn over the stored image.' };
}

function galleryHtml(explanation: { title: string; heading: string; text: string }, decision: Decision, entries: ReadonlyArray<{ group: Group; id: string; file: string; score: number; truth: boolean }>): string {
  const sections = GROUPS.map((g) => {
    const items = entries.filter((e) => e.group === g);
    if (!items.length) return '';
    const figures = items.map((e) => `<figure><img src="${escapeXml(e.file)}" alt="${escapeXml(e.id)}"><figcaption>${escapeXml(e.id)}<br>score ${e.score.toFixed(3)}, truth ${e.truth ? 'positive' : 'negative'}</figcaption></figure>`).join('\n');
    return `<h2>${g} (${items.length})</h2>\n${figures}`;
  }).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${explanation.title}</title>
<style>body{font-family:sans-serif;margin:24px}figure{display:inline-block;margin:6px;text-align:center}img{max-width:256px}</style></head><body>
<h1>${explanation.heading}</h1>
<p>${explanation.text} TP/FP/FN/TN ${decision.threshold === null ? `by the predicted class: positive when ${escapeXml(decision.source)}` : `at threshold ${escapeXml(String(Number(decision.threshold.toFixed(6))))} (${escapeXml(decision.source)})`}.</p>
${sections}
</body></html>
`;
}
