import { UndefinedMetricError } from './errors.ts';
import { percentile } from './threshold.ts';
import { seededRandom } from '../../util/random.ts';

/**
 * Resampled row indices for `n` bootstrap replicates. With `groups` (e.g. patient per row) whole groups
 * are drawn with replacement and contribute all their rows, so a patient's images stay together.
 */
export function bootstrapSamples(rowCount: number, n: number, seed: number, groups?: readonly string[]): number[][] {
  const random = seededRandom(seed);
  const units: number[][] = [];
  if (groups) {
    const byGroup = new Map<string, number[]>();
    groups.forEach((g, i) => (byGroup.get(g) ?? byGroup.set(g, []).get(g)!).push(i));
    units.push(...byGroup.values());
  } else {
    for (let i = 0; i < rowCount; i++) units.push([i]);
  }
  const samples: number[][] = [];
  for (let r = 0; r < n; r++) {
    const sample: number[] = [];
    for (let k = 0; k < units.length; k++) sample.push(...units[Math.floor(random() * units.length)]);
    samples.push(sample);
  }
  return samples;
}

export interface ConfidenceInterval {
  low: number;
  high: number;
  /** Replicates where the statistic was defined (e.g. both classes drawn) and counted. */
  used: number;
  skipped: number;
}

/**
 * Percentile-method CI of `statistic` over resamples: the (1−level)/2 and (1+level)/2 percentiles
 * (numpy's linear interpolation) of the replicate values. Replicates where the statistic is undefined
 * (`UndefinedMetricError`, NaN) are skipped and counted.
 */
export function percentileInterval(statistic: (indices: number[]) => number, samples: readonly number[][], level = 0.95): ConfidenceInterval {
  const values: number[] = [];
  let skipped = 0;
  for (const sample of samples) {
    let v: number;
    try {
      v = statistic(sample);
    } catch (err) {
      if (err instanceof UndefinedMetricError) {
        skipped++;
        continue;
      }
      throw err;
    }
    if (Number.isNaN(v)) skipped++;
    else values.push(v);
  }
  if (values.length === 0) return { low: NaN, high: NaN, used: 0, skipped };
  return { low: percentile(values, ((1 - level) / 2) * 100), high: percentile(values, ((1 + level) / 2) * 100), used: values.length, skipped };
}
