// What the compiled build (dist/) was made from, cheaply comparable at every start: the number of
// source files and the newest modification time among them (an edit, a checkout or a new file changes it).
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const STAMP = 'build-state.json';

function scan(dir, acc) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) scan(path, acc);
    else {
      acc.files++;
      acc.newest = Math.max(acc.newest, statSync(path).mtimeMs);
    }
  }
  return acc;
}

/** `{ files, newest }` of a source tree. */
export function sourceStateSync(dir) {
  return scan(dir, { files: 0, newest: 0 });
}
