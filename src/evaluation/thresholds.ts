import { hasBothOutcomes } from '../ops/metrics/classification.ts';
import { percentile, youdenThreshold } from '../ops/metrics/threshold.ts';
import type { ThresholdSpec } from './threshold-schema.ts';

export interface ChosenThreshold {
  value: number;
  method: string;
  note?: string;
}

/** The decision threshold of one class from reference truth and scores (e.g. out-of-fold predictions). */
export function chooseThreshold(spec: ThresholdSpec, truth: readonly number[], scores: readonly number[]): ChosenThreshold {
  if (spec === 'youden') {
    if (!hasBothOutcomes(truth as number[])) return { value: 0.5, method: 'youden', note: 'only one outcome in the reference rows: used 0.5' };
    const { threshold, j } = youdenThreshold(truth, scores);
    return { value: threshold, method: `youden (J ${j.toFixed(4)})` };
  }
  if ('fixed' in spec) return { value: spec.fixed, method: 'fixed' };
  const p = typeof spec.percentile === 'number' ? { q: spec.percentile, among: 'all' as const } : spec.percentile;
  const pool = scores.filter((_, i) => p.among === 'all' || (p.among === 'positives') === (truth[i] === 1));
  if (pool.length === 0) return { value: 0.5, method: `percentile ${p.q} of ${p.among}`, note: `no ${p.among} in the reference rows: used 0.5` };
  return { value: percentile(pool, p.q), method: `percentile ${p.q} of ${p.among} (${pool.length} scores)` };
}

/**
 * Moves a threshold chosen on reference scores (single fold models' out-of-fold predictions) to scores
 * on another scale (the mean of those models, which pulls scores towards the middle) by keeping its
 * positive rate: the fraction of reference scores at or above it becomes the fraction of target scores
 * at or above the new threshold, the (1 - rate) percentile of the target scores. Uses the target rows'
 * scores, never their labels. A rate of 0 or 1 keeps the threshold as chosen.
 */
export function transferByRate(chosen: ChosenThreshold, reference: readonly number[], target: readonly number[]): ChosenThreshold {
  const rate = reference.filter((s) => s >= chosen.value).length / reference.length;
  if (rate === 0 || rate === 1 || target.length === 0) return { ...chosen, note: `positive rate ${rate} on the reference rows: threshold kept at ${chosen.value}` };
  return { value: percentile(target, 100 * (1 - rate)), method: `${chosen.method}: ${chosen.value.toFixed(4)} on the reference rows, moved to the evaluated scores at its positive rate ${(100 * rate).toFixed(1)} %` };
}
