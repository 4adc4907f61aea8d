import { histogramInto, minMaxInto, type Words } from './kernels.ts';

/**
 * Order statistics of f(v) over an integer image v (stored values or raw words), computed from a histogram of the stored values so
 * that a 4-megapixel frame costs one pass. `f` may be non-monotonic (a Modality LUT can be).
 */
export interface ValueDistribution {
  /** Distinct f(v) values, ascending, with how many pixels map to each. */
  values: Float64Array;
  counts: Float64Array;
  total: number;
}

/** Smallest and largest value (Infinity / -Infinity when empty). */
export function valueRange(values: Words): { min: number; max: number } {
  const range = new Float64Array(2);
  minMaxInto(values, range);
  return { min: range[0], max: range[1] };
}

/** The distribution of f(v) over `values`; `integer` false (floating-point pixels) sorts the mapped values instead of a histogram. */
export function distribution(values: Words, f: (v: number) => number, integer = true): ValueDistribution {
  if (values.length === 0) return { values: new Float64Array(0), counts: new Float64Array(0), total: 0 };
  if (!integer) return sortedDistribution(values, f);
  const { min, max } = valueRange(values);
  const pairs = new Map<number, number>();
  if (max - min <= 1 << 24) {
    const hist = new Uint32Array(max - min + 1);
    histogramInto(values, min, hist);
    for (let k = 0; k < hist.length; k++) if (hist[k]) add(pairs, f(k + min), hist[k]);
  } else {
    for (let i = 0; i < values.length; i++) add(pairs, f(values[i]), 1);
  }
  const keys = [...pairs.keys()].sort((a, b) => a - b);
  return { values: Float64Array.from(keys), counts: Float64Array.from(keys, (k) => pairs.get(k)!), total: values.length };
}

function sortedDistribution(values: Words, f: (v: number) => number): ValueDistribution {
  const mapped = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) mapped[i] = f(values[i]);
  mapped.sort();
  const unique: number[] = [];
  const counts: number[] = [];
  for (let i = 0; i < mapped.length; i++) {
    if (unique.length && unique[unique.length - 1] === mapped[i]) counts[counts.length - 1]++;
    else {
      unique.push(mapped[i]);
      counts.push(1);
    }
  }
  return { values: Float64Array.from(unique), counts: Float64Array.from(counts), total: values.length };
}

function add(map: Map<number, number>, key: number, n: number): void {
  map.set(key, (map.get(key) ?? 0) + n);
}

/** The k-th smallest value (0-based) of the distribution. */
function orderStatistic(d: ValueDistribution, k: number): number {
  let seen = 0;
  for (let i = 0; i < d.values.length; i++) {
    seen += d.counts[i];
    if (k < seen) return d.values[i];
  }
  return d.values[d.values.length - 1];
}

/** numpy's default (linear interpolation) percentile, p in 0..100. */
export function percentile(d: ValueDistribution, p: number): number {
  if (d.total === 0) throw new Error('percentile of an empty image');
  const position = (Math.min(100, Math.max(0, p)) / 100) * (d.total - 1);
  const lower = Math.floor(position);
  const a = orderStatistic(d, lower);
  if (position === lower) return a;
  const b = orderStatistic(d, lower + 1);
  return a + (b - a) * (position - lower);
}
