import { iou } from './iou.ts';
import type { DetectionImage } from './map.ts';

/** The false-positive rates of the FROC summary (LUNA16 / CPM: Setio et al., Med. Image Anal. 2017). */
export const FROC_RATES = [0.125, 0.25, 0.5, 1, 2, 4, 8] as const;

/**
 * Lesion-level hits for FROC, LUNA16 style: a detection hits a truth box of its own label and image when
 * IoU > iouThr (its best such box); a truth box's score is the highest score of the detections hitting it
 * (further hits on it are neither TP nor FP); detections hitting nothing are false positives. Difficult
 * truth boxes count neither as lesions nor, when hit, as false positives. `labels` are the lesion classes
 * (e.g. every class but "No finding").
 */
export interface FrocMatches {
  /** Per truth lesion: image and best hit score (−Infinity when never hit). */
  lesionImage: Int32Array;
  lesionScore: Float64Array;
  /** Per false-positive detection: image and score. */
  fpImage: Int32Array;
  fpScore: Float64Array;
  images: number;
}

export function frocMatches(images: readonly DetectionImage[], labels: readonly string[], iouThr: number): FrocMatches {
  const lesionImage: number[] = [];
  const lesionScore: number[] = [];
  const fpImage: number[] = [];
  const fpScore: number[] = [];
  const wanted = new Set(labels);
  images.forEach((im, image) => {
    const truth = im.truth.filter((b) => wanted.has(b.label));
    const best = truth.map(() => -Infinity);
    for (const det of im.predicted) {
      if (!wanted.has(det.label)) continue;
      const score = det.score ?? 1;
      let hit = -1;
      let hitIou = iouThr;
      truth.forEach((t, j) => {
        if (t.label !== det.label) return;
        const v = iou(t, det);
        if (v > hitIou) {
          hitIou = v;
          hit = j;
        }
      });
      if (hit < 0) {
        fpImage.push(image);
        fpScore.push(score);
      } else best[hit] = Math.max(best[hit], score);
    }
    truth.forEach((t, j) => {
      if (t.difficult) return;
      lesionImage.push(image);
      lesionScore.push(best[j]);
    });
  });
  return { lesionImage: Int32Array.from(lesionImage), lesionScore: Float64Array.from(lesionScore), fpImage: Int32Array.from(fpImage), fpScore: Float64Array.from(fpScore), images: images.length };
}

export interface FrocCurve {
  /** Operating points at each distinct score threshold, from the highest: FP per image and sensitivity, starting at (0, 0). */
  fpPerImage: number[];
  sensitivity: number[];
  thresholds: number[];
  /** Sensitivity at each of `rates` FP/image (linear interpolation between operating points, the last sensitivity beyond them). */
  atRates: number[];
  /** Mean of `atRates` (the competition performance metric, CPM). NaN without lesions. */
  mean: number;
}

/**
 * The FROC curve: for every threshold t (each distinct score), sensitivity = weighted lesions with score ≥ t
 * / weighted lesions, FP per image = weighted false positives with score ≥ t / weighted images.
 * Sensitivities at `rates` are interpolated linearly along the curve as LUNA16's evaluation script does
 * (`numpy.interp`). Optional per-image weights (bootstrap multiplicities).
 */
export function frocCurve(m: FrocMatches, weights?: ArrayLike<number>, rates: readonly number[] = FROC_RATES): FrocCurve {
  const w = (image: number) => (weights ? weights[image] : 1);
  let imageCount = 0;
  for (let i = 0; i < m.images; i++) imageCount += w(i);
  let lesions = 0;
  const events: Array<{ score: number; lesion: number; fp: number }> = [];
  for (let k = 0; k < m.lesionScore.length; k++) {
    const weight = w(m.lesionImage[k]);
    lesions += weight;
    if (weight && m.lesionScore[k] > -Infinity) events.push({ score: m.lesionScore[k], lesion: weight, fp: 0 });
  }
  for (let k = 0; k < m.fpScore.length; k++) {
    const weight = w(m.fpImage[k]);
    if (weight) events.push({ score: m.fpScore[k], lesion: 0, fp: weight });
  }
  const nanCurve = { fpPerImage: [], sensitivity: [], thresholds: [], atRates: rates.map(() => NaN), mean: NaN };
  if (lesions === 0 || imageCount === 0) return nanCurve;
  events.sort((a, b) => b.score - a.score);
  const fpPerImage = [0];
  const sensitivity = [0];
  const thresholds = [Infinity];
  let tp = 0;
  let fp = 0;
  for (let k = 0; k < events.length; k++) {
    tp += events[k].lesion;
    fp += events[k].fp;
    if (k + 1 < events.length && events[k + 1].score === events[k].score) continue;
    fpPerImage.push(fp / imageCount);
    sensitivity.push(tp / lesions);
    thresholds.push(events[k].score);
  }
  const atRates = rates.map((r) => interpolate(r, fpPerImage, sensitivity));
  return { fpPerImage, sensitivity, thresholds, atRates, mean: atRates.reduce((a, b) => a + b, 0) / atRates.length };
}

/** numpy.interp(x, xp, fp) for non-decreasing xp: linear between points, clamped at both ends; for equal xp the last point. */
export function interpolate(x: number, xp: readonly number[], fp: readonly number[]): number {
  if (x <= xp[0]) return x === xp[0] ? fp[lastIndexOf(xp, xp[0])] : fp[0];
  if (x >= xp[xp.length - 1]) return fp[fp.length - 1];
  let hi = 1;
  while (xp[hi] < x) hi++;
  if (xp[hi] === x) return fp[lastIndexOf(xp, x)];
  const lo = hi - 1;
  return fp[lo] + ((fp[hi] - fp[lo]) * (x - xp[lo])) / (xp[hi] - xp[lo]);
}

function lastIndexOf(xs: readonly number[], v: number): number {
  let i = xs.indexOf(v);
  while (i + 1 < xs.length && xs[i + 1] === v) i++;
  return i;
}
