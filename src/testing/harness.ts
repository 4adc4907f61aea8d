import { rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsStore } from '../store/fs-store.ts';
import type { Store } from '../store/store.ts';
import { commitArtifact, readArtifactFile, readRows, type Artifact, type ArtifactDraft } from '../engine/artifact.ts';
import { createStageContext } from '../engine/context.ts';
import type { PipelineEvent } from '../engine/events.ts';
import type { StageInput, StageType } from '../engine/stage.ts';

export interface HarnessInput {
  name?: string;
  stage?: string;
  vars?: Record<string, unknown>;
  /** A committed artifact, or a draft the harness commits first. */
  artifact: Artifact | ArtifactDraft;
}

export interface RunStageOptions {
  /** Raw `with:` params; validated and defaulted by the stage's schema like the engine does. */
  params?: unknown;
  inputs?: HarnessInput[];
  /** Reuse a store across calls (e.g. to test per-item caching); default: a new temp fs store. */
  store?: Store;
  baseDir?: string;
  concurrency?: number;
  vars?: Record<string, unknown>;
  signal?: AbortSignal;
  /** Run as if forced (`--force`): cached items are recomputed. */
  forced?: boolean;
}

export interface StageRunResult {
  artifact: Artifact;
  store: Store;
  events: PipelineEvent[];
  logs: string[];
  metrics: Array<{ name: string; value: number; step?: number }>;
  rows<T = Record<string, unknown>>(): Promise<T[]>;
  file(name: string): Promise<Buffer>;
}

const tempDirs: string[] = [];

/**
 * A temporary fs store, for tests: removed when the process exits (a training test's store holds a few
 * hundred MB of checkpoints), unless PIPELINE_KEEP_TEST_TMP=1.
 */
export async function tempStore(): Promise<FsStore> {
  const dir = await mkdtemp(join(tmpdir(), 'pipeline-test-'));
  if (tempDirs.push(dir) === 1 && process.env.PIPELINE_KEEP_TEST_TMP !== '1') process.once('exit', removeTempDirs);
  return FsStore.open(join(dir, '.pipeline'), { durable: false });
}

function removeTempDirs(): void {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
}

/**
 * Runs one stage on given inputs and params against a (temporary) store, exactly as the engine would
 * run it: same params validation, same context, same artifact commit. For users' unit tests of their
 * own stages and for the built-in stages' tests.
 */
export async function runStage(type: StageType, options: RunStageOptions = {}): Promise<StageRunResult> {
  const store = options.store ?? (await tempStore());
  const parsed = type.params.safeParse(options.params ?? {});
  if (!parsed.success) throw new Error(`invalid params for ${type.name}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  const inputs: StageInput[] = [];
  for (const [i, input] of (options.inputs ?? []).entries()) {
    const artifact = 'digest' in input.artifact ? input.artifact : await commitArtifact(store, input.artifact);
    const stage = input.stage ?? input.name ?? `input${i}`;
    inputs.push({ name: input.name ?? stage, stage, instance: stage, vars: input.vars ?? {}, artifact });
  }
  const events: PipelineEvent[] = [];
  const ctx = createStageContext({
    store,
    runId: 'test',
    instance: { id: type.name, stage: type.name, uses: type.name, vars: options.vars ?? {} },
    stageVersion: type.version,
    params: parsed.data,
    baseDir: options.baseDir ?? process.cwd(),
    signal: options.signal ?? new AbortController().signal,
    concurrency: options.concurrency ?? 2,
    forced: options.forced,
    emit: (e) => events.push(e),
  });
  try {
    const artifact = await commitArtifact(store, await type.run(ctx, inputs, parsed.data));
    return {
      artifact,
      store,
      events,
      logs: events.flatMap((e) => (e.type === 'log' ? [`${e.level}: ${e.message}`] : [])),
      metrics: events.flatMap((e) => (e.type === 'metric' ? [{ name: e.name, value: e.value, step: e.step }] : [])),
      rows: <T>() => readRows<T>(store, artifact),
      file: (name) => readArtifactFile(store, artifact, name),
    };
  } finally {
    await ctx.dispose();
  }
}
