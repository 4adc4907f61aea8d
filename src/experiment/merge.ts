import type { PathKey, YamlSource } from './yaml-source.ts';
import type { SourceLocation } from '../engine/diagnostics.ts';

/**
 * Sources stacked by priority (the experiment first, then the template it extends, ...): a path is
 * located in the first source that has it.
 */
export function layeredLocator(sources: readonly YamlSource[]): (path: readonly PathKey[], at?: 'key' | 'value') => SourceLocation {
  return (path, at) => (sources.find((s) => s.has(path)) ?? sources[0]).locate(path, at);
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/** Objects merge key by key (override wins); arrays and scalars are replaced. */
export function deepMerge(base: unknown, override: unknown): unknown {
  if (override === undefined) return base;
  if (!isPlainObject(base) || !isPlainObject(override)) return override;
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(override)) out[key] = deepMerge(base[key], value);
  return out;
}

/**
 * Merges an experiment over the template it extends:
 * - `params`, `tracking`: deep merge, experiment wins.
 * - `stages`: template stages keep their order, new ones follow; a stage set to `null` is removed;
 *   within a stage `uses`, `from`, `foreach` are replaced, `with` is deep-merged.
 * - `name`, `description`: the experiment's.
 */
export function mergeExperiment(template: Record<string, any>, experiment: Record<string, any>): Record<string, any> {
  const stages: Record<string, unknown> = {};
  const tStages = template.stages ?? {};
  const eStages = experiment.stages ?? {};
  for (const id of [...Object.keys(tStages), ...Object.keys(eStages).filter((id) => !(id in tStages))]) {
    if (id in eStages && eStages[id] === null) continue;
    const t = tStages[id] ?? {};
    const e = eStages[id] ?? {};
    const merged: Record<string, unknown> = { ...t, ...e };
    if (t.with || e.with) merged.with = deepMerge(t.with ?? {}, e.with ?? {});
    stages[id] = merged;
  }
  const { extends: _ignored, ...rest } = experiment;
  return {
    ...template,
    ...rest,
    params: deepMerge(template.params ?? {}, experiment.params ?? {}),
    tracking: deepMerge(template.tracking, experiment.tracking),
    stages,
  };
}
