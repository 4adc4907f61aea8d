import { contextTags } from './event-tracker.ts';
import { fitMetricKey, fitParam, fitTag } from './keys.ts';
import { Tags, type KeyValue, type MetricPoint } from './model.ts';
import type { TrackingSession } from './index.ts';

/**
 * The parent run of a sweep (docs/tracking.md, `pipeline.sweep`): tagged with the swept params (as
 * the variants log them), its variants are the pipeline runs nested under it. It gets the sweep's
 * definition as params and, at the end, the best variant's headline metric.
 */
export class SweepRun {
  constructor(private readonly session: TrackingSession, readonly ref: string) {}

  start(o: { swept: string[]; params: Record<string, string>; experimentFile: string; gitCommit?: string; time: number }): void {
    const tags: KeyValue[] = [
      { key: Tags.sweep, value: o.swept.join(',') },
      { key: Tags.ref, value: this.ref },
      { key: Tags.experimentFile, value: o.experimentFile },
      { key: Tags.sourceName, value: o.experimentFile },
      { key: Tags.tracker, value: this.session.kind },
      ...contextTags(),
      ...(o.gitCommit ? [{ key: Tags.gitCommit, value: o.gitCommit }] : []),
    ];
    this.session.push({ op: 'create-run', ref: this.ref, name: this.ref, startTime: o.time, tags: tags.map(fit) });
    const params = Object.entries(o.params).map(([k, v]) => fitParam(k, v));
    this.session.push({ op: 'log-batch', ref: this.ref, metrics: [], params: params.map((p) => ({ key: p.key, value: p.value })), tags: [] });
  }

  end(o: { status: 'FINISHED' | 'FAILED' | 'KILLED'; pipelineStatus: string; best?: { metric: string; value: number; runId: string }; time: number }): void {
    const metrics: MetricPoint[] = o.best ? [{ key: fitMetricKey(`best/${o.best.metric}`), value: o.best.value, timestamp: o.time, step: 0 }] : [];
    const tags = [{ key: Tags.status, value: o.pipelineStatus }, ...(o.best ? [{ key: Tags.sweepBest, value: o.best.runId }] : [])];
    this.session.push({ op: 'log-batch', ref: this.ref, metrics, params: [], tags: tags.map(fit) });
    this.session.push({ op: 'end-run', ref: this.ref, status: o.status, endTime: o.time });
  }
}

function fit(t: KeyValue): KeyValue {
  const f = fitTag(t.key, t.value);
  return { key: f.key, value: f.value };
}

/** The param key under which a variant's pipeline run logs a swept path: `stages.train.with.lr` -> `train.lr`. */
export function trackedParamKey(path: readonly (string | number)[]): string {
  if (path[0] === 'stages' && path[2] === 'with' && path.length > 3) return [path[1], ...path.slice(3)].join('.');
  return path.join('.');
}
