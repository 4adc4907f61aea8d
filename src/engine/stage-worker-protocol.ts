import type { ArtifactDraft } from './artifact.ts';
import type { ItemCounts, PipelineEvent } from './events.ts';
import type { StageInput } from './stage.ts';

/** What a worker thread needs to run one stage instance (all structured-cloneable). */
export interface StageWorkerData {
  store: string;
  /** URL of the module whose `stageRegistry` export resolves `uses` (the engine imports no stages itself). */
  registry: string;
  uses: string;
  codeHash?: string;
  stageVersion: number | string;
  params: unknown;
  inputs: StageInput[];
  instance: { id: string; stage: string; uses: string; vars: Record<string, unknown> };
  baseDir: string;
  runId: string;
  concurrency: number;
  forced: boolean;
}

export type ToWorker = { type: 'abort'; reason: string };

export type FromWorker =
  | { type: 'event'; event: PipelineEvent }
  | { type: 'done'; draft: ArtifactDraft; itemKeys: string[]; items?: ItemCounts }
  | { type: 'error'; error: { name: string; message: string; hint?: string; stack?: string } };
