import { bootstrapSamples, percentileInterval, type ConfidenceInterval } from '../ops/metrics/bootstrap.ts';
import { cocoMatches, cocoPrecision, meanPrecision, type CocoMatches } from '../ops/boxes/coco-eval.ts';
import { frocCurve, frocMatches, FROC_RATES, type FrocMatches } from '../ops/boxes/froc.ts';
import { meanDefined, vocAp, vocMatches, type DetectionImage, type VocMatches } from '../ops/boxes/map.ts';

export interface DetectionMetricOptions {
  /** Classes scored by mAP (those without truth boxes are left out of the means). */
  labels: readonly string[];
  /** Lesion classes of the FROC (e.g. every class but "No finding"). */
  lesionLabels: readonly string[];
  /** IoU above which a detection hits a lesion (FROC). */
  frocIouThr: number;
  bootstrap?: { n: number; seed: number; level: number; groups?: readonly string[] };
}

export interface ClassDetectionMetrics {
  label: string;
  truthBoxes: number;
  predictedBoxes: number;
  ap_40: number;
  ap_50: number;
  coco_ap: number;
}

export interface DetectionMetrics {
  /** Flat metric names: map_40, map_50, coco_map, coco_map_50, coco_map_75, ap_40/<c>, ap_50/<c>, coco_ap/<c>, froc_<rate>, froc_mean. */
  metrics: Record<string, number>;
  ci: Record<string, ConfidenceInterval>;
  perClass: ClassDetectionMetrics[];
  /** VOC precision-recall curves at IoU > 0.5 per class; the FROC curve. */
  curves: { pr: Record<string, { recall: number[]; precision: number[] }>; froc: { fpPerImage: number[]; sensitivity: number[]; thresholds: number[] } };
  bootstrap?: { n: number; by: 'groups' | 'images'; used: Record<string, number> };
}

interface Matched {
  voc40: Map<string, VocMatches>;
  voc50: Map<string, VocMatches>;
  coco: Map<string, CocoMatches>;
  froc: FrocMatches;
}

/**
 * Every detection metric of the evaluated images, plus percentile-bootstrap CIs. Matching is done once
 * (it is per image); a bootstrap replicate reweights images by how often they were drawn (whole
 * patients with `groups`), which gives the same AP as concatenating the drawn images.
 */
export function detectionMetrics(images: readonly DetectionImage[], options: DetectionMetricOptions): DetectionMetrics {
  const matched: Matched = {
    voc40: new Map(options.labels.map((l) => [l, vocMatches(images, l, 0.4)])),
    voc50: new Map(options.labels.map((l) => [l, vocMatches(images, l, 0.5)])),
    coco: new Map(options.labels.map((l) => [l, cocoMatches(images, l)])),
    froc: frocMatches(images, options.lesionLabels, options.frocIouThr),
  };
  const metrics = score(matched, options.labels);
  const perClass = options.labels.map((label) => ({
    label,
    truthBoxes: matched.voc50.get(label)!.positives.reduce((a, b) => a + b, 0),
    predictedBoxes: matched.voc50.get(label)!.score.length,
    ap_40: metrics[`ap_40/${label}`],
    ap_50: metrics[`ap_50/${label}`],
    coco_ap: metrics[`coco_ap/${label}`],
  }));
  const pr = Object.fromEntries(options.labels.flatMap((l) => {
    const { recall, precision, ap } = vocAp(matched.voc50.get(l)!);
    return Number.isNaN(ap) ? [] : [[l, { recall, precision }]];
  }));
  const froc = frocCurve(matched.froc);
  const out: DetectionMetrics = { metrics, ci: {}, perClass, curves: { pr, froc: { fpPerImage: froc.fpPerImage, sensitivity: froc.sensitivity, thresholds: froc.thresholds } } };
  const b = options.bootstrap;
  if (b && b.n > 0) {
    const samples = bootstrapSamples(images.length, b.n, b.seed, b.groups);
    const replicates = samples.map((sample) => {
      const weights = new Float64Array(images.length);
      for (const i of sample) weights[i]++;
      return score(matched, options.labels, weights);
    });
    const used: Record<string, number> = {};
    for (const name of Object.keys(metrics)) {
      if (Number.isNaN(metrics[name])) continue;
      const values = replicates.map((r) => r[name]);
      out.ci[name] = percentileInterval((indices) => values[indices[0]], values.map((_, i) => [i]), b.level);
      used[name] = out.ci[name].used;
    }
    out.bootstrap = { n: b.n, by: b.groups ? 'groups' : 'images', used };
  }
  return out;
}

function score(m: Matched, labels: readonly string[], weights?: ArrayLike<number>): Record<string, number> {
  const out: Record<string, number> = {};
  const ap40 = labels.map((l) => vocAp(m.voc40.get(l)!, weights).ap);
  const ap50 = labels.map((l) => vocAp(m.voc50.get(l)!, weights).ap);
  const coco = labels.map((l) => cocoPrecision(m.coco.get(l)!, weights));
  out.map_40 = meanDefined(ap40);
  out.map_50 = meanDefined(ap50);
  out.coco_map = meanDefined(coco.map((p) => meanPrecision(p)));
  out.coco_map_50 = meanDefined(coco.map((p) => meanPrecision(p, [0])));
  out.coco_map_75 = meanDefined(coco.map((p) => meanPrecision(p, [5])));
  labels.forEach((l, k) => {
    out[`ap_40/${l}`] = ap40[k];
    out[`ap_50/${l}`] = ap50[k];
    out[`coco_ap/${l}`] = meanPrecision(coco[k]);
  });
  const froc = frocCurve(m.froc, weights);
  FROC_RATES.forEach((r, i) => (out[`froc_${r}`] = froc.atRates[i]));
  out.froc_mean = froc.mean;
  return out;
}
