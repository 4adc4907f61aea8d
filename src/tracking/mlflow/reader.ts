import { Tags, type MetricPoint, type RunQuery, type TrackedRun, type TrackReader } from '../model.ts';
import type { MlflowClient, MlflowRun } from './client.ts';
import { tagEquals } from './filter.ts';

/** Reads runs from an MLflow server for comparisons, the dashboard and champion promotion. */
export class MlflowReader implements TrackReader {
  readonly kind = 'mlflow' as const;
  private readonly experimentNames = new Map<string, string>();

  constructor(private readonly client: MlflowClient) {}

  async listRuns(query: RunQuery = {}): Promise<TrackedRun[]> {
    let experimentIds: string[];
    if (query.experiment) {
      const exp = await this.client.getExperimentByName(query.experiment);
      if (!exp) return [];
      this.experimentNames.set(exp.experiment_id, exp.name);
      experimentIds = [exp.experiment_id];
    } else {
      const all = await this.client.searchExperiments();
      for (const e of all) this.experimentNames.set(e.experiment_id, e.name);
      experimentIds = all.filter((e) => e.lifecycle_stage !== 'deleted').map((e) => e.experiment_id);
    }
    if (experimentIds.length === 0) return [];
    const tag = query.tag ? tagEquals(query.tag.key, query.tag.value) : undefined;
    const runs = await this.client.searchRuns({ experiment_ids: experimentIds, filter: tag?.filter, order_by: ['attributes.start_time DESC'], max_results: query.limit && !query.parentsOnly ? query.limit : 5000 });
    let out = await Promise.all(runs.map((r) => this.toTracked(r)));
    if (query.tag && tag) out = out.filter((r) => tag.exact(r.tags[query.tag!.key]));
    if (query.parentsOnly) out = out.filter((r) => !r.parentId);
    return query.limit ? out.slice(0, query.limit) : out;
  }

  async getRun(id: string): Promise<TrackedRun | undefined> {
    const run = await this.client.getRun(id);
    return run && this.toTracked(run);
  }

  async children(parentId: string): Promise<TrackedRun[]> {
    const parent = await this.client.getRun(parentId);
    if (!parent) return [];
    const runs = await this.client.searchRuns({ experiment_ids: [parent.info.experiment_id], filter: tagEquals(Tags.parentRunId, parentId).filter, max_results: 5000 });
    const out = await Promise.all(runs.map((r) => this.toTracked(r)));
    return out.sort((a, b) => a.startTime - b.startTime || a.name.localeCompare(b.name));
  }

  async metricHistory(runId: string, key: string): Promise<MetricPoint[]> {
    const points = await this.client.getMetricHistory(runId, key);
    return points.sort((a, b) => a.step - b.step || a.timestamp - b.timestamp);
  }

  async listArtifacts(runId: string): Promise<string[]> {
    const run = await this.filesRun(runId);
    if (!run) return [];
    try {
      return await this.client.listArtifacts(run.info.artifact_uri);
    } catch {
      return [];
    }
  }

  async readArtifact(runId: string, path: string): Promise<Buffer | undefined> {
    const run = await this.filesRun(runId);
    return run ? this.client.downloadArtifact(run.info.artifact_uri, path) : undefined;
  }

  /** The run that holds a run's files: itself, or the earlier run it links to (a cached instance). */
  private async filesRun(runId: string): Promise<MlflowRun | undefined> {
    const run = await this.client.getRun(runId);
    const linked = run?.data.tags?.find((t) => t.key === Tags.filesRun)?.value;
    return (linked && (await this.client.getRun(linked))) || run;
  }

  async setTag(runId: string, key: string, value: string): Promise<void> {
    await this.client.setTag(runId, key, value);
  }

  private async experimentName(id: string): Promise<string> {
    if (!this.experimentNames.has(id)) for (const e of await this.client.searchExperiments()) this.experimentNames.set(e.experiment_id, e.name);
    return this.experimentNames.get(id) ?? id;
  }

  private async toTracked(run: MlflowRun): Promise<TrackedRun> {
    const tags = Object.fromEntries((run.data.tags ?? []).map((t) => [t.key, t.value]));
    const parentId = tags[Tags.parentRunId];
    return {
      id: run.info.run_id,
      name: run.info.run_name ?? tags[Tags.runName] ?? run.info.run_id,
      experiment: await this.experimentName(run.info.experiment_id),
      ...(parentId ? { parentId } : {}),
      status: run.info.status,
      startTime: Number(run.info.start_time),
      ...(run.info.end_time ? { endTime: Number(run.info.end_time) } : {}),
      params: Object.fromEntries((run.data.params ?? []).map((p) => [p.key, p.value])),
      tags,
      metrics: Object.fromEntries((run.data.metrics ?? []).map((m) => [m.key, Number(m.value)])),
    };
  }
}
