import type { Box } from '../../data-model.ts';
import { weightedBoxesFusion } from './wbf.ts';

export interface FuseReadersOptions {
  /** WBF IoU threshold (boxes of one label overlapping by more join one cluster). */
  iouThr: number;
  /** A fused box is kept when at least this many readers drew it. */
  minReaders: number;
}

/**
 * One image's boxes from several readers (`reader`; boxes without one count as one reader) fused into one
 * set of training labels with Weighted Boxes Fusion, every reader as one model of weight 1 (the VinBigData
 * winners' label cleaning). Each fused box carries `readers`: how many boxes went into it (capped at the
 * number of readers; one reader's two overlapping boxes count twice).
 */
export function fuseReaderBoxes(boxes: readonly Box[], options: FuseReadersOptions): Array<Box & { readers: number }> {
  if (boxes.length === 0) return [];
  const byReader = new Map<string, Box[]>();
  for (const b of boxes) (byReader.get(b.reader ?? '') ?? byReader.set(b.reader ?? '', []).get(b.reader ?? '')!).push(b);
  const readers = [...byReader.values()];
  const fused = weightedBoxesFusion(readers.map((list) => list.map((b) => ({ ...b, score: 1 }))), { iouThr: options.iouThr, confType: 'avg' });
  return fused
    // avg confidence with every score 1 and weight 1 is min(members, readers) / readers
    .map(({ score, ...b }) => ({ ...b, readers: Math.round(score * readers.length) }))
    .filter((b) => b.readers >= options.minReaders);
}
