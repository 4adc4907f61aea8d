/**
 * The tracking model shared by the local and the MLflow tracker: one parent run per pipeline run,
 * one child run per stage instance. Writers receive JSON-serialisable operations (so that they can
 * be buffered on disk and replayed); readers answer comparisons and the dashboard.
 */

export interface MetricPoint {
  key: string;
  value: number;
  /** Milliseconds since the epoch. */
  timestamp: number;
  step: number;
}

export interface KeyValue {
  key: string;
  value: string;
}

export type TrackedStatus = 'RUNNING' | 'FINISHED' | 'FAILED' | 'KILLED';

/**
 * One write operation. `ref` is the writer-side name of a run (`<pipelineRunId>` for the parent,
 * `<pipelineRunId>/<instance>` for a child); backends map it to their own run ids.
 */
export type TrackOp =
  | { op: 'create-run'; ref: string; parentRef?: string; name: string; startTime: number; tags: KeyValue[] }
  | { op: 'log-batch'; ref: string; metrics: MetricPoint[]; params: KeyValue[]; tags: KeyValue[] }
  /** `blob` is a store blob digest (artifact files already live in the store). */
  | { op: 'upload'; ref: string; path: string; blob: string }
  /**
   * The files of one artifact (`digest`). A backend that already holds them for another run (a cached
   * instance of an earlier pipeline run) links to that run instead of uploading them again.
   */
  | { op: 'upload-files'; ref: string; digest: string; files: Array<{ path: string; blob: string }> }
  | { op: 'end-run'; ref: string; status: TrackedStatus; endTime: number };

export interface TrackWriter {
  /** Identifies the backend in tags and messages: `local` or the MLflow URL. */
  readonly kind: 'local' | 'mlflow';
  apply(op: TrackOp): Promise<void>;
  close(): Promise<void>;
}

/** A run as readers return it. */
export interface TrackedRun {
  id: string;
  name: string;
  experiment: string;
  parentId?: string;
  status: TrackedStatus;
  startTime: number;
  endTime?: number;
  params: Record<string, string>;
  tags: Record<string, string>;
  /** Latest value of each metric. */
  metrics: Record<string, number>;
}

export interface RunQuery {
  experiment?: string;
  /** Only pipeline runs (no stage-instance children). */
  parentsOnly?: boolean;
  /** Runs whose tag `key` equals `value`. */
  tag?: KeyValue;
  limit?: number;
}

export interface TrackReader {
  readonly kind: 'local' | 'mlflow';
  listRuns(query?: RunQuery): Promise<TrackedRun[]>;
  getRun(id: string): Promise<TrackedRun | undefined>;
  children(parentId: string): Promise<TrackedRun[]>;
  metricHistory(runId: string, key: string): Promise<MetricPoint[]>;
  /** Artifact paths of a run (e.g. `report.json`, `plots/roc.svg`). */
  listArtifacts(runId: string): Promise<string[]>;
  readArtifact(runId: string, path: string): Promise<Buffer | undefined>;
  setTag(runId: string, key: string, value: string): Promise<void>;
}

/** Tags the tracker writes; readers and the scheduler rely on them. */
export const Tags = {
  runName: 'mlflow.runName',
  parentRunId: 'mlflow.parentRunId',
  gitCommit: 'mlflow.source.git.commit',
  sourceName: 'mlflow.source.name',
  pipelineRunId: 'pipeline.run_id',
  ref: 'pipeline.ref',
  experimentFile: 'pipeline.experiment_file',
  instance: 'pipeline.instance',
  stage: 'pipeline.stage',
  uses: 'pipeline.uses',
  cacheKey: 'pipeline.cache_key',
  cached: 'pipeline.cached',
  status: 'pipeline.status',
  artifact: 'pipeline.artifact',
  tracker: 'pipeline.tracker',
  mlBackend: 'pipeline.ml_backend',
  error: 'pipeline.error',
  champion: 'pipeline.champion',
  user: 'mlflow.user',
  sourceType: 'mlflow.source.type',
  /** On the run that holds the uploaded files of artifact <digest>. */
  filesOf: 'pipeline.files_of',
  /** On a run whose files were uploaded before: the run that holds them. */
  filesRun: 'pipeline.files_run',
  /** On the parent run of a sweep (its variants are pipeline runs with this run as mlflow.parentRunId). */
  sweep: 'pipeline.sweep',
  /** On a sweep's variant (a pipeline run nested under the sweep run): its name, `v3`. */
  sweepVariant: 'pipeline.sweep.variant',
  /** On a sweep run: the pipeline run id of the best variant. */
  sweepBest: 'pipeline.sweep.best_run',
  /** Command-line overrides of a pipeline run (`--set`, or a sweep variant's values), `; `-separated. */
  overrides: 'pipeline.overrides',
} as const;
