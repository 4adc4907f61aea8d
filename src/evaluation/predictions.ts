import type { Artifact } from '../engine/artifact.ts';
import type { Box } from '../data-model.ts';
import { StageInputError } from '../engine/stage.ts';
import type { ClassificationData, Task } from '../ops/metrics/classification.ts';

/** One row of a `predictions` artifact (see the dataset conventions in docs/evaluation.md). */
export interface PredictionRow {
  id: string;
  patient?: string;
  split?: 'train' | 'val' | 'test';
  fold?: number;
  model?: string;
  /** Truth: class names present on the image. */
  labels?: string[];
  /** Per `meta.classes`. */
  scores?: number[];
  /** Predicted boxes, with `score`. */
  boxes?: Box[];
  /** Truth boxes, when the predicting stage copied them; else evaluate joins a dataset input by id. */
  truth_boxes?: Box[];
  [column: string]: unknown;
}

export type SplitChoice = 'test' | 'val' | 'all';

/** Classification tasks score images (`scores` per class); `detection` predicts boxes (docs/detection.md). */
export type PredictionTask = Task | 'detection';

const TASKS: readonly PredictionTask[] = ['binary', 'multiclass', 'multilabel', 'detection'];

/** `meta.classes` and `meta.task` of a predictions artifact, checked. */
export function predictionsMeta(artifact: Artifact, name: string): { classes: string[]; task: PredictionTask } {
  const classes = artifact.meta.classes;
  const task = artifact.meta.task;
  if (!Array.isArray(classes) || classes.length === 0 || !classes.every((c) => typeof c === 'string')) {
    throw new StageInputError(`input "${name}" has no meta.classes (the ordered class names of its scores)`, 'evaluate reads predictions written by the tta or ensemble stage');
  }
  if (!TASKS.includes(task as PredictionTask)) throw new StageInputError(`input "${name}" has meta.task ${JSON.stringify(task)}; expected one of ${TASKS.join(', ')}`);
  return { classes: classes as string[], task: task as PredictionTask };
}

/** Rows of the chosen part: `test` = split test; `val` = every other row (out-of-fold predictions); `all`. */
export function selectSplit<T extends { split?: string }>(rows: readonly T[], split: SplitChoice): T[] {
  if (split === 'all') return [...rows];
  return rows.filter((r) => (split === 'test' ? r.split === 'test' : r.split !== 'test'));
}

export function requireUniqueIds(rows: readonly PredictionRow[], split: SplitChoice): void {
  const seen = new Set<string>();
  for (const row of rows) {
    if (seen.has(row.id)) {
      throw new StageInputError(
        `image ${row.id} has several predictions in the "${split}" part (e.g. one per fold model)`,
        'average them first: add an ensemble stage (uses: ensemble) or set average: true on tta',
      );
    }
    seen.add(row.id);
  }
}

/**
 * Truth indicator matrix and score matrix of the rows. Multi-class rows must carry exactly one of the
 * classes; for binary / multi-label, labels outside the classes (e.g. `No finding`) mean negative.
 */
export function toClassificationData(rows: readonly PredictionRow[], classes: readonly string[], task: Task): ClassificationData & { unknownLabels: string[] } {
  const index = new Map(classes.map((c, i) => [c, i]));
  const unknown = new Set<string>();
  const truth: number[][] = [];
  const scores: number[][] = [];
  for (const row of rows) {
    const s = row.scores;
    if (!Array.isArray(s) || s.length !== classes.length || !s.every((v) => typeof v === 'number' && Number.isFinite(v))) {
      throw new StageInputError(`image ${row.id}: scores ${JSON.stringify(s)} do not match the ${classes.length} classes [${classes.join(', ')}]`, 'every predictions row needs one finite score per meta.classes entry');
    }
    const labels = row.labels ?? [];
    const t: number[] = classes.map((c) => (labels.includes(c) ? 1 : 0));
    for (const l of labels) if (!index.has(l)) unknown.add(l);
    if (task === 'multiclass' && t.reduce((a, b) => a + b, 0) !== 1) {
      throw new StageInputError(`image ${row.id}: labels ${JSON.stringify(labels)} name ${t.reduce((a, b) => a + b, 0)} of the classes; a multi-class image needs exactly one`, `classes: [${classes.join(', ')}]`);
    }
    truth.push(t);
    scores.push(s);
  }
  return { task, classes, truth, scores, unknownLabels: [...unknown] };
}
