import type { Store } from '../store/store.ts';
import { loadExperiment, type Experiment, type LoadOptions } from '../experiment/load.ts';
import { describeAxis, type SweepAxis, type SweepVariant } from '../experiment/sweep-spec.ts';
import type { Override } from '../experiment/overrides.ts';
import { openTrackingSession } from '../tracking/index.ts';
import { SweepRun, trackedParamKey } from '../tracking/sweep-run.ts';
import { Tags } from '../tracking/model.ts';
import { CpuShare } from './cpu-share.ts';
import { DiagnosticError, type Diagnostic } from './diagnostics.ts';
import type { EventSink, LogLevel, RunStatus } from './events.ts';
import { ExternalHasher } from './file-hash.ts';
import { headlineMetric, type Headline } from './headline-metric.ts';
import { LocalExecutor } from './local-executor.ts';
import { defaultConcurrency, gitCommit, runLoaded } from './runner.ts';
import { newRunId } from './run-record.ts';
import type { RunOptions, RunResult } from './runner-api.ts';
import { SharedTasks } from './shared-tasks.ts';
import { errorText } from '../util/error-text.ts';

export interface LoadedVariant {
  variant: SweepVariant;
  experiment: Experiment;
}

/**
 * Loads the experiment once per variant (base overrides, then the variant's values). Every problem of
 * every variant is reported at once, each once (a bad swept value is located at its `--sweep` flag).
 */
export async function loadVariants(file: string, base: readonly Override[], variants: readonly SweepVariant[], options: LoadOptions = {}): Promise<LoadedVariant[]> {
  const loaded: LoadedVariant[] = [];
  const diags: Diagnostic[] = [];
  for (const variant of variants) {
    try {
      const experiment = await loadExperiment(file, { ...options, overrides: [...base, ...variant.overrides] });
      // Each variant keeps its own latest outputs (plan, export, gc), apart from the experiment's.
      experiment.latestScope = `${experiment.name}~${variant.overrides.map((o) => `${o.path.join('.')}=${JSON.stringify(o.value)}`).join(',')}`;
      loaded.push({ variant, experiment });
    } catch (err) {
      if (!(err instanceof DiagnosticError)) throw err;
      diags.push(...err.diagnostics);
    }
  }
  if (diags.length) throw new DiagnosticError([...new Map(diags.map((d) => [JSON.stringify(d), d])).values()]);
  return loaded;
}

export interface SweepOptions extends Pick<RunOptions, 'concurrency' | 'only' | 'from' | 'force' | 'keepGoing' | 'signal' | 'executor' | 'readThrough'> {
  variants: LoadedVariant[];
  axes: SweepAxis[];
  mode: 'grid' | 'random';
  seed?: number;
  /** Reporters of one variant's run. */
  sinksFor(variant: SweepVariant): EventSink[];
  log(level: LogLevel, message: string): void;
  /** The metric that ranks variants (default: tracking.promote's, else auc_macro, else the first). */
  metric?: string;
}

export interface VariantOutcome {
  variant: SweepVariant;
  result?: RunResult;
  /** Set when the variant could not run at all (not a stage failure: those are in `result`). */
  error?: string;
  headline?: Headline;
}

export interface SweepResult {
  id: string;
  status: RunStatus;
  variants: VariantOutcome[];
  /** Stage tasks one variant computed and another reused while it was running. */
  shared: number;
  best?: VariantOutcome;
}

/**
 * Runs a sweep's variants side by side through one executor: the concurrency (or the queue's workers)
 * is shared by all variants, a stage task several variants need (same cache key) runs once, training
 * stages split the cores among all variants. Tracking: one parent run tagged `pipeline.sweep` with
 * every variant's pipeline run nested under it, through one tracking session. A variant that fails
 * does not stop the others.
 */
export async function runSweep(store: Store, opts: SweepOptions): Promise<SweepResult> {
  const first = opts.variants[0].experiment;
  const id = `sweep-${newRunId()}`;
  const concurrency = opts.concurrency ?? defaultConcurrency();
  const signal = opts.signal ?? new AbortController().signal;
  const isolated = opts.variants.reduce((n, v) => n + v.experiment.instances.filter((i) => i.type.isolate === 'worker').length, 0);
  const cpuShare = new CpuShare(isolated, concurrency);
  const hasher = new ExternalHasher(store);
  const inner = opts.executor ?? new LocalExecutor({ store, registry: first.registry, concurrency, cpuShare, types: new Map(first.instances.map((i) => [i.uses, i.type])) });
  const executor = new SharedTasks(inner);
  const commit = await gitCommit(first.dir);
  const session = await openTrackingSession({ config: first.tracking as any, store, experimentName: first.name, experimentFile: first.file, gitCommit: commit, log: opts.log });
  const parent = new SweepRun(session, id);
  const params: Record<string, string> = { 'sweep.mode': opts.mode, 'sweep.variants': String(opts.variants.length), ...(opts.seed !== undefined ? { 'sweep.seed': String(opts.seed) } : {}) };
  for (const axis of opts.axes) params[`sweep.${axis.key}`] = describeAxis(axis);
  parent.start({ swept: opts.axes.map((a) => trackedParamKey(a.path)), params, experimentFile: first.file, gitCommit: commit, time: Date.now() });
  const promote = (first.tracking as { promote?: { metric?: string; mode?: 'max' | 'min' } } | undefined)?.promote;
  const preferred = { metric: opts.metric ?? promote?.metric, mode: opts.metric ? undefined : promote?.mode };

  let outcomes: VariantOutcome[];
  try {
    outcomes = await Promise.all(
      opts.variants.map(async ({ variant, experiment }): Promise<VariantOutcome> => {
        try {
          const result = await runLoaded(experiment, store, {
            only: opts.only,
            from: opts.from,
            force: opts.force,
            concurrency,
            keepGoing: opts.keepGoing,
            signal,
            executor,
            readThrough: opts.readThrough,
            shared: { cpuShare, hasher },
            tracker: session.runTracker({ parentRef: id, tags: [{ key: Tags.sweepVariant, value: variant.name }] }),
            sweep: { id, variant: variant.name },
            sinks: opts.sinksFor(variant),
          });
          return { variant, result, headline: await headlineMetric(store, result, preferred) };
        } catch (err) {
          return { variant, error: errorText(err) };
        }
      }),
    );
  } finally {
    if (!opts.executor) await inner.close();
  }
  const statuses = outcomes.map((o) => o.result?.status ?? 'failed');
  const status: RunStatus = signal.aborted || statuses.includes('cancelled') ? 'cancelled' : statuses.includes('failed') ? 'failed' : 'succeeded';
  const best = bestVariant(outcomes);
  parent.end({
    status: status === 'succeeded' ? 'FINISHED' : status === 'failed' ? 'FAILED' : 'KILLED',
    pipelineStatus: status,
    ...(best?.headline && best.result ? { best: { metric: best.headline.name, value: best.headline.value, runId: best.result.runId } } : {}),
    time: Date.now(),
  });
  await session.close();
  return { id, status, variants: outcomes, shared: executor.shared, ...(best ? { best } : {}) };
}

/** The succeeded variant with the best headline metric (ties: the first). */
export function bestVariant(outcomes: readonly VariantOutcome[]): VariantOutcome | undefined {
  let best: VariantOutcome | undefined;
  for (const o of outcomes) {
    if (o.result?.status !== 'succeeded' || !o.headline) continue;
    if (!best) best = o;
    else if (o.headline.name === best.headline!.name && (o.headline.mode === 'min' ? o.headline.value < best.headline!.value : o.headline.value > best.headline!.value)) best = o;
  }
  return best;
}
