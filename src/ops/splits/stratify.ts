import { buildGroups, labelSet, type Group, type SplitItem } from './groups.ts';
import { seededRandom, shuffled } from '../../util/random.ts';

/**
 * Iterative stratification (Sechidis, Tsoumakas & Vlahavas 2011) over groups: a group (patient) is
 * placed whole, so no group spans two parts. Works for binary, multi-class and multi-label targets.
 *
 * Repeatedly take the label with the fewest images left to place; place its groups (largest count
 * first, seeded order among equals) into the part that most lacks that label, ties broken by the part
 * that most lacks images, then at random. Groups without labels go where images are most lacking.
 * A final local search moves single groups while that lowers the squared deviation from the desired
 * label and image counts (greedy placement of large groups can leave avoidable imbalance).
 *
 * Returns the part index of every item. Deterministic for a seed.
 */
export function stratifiedGroupSplit(items: readonly SplitItem[], ratios: readonly number[], seed: number): number[] {
  const labels = labelSet(items);
  const random = seededRandom(seed);
  const groups = shuffled(buildGroups(items, labels), random);
  const parts = ratios.length;
  const sum = ratios.reduce((a, b) => a + b, 0);
  const r = ratios.map((x) => x / sum);
  const totals = labels.map((_, i) => groups.reduce((s, g) => s + g.counts[i], 0));
  const wantLabel = r.map((rj) => totals.map((t) => rj * t));
  const wantSize = r.map((rj) => rj * items.length);
  const assignment = new Map<Group, number>();
  const remaining = new Set(groups);
  const left = totals.slice();

  const place = (g: Group, part: number) => {
    assignment.set(g, part);
    remaining.delete(g);
    wantSize[part] -= g.size;
    g.counts.forEach((c, i) => {
      wantLabel[part][i] -= c;
      left[i] -= c;
    });
  };
  const bestPart = (label: number | undefined) => {
    let best: number[] = [];
    let bestKey: [number, number] = [-Infinity, -Infinity];
    for (let j = 0; j < parts; j++) {
      if (r[j] === 0) continue;
      const key: [number, number] = [label === undefined ? wantSize[j] : wantLabel[j][label], wantSize[j]];
      const cmp = key[0] !== bestKey[0] ? key[0] - bestKey[0] : key[1] - bestKey[1];
      if (cmp > 0) { best = [j]; bestKey = key; }
      else if (cmp === 0) best.push(j);
    }
    return best.length === 1 ? best[0] : best[Math.floor(random() * best.length)];
  };

  while (remaining.size) {
    let label = -1;
    for (let i = 0; i < labels.length; i++) if (left[i] > 0 && (label < 0 || left[i] < left[label])) label = i;
    if (label < 0) {
      for (const g of [...remaining].sort((a, b) => b.size - a.size)) place(g, bestPart(undefined));
      break;
    }
    const withLabel = [...remaining].filter((g) => g.counts[label] > 0).sort((a, b) => b.counts[label] - a.counts[label]);
    for (const g of withLabel) place(g, bestPart(label));
  }

  refine(groups, assignment, r, totals, items.length);
  const out = new Array<number>(items.length);
  for (const [g, part] of assignment) for (const m of g.members) out[m] = part;
  return out;
}

/**
 * Moves single groups between parts while that lowers the cost
 *   sum_j sum_i (S_j^i - r_j D^i)^2 / D^i  +  sum_j (|S_j| - r_j |D|)^2 / |D|,
 * i.e. label counts and part sizes as close to the desired ones as whole groups allow.
 */
function refine(groups: readonly Group[], assignment: Map<Group, number>, r: readonly number[], totals: readonly number[], total: number): void {
  const parts = r.length;
  const q = totals.length;
  const have = Array.from({ length: parts }, () => new Array<number>(q).fill(0));
  const size = new Array<number>(parts).fill(0);
  for (const [g, j] of assignment) {
    size[j] += g.size;
    g.counts.forEach((c, i) => (have[j][i] += c));
  }
  const dev = (j: number, i: number, delta: number) => {
    const d = have[j][i] + delta - r[j] * totals[i];
    return (d * d) / Math.max(1, totals[i]);
  };
  const sizeDev = (j: number, delta: number) => {
    const d = size[j] + delta - r[j] * total;
    return (d * d) / Math.max(1, total);
  };
  // The gain of moving g from part a to b (positive = cost falls).
  const gain = (g: Group, a: number, b: number) => {
    let before = sizeDev(a, 0) + sizeDev(b, 0);
    let after = sizeDev(a, -g.size) + sizeDev(b, g.size);
    for (let i = 0; i < q; i++) {
      if (!g.counts[i]) continue;
      before += dev(a, i, 0) + dev(b, i, 0);
      after += dev(a, i, -g.counts[i]) + dev(b, i, g.counts[i]);
    }
    return before - after;
  };
  for (let pass = 0; pass < 50; pass++) {
    let moved = 0;
    for (const g of groups) {
      const a = assignment.get(g)!;
      let best = -1, bestGain = 1e-12;
      for (let b = 0; b < parts; b++) {
        if (b === a || r[b] === 0) continue;
        const gn = gain(g, a, b);
        if (gn > bestGain) { bestGain = gn; best = b; }
      }
      if (best < 0) continue;
      assignment.set(g, best);
      size[a] -= g.size;
      size[best] += g.size;
      g.counts.forEach((c, i) => { have[a][i] -= c; have[best][i] += c; });
      moved++;
    }
    if (!moved) break;
  }
}
