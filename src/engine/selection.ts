import { DiagnosticError, didYouMean } from './diagnostics.ts';
import type { Experiment } from '../experiment/load.ts';

export interface Selection {
  selected?: Set<string>;
  force: Set<string>;
}

/**
 * Turns `--only`, `--from` and `--force` (stage ids or instance ids) into instance sets:
 * - only S: S's instances and what they need upstream (cached ones are reused), nothing downstream;
 * - from S: S's instances and everything downstream are rerun (forced), upstream reused;
 * - force S: S's instances ignore the cache; downstream reruns only if S's output changes.
 */
export function selectInstances(experiment: Experiment, opts: { only?: string[]; from?: string[]; force?: string[] }): Selection {
  const resolveNames = (names: string[] | undefined, flag: string): Set<string> => {
    const out = new Set<string>();
    for (const name of names ?? []) {
      const matches = experiment.instances.filter((i) => i.stage === name || i.id === name);
      if (!matches.length) {
        const guess = didYouMean(name, experiment.stageIds);
        throw new DiagnosticError([{ message: `${flag} ${name}: no such stage in ${experiment.file}`, hint: guess ? `did you mean "${guess}"?` : `stages: ${experiment.stageIds.join(', ')}` }]);
      }
      matches.forEach((m) => out.add(m.id));
    }
    return out;
  };
  const upstreamOf = new Map(experiment.instances.map((i) => [i.id, i.inputs.map((x) => x.instance)]));
  const downstreamOf = new Map<string, string[]>();
  for (const [id, ups] of upstreamOf) for (const up of ups) downstreamOf.set(up, [...(downstreamOf.get(up) ?? []), id]);
  const closure = (start: Iterable<string>, next: Map<string, string[]>) => {
    const seen = new Set<string>();
    const stack = [...start];
    while (stack.length) {
      const id = stack.pop()!;
      if (seen.has(id)) continue;
      seen.add(id);
      stack.push(...(next.get(id) ?? []));
    }
    return seen;
  };

  const force = resolveNames(opts.force, '--force');
  const only = resolveNames(opts.only, '--only');
  const from = resolveNames(opts.from, '--from');
  let selected: Set<string> | undefined;
  if (only.size) selected = closure(only, upstreamOf);
  if (from.size) {
    const downstream = closure(from, downstreamOf);
    downstream.forEach((id) => force.add(id));
    const needed = closure(downstream, upstreamOf);
    selected = selected ? new Set([...selected].filter((id) => needed.has(id))) : undefined;
  }
  return { selected, force };
}
