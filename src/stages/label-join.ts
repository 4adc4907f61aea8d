import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Box } from '../data-model.ts';
import type { Artifact } from '../engine/artifact.ts';
import { StageInputError, type StageContext } from '../engine/stage.ts';
import { readCoco } from '../ops/labels/coco.ts';
import { LabelError, LabelIssues, type BoxIssue } from '../ops/labels/issues.ts';
import { findLabels, folderLabel, loadLabelTable, tableFromEntries, type LabelTable } from '../ops/labels/load.ts';
import type { ReadContext } from '../ops/labels/read-context.ts';
import { resolveBoxes } from '../ops/labels/resolve.ts';
import type { ImageLabels } from '../ops/labels/types.ts';
import { readVocFile, type AnnotationFile } from '../ops/labels/voc.ts';
import { parseClassNames, readYoloFile } from '../ops/labels/yolo.ts';
import { listFiles } from '../util/glob.ts';
import { LABEL_FOLDER_GLOB, labelSources, splitListOf, type LabelJoinParams, type LabelSourceParam } from './labels-params.ts';

/** Labels joined onto one image: image-level labels, checked boxes, patient and split when the source has them. */
export interface JoinedLabels {
  /** A labels source (a table entry or a class folder) names the image; false when only a split list does. */
  labelled: boolean;
  labels: string[];
  boxes: Box[];
  patient?: string;
  split?: 'train' | 'val' | 'test';
}

const YOLO_NAME_FILES = ['classes.txt', 'obj.names'];

/**
 * Reads every labels source (or the `labels.csv` of a `from:` input), then joins labels onto images:
 * boxes checked against each image's size under the `bad_boxes` policy, several sources merged
 * (boxes side by side, tagged by `reader`), split lists applied. Every problem is reported with its
 * file and line and counted; a `fail` policy turns it into a located error.
 */
export class LabelJoiner {
  readonly issues: LabelIssues;
  private readonly joined = new Set<ImageLabels>();
  private readonly listedAndFound = new Set<string>();
  private kept = 0;

  private constructor(
    private readonly tables: LabelTable[],
    readonly folders: boolean,
    private readonly splits: Map<string, SplitListEntry>,
    issues: LabelIssues,
    readonly declaredClasses: string[] | undefined,
  ) {
    this.issues = issues;
  }

  static async open(ctx: StageContext, params: LabelJoinParams, input: Artifact | undefined): Promise<LabelJoiner> {
    const issues = new LabelIssues(params.bad_boxes);
    const read: ReadContext = { issues, ...(params.classes ? { classes: new Set(params.classes) } : {}) };
    const sources = labelSources(params.labels);
    const folders = sources.some((s) => s.format === 'folders');
    const tables: LabelTable[] = [];
    try {
      for (const source of sources.filter((s) => s.format !== 'folders')) {
        tables.push(await readSource(ctx, source, { ...read, ...(source.reader ? { reader: source.reader } : {}) }));
      }
      if (!sources.length && input?.files['labels.csv']) {
        const text = (await ctx.readFile(input, 'labels.csv')).toString('utf8');
        const format = (input.meta.format as 'vinbig' | undefined) ?? 'auto';
        tables.push(loadLabelTable(text, format, {}, 'labels.csv of the input', read));
      }
    } catch (err) {
      throw toStageError(err);
    }
    const declared = params.classes ?? unionInOrder(tables.map((t) => t.classes));
    return new LabelJoiner(tables, folders, await readSplitLists(ctx, params.split_lists), issues, declared);
  }

  /** Whether any labels were given (so images without any count as unlabelled). */
  get active(): boolean {
    return this.folders || this.tables.length > 0;
  }

  /** Whether labels come from tables (files), not only from folder names. */
  get hasTables(): boolean {
    return this.tables.length > 0;
  }

  /** Up to `n` image ids the label tables name (for messages). */
  sampleKeys(n: number): string[] {
    return this.tables.flatMap((t) => [...t.byKey.keys()].slice(0, n)).slice(0, n);
  }

  /** Every id the label tables and split lists name. */
  *keys(): Iterable<string> {
    for (const t of this.tables) yield* t.byKey.keys();
    yield* this.splits.keys();
  }

  get formats(): string[] {
    return [...(this.folders ? ['folders'] : []), ...this.tables.map((t) => t.format)];
  }

