// Worker bootstrap: Node 20 does not apply the parent's `--import tsx` hooks to a worker's .ts entry,
// so register tsx here and load the TypeScript worker through it.
import { tsImport } from 'tsx/esm/api';

await tsImport('./stage-worker.ts', import.meta.url);
