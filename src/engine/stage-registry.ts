import type { StageType } from './stage.ts';

/** A stage type as resolved for `uses:`, with the content hash of a user's module. */
export interface ResolvedStage {
  type: StageType;
  /** sha256 of a user module's source; it joins the cache key, and a worker checks it matches. */
  codeHash?: string;
}

/**
 * Where the engine gets stage types: the only way it sees them. The experiment loader resolves
 * `uses:` through one; worker threads and `pipeline worker` processes rebuild it from their own
 * checkout (`moduleUrl`), so no stage code travels with the work.
 */
export interface StageRegistry {
  /** A module URL whose `stageRegistry` export is this registry (for worker threads). */
  readonly moduleUrl: string;
  /** Built-in type names, for "did you mean" hints. */
  names(): string[];
  /**
   * Resolves `uses` (a built-in name or a module path relative to `baseDir`). With `codeHash`, a
   * module whose content hash differs is refused (StageCodeMismatch).
   */
  resolve(uses: string, baseDir: string, codeHash?: string): Promise<ResolvedStage>;
}

/** This checkout's stage code differs from what the work was planned with. */
export class StageCodeMismatch extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StageCodeMismatch';
  }
}