  /** Labels of one image (undefined: no source mentions it); boxes resolved against its size. */
  join(rel: string, keys: string[], image: { id: string; width?: number; height?: number }): JoinedLabels | undefined {
    const hits = this.tables.map((t) => findLabels(t, keys)).filter((h): h is ImageLabels => !!h);
    const listed = keys.find((k) => this.splits.has(k));
    if (listed !== undefined) this.listedAndFound.add(listed);
    const split = listed !== undefined ? this.splits.get(listed)!.split : undefined;
    const folder = this.folders ? folderLabel(rel) : undefined;
    if (folder?.split) this.folderSplits[folder.split]++;
    if (!hits.length && !folder && !split) return undefined;
    const out: JoinedLabels = { labelled: hits.length > 0 || !!folder, labels: folder ? [folder.label] : [], boxes: [], ...(folder?.split ? { split: folder.split } : {}) };
    try {
      for (const hit of hits) {
        this.joined.add(hit);
        const { labels, boxes } = resolveBoxes(hit, image, this.issues);
        out.labels.push(...labels);
        out.boxes.push(...boxes);
        out.patient ??= hit.patient;
        out.split ??= hit.split;
      }
    } catch (err) {
      throw toStageError(err);
    }
    if (split) out.split = split;
    out.labels = [...new Set(out.labels)].sort();
    this.kept += out.boxes.length;
    return out;
  }

  /** Images whose split came from a `train/` / `val/` / `test/` folder above their class folder. */
  readonly folderSplits = { train: 0, val: 0, test: 0 };

  /** Ids of the split lists that no image had (a missing or misnamed file), with their list and line. */
  unmatchedSplitIds(): Array<{ id: string } & SplitListEntry> {
    return [...this.splits].filter(([id]) => !this.listedAndFound.has(id)).map(([id, entry]) => ({ id, ...entry }));
  }

  /** Counts for `meta.summary.boxes` and the located issues for `meta.box_issues`. */
  report(): { boxes: Record<string, number>; issues: BoxIssue[]; unmatched: number } {
    const entries = new Set(this.tables.flatMap((t) => [...t.byKey.values()]));
    const unmatched = [...entries].filter((e) => !this.joined.has(e)).length;
    return { boxes: { kept: this.kept, clipped: this.issues.actions.clipped, dropped: this.issues.actions.dropped, ...this.issues.counts }, issues: this.issues.list, unmatched };
  }

  /** Writes the issues to the log: the first few one by one, then a count. */
  logIssues(ctx: StageContext, show = 20): void {
    const { list } = this.issues;
    for (const issue of list.slice(0, show)) ctx.log.warn(`${issue.at}: ${issue.message}${issue.image ? ` [image ${issue.image}]` : ''} -> ${issue.action}`);
    const total = this.issues.total;
    if (total > show) ctx.log.warn(`... ${total - show} more label issues (meta.box_issues lists the first ${list.length})`);
    if (total) ctx.log.info(`label issues: ${this.issues.summary()}`);
  }
}

function toStageError(err: unknown): unknown {
  if (err instanceof StageInputError) return err;
  if (err instanceof LabelError || err instanceof Error) return new StageInputError(err.message, 'check the labels (see docs/detection.md#box-label-formats); bad_boxes sets what happens to bad boxes');
  return err;
}

function unionInOrder(lists: ReadonlyArray<string[] | undefined>): string[] | undefined {
  const given = lists.filter((l): l is string[] => !!l);
  return given.length ? [...new Set(given.flat())] : undefined;
}

async function readSource(ctx: StageContext, source: LabelSourceParam, read: ReadContext): Promise<LabelTable> {
  if (!source.path) throw new StageInputError(`labels format ${source.format} needs a path`, 'labels: { path: ..., format: ... }');
  const full = ctx.resolvePath(source.path);
  let info;
  try {
    info = await stat(full);
  } catch {
    throw new StageInputError(`labels ${source.path} cannot be read (resolved to ${full})`, 'the path is relative to the experiment file');
  }
  const format = source.format === 'auto' ? await detectFormat(full, info.isDirectory()) : source.format;
  if (format === 'voc') {
    const files = await readAnnotationFiles(full, info.isDirectory(), LABEL_FOLDER_GLOB.voc);
    ctx.log.info(`labels: ${files.length} Pascal VOC files from ${source.path}`);
    return tableFromEntries('voc', files.flatMap((f) => entryOf(f, readVocFile(f, read))));
  }
  if (format === 'yolo') {
    const names = await yoloNames(ctx, source, full);
    const files = (await readAnnotationFiles(full, info.isDirectory(), LABEL_FOLDER_GLOB.yolo)).filter((f) => !YOLO_NAME_FILES.includes(f.rel.split('/').pop()!));
    ctx.log.info(`labels: ${files.length} YOLO files from ${source.path}, ${names.length} classes`);
    return tableFromEntries('yolo', files.flatMap((f) => entryOf(f, readYoloFile(f, names, read))), names);
  }
  const text = await readFile(full, 'utf8');
  if (format === 'coco') {
    const { byFileName, classes } = readCoco(text, source.path, read);
    return tableFromEntries('coco', [...byFileName].map(([path, labels]) => ({ path, labels })), classes);
  }
  if (format === 'folders') throw new Error('unreachable');
  const { path: _p, format: _f, names: _n, reader: _r, ...columns } = source;
  return loadLabelTable(text, format, columns, source.path, read);
}

