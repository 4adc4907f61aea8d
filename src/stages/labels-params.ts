import { z } from 'zod';
import type { ExternalPath } from '../engine/stage.ts';
import { DEFAULT_BAD_BOX_POLICY, type BadBoxPolicy } from '../ops/labels/issues.ts';

export const LABEL_FORMATS = ['auto', 'vinbig', 'rsna', 'generic', 'voc', 'coco', 'yolo', 'folders'] as const;

/** One labels source: a CSV, a VOC folder, a COCO JSON, a YOLO folder, or folder-per-class. */
export const labelSourceParam = z
  .object({
    path: z.string().optional().describe('Labels CSV / COCO JSON / VOC or YOLO folder, relative to the experiment file (not needed for format: folders)'),
    format: z
      .enum(LABEL_FORMATS)
      .default('auto')
      .describe(
        'vinbig: image_id,class_name,class_id,rad_id,x_min,y_min,x_max,y_max; rsna: patientId,x,y,width,height,Target; generic: id/path column + label columns (+ box columns); voc: folder of Pascal VOC XML; coco: COCO JSON; yolo: folder of YOLO txt (+ names); folders: one folder per class; auto: from the CSV header, .json = coco, a folder of .xml = voc, of .txt = yolo',
      ),
    id_column: z.string().optional().describe('generic: column with the image id (file stem or SOPInstanceUID)'),
    path_column: z.string().optional().describe('generic: column with the image path relative to the source (or file name)'),
    label_column: z.string().optional().describe('generic: one column listing class names, split by `separator`; with box columns, the class of the row\'s box'),
    separator: z.string().default('|').describe('generic: separator of class names in label_column'),
    label_columns: z.array(z.string()).optional().describe('generic: 0/1 columns, one per class'),
    patient_column: z.string().optional().describe('generic: patient id column (pseudonymised like DICOM patient ids)'),
    split_column: z.string().optional().describe('generic: column with train/val/test'),
    box_columns: z
      .tuple([z.string(), z.string(), z.string(), z.string()])
      .optional()
      .describe('generic: the four box columns (default: x_min,y_min,x_max,y_max / xmin,ymin,xmax,ymax / x1,y1,x2,y2 (xyxy) or x,y,width,height / x,y,w,h (xywh) when the header has them)'),
    box_format: z.enum(['xyxy', 'xywh']).optional().describe('generic: corners (xyxy) or top-left corner + width and height (xywh); detected with the columns'),
    reader_column: z.string().optional().describe('generic: column naming the annotator of each box (default: reader, rad_id or annotator when present)'),
    names: z
      .union([z.string(), z.array(z.string()).min(1)])
      .optional()
      .describe('yolo: class names by index: a list, or a data.yaml (names:) / classes.txt file relative to the experiment file (default: classes.txt in the labels folder)'),
    reader: z.string().optional().describe('Tag the boxes of this source with this reader (annotator) when they carry none, so several sources stay distinguishable'),
  })
  .strict();

/** The `labels:` param shared by ingest-dicom and ingest-images: one source or several (e.g. one per annotator). */
export const labelsParam = z
  .union([
    z.string().describe('Path of a labels file or folder (format detected), relative to the experiment file'),
    labelSourceParam,
    z.array(z.union([z.string(), labelSourceParam])).min(1).describe('Several sources: their labels are merged and their boxes kept side by side (tag them with reader:)'),
  ])
  .optional()
  .describe('Labels (and boxes) to join onto the images');

export type LabelsParam = z.output<typeof labelsParam>;
export type LabelSourceParam = z.output<typeof labelSourceParam>;

/** Every labels source as an object. */
export function labelSources(labels: LabelsParam): LabelSourceParam[] {
  if (labels === undefined) return [];
  const list = Array.isArray(labels) ? labels : [labels];
  return list.map((s) => (typeof s === 'string' ? { path: s, format: 'auto' as const, separator: '|' } : s));
}

