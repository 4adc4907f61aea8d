import type { Store } from '../store/store.ts';
import { Collections } from '../store/store.ts';
import { fingerprint } from '../util/hash.ts';
import type { DatasetRow } from '../data-model.ts';

/** What a stage produces: `dataset` tables, `model` files, `predictions`, `report`s, or plain `files`. */
export type ArtifactKind = 'dataset' | 'model' | 'predictions' | 'report' | 'files';

/** The immutable, committed output of one stage instance. `digest` addresses it. */
export interface Artifact {
  digest: string;
  kind: ArtifactKind;
  /** Blob digest of the rows as JSON Lines (datasets, predictions). */
  rows?: string;
  rowCount?: number;
  /** Relative file name -> blob digest (e.g. `model.json`, `weights.bin`, `report.html`, `plots/roc.svg`). */
  files: Record<string, string>;
  /**
   * Small JSON summary. Conventions: `meta.metrics` (name -> number) are final metrics trackers log;
   * `meta.classes` lists class names of a dataset/model/predictions.
   */
  meta: Record<string, unknown>;
}

/** What a stage returns; the engine writes the blobs and commits the artifact. */
export interface ArtifactDraft {
  kind: ArtifactKind;
  rows?: readonly object[];
  /** File contents, or `{ blob: digest }` for a blob already in the store. */
  files?: Record<string, Uint8Array | string | { blob: string }>;
  meta?: Record<string, unknown>;
}

/** Writes a draft's blobs, then its manifest document; returns the committed artifact. */
export async function commitArtifact(store: Store, draft: ArtifactDraft): Promise<Artifact> {
  const files: Record<string, string> = {};
  for (const [name, content] of Object.entries(draft.files ?? {})) {
    if (typeof content === 'object' && 'blob' in content && !(content instanceof Uint8Array)) {
      if (!(await store.hasBlob(content.blob))) throw new Error(`artifact file ${name} refers to missing blob ${content.blob}`);
      files[name] = content.blob;
    } else {
      files[name] = await store.putBlob(content as Uint8Array | string);
    }
  }
  let rows: string | undefined;
  if (draft.rows) rows = await store.putBlob(toJsonLines(draft.rows));
  const body = {
    kind: draft.kind,
    ...(rows ? { rows, rowCount: draft.rows!.length } : {}),
    files,
    meta: draft.meta ?? {},
  };
  const artifact: Artifact = { digest: fingerprint(body), ...body };
  await store.putDoc(Collections.artifacts, artifact.digest, artifact);
  return artifact;
}

/** The blobs an artifact's manifest names (rows, files) that the store does not have. */
export async function missingBlobs(store: Store, artifact: Artifact): Promise<string[]> {
  const digests = [artifact.rows, ...Object.values(artifact.files)].filter((d): d is string => !!d);
  if (store.missingBlobs) return store.missingBlobs(digests);
  const missing: string[] = [];
  for (const digest of digests) if (!(await store.hasBlob(digest))) missing.push(digest);
  return missing;
}

export async function loadArtifact(store: Store, digest: string): Promise<Artifact | undefined> {
  return store.getDoc<Artifact>(Collections.artifacts, digest);
}

export function toJsonLines(rows: readonly object[]): string {
  let out = '';
  for (const row of rows) out += JSON.stringify(row) + '\n';
  return out;
}

/** The rows of a dataset or predictions artifact. */
export async function readRows<T = DatasetRow>(store: Store, artifact: Artifact): Promise<T[]> {
  if (!artifact.rows) throw new Error(`artifact ${artifact.digest.slice(0, 12)} (${artifact.kind}) has no rows`);
  const text = (await store.getBlob(artifact.rows)).toString('utf8');
  const rows: T[] = [];
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    if (end > start) rows.push(JSON.parse(text.slice(start, end)) as T);
    start = end + 1;
  }
  return rows;
}

/** The bytes of one named file of an artifact. */
export async function readArtifactFile(store: Store, artifact: Artifact, name: string): Promise<Buffer> {
  const digest = artifact.files[name];
  if (!digest) {
    const have = Object.keys(artifact.files).join(', ') || 'none';
    throw new Error(`artifact ${artifact.digest.slice(0, 12)} has no file "${name}" (files: ${have})`);
  }
  return store.getBlob(digest);
}
