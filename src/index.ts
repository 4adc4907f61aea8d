/** The public API for users' stage modules and programs. */
export { defineStage, StageInputError } from './engine/stage.ts';
export type { StageType, StageContext, StageInput, ItemOptions, ItemOutcome, ExternalPath, Logger } from './engine/stage.ts';
export type { Artifact, ArtifactDraft, ArtifactKind } from './engine/artifact.ts';
export type { DatasetRow, Box } from './data-model.ts';
export type { Store } from './store/store.ts';
export type { PipelineEvent, EventSink } from './engine/events.ts';
export { runPipeline } from './engine/runner.ts';
export type { RunOptions, RunResult } from './engine/runner-api.ts';