function entryOf(file: AnnotationFile, labels: ImageLabels | undefined): Array<{ path: string; labels: ImageLabels }> {
  return labels ? [{ path: file.rel, labels }] : [];
}

async function detectFormat(full: string, isDirectory: boolean): Promise<'voc' | 'yolo' | 'coco' | 'auto'> {
  if (!isDirectory) return /\.json$/i.test(full) ? 'coco' : /\.xml$/i.test(full) ? 'voc' : 'auto';
  const files = await listFiles(full);
  if (files.some((f) => /\.xml$/i.test(f))) return 'voc';
  if (files.some((f) => /\.txt$/i.test(f) && !YOLO_NAME_FILES.includes(f.split('/').pop()!))) return 'yolo';
  throw new StageInputError(`labels folder ${full} has neither .xml (Pascal VOC) nor .txt (YOLO) files`, 'give format: voc or yolo, or point labels at a CSV or COCO JSON');
}

async function readAnnotationFiles(full: string, isDirectory: boolean, glob: string): Promise<AnnotationFile[]> {
  if (!isDirectory) return [{ rel: full.split('/').pop()!, text: await readFile(full, 'utf8') }];
  const rels = await listFiles(full, glob);
  const out: AnnotationFile[] = [];
  for (let i = 0; i < rels.length; i += 64) {
    const chunk = rels.slice(i, i + 64);
    out.push(...(await Promise.all(chunk.map(async (rel) => ({ rel, text: await readFile(join(full, rel), 'utf8') })))));
  }
  return out;
}

async function yoloNames(ctx: StageContext, source: LabelSourceParam, folder: string): Promise<string[]> {
  if (Array.isArray(source.names)) return source.names;
  const candidates = source.names ? [ctx.resolvePath(source.names)] : YOLO_NAME_FILES.map((n) => join(folder, n));
  for (const path of candidates) {
    let text;
    try {
      text = await readFile(path, 'utf8');
    } catch {
      continue;
    }
    const names = parseClassNames(text, path);
    if (!names.length) throw new StageInputError(`${path} lists no class names`);
    return names;
  }
  throw new StageInputError(
    source.names ? `YOLO names file ${source.names} cannot be read` : `YOLO labels ${source.path}: no class names (no classes.txt in the folder)`,
    'give names: [class0, class1, ...] or names: path/to/data.yaml (or classes.txt)',
  );
}

interface SplitListEntry {
  split: 'train' | 'val' | 'test';
  /** `path:line` of the entry. */
  at: string;
}

async function readSplitLists(ctx: StageContext, lists: LabelJoinParams['split_lists']): Promise<Map<string, SplitListEntry>> {
  const out = new Map<string, SplitListEntry>();
  for (const split of ['train', 'val', 'test'] as const) {
    const entry = lists?.[split];
    if (!entry) continue;
    const { path, optional } = splitListOf(entry);
    let text;
    try {
      text = await readFile(ctx.resolvePath(path), 'utf8');
    } catch (err) {
      if (optional && (err as NodeJS.ErrnoException).code === 'ENOENT') {
        ctx.log.info(`split_lists.${split}: ${path} is not there (optional): no ${split} rows from it`);
        continue;
      }
      throw new StageInputError(`split_lists.${split}: ${path} cannot be read`, 'the path is relative to the experiment file');
    }
    text.split(/\r?\n/).forEach((line, i) => {
      const id = line.trim().split(/\s+/)[0];
      if (!id || id.startsWith('#')) return;
      const before = out.get(id)?.split;
      if (before && before !== split) throw new StageInputError(`${path}:${i + 1}: image ${id} is listed in both ${before} and ${split}`);
      out.set(id, { split, at: `${path}:${i + 1}` });
    });
  }
  return out;
}
