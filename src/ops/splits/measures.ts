import type { SplitItem } from './groups.ts';

export interface PartStats {
  images: number;
  groups: number;
  /** Images per label. */
  labels: Record<string, number>;
}

/** Per part (fold or split) image, group and label counts. `part[i]` is item i's part index. */
export function partStats(items: readonly SplitItem[], part: readonly number[], parts: number, labels: readonly string[]): PartStats[] {
  const stats: PartStats[] = Array.from({ length: parts }, () => ({ images: 0, groups: 0, labels: Object.fromEntries(labels.map((l) => [l, 0])) }));
  const groups = Array.from({ length: parts }, () => new Set<string>());
  items.forEach((item, i) => {
    const s = stats[part[i]];
    s.images++;
    groups[part[i]].add(item.group);
    for (const l of new Set(item.labels)) s.labels[l] = (s.labels[l] ?? 0) + 1;
  });
  groups.forEach((g, j) => (stats[j].groups = g.size));
  return stats;
}

/**
 * Label distribution deviation (Sechidis et al. 2011): mean over labels and parts of
 * | S_j^i / (|S_j| - S_j^i)  -  D^i / (|D| - D^i) |, the positive-to-negative ratio of each label in each
 * part against the whole. A ratio whose denominator is 0 (every image has the label) uses 1 instead.
 */
export function labelDistributionDeviation(stats: readonly PartStats[], labels: readonly string[]): number {
  if (!labels.length || !stats.length) return 0;
  const total = stats.reduce((s, p) => s + p.images, 0);
  const ratio = (pos: number, all: number) => pos / Math.max(1, all - pos);
  let sum = 0;
  for (const l of labels) {
    const whole = ratio(stats.reduce((s, p) => s + (p.labels[l] ?? 0), 0), total);
    for (const p of stats) sum += Math.abs(ratio(p.labels[l] ?? 0, p.images) - whole);
  }
  return sum / (labels.length * stats.length);
}

/** Example distribution deviation: mean over parts of | |S_j| - r_j |D| |, in images. */
export function exampleDistributionDeviation(stats: readonly PartStats[], ratios: readonly number[]): number {
  const total = stats.reduce((s, p) => s + p.images, 0);
  return stats.reduce((s, p, j) => s + Math.abs(p.images - ratios[j] * total), 0) / stats.length;
}
