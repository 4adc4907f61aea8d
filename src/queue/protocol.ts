import { readFileSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { z } from 'zod';
import type { ItemCounts, PipelineEvent } from '../engine/events.ts';
import type { ChunkSpec, StageTask } from '../engine/task.ts';

/** Bumped when the job format changes; workers refuse other protocol versions. */
export const PROTOCOL = 1;
/** BullMQ key prefix: every key this tool writes in Redis starts with `pipeline:`. */
export const PREFIX = 'pipeline';
export const DEFAULT_RESOURCE = 'cpu';
export const WORKERS_KEY = `${PREFIX}:workers`;

export const PACKAGE_VERSION: string = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version;

/** One BullMQ queue per resource class: `stages-cpu`, `stages-gpu`, `stages-highmem`. */
export function queueName(resource: string): string {
  return `stages-${resource}`;
}

/** Job id from the cache key (+ chunk): enqueueing the same work twice is a no-op. Forced work gets the run id too. */
export function jobId(task: Pick<StageTask, 'key' | 'forced' | 'runId'>, chunk?: ChunkSpec): string {
  return `${task.key}${task.forced ? `-f-${task.runId}` : ''}${chunk ? `-c${chunk.index}-${chunk.count}` : ''}`;
}

const taskSchema = z.object({
  key: z.string().regex(/^[0-9a-f]{64}$/),
  runId: z.string(),
  instance: z.object({ id: z.string(), stage: z.string(), uses: z.string(), vars: z.record(z.string(), z.unknown()) }),
  uses: z.string(),
  stageVersion: z.union([z.number(), z.string()]),
  codeHash: z.string().optional(),
  params: z.unknown(),
  inputs: z.array(z.object({ name: z.string(), stage: z.string(), instance: z.string(), vars: z.record(z.string(), z.unknown()), artifact: z.string().regex(/^[0-9a-f]{64}$/) })),
  external: z.record(z.string(), z.string()),
  baseDir: z.string(),
  forced: z.boolean(),
  chunk: z.object({ index: z.number().int().min(0), count: z.number().int().min(1) }).optional(),
  itemsHint: z.number().optional(),
  resource: z.string().optional(),
  prefers: z.string().optional(),
  perItem: z.boolean().optional(),
  itemsDone: z.boolean().optional(),
});

/**
 * A job's data: the task (ids, params, digests; never rows, pixels or code) and what a worker checks
 * before it accepts it. `baseDir` is relative to the coordinator's project root when inside it, so a
 * worker resolves it in its own checkout.
 */
export const jobDataSchema = z.object({
  protocol: z.number(),
  package: z.string(),
  task: taskSchema,
});
export type JobData = { protocol: number; package: string; task: StageTask };

/** What a worker returns for a job. */
export interface JobResult {
  artifact?: string;
  items?: ItemCounts;
  cached?: boolean;
  worker: string;
}

/** Messages a worker sends through BullMQ job progress. */
export type JobMessage =
  | { started: { worker: string; chunk?: ChunkSpec } }
  | { events: PipelineEvent[] }
  | { refused: { worker: string; reason: string } };

/** A failed job's reason: the stage's error, structured so the coordinator shows it as a local run would. */
export interface JobError {
  name: string;
  message: string;
  hint?: string;
}

export function encodeJobError(err: JobError): string {
  return JSON.stringify(err);
}

export function decodeJobError(reason: string | undefined): JobError {
  try {
    const e = JSON.parse(reason ?? '');
    if (e && typeof e.message === 'string') return e;
  } catch {
    // Not ours (e.g. "job stalled more than allowable limit"): shown as is.
  }
  return { name: 'Error', message: reason || 'the job failed without a reason' };
}

/** `dir` as sent: relative to `root` when inside it (a worker maps it to its own checkout), else absolute. */
export function portablePath(dir: string, root: string): string {
  const rel = relative(root, dir);
  return rel === '' ? '.' : rel.startsWith('..') || isAbsolute(rel) ? dir : rel.split(sep).join('/');
}

export function localPath(dir: string, root: string): string {
  return isAbsolute(dir) ? dir : resolve(root, dir);
}
