import { iou } from './iou.ts';
import type { ScoredBox } from './wbf.ts';

export type NmsMethod = 'hard' | 'linear' | 'gaussian';

export interface NmsOptions {
  /**
   * `hard`: greedy NMS (a box overlapping a kept box by IoU > iouThr is removed, as torchvision.ops.nms);
   * `linear` / `gaussian`: soft-NMS (Bodla et al. 2017) decays the scores of overlapping boxes instead.
   */
  method?: NmsMethod;
  /** hard and linear: the IoU above which a box is suppressed / decayed (default 0.5). */
  iouThr?: number;
  /** gaussian: score × exp(−IoU² / sigma) (default 0.5, the reference implementation's). */
  sigma?: number;
  /** Boxes scoring below this are dropped before suppression (default 0: none). */
  scoreThr?: number;
  /** Soft-NMS: boxes whose decayed score falls below this are dropped (default 0.001, as the reference). */
  softScoreThr?: number;
  /** Keep at most this many boxes, highest scores first (default: all). */
  maxDet?: number;
  /** true: all labels compete with each other; false (default): suppression within each label only. */
  classAgnostic?: boolean;
}

/**
 * Non-maximum suppression of one image's boxes, class-wise unless `classAgnostic`. Returns copies of the
 * kept boxes (extra fields such as `reader` kept; `score` decayed for soft-NMS), highest score first; ties
 * keep input order. Coordinates are continuous (no +1 pixel in areas), so this is torchvision's `nms` /
 * `batched_nms` for `hard`, and the `cpu_soft_nms` reference (methods 1 and 2) for soft-NMS.
 */
export function nonMaximumSuppression<T extends ScoredBox>(boxes: readonly T[], options: NmsOptions = {}): T[] {
  const { method = 'hard', iouThr = 0.5, sigma = 0.5, scoreThr = 0, softScoreThr = 0.001, maxDet = Infinity, classAgnostic = false } = options;
  if (!(iouThr >= 0 && iouThr <= 1)) throw new Error(`NMS: iouThr must be in [0, 1], got ${iouThr}`);
  if (!(sigma > 0)) throw new Error(`NMS: sigma must be > 0, got ${sigma}`);
  const candidates = boxes.map((box, index) => ({ box: { ...box }, index })).filter((c) => c.box.score >= scoreThr && Number.isFinite(c.box.score));
  const groups = new Map<string, typeof candidates>();
  for (const c of candidates) {
    const key = classAgnostic ? '' : c.box.label;
    (groups.get(key) ?? groups.set(key, []).get(key)!).push(c);
  }
  const kept: typeof candidates = [];
  for (const group of groups.values()) kept.push(...(method === 'hard' ? hardNms(group, iouThr) : softNms(group, method, iouThr, sigma, softScoreThr)));
  kept.sort(byScoreThenIndex);
  return kept.slice(0, maxDet).map((c) => c.box);
}

interface Candidate<T extends ScoredBox> {
  box: T;
  index: number;
}

/**
 * Hard class-wise NMS fed one box at a time in priority order (highest score first, ties in input order), as a
 * detector's decode pulls its candidates: `offer` says whether the box is kept, i.e. whether no kept box of its
 * label overlaps it by IoU > iouThr. Offering the boxes `nonMaximumSuppression` gets, in its order, keeps the
 * same boxes in the same order (it keeps in priority order too); the IoU is `iou`'s arithmetic, so the
 * decisions are the same to the bit. A caller may stop at `maxDet` kept boxes: later ones rank after them.
 */
export class OrderedHardNms {
  private readonly label: Int32Array;
  private readonly box: Float64Array;
  private readonly areas: Float64Array;
  /** Boxes kept so far. */
  count = 0;

  constructor(private readonly iouThr: number, capacity: number) {
    if (!(iouThr >= 0 && iouThr <= 1)) throw new Error(`NMS: iouThr must be in [0, 1], got ${iouThr}`);
    this.label = new Int32Array(capacity);
    this.box = new Float64Array(capacity * 4);
    this.areas = new Float64Array(capacity);
  }

  offer(label: number, x_min: number, y_min: number, x_max: number, y_max: number): boolean {
    const area = Math.max(0, x_max - x_min) * Math.max(0, y_max - y_min);
    const { box } = this;
    for (let q = 0; q < this.count; q++) {
      if (this.label[q] !== label) continue;
      const w = Math.min(box[q * 4 + 2], x_max) - Math.max(box[q * 4], x_min);
      const h = Math.min(box[q * 4 + 3], y_max) - Math.max(box[q * 4 + 1], y_min);
      if (w <= 0 || h <= 0) continue;
      const inter = w * h;
      if (inter / (this.areas[q] + area - inter) > this.iouThr) return false;
    }
    if (this.count === this.label.length) throw new Error(`NMS: more than ${this.label.length} kept boxes`);
    this.label[this.count] = label;
    box.set([x_min, y_min, x_max, y_max], this.count * 4);
    this.areas[this.count++] = area;
    return true;
  }
}

const byScoreThenIndex = (a: Candidate<ScoredBox>, b: Candidate<ScoredBox>) => b.box.score - a.box.score || a.index - b.index;

function hardNms<T extends ScoredBox>(group: Candidate<T>[], iouThr: number): Candidate<T>[] {
  const sorted = [...group].sort(byScoreThenIndex);
  const suppressed = new Uint8Array(sorted.length);
  const kept: Candidate<T>[] = [];
  for (let i = 0; i < sorted.length; i++) {
    if (suppressed[i]) continue;
    kept.push(sorted[i]);
    for (let j = i + 1; j < sorted.length; j++) if (!suppressed[j] && iou(sorted[i].box, sorted[j].box) > iouThr) suppressed[j] = 1;
  }
  return kept;
}

/** Soft-NMS: take the best remaining box, decay every other remaining box by its overlap with it, repeat. */
function softNms<T extends ScoredBox>(group: Candidate<T>[], method: 'linear' | 'gaussian', iouThr: number, sigma: number, minScore: number): Candidate<T>[] {
  const remaining = [...group];
  const kept: Candidate<T>[] = [];
  while (remaining.length) {
    let best = 0;
    for (let i = 1; i < remaining.length; i++) if (byScoreThenIndex(remaining[i], remaining[best]) < 0) best = i;
    const top = remaining.splice(best, 1)[0];
    kept.push(top);
    for (let i = remaining.length - 1; i >= 0; i--) {
      const overlap = iou(top.box, remaining[i].box);
      if (overlap === 0) continue; // as the reference: only overlapping boxes are decayed and may drop out
      const weight = method === 'linear' ? (overlap > iouThr ? 1 - overlap : 1) : Math.exp(-(overlap * overlap) / sigma);
      remaining[i].box.score *= weight;
      if (remaining[i].box.score < minScore) remaining.splice(i, 1);
    }
  }
  return kept;
}
