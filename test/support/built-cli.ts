import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { sameSources, sourceStateSync, STAMP } from '../../bin/build-state.mjs';
import { readFileSync } from 'node:fs';

const REPO = resolve(import.meta.dirname, '../..');
let checked = false;

/**
 * Tests run the CLI as users do (bin/pipeline.js), which runs the compiled build when it matches the
 * sources. `npm test` builds it first (pretest); a test file run on its own after an edit of src/
 * rebuilds it here, once, so that it exercises the same compiled entry point.
 */
export function ensureBuiltCli(): void {
  if (checked) return;
  checked = true;
  let fresh = false;
  try {
    const built = JSON.parse(readFileSync(join(REPO, 'dist', STAMP), 'utf8'));
    const now = sourceStateSync(join(REPO, 'src'));
    fresh = sameSources(now, built);
  } catch {
    fresh = false;
  }
  if (!fresh) execFileSync(process.execPath, [join(REPO, 'scripts/build.mjs')], { stdio: ['ignore', 'ignore', 'inherit'] });
}
