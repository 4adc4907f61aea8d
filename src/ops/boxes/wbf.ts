import { iou, type Rect } from './iou.ts';

export type WbfConfType = 'avg' | 'max' | 'box_and_model_avg' | 'absent_model_aware_avg';

export interface ScoredBox extends Rect {
  label: string;
  score: number;
}

export interface WbfOptions {
  /** Boxes of one label overlapping a cluster's fused box by more than this join the cluster (default .55). */
  iouThr?: number;
  /** Boxes scoring below this are ignored (default 0). */
  skipBoxThr?: number;
  confType?: WbfConfType;
  /** One weight per model (default all 1). */
  weights?: readonly number[];
  /** Let fused confidence exceed 1 when a model contributes several boxes to a cluster (avg only). */
  allowsOverflow?: boolean;
}

interface Member {
  box: Rect;
  /** score × model weight */
  weighted: number;
  weight: number;
  model: number;
}

interface Cluster {
  members: Member[];
  fused: Rect;
  score: number;
  weight: number;
}

/**
 * Weighted Boxes Fusion (Solovyev, Wang & Gabruseva 2021), following the reference `ensemble_boxes`
 * implementation: per label, boxes sorted by weighted score join the best-overlapping fused box
 * (IoU > iouThr) or start a new cluster; fused coordinates are the score-weighted mean; fused
 * confidence is rescaled by how many models agree (`confType`). `boxesPerModel[m]` = model m's boxes
 * for one image. Output sorted by score, highest first.
 */
export function weightedBoxesFusion(boxesPerModel: readonly (readonly ScoredBox[])[], options: WbfOptions = {}): ScoredBox[] {
  const { iouThr = 0.55, skipBoxThr = 0, confType = 'avg', allowsOverflow = false } = options;
  const weights = options.weights ?? boxesPerModel.map(() => 1);
  if (weights.length !== boxesPerModel.length) throw new Error(`WBF: ${weights.length} weights for ${boxesPerModel.length} models`);
  const weightSum = weights.reduce((a, b) => a + b, 0);
  const weightMax = Math.max(...weights);

  const byLabel = new Map<string, Member[]>();
  boxesPerModel.forEach((boxes, model) => {
    for (const b of boxes) {
      if (b.score < skipBoxThr) continue;
      const box = { x_min: Math.min(b.x_min, b.x_max), y_min: Math.min(b.y_min, b.y_max), x_max: Math.max(b.x_min, b.x_max), y_max: Math.max(b.y_min, b.y_max) };
      if (box.x_max === box.x_min || box.y_max === box.y_min) continue; // zero area, as ensemble_boxes skips
      const list = byLabel.get(b.label) ?? byLabel.set(b.label, []).get(b.label)!;
      list.push({ box, weighted: b.score * weights[model], weight: weights[model], model });
    }
  });

  const out: ScoredBox[] = [];
  for (const [label, members] of byLabel) {
    members.sort((a, b) => b.weighted - a.weighted);
    const clusters: Cluster[] = [];
    for (const m of members) {
      let best = -1;
      let bestIou = iouThr;
      clusters.forEach((c, i) => {
        const v = iou(c.fused, m.box);
        if (v > bestIou) {
          bestIou = v;
          best = i;
        }
      });
      if (best < 0) clusters.push({ members: [m], fused: m.box, score: m.weighted, weight: m.weight });
      else {
        clusters[best].members.push(m);
        Object.assign(clusters[best], fuse(clusters[best].members, confType));
      }
    }
    for (const c of clusters) out.push({ label, ...c.fused, score: rescale(c, confType, weights, weightSum, weightMax, allowsOverflow) });
  }
  return out.sort((a, b) => b.score - a.score);
}

function fuse(members: readonly Member[], confType: WbfConfType): Pick<Cluster, 'fused' | 'score' | 'weight'> {
  let conf = 0;
  let max = 0;
  let weight = 0;
  const sum = { x_min: 0, y_min: 0, x_max: 0, y_max: 0 };
  for (const m of members) {
    for (const k of ['x_min', 'y_min', 'x_max', 'y_max'] as const) sum[k] += m.weighted * m.box[k];
    conf += m.weighted;
    max = Math.max(max, m.weighted);
    weight += m.weight;
  }
  const fused = { x_min: sum.x_min / conf, y_min: sum.y_min / conf, x_max: sum.x_max / conf, y_max: sum.y_max / conf };
  return { fused, score: confType === 'max' ? max : conf / members.length, weight };
}

function rescale(c: Cluster, confType: WbfConfType, weights: readonly number[], weightSum: number, weightMax: number, allowsOverflow: boolean): number {
  const n = c.members.length;
  const models = new Set(c.members.map((m) => m.model));
  switch (confType) {
    case 'box_and_model_avg': {
      const perBox = (c.score * n) / c.weight;
      const modelWeights = [...models].reduce((s, m) => s + weights[m], 0);
      return (perBox * modelWeights) / weightSum;
    }
    case 'absent_model_aware_avg': {
      const absent = weights.reduce((s, w, m) => s + (models.has(m) ? 0 : w), 0);
      return (c.score * n) / (c.weight + absent);
    }
    case 'max':
      return c.score / weightMax;
    default:
      return allowsOverflow ? (c.score * n) / weightSum : (c.score * Math.min(weights.length, n)) / weightSum;
  }
}
