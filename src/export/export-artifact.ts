import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Store } from '../store/store.ts';
import { readRows, type Artifact } from '../engine/artifact.ts';

/** Writes an artifact as ordinary files: dataset images as PNG by item id + manifest.csv; other files as they are. */
export async function exportArtifact(store: Store, artifact: Artifact, dir: string): Promise<{ files: number }> {
  await mkdir(dir, { recursive: true });
  let files = 0;
  for (const [name, digest] of Object.entries(artifact.files)) {
    const dest = join(dir, safePath(name));
    await mkdir(dirname(dest), { recursive: true });
    await writeFile(dest, await store.getBlob(digest));
    files++;
  }
  if (artifact.rows) {
    const rows = await readRows<Record<string, unknown>>(store, artifact);
    for (const row of rows) {
      const id = safeName(String(row.id ?? files));
      if (typeof row.image === 'string' && (await store.hasBlob(row.image))) {
        await mkdir(join(dir, 'images'), { recursive: true });
        await writeFile(join(dir, 'images', `${id}.png`), await store.getBlob(row.image));
        row.image_file = `images/${id}.png`;
        files++;
      }
    }
    await writeFile(join(dir, 'manifest.csv'), toCsv(rows));
    files++;
  }
  await writeFile(join(dir, 'artifact.json'), JSON.stringify({ digest: artifact.digest, kind: artifact.kind, rowCount: artifact.rowCount, meta: artifact.meta }, null, 2));
  return { files: files + 1 };
}

/** CSV with a column per key seen; arrays of scalars joined by `|`, objects as JSON. */
export function toCsv(rows: Record<string, unknown>[]): string {
  const columns: string[] = [];
  for (const row of rows) for (const key of Object.keys(row)) if (!columns.includes(key)) columns.push(key);
  const cell = (v: unknown): string => {
    if (v === undefined || v === null) return '';
    const s = Array.isArray(v) && v.every((x) => typeof x !== 'object') ? v.join('|') : typeof v === 'object' ? JSON.stringify(v) : String(v);
    return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [columns.join(','), ...rows.map((r) => columns.map((c) => cell(r[c])).join(','))].join('\n') + '\n';
}

function safeName(s: string): string {
  return s.replace(/[^A-Za-z0-9._=-]/g, '_').replace(/^\.+/, '_') || '_';
}

function safePath(p: string): string {
  return p.split('/').filter((part) => part && part !== '..' && part !== '.').map(safeName).join('/');
}

export { safeName };

/** Where one instance of a stage is exported: DIR itself, or DIR/<key=value,...>/ for a fan-out (foreach) instance. */
export function instanceDir(dir: string, vars: Record<string, unknown>): string {
  return Object.keys(vars).length ? join(dir, safeName(Object.entries(vars).map(([k, v]) => `${k}=${v}`).join(','))) : dir;
}
