import { z } from 'zod';
import { defineStage } from '../../src/engine/stage.ts';
import { listFiles } from '../../src/util/glob.ts';

/** Bench stage: one row per file of a folder (keyed by the folder's content, like an ingest). */
export default defineStage({
  name: 'bench-files-source',
  version: 1,
  description: 'lists a folder',
  params: z.object({ folder: z.string() }).strict(),
  inputs: { min: 0, max: 0 },
  externalPaths: (p) => [{ param: 'folder', path: p.folder }],
  async run(ctx, _inputs, p) {
    const files = await listFiles(ctx.resolvePath(p.folder));
    return { kind: 'dataset', rows: files.map((f, i) => ({ id: f, x: i })) };
  },
});
