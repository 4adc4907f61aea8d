import { z } from 'zod';
import { defineStage, lazyRun } from '../engine/stage.ts';

export const FuseReadersParams = z
  .object({
    method: z.enum(['wbf', 'keep']).default('wbf').describe('wbf: the readers\' boxes of an image fused into one set (Weighted Boxes Fusion); keep: every reader\'s boxes as they are'),
    iou_thr: z.number().min(0).max(1).default(0.4).describe('WBF IoU threshold: boxes of one label overlapping by more are one finding'),
    min_readers: z.number().int().min(1).default(1).describe('Keep a fused box only when at least this many readers drew it'),
  })
  .strict();

export type FuseReadersParams = z.output<typeof FuseReadersParams>;

export const fuseReaders = defineStage({
  name: 'fuse-readers',
  version: 1,
  description: 'Training labels from several readers\' boxes: fused per image with WBF (the VinBigData winners\' label cleaning) or kept',
  params: FuseReadersParams,
  inputs: { min: 1, max: 1 },
  run: lazyRun(() => import('./fuse-readers.run.ts')),
});
