import type { DatasetRow } from '../data-model.ts';
import { type StageContext, type StageInput } from '../engine/stage.ts';
import { fuseReaderBoxes } from '../ops/boxes/fuse-readers.ts';
import { singleDataset } from './dataset-input.ts';
import type { ArtifactDraft } from '../engine/artifact.ts';
import type { FuseReadersParams } from './fuse-readers.ts';

/** The implementation of the fuse-readers stage, imported on its first run (src/stages/fuse-readers.ts defines it). */
export async function run(ctx: StageContext, inputs: StageInput[], params: FuseReadersParams): Promise<ArtifactDraft> {
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
}
