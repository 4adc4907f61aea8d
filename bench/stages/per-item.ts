import { z } from 'zod';
import { defineStage } from '../../src/engine/stage.ts';

/** Bench stage: trivial per-item work through the item cache. */
export default defineStage({
  name: 'bench-per-item',
  version: 1,
  description: 'per-item transform',
  params: z.object({}).strict(),
  async run(ctx, inputs) {
    const rows = await ctx.readRows<{ id: string; x: number }>(inputs[0].artifact);
    const out = await ctx.eachItem(rows, { key: (r) => r, id: (r) => r.id }, async (r) => ({ id: r.id, y: r.x + 1 }));
    return { kind: 'dataset', rows: out.map((o) => (o.ok ? o.value : null)) as object[] };
  },
});
