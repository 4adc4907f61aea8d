/** What a split sees of one image: its group (patient) and the labels it is stratified on. */
export interface SplitItem {
  group: string;
  labels: readonly string[];
}

/** Images of one group, summed: `counts[i]` = images carrying label i; `size` = images. */
export interface Group {
  key: string;
  members: number[];
  counts: number[];
  size: number;
}

/** Label used for images with no labels, so that negatives are stratified too. */
export const NO_LABEL = '(none)';

/** Stratification labels of an image: its labels, or NO_LABEL when it has none. */
export function strataOf(labels: readonly string[] | undefined): readonly string[] {
  return labels && labels.length ? labels : [NO_LABEL];
}

/** Groups items by `group`, in first-seen order, with per-label image counts over `labels`. */
export function buildGroups(items: readonly SplitItem[], labels: readonly string[]): Group[] {
  const index = new Map(labels.map((l, i) => [l, i]));
  const byKey = new Map<string, Group>();
  items.forEach((item, i) => {
    let g = byKey.get(item.group);
    if (!g) byKey.set(item.group, (g = { key: item.group, members: [], counts: new Array(labels.length).fill(0), size: 0 }));
    g.members.push(i);
    g.size++;
    for (const l of new Set(item.labels)) {
      const li = index.get(l);
      if (li === undefined) throw new Error(`label ${l} is not in the label list`);
      g.counts[li]++;
    }
  });
  return [...byKey.values()];
}

/** Sorted distinct labels of the items. */
export function labelSet(items: readonly SplitItem[]): string[] {
  return [...new Set(items.flatMap((i) => i.labels))].sort();
}
