/**
 * The model registry, shaped like MLflow's (registered models with numbered versions, each version a
 * copy of a run's model files, and aliases such as `champion` pointing at one version). The MLflow
 * implementation speaks the registry REST API of MLflow 2.x; the local one mirrors it in the store.
 */
export interface ModelVersion {
  name: string;
  /** "1", "2", ... as MLflow numbers them. */
  version: string;
  /** Where the files are: `mlflow-artifacts:/.../model` on MLflow, `store:<tracked run>/model` locally. */
  source: string;
  runId?: string;
  created: number;
  tags: Record<string, string>;
  aliases: string[];
  description?: string;
  /** Path -> store blob (local registry only; MLflow keeps the files in the run's artifacts). */
  files?: Record<string, string>;
}

export interface RegisteredModel {
  name: string;
  created: number;
  updated: number;
  /** alias -> version */
  aliases: Record<string, string>;
  latestVersion?: string;
  description?: string;
}

export interface RegisterRequest {
  name: string;
  /** The tracked (parent) run the model comes from: its id in this tracker. */
  trackedRunId: string;
  /** The model's files, relative to the version's root (`model.json`, `train.fold_0/weights.bin`, ...). */
  files: Array<{ path: string; blob: string }>;
  tags: Record<string, string>;
  description?: string;
}

export interface ModelRegistry {
  readonly kind: 'local' | 'mlflow';
  registerVersion(req: RegisterRequest): Promise<ModelVersion>;
  setAlias(name: string, alias: string, version: string): Promise<void>;
  getByAlias(name: string, alias: string): Promise<ModelVersion | undefined>;
  listModels(): Promise<RegisteredModel[]>;
  getModel(name: string): Promise<RegisteredModel | undefined>;
  listVersions(name: string): Promise<ModelVersion[]>;
}

/** MLflow's `_validate_model_alias_name`: letters, digits, `_`, `-`; not `latest`, not `v<digits>`. */
export function aliasProblem(alias: string): string | undefined {
  if (!/^[\w-]+$/.test(alias)) return `alias "${alias}" may only contain letters, digits, _ and -`;
  if (alias.length > 255) return `alias "${alias.slice(0, 20)}..." is longer than 255 characters`;
  if (alias.toLowerCase() === 'latest') return '"latest" is reserved by MLflow and cannot be an alias';
  if (/^v\d+$/i.test(alias)) return `alias "${alias}" looks like a version (v<number>), which MLflow reserves`;
  return undefined;
}
