import { resolve } from 'node:path';
import type { Store } from './store.ts';
import { FsStore } from './fs-store.ts';

/**
 * Opens the store named by `--store` / `PIPELINE_STORE`: a folder (default `.pipeline` in the current
 * folder) or a `mongodb://` / `mongodb+srv://` URL (GridFS backend).
 */
export async function openStore(location?: string): Promise<Store> {
  const where = location ?? process.env.PIPELINE_STORE ?? '.pipeline';
  if (/^mongodb(\+srv)?:\/\//.test(where)) {
    // Loaded on demand so the mongodb driver is only imported by users of the GridFS backend.
    const { GridFsStore } = await import('./gridfs-store.ts');
    return GridFsStore.open(where);
  }
  return FsStore.open(resolve(where));
}
