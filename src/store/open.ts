import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Store } from './store.ts';
import { FsStore } from './fs-store.ts';

export interface OpenStoreOptions {
  /** Read only (`plan`, `export`, `runs`): nothing is created or written; a missing store reads as empty. */
  readOnly?: boolean;
  /** Where to look for the project (default: the current folder). */
  cwd?: string;
}

/**
 * Opens the store named by `--store` / `PIPELINE_STORE`: a folder or a `mongodb://` / `mongodb+srv://`
 * URL (GridFS backend). The default is `.pipeline` in the project's folder (see projectRoot), so that
 * commands run from a sub-folder use the same store.
 */
export async function openStore(location?: string, options: OpenStoreOptions = {}): Promise<Store> {
  const where = location ?? process.env.PIPELINE_STORE ?? defaultStoreDir(options.cwd);
  if (/^mongodb(\+srv)?:\/\//.test(where)) {
    // Loaded on demand so the mongodb driver is only imported by users of the GridFS backend.
    const { GridFsStore } = await import('./gridfs-store.ts');
    return GridFsStore.open(where, { readOnly: options.readOnly });
  }
  return FsStore.open(resolve(options.cwd ?? process.cwd(), where), { readOnly: options.readOnly });
}

/** `<project>/.pipeline`. */
export function defaultStoreDir(cwd = process.cwd()): string {
  return join(projectRoot(cwd), '.pipeline');
}

const PROJECT_MARKERS = ['.pipeline', '.git', 'package.json'];

/**
 * The project a folder belongs to, found as git and DVC find theirs: the nearest folder, from `cwd`
 * upwards, holding a store (`.pipeline`), a `.git` or a `package.json`; `cwd` itself when none does.
 */
export function projectRoot(cwd = process.cwd()): string {
  const start = resolve(cwd);
  for (let dir = start; ; dir = dirname(dir)) {
    if (PROJECT_MARKERS.some((m) => existsSync(join(dir, m)))) return dir;
    if (dirname(dir) === dir) return start;
  }
}
