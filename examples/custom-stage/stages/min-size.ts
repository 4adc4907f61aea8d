// A user's own stage: drops images smaller than a minimum size. Use it from an experiment with
//   filter: { uses: ./stages/min-size.ts, from: convert, with: { min_width: 256 } }
import { z } from 'zod';
import { defineStage } from '@medpipe/pipeline';

export default defineStage({
  name: 'min-size',
  version: 1,
  description: 'Drop images narrower or shorter than a minimum.',
  params: z.object({ min_width: z.number().int().positive(), min_height: z.number().int().positive().optional() }).strict(),
  async run(ctx, inputs, p) {
    const rows = await ctx.readRows(inputs[0].artifact);
    const kept = rows.filter((r) => (r.width ?? 0) >= p.min_width && (r.height ?? 0) >= (p.min_height ?? p.min_width));
    ctx.log.info(`kept ${kept.length} of ${rows.length} images`);
    return { kind: 'dataset', rows: kept, meta: { ...inputs[0].artifact.meta, dropped: rows.length - kept.length } };
  },
});
