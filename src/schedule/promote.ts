import type { PromoteConfig } from '../tracking/config.ts';
import { Tags, type TrackedRun, type TrackReader } from '../tracking/model.ts';
import type { ModelRegistry } from '../tracking/registry/model.ts';
import { registerRunModels } from '../tracking/registry/register-run.ts';
import type { Store } from '../store/store.ts';
import { errorText } from '../util/error-text.ts';

/**
 * A run's value of the promotion metric: the exact key (`evaluate/auc_macro`), else the one metric
 * named `<instance>/<metric>`. Several candidates is an error that lists them (name one exactly).
 */
export function resolveMetric(metrics: Record<string, number>, name: string): { key: string; value: number } | { error: string } {
  if (metrics[name] !== undefined) return { key: name, value: metrics[name] };
  const candidates = Object.keys(metrics).filter((k) => k.endsWith(`/${name}`));
  if (candidates.length === 1) return { key: candidates[0], value: metrics[candidates[0]] };
  if (candidates.length > 1) return { error: `promote.metric "${name}" is ambiguous: ${candidates.join(', ')}; write one of them in the experiment's tracking.promote.metric` };
  const known = Object.keys(metrics).slice(0, 12).join(', ') || 'none';
  return { error: `the run has no metric "${name}" (metrics: ${known})` };
}

export function beats(value: number, champion: number, promote: Pick<PromoteConfig, 'mode' | 'min_delta'>): boolean {
  return promote.mode === 'max' ? value > champion + promote.min_delta : value < champion - promote.min_delta;
}

export interface PromotionResult {
  promoted: boolean;
  /** The tracked run (MLflow run id or local run id). */
  trackedRunId?: string;
  metric?: { key: string; value: number };
  previous?: { runId: string; value?: number };
  reason: string;
  /** The registry version the new champion became (tracking.promote.register). */
  registered?: { model: string; version: string; alias: string; registry: 'local' | 'mlflow' };
  /** Why registering failed (the run is champion all the same). */
  registerError?: string;
}

/** Finds the parent tracked run of pipeline run `runId`. */
export async function findTrackedRun(reader: TrackReader, runId: string, experiment?: string): Promise<TrackedRun | undefined> {
  const direct = await reader.getRun(runId).catch(() => undefined);
  if (direct && !direct.parentId) return direct;
  const tagged = await reader.listRuns({ tag: { key: Tags.pipelineRunId, value: runId }, parentsOnly: true, ...(experiment ? { experiment } : {}) });
  return tagged[0];
}

/**
 * Marks the run champion (tag `pipeline.champion=true`, `false` on the previous champion) only if its
 * metric beats the current champion's by more than `min_delta`.
 */
export async function promoteIfBetter(opts: { reader: TrackReader; experiment: string; runId: string; promote: Pick<PromoteConfig, 'metric' | 'mode' | 'min_delta'> }): Promise<PromotionResult> {
  const { reader, promote } = opts;
  const run = await findTrackedRun(reader, opts.runId, opts.experiment);
  if (!run) return { promoted: false, reason: `run ${opts.runId} is not in the ${reader.kind} tracker (is tracking enabled?)` };
  const metric = resolveMetric(run.metrics, promote.metric);
  if ('error' in metric) return { promoted: false, trackedRunId: run.id, reason: metric.error };
  const champions = (await reader.listRuns({ experiment: opts.experiment, tag: { key: Tags.champion, value: 'true' }, parentsOnly: true })).filter((r) => r.id !== run.id);
  const current = champions[0];
  const currentMetric = current ? resolveMetric(current.metrics, metric.key) : undefined;
  const currentValue = currentMetric && 'value' in currentMetric ? currentMetric.value : undefined;
  const previous = current ? { runId: current.tags[Tags.pipelineRunId] ?? current.id, ...(currentValue !== undefined ? { value: currentValue } : {}) } : undefined;
  if (current && currentValue !== undefined && !beats(metric.value, currentValue, promote)) {
    return { promoted: false, trackedRunId: run.id, metric, previous, reason: `${metric.key} ${metric.value} does not beat the champion's ${currentValue} (${promote.mode}${promote.min_delta ? `, min_delta ${promote.min_delta}` : ''})` };
  }
  await reader.setTag(run.id, Tags.champion, 'true');
  for (const old of champions) await reader.setTag(old.id, Tags.champion, 'false');
  const why = current ? (currentValue === undefined ? `the champion had no ${metric.key}` : `${metric.key} ${metric.value} beats ${currentValue}`) : 'first champion';
  return { promoted: true, trackedRunId: run.id, metric, previous, reason: why };
}

/**
 * After a promotion: registers the champion's models as a new version of `model` and moves the alias
 * to it. A registry failure is reported in the result, never thrown: the run stays champion.
 */
export async function registerChampion(result: PromotionResult, opts: { registry: ModelRegistry; store: Store; runId: string; model: string; alias: string }): Promise<PromotionResult> {
  if (!result.promoted || !result.trackedRunId) return result;
  try {
    const tags: Record<string, string> = result.metric ? { [`metric.${result.metric.key}`]: String(result.metric.value) } : {};
    const { version } = await registerRunModels({ registry: opts.registry, store: opts.store, runId: opts.runId, trackedRunId: result.trackedRunId, name: opts.model, alias: opts.alias, tags: Object.fromEntries(Object.entries(tags).map(([k, v]) => [k.replace(/[^\w.\-/ ]/g, '_'), v])) });
    return { ...result, registered: { model: opts.model, version: version.version, alias: opts.alias, registry: opts.registry.kind } };
  } catch (err) {
    return { ...result, registerError: errorText(err) };
  }
}
