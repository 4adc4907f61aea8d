import { relative } from 'node:path';
import { gridVariants, parseSweepFlag, randomVariants, type SweepAxis, type SweepVariant } from '../experiment/sweep-spec.ts';
import { inlineValue, overrideText } from '../experiment/overrides.ts';
import type { SweepResult, VariantOutcome } from '../engine/sweep-runner.ts';
import type { Headline } from '../engine/headline-metric.ts';
import { UsageError } from './args.ts';
import { collectDiagnostics, overrideFlags, shellWord } from './override-options.ts';
import { formatDuration, table } from './reporters/format.ts';
import { formatNumber, formatWithCi } from '../tracking/compare.ts';

export const sweepOptions = {
  sweep: { type: 'string', multiple: true },
  'sweep-random': { type: 'string' },
  'sweep-seed': { type: 'string' },
  'sweep-metric': { type: 'string' },
} as const;

export const SWEEP_HELP = `  --sweep PATH=V1,V2   run one variant per value (several --sweep: every combination, a grid), e.g.
                       --sweep params.lr=1e-3,3e-4 --sweep stages.train.with.model=resnet18,resnet34;
                       variants share the stages that do not depend on the swept values (computed once),
                       run side by side within --concurrency (or on the queue's workers), and are tracked
                       under one sweep run; a table of the variants and their headline metric ends the run
  --sweep-random N     random search: N variants drawn from the --sweep ranges: loguniform(a,b),
                       uniform(a,b), int(a,b) (a and b included), choice(v1,v2,...) or a list
  --sweep-seed S       seed of --sweep-random (default 0: the same variants every time)
  --sweep-metric NAME  the metric that ranks variants (default: tracking.promote.metric, else auc_macro,
                       else the first metric of the last report)`;

export interface SweepPlan {
  axes: SweepAxis[];
  variants: SweepVariant[];
  mode: 'grid' | 'random';
  seed?: number;
  /** --sweep-random N */
  requested?: number;
}

/** The variants that `--sweep` / `--sweep-random` ask for, or undefined without them. */
export function sweepPlan(values: { sweep?: string[]; 'sweep-random'?: string; 'sweep-seed'?: string }): SweepPlan | undefined {
  const flags = values.sweep ?? [];
  if (!flags.length) {
    if (values['sweep-random'] !== undefined || values['sweep-seed'] !== undefined) throw new UsageError('--sweep-random and --sweep-seed need at least one --sweep PATH=RANGE, e.g. --sweep params.lr=loguniform(1e-4,1e-2)');
    return undefined;
  }
  const axes = collectDiagnostics(flags, parseSweepFlag);
  const twice = axes.find((a, i) => axes.findIndex((b) => b.key === a.key) !== i);
  if (twice) throw new UsageError(`--sweep ${twice.key} is given twice; list all its values in one flag: --sweep ${twice.key}=V1,V2`);
  if (values['sweep-random'] === undefined) {
    const variants = gridVariants(axes);
    return { axes, variants, mode: 'grid' };
  }
  const count = Number(values['sweep-random']);
  if (!Number.isInteger(count) || count < 1) throw new UsageError(`--sweep-random must be a positive integer, got ${JSON.stringify(values['sweep-random'])}`);
  const seed = values['sweep-seed'] === undefined ? 0 : Number(values['sweep-seed']);
  if (!Number.isInteger(seed)) throw new UsageError(`--sweep-seed must be an integer, got ${JSON.stringify(values['sweep-seed'])}`);
  const variants = randomVariants(axes, count, seed);
  return { axes, variants, mode: 'random', seed, requested: count };
}

export function describeSweep(plan: SweepPlan): string {
  const keys = plan.axes.map((a) => a.key);
  const head = plan.mode === 'grid' ? `grid over ${keys.join(' x ')}` : `random search over ${keys.join(', ')} (seed ${plan.seed})`;
  const short = plan.requested !== undefined && plan.variants.length < plan.requested ? ` (only ${plan.variants.length} distinct of the ${plan.requested} asked for exist)` : '';
  return [`sweep: ${plan.variants.length} variants${short}, ${head}`, ...plan.variants.map((v) => `  ${v.name}  ${keys.map((k) => `${k}=${inlineValue(v.values[k])}`).join('  ')}`)].join('\n');
}

/** The end-of-sweep table: one row per variant with the swept values, status, work done and its headline metric. */
export function sweepSummary(result: SweepResult, plan: SweepPlan, file: string): string {
  const keys = plan.axes.map((a) => a.key);
  const metricName = result.variants.find((v) => v.headline)?.headline?.name;
  const count = (o: VariantOutcome, s: string) => o.result?.instances.filter((i) => i.status === s).length ?? 0;
  const rows = result.variants.map((o) => [
    `${o.variant.name}${o === result.best ? ' *' : ''}`,
    ...keys.map((k) => inlineValue(o.variant.values[k])),
    o.result?.status ?? 'error',
    String(count(o, 'ran')),
    String(count(o, 'cached')),
    o.result ? formatDuration(o.result.instances.reduce((t, i) => t + i.durationMs, 0)) : '',
    o.headline && o.headline.name === metricName ? showHeadline(o.headline) : '',
    o.result?.runId ?? o.error ?? '',
  ]);
  const ran = result.variants.reduce((n, o) => n + count(o, 'ran'), 0);
  const reused = result.variants.reduce((n, o) => n + count(o, 'cached'), 0);
  const tally = new Map<string, number>();
  for (const o of result.variants) tally.set(o.result?.status ?? 'error', (tally.get(o.result?.status ?? 'error') ?? 0) + 1);
  const lines = [
    table(['variant', ...keys, 'status', 'ran', 'cached', 'stage time', metricName ? `${metricName}${result.best?.headline ? ` (${result.best.headline.mode === 'min' ? 'lower' : 'higher'} is better)` : ''}` : 'metric', 'run'], rows),
    '',
    `sweep ${result.id}: ${result.status} (${[...tally].map(([s, n]) => `${n} ${s}`).join(', ')}); ${ran} stage instances ran, ${reused} reused (cached, or computed once by another variant${result.shared ? `: ${result.shared} shared while running` : ''})`,
  ];
  for (const o of result.variants.filter((o) => o.error)) lines.push(`  ${o.variant.name}: ${o.error}`);
  for (const o of result.variants) for (const i of o.result?.instances.filter((x) => x.error) ?? []) lines.push(`  ${o.variant.name}: ${i.error}`);
  if (result.best) {
    const sets = overrideFlags(result.best.variant.overrides.map(overrideText));
    lines.push(`best: ${result.best.variant.name} (${result.best.headline!.instance}/${result.best.headline!.name} ${showHeadline(result.best.headline!)}); to make it the experiment's result and lock it: pipeline run ${shellWord(relative(process.cwd(), file) || file)} ${sets}`);
  }
  lines.push(`compare: pipeline runs compare ${result.id}; dashboard: pipeline ui (the sweep run lists its variants)`);
  return lines.join('\n');
}

function showHeadline(h: Headline): string {
  return h.ci ? formatWithCi(h.value, h.ci) : formatNumber(h.value);
}
