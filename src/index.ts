/** The public API for users' stage modules and programs. */
export { defineStage, StageInputError } from './engine/stage.ts';
export type { StageType, StageContext, StageInput, ItemOptions, ItemOutcome, ExternalPath, Logger } from './engine/stage.ts';
export type { Artifact, ArtifactDraft, ArtifactKind } from './engine/artifact.ts';
export type { DatasetRow, Box } from './data-model.ts';
export type { Store } from './store/store.ts';
export type { PipelineEvent, EventSink } from './engine/events.ts';
import type { RunOptions, RunResult } from './engine/runner-api.ts';

/** Loads the experiment and runs it (`pipeline run` as a function). The engine loads on the first call, so stage modules importing this package stay light. */
export async function runPipeline(options: RunOptions): Promise<RunResult> {
  return (await import('./engine/runner.ts')).runPipeline(options);
}
export type { RunOptions, RunResult } from './engine/runner-api.ts';