/** The parameter path of source `i` of `labels` (for external path fingerprints and messages). */
export function labelSourceParamPath(labels: LabelsParam, i: number, key: 'path' | 'names'): string {
  const base = Array.isArray(labels) ? `labels.${i}` : 'labels';
  const isString = Array.isArray(labels) ? typeof labels[i] === 'string' : typeof labels === 'string';
  return isString && key === 'path' ? base : `${base}.${key}`;
}

export const badBoxesParam = z
  .object({
    malformed: z.enum(['drop', 'fail']).default(DEFAULT_BAD_BOX_POLICY.malformed).describe('Unreadable coordinates, records or annotation files: drop (reported with file and line, counted) or fail'),
    degenerate: z.enum(['drop', 'fail']).default(DEFAULT_BAD_BOX_POLICY.degenerate).describe('Boxes with zero or negative width or height as written'),
    out_of_image: z.enum(['clip', 'drop', 'keep', 'fail']).default(DEFAULT_BAD_BOX_POLICY.out_of_image).describe('Boxes reaching outside the image: clip to it (dropped if nothing is left), drop, keep as written, or fail'),
    unknown_class: z.enum(['drop', 'fail']).default(DEFAULT_BAD_BOX_POLICY.unknown_class).describe('Boxes and labels of a class not in `classes` (or a COCO category / YOLO index that does not exist)'),
  })
  .strict()
  .default({ ...DEFAULT_BAD_BOX_POLICY })
  .describe('What happens to bad boxes; every one is reported with its file and line (or object index) and counted in meta.summary.boxes');

const splitListEntry = z.union([
  z.string(),
  z
    .object({
      path: z.string().describe('The list file, relative to the experiment file'),
      optional: z.boolean().default(false).describe('true: a list that is not there gives no rows of this split (logged) instead of an error, e.g. a held-out test list only reviewers have'),
    })
    .strict(),
]);

export const splitListsParam = z
  .object({
    train: splitListEntry.optional(),
    val: splitListEntry.optional(),
    test: splitListEntry.optional(),
  })
  .strict()
  .optional()
  .describe('Files listing the image ids of each split, one per line (Pascal VOC ImageSets/Main/train.txt style; the first word of a line counts), relative to the experiment file; a path, or { path, optional: true }');

export type SplitListEntry = z.output<typeof splitListEntry>;

/** A split list entry as { path, optional }. */
export function splitListOf(entry: SplitListEntry): { path: string; optional: boolean } {
  return typeof entry === 'string' ? { path: entry, optional: false } : entry;
}

export interface LabelJoinParams {
  labels?: LabelsParam;
  classes?: string[];
  bad_boxes: BadBoxPolicy;
  split_lists?: { train?: SplitListEntry; val?: SplitListEntry; test?: SplitListEntry };
}

/** The files a VOC or YOLO labels folder holds. */
export const LABEL_FOLDER_GLOB = { voc: '**/*.{xml,XML}', yolo: '**/*.txt' } as const;

/** The files the labels params name, hashed into the cache key. */
export function labelExternalPaths(params: LabelJoinParams): ExternalPath[] {
  const out: ExternalPath[] = [];
  labelSources(params.labels).forEach((source, i) => {
    if (source.path) {
      const glob = source.format === 'voc' || source.format === 'yolo' ? LABEL_FOLDER_GLOB[source.format] : undefined;
      out.push({ param: labelSourceParamPath(params.labels, i, 'path'), path: source.path, ...(glob ? { glob } : {}) });
    }
    if (typeof source.names === 'string') out.push({ param: labelSourceParamPath(params.labels, i, 'names'), path: source.names });
  });
  for (const [split, entry] of Object.entries(params.split_lists ?? {})) {
    if (!entry) continue;
    const { path, optional } = splitListOf(entry);
    out.push({ param: typeof entry === 'string' ? `split_lists.${split}` : `split_lists.${split}.path`, path, ...(optional ? { optional } : {}) });
  }
  return out;
}
