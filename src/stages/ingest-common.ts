import { stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { StageInputError, type StageContext, type StageInput } from '../engine/stage.ts';
import { listFiles } from '../util/glob.ts';
import { ExternalHasher } from '../engine/file-hash.ts';
import { Collections } from '../store/store.ts';
import { sha256 } from '../util/hash.ts';
import { splitSourceGlob } from '../ops/labels/source.ts';
import { pseudonymize } from '../ops/dicom/pseudonym.ts';
import type { LabelJoiner } from './label-join.ts';
import { requireSourceFiles, type SourceDescription } from './ingest-checks.ts';

export interface SourceFile {
  /** Path relative to the source folder (or the artifact file name). */
  rel: string;
  /** Absolute path on disk, or a blob digest in the store for artifact inputs. */
  path?: string;
  blob?: string;
  /** Content digest: keys the per-item cache. */
  key: string;
}

/**
 * The files to ingest, each with its content digest as `key`: from `source` (folder, file or glob) or
 * from a `files` input artifact (whose blob digests are the keys).
 */
export async function collectSourceFiles(ctx: StageContext, inputs: StageInput[], source: string | undefined, defaultGlob: string, accept: (rel: string) => boolean, kind: SourceDescription['kind']): Promise<SourceFile[]> {
  const files = await listSourceFiles(ctx, inputs, source, defaultGlob, accept, kind);
  if (!source) return files.map((f) => ({ ...f, key: f.blob! }));
  const { base, glob } = splitSourceGlob(source);
  const root = ctx.resolvePath(base);
  const hasher = new ExternalHasher(ctx.store);
  // Hashing the folder (a no-op when the engine just did it for the cache key) leaves per-file
  // hashes memoised by (path, size, mtime) in one document; files it lacks are hashed one by one.
  await hasher.hash(root, glob ?? defaultGlob);
  const memoId = sha256(`dir\0${root}\0${glob ?? defaultGlob}`);
  const entries = (await ctx.store.getDoc<{ entries?: Record<string, [number, number, string]> }>(Collections.fileHashes, memoId))?.entries ?? {};
  return Promise.all(files.map(async (f) => ({ ...f, key: entries[f.rel]?.[2] ?? (await hasher.hash(f.path!)) })));
}

async function listSourceFiles(ctx: StageContext, inputs: StageInput[], source: string | undefined, defaultGlob: string, accept: (rel: string) => boolean, kind: SourceDescription['kind']): Promise<Array<Omit<SourceFile, 'key'>>> {
  if (source) {
    const { base, glob } = splitSourceGlob(source);
    const root = ctx.resolvePath(base);
    let info;
    try {
      info = await stat(root);
    } catch {
      throw new StageInputError(`source ${source} does not exist (resolved to ${root})`, 'give a folder, a file or a glob like data/**/*.dcm, relative to the experiment file');
    }
    if (!info.isDirectory()) return [{ rel: base.split('/').pop()!, path: root }];
    const rels = await listFiles(root, glob ?? defaultGlob);
    const accepted = rels.filter(accept);
    requireSourceFiles(accepted.length, rels.length, { source, root, glob: defaultGlob, kind });
    return accepted.map((rel) => ({ rel, path: join(root, rel) }));
  }
  const artifact = inputs[0]?.artifact;
  if (!artifact) throw new StageInputError('no source: give `source:` (a folder, file or glob) or a `from:` stage producing files', 'e.g. with: { source: data/train }');
  const names = Object.keys(artifact.files);
  const accepted = names.filter(accept);
  requireSourceFiles(accepted.length, names.length, { glob: defaultGlob, kind });
  return accepted.map((rel) => ({ rel, blob: artifact.files[rel] }));
}

export function patientPseudonym(id: string | undefined, params: { pseudonymize: { salt: string; salt_env?: string }; keep_original_patient_ids: boolean }): string | undefined {
  if (params.keep_original_patient_ids) return id?.trim() || undefined;
  return pseudonymize(id, saltOf(params.pseudonymize));
}

export function saltOf(p: { salt: string; salt_env?: string }): string {
  if (p.salt_env) {
    const v = process.env[p.salt_env];
    if (!v) throw new StageInputError(`pseudonymize.salt_env names ${p.salt_env}, which is not set`, `export ${p.salt_env}=... before running`);
    return v;
  }
  return p.salt;
}

/** Unique row ids: file stems when they are unique, else paths without extension. */
export function rowIds(rels: string[]): string[] {
  const stems = rels.map((r) => basename(r, extname(r)));
  if (new Set(stems).size === stems.length) return stems;
  return rels.map((r) => r.replace(/\.[^./]*$/, ''));
}

/** Ordered classes: the declared ones (`classes:`, COCO categories, YOLO names) in their order, then every other label seen, sorted, with "No finding" last. */
export function classList(rows: Array<{ labels?: string[] }>, declared: readonly string[] = []): string[] {
  const set = new Set<string>();
  for (const r of rows) for (const l of r.labels ?? []) set.add(l);
  const list = [...new Set(declared)];
  const rest = [...set].filter((l) => !list.includes(l)).sort();
  const nf = rest.indexOf('No finding');
  if (nf >= 0) rest.push(rest.splice(nf, 1)[0]);
  return [...list, ...rest];
}

/**
 * The label part of an ingest's meta: formats, box counts (when the labels have boxes), located box
 * issues; logs the issues and label entries that matched no image.
 */
export function labelMeta(ctx: StageContext, labels: LabelJoiner, rows: ReadonlyArray<{ boxes?: unknown[] }>): { label_format?: string; summary: Record<string, unknown>; box_issues?: unknown[] } {
  labels.logIssues(ctx);
  const report = labels.report();
  if (report.unmatched) ctx.log.warn(`${report.unmatched} label entries match no ingested image (check file names / ids against the source)`);
  const absent = labels.unmatchedSplitIds();
  for (const split of ['train', 'val', 'test'] as const) {
    const ids = absent.filter((a) => a.split === split);
    if (!ids.length) continue;
    const shown = ids.slice(0, 3).map((a) => `${a.id} (${a.at})`).join(', ');
    ctx.log.warn(`split_lists.${split}: ${ids.length} listed image(s) not among the ingested images (missing, unreadable or named otherwise), left out of ${split}: ${shown}${ids.length > 3 ? ', ...' : ''}`);
  }
  const parts = Object.entries(labels.folderSplits).filter(([, n]) => n > 0);
  if (parts.length) ctx.log.info(`folders: the first folder is the split (${parts.map(([k, n]) => `${k} ${n}`).join(', ')} images; column split), the next one the class`);
  const boxed = rows.some((r) => r.boxes?.length) || report.issues.length > 0;
  return {
    ...(labels.formats.length ? { label_format: labels.formats.join('+') } : {}),
    summary: { ...(boxed ? { boxes: report.boxes } : {}), ...(report.unmatched ? { label_entries_without_image: report.unmatched } : {}), ...(absent.length ? { split_list_ids_without_image: absent.length } : {}) },
    ...(boxed ? { box_issues: report.issues } : {}),
  };
}
