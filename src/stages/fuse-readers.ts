import { z } from 'zod';
import type { DatasetRow } from '../data-model.ts';
import { defineStage } from '../engine/stage.ts';
import { fuseReaderBoxes } from '../ops/boxes/fuse-readers.ts';
import { singleDataset } from './dataset-input.ts';

export const FuseReadersParams = z
  .object({
    method: z.enum(['wbf', 'keep']).default('wbf').describe('wbf: the readers\' boxes of an image fused into one set (Weighted Boxes Fusion); keep: every reader\'s boxes as they are'),
    iou_thr: z.number().min(0).max(1).default(0.4).describe('WBF IoU threshold: boxes of one label overlapping by more are one finding'),
    min_readers: z.number().int().min(1).default(1).describe('Keep a fused box only when at least this many readers drew it'),
  })
  .strict();

export const fuseReaders = defineStage({
  name: 'fuse-readers',
  version: 1,
  description: 'Training labels from several readers\' boxes: fused per image with WBF (the VinBigData winners\' label cleaning) or kept',
  params: FuseReadersParams,
  inputs: { min: 1, max: 1 },
  async run(ctx, inputs, params) {
    const source = singleDataset(inputs, 'fuse-readers');
    const rows = await ctx.readRows<DatasetRow>(source);
    if (params.method === 'keep') return { kind: 'dataset', rows, meta: source.meta };
    let before = 0, after = 0;
    const out = rows.map((r) => {
      if (!r.boxes?.length) return r;
      const boxes = fuseReaderBoxes(r.boxes, { iouThr: params.iou_thr, minReaders: params.min_readers });
      before += r.boxes.length;
      after += boxes.length;
      return { ...r, boxes };
    });
    ctx.log.info(`fused ${before} reader boxes into ${after} (WBF, IoU > ${params.iou_thr}, at least ${params.min_readers} reader${params.min_readers > 1 ? 's' : ''})`);
    return { kind: 'dataset', rows: out, meta: { ...source.meta, fuse_readers: { method: 'wbf', iou_thr: params.iou_thr, min_readers: params.min_readers, boxes_before: before, boxes_after: after } } };
  },
});
