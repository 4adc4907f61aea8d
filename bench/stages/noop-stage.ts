import { z } from 'zod';
import { defineStage } from '../../src/engine/stage.ts';

/** Bench stage: returns one row at once (to time the per-job cost of the queue, not any work). */
export default defineStage({
  name: 'bench-noop',
  version: 1,
  description: 'one row, no work',
  params: z.object({ i: z.number() }).strict(),
  inputs: { min: 0, max: 0 },
  async run(_ctx, _inputs, p) {
    return { kind: 'dataset', rows: [{ id: `r${p.i}` }] };
  },
});
