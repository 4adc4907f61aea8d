import type { Box } from '../../data-model.ts';
import { composite, mosaicPlacements, randomPlacement, type BoxAugmentRanges, type Placement } from '../../ops/augment/box-augment.ts';
import { toLetterbox } from '../../ops/boxes/letterbox.ts';
import { assignTargets, targetChannels, type AnchorPoints, type AssignOptions, type TargetBox } from './assign.ts';
import { LETTERBOX_FILL, type LetterboxedImage } from './letterbox-image.ts';

/** A training or validation image: its letterboxed pixels and its boxes in letterbox pixels. */
export interface DetectionSample {
  image: LetterboxedImage;
  boxes: Box[];
}

/** A row's boxes in letterbox pixels of its image. */
export function letterboxedBoxes(boxes: readonly Box[] | undefined, image: LetterboxedImage): Box[] {
  return (boxes ?? []).map((b) => toLetterbox(b, image.geometry));
}

export interface BatchOptions {
  classes: readonly string[];
  points: AnchorPoints;
  assign: AssignOptions;
  /** Random flip/scale/translate/mosaic (null: the images as they are). */
  augment: BoxAugmentRanges | null;
}

/**
 * Input pixels [n, S, S, C] and assigned targets [n, A, 6 + C] of a batch. With augmentation, each image is
 * a mosaic (with three images drawn from `pool`) with probability `mosaic`, else a random
 * flip/scale/translate of itself; boxes follow the pixels exactly (box-augment.ts).
 */
export function buildBatch(samples: readonly DetectionSample[], pool: () => DetectionSample, options: BatchOptions, random: () => number): { x: Float32Array; y: Float32Array; boxes: Box[][] } {
  const { width, height, channels } = samples[0].image.raster;
  const per = width * height * channels;
  const k = targetChannels(options.classes.length);
  const x = new Float32Array(samples.length * per);
  const y = new Float32Array(samples.length * options.points.count * k);
  const classIndex = new Map(options.classes.map((c, i) => [c, i]));
  const out: Box[][] = [];
  samples.forEach((s, i) => {
    let pixels = s.image.raster.data;
    let boxes = s.boxes;
    if (options.augment) {
      const r = options.augment;
      const placements: Placement[] =
        random() < r.mosaic
          ? mosaicPlacements([s, pool(), pool(), pool()].map((m) => ({ image: m.image.raster, boxes: m.boxes })), width, random, height)
          : [randomPlacement(s.image.raster, s.boxes, r, random)];
      const drawn = composite(width, height, channels, placements, { fill: LETTERBOX_FILL });
      pixels = drawn.image.data;
      boxes = drawn.boxes;
    }
    x.set(pixels, i * per);
    const targets: TargetBox[] = boxes.flatMap((b) => (classIndex.has(b.label) ? [{ ...b, cls: classIndex.get(b.label)! }] : []));
    assignTargets(options.points, targets, options.classes.length, options.assign, y.subarray(i * options.points.count * k, (i + 1) * options.points.count * k));
    out.push(boxes);
  });
  return { x, y, boxes: out };
}
