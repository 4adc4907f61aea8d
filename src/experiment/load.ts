import { access, readFile } from 'node:fs/promises';
import { basename, dirname, extname, resolve } from 'node:path';
import type { z } from 'zod';
import { DiagnosticError, didYouMean, type Diagnostic, type SourceLocation } from '../engine/diagnostics.ts';
import type { StageType } from '../engine/stage.ts';
import { sha256 } from '../util/hash.ts';
import { expandForeachValues, interpolate, type InterpolationProblem } from './interpolate.ts';
import { layeredLocator, mergeExperiment } from './merge.ts';
import { isModulePath, stageRegistry } from './resolve-stage.ts';
import type { StageRegistry } from '../engine/stage-registry.ts';
import { experimentFileSchema, overrideFileSchema, type StageSpec } from './schema.ts';
import { loadYamlFile, type PathKey, type YamlSource } from './yaml-source.ts';
import { applyOverrides, overriddenParamHint, overrideSource, overrideText, type Override } from './overrides.ts';
import { zodDiagnostics } from './zod-diagnostics.ts';
import { envHint, envVarsBehind } from './env-hint.ts';
import { valueAt } from './value-at.ts';
import { errorText } from '../util/error-text.ts';

/**
 * Each schema validates once per command: zod's compiled fast path (code generated on the first parse,
 * which pays off over many parses) costs more than it saves here.
 */
const ONE_SHOT = { jitless: true } as const;

export interface InstanceInput {
  name: string;
  stage: string;
  instance: string;
}

export interface ExternalInput {
  param: string;
  path: string;
  glob?: string;
  optional?: boolean;
}

/** One runnable node of the graph: a stage, or one foreach value of it (`train[fold=2]`). */
export interface StageInstance {
  id: string;
  stage: string;
  uses: string;
  type: StageType;
  codeHash?: string;
  /** Validated params with defaults applied: what the stage receives and the cache key sees. */
  params: unknown;
  vars: Record<string, unknown>;
  inputs: InstanceInput[];
  external: ExternalInput[];
  /** The resource class (worker queue) the stage requires with a queue executor (`resources:`/`queue:`). */
  resource?: string;
}

export interface Experiment {
  name: string;
  file: string;
  dir: string;
  /** sha256 of the experiment file's bytes (for run records). */
  fileHash: string;
  params: Record<string, unknown>;
  tracking?: Record<string, unknown>;
  stageIds: string[];
  /** Where the stage types came from; the engine resolves them through it (worker threads, workers). */
  registry: StageRegistry;
  /** Instances in a topological order. */
  instances: StageInstance[];
  locate(path: readonly PathKey[], at?: 'key' | 'value'): SourceLocation;
  /** Command-line overrides applied (`params.lr=0.0003`), in order; empty for the file as written. */
  overrides: string[];
  /**
   * Namespace of the instances' latest outputs (what plan explains against, export reads and gc keeps):
   * the experiment name, or a sweep variant's own (`name~params.lr=0.001`).
   */
  latestScope: string;
}

export interface LoadOptions {
  env?: Record<string, string | undefined>;
  /** Skip existence checks of external input files (for `dag`). */
  skipExternalChecks?: boolean;
  /** Stage types (default: this checkout's built-in stages and users' modules). */
  registry?: StageRegistry;
  /** `--set` changes, applied after `extends` (they win over every file). */
  overrides?: readonly Override[];
  /** See Experiment.latestScope (default: the experiment name). */
  latestScope?: string;
}

/** Loads, merges, interpolates, validates and expands an experiment file. Throws DiagnosticError. */
export async function loadExperiment(fileArg: string, options: LoadOptions = {}): Promise<Experiment> {
  const file = resolve(fileArg);
  const dir = dirname(file);
  const chain = await loadChain(file, []);
  const overrides = options.overrides ?? [];
  const merged = overrides.length ? applyOverrides(chain.value, overrides) : chain.value;
  const locate = layeredLocator(overrides.length ? [overrideSource(overrides), ...chain.sources] : chain.sources);
  const diags: Diagnostic[] = [];
  const at = (path: PathKey[], which?: 'key' | 'value') => locate(path, which);

  const checked = experimentFileSchema.safeParse(merged, ONE_SHOT);
  if (!checked.success) throw new DiagnosticError(zodDiagnostics(checked.error, { prefix: [], schema: experimentFileSchema, input: merged, at, what: 'experiment' }));
  const spec = checked.data;
  const env = options.env ?? process.env;
  const problems: InterpolationProblem[] = [];
  const params = interpolate(spec.params ?? {}, { params: {}, env, typedEnv: true }, problems, ['params']) as Record<string, unknown>;
  const stages = Object.entries(spec.stages ?? {}).filter((e): e is [string, StageSpec] => e[1] !== null);
  const stageIds = stages.map(([id]) => id);
  if (stages.length === 0) diags.push({ message: 'the experiment has no stages', location: at(['stages']), hint: 'add a stages: block, or extends: a template from pipelines/' });

  // Resolve stage types.
  const registry = options.registry ?? stageRegistry;
  const types = new Map<string, { type: StageType; codeHash?: string }>();
  for (const [id, stage] of stages) {
    const known = isModulePath(stage.uses) || registry.names().includes(stage.uses);
    if (!known) {
      const guess = didYouMean(stage.uses, registry.names());
      diags.push({
        message: `unknown stage type "${stage.uses}" in stage ${id}`,
        location: at(['stages', id, 'uses']),
        hint: guess ? `did you mean "${guess}"?` : `built-in types: ${registry.names().join(', ')}; or a module path like ./stages/my-stage.ts`,
      });
      continue;
    }
    try {
      types.set(id, await registry.resolve(stage.uses, dir));
    } catch (err) {
      diags.push({ message: errorText(err), location: at(['stages', id, 'uses']), hint: 'a stage module exports a StageType: { name, version, description, params (zod), run }' });
    }
  }

  // Dependencies between stages, then cycle detection.
  const deps = new Map<string, Array<{ name: string; stages: string[] }>>();
  for (const [id, stage] of stages) {
    const groups = normaliseFrom(stage.from);
    for (const group of groups) {
      for (const [i, upstream] of group.stages.entries()) {
        if (!stageIds.includes(stageOf(upstream))) {
          const guess = didYouMean(upstream, stageIds);
          const path: PathKey[] = typeof stage.from === 'string' ? ['stages', id, 'from'] : Array.isArray(stage.from) ? ['stages', id, 'from', stage.from.indexOf(upstream)] : ['stages', id, 'from', group.name, ...(Array.isArray((stage.from as any)[group.name]) ? [i] : [])];
          diags.push({ message: `stage ${id} reads from "${upstream}", which is not a stage of this experiment`, location: at(path), hint: guess ? `did you mean "${guess}"?` : `stages: ${stageIds.join(', ')}` });
        }
      }
    }
    deps.set(id, groups.map((g) => ({ name: g.name, stages: g.stages.filter((s) => stageIds.includes(stageOf(s))) })));
  }
  const cycle = findCycle(stageIds, (id) => deps.get(id)!.flatMap((g) => g.stages.map(stageOf)));
  if (cycle) diags.push({ message: `dependency cycle: ${cycle.join(' -> ')}`, location: at(['stages', cycle[0], 'from']), hint: 'a stage cannot depend, directly or not, on itself' });

  // Expand foreach into instances, interpolate and validate params; also after the errors above, so
  // that they are all reported at once (stages of an unknown type have no schema to check against).
  const instancesByStage = new Map<string, StageInstance[]>();
  for (const [id, stage] of stages) {
    const resolved = types.get(id);
    if (!resolved) continue;
    const list: StageInstance[] = [];
    if (stage.resources && stage.queue) diags.push({ message: `stage ${id}: give resources or queue, not both`, location: at(['stages', id, 'queue'], 'key'), hint: 'resources: { gpu: 1 } and queue: gpu mean the same' });
    for (const vars of expandForeach(id, stage, params, env, problems, diags, at)) {
      const known = problems.length;
      const withValue = interpolate(stage.with ?? {}, { params, env, each: stage.foreach ? vars : undefined }, problems, ['stages', id, 'with']);
      const parsed = resolved.type.params.safeParse(withValue, ONE_SHOT);
      if (!parsed.success) {
        // A value whose interpolation failed is reported once, as that, not also as the wrong type.
        const unresolved = problems.slice(known).map((p) => p.path);
        const hintAt = (path: PathKey[]) => overriddenParamHint(stage.with, path.slice(3), overrides);
        diags.push(...zodDiagnostics(parsed.error, { prefix: ['stages', id, 'with'], schema: resolved.type.params, input: withValue, at, what: `stage ${id} (${stage.uses})`, skip: unresolved, hintAt }));
        continue;
      }
      const resource = stage.queue ?? Object.keys(stage.resources ?? {})[0];
      list.push({ id: instanceId(id, vars), stage: id, uses: stage.uses, type: resolved.type, codeHash: resolved.codeHash, params: parsed.data, vars, inputs: [], external: [], ...(resource ? { resource } : {}) });
    }
    instancesByStage.set(id, list);
  }
  for (const p of problems) diags.push({ message: p.message, location: at(p.path), hint: p.hint });
  if (diags.length) throw new DiagnosticError(dedupe(diags));

  // Wire inputs: an upstream fan-out sharing foreach keys with this instance is matched by value; else all instances.
  for (const [id] of stages) {
    const type = types.get(id)!.type;
    for (const inst of instancesByStage.get(id)!) {
      for (const group of deps.get(id)!) {
        for (const upstream of group.stages) {
          const candidates = instancesByStage.get(stageOf(upstream))!;
          if (upstream !== stageOf(upstream)) {
            // An instance reference such as train[fold=0].
            const one = candidates.find((c) => c.id === upstream);
            if (one) inst.inputs.push({ name: group.name, stage: one.stage, instance: one.id });
            else diags.push({ message: `stage ${id} reads from instance ${upstream}, which does not exist`, location: at(['stages', id, 'from']), hint: `instances of ${stageOf(upstream)}: ${candidates.map((c) => c.id).join(', ')}` });
            continue;
          }
          for (const up of candidates) {
            const shared = Object.keys(up.vars).filter((k) => k in inst.vars);
            if (shared.every((k) => up.vars[k] === inst.vars[k])) inst.inputs.push({ name: group.name, stage: upstream, instance: up.id });
          }
        }
      }
      const min = type.inputs?.min ?? 1;
      const max = type.inputs?.max ?? Infinity;
      if (inst.inputs.length < min || inst.inputs.length > max) {
        const want = max === 0 ? 'no inputs (it is a source stage)' : max === Infinity ? `at least ${min} input(s)` : min === max ? `${min} input(s)` : `${min} to ${max} inputs`;
        diags.push({ message: `stage ${id} (${type.name}) takes ${want}, but from: gives it ${inst.inputs.length}`, location: at(['stages', id, inst.inputs.length ? 'from' : 'uses']), hint: max === 0 ? 'remove from:' : 'set from: to the upstream stage(s)' });
        break;
      }
      inst.external = (type.externalPaths?.(inst.params) ?? []).map((e) => ({ ...e, path: resolve(dir, e.path) }));
      if (!options.skipExternalChecks) {
        for (const e of inst.external) {
          if (e.optional) continue;
          try {
            await access(e.path);
          } catch {
            const raw = valueAt(stages.find(([s]) => s === id)![1].with, e.param.split('.'));
            const fromEnv = envHint(envVarsBehind(raw, spec.params ?? {}), env);
            diags.push({ message: `stage ${id}: ${e.param} names a file or folder that does not exist: ${e.path}`, location: at(['stages', id, 'with', ...e.param.split('.')]), hint: `paths are relative to the experiment file${fromEnv}` });
          }
        }
      }
    }
  }
  if (diags.length) throw new DiagnosticError(dedupe(diags));

  const order = topoOrder(stageIds, (id) => deps.get(id)!.flatMap((g) => g.stages.map(stageOf)));
  const name = spec.name ?? basename(file, extname(file));
  return {
    name,
    file,
    dir,
    fileHash: sha256(await readFile(file)),
    params,
    tracking: spec.tracking as Record<string, unknown> | undefined,
    stageIds,
    registry,
    instances: order.flatMap((id) => instancesByStage.get(id)!),
    locate,
    overrides: overrides.map(overrideText),
    latestScope: options.latestScope ?? name,
  };
}

async function loadChain(file: string, seen: string[]): Promise<{ value: Record<string, any>; sources: YamlSource[] }> {
  const source = await loadYamlFile(file);
  const value = (source.value ?? {}) as Record<string, any>;
  if (typeof value !== 'object' || Array.isArray(value)) throw new DiagnosticError([{ message: 'an experiment file must be a mapping (name:, params:, stages:, ...)', location: source.locate([]) }]);
  const schema = value.extends ? overrideFileSchema : experimentFileSchema;
  const shape = schema.safeParse(value, ONE_SHOT);
  if (!shape.success) throw new DiagnosticError(zodDiagnostics(shape.error, { prefix: [], schema, input: value, at: (p, w) => source.locate(p, w), what: 'experiment' }));
  if (!value.extends) return { value, sources: [source] };
  const template = resolve(dirname(file), value.extends);
  if (seen.includes(template) || template === file) throw new DiagnosticError([{ message: `extends cycle: ${[...seen, file, template].join(' -> ')}`, location: source.locate(['extends']) }]);
  try {
    await access(template);
  } catch {
    throw new DiagnosticError([{ message: `extends: template not found: ${template}`, location: source.locate(['extends']), hint: 'the path is relative to this file, e.g. ../pipelines/classification.yaml' }]);
  }
  const base = await loadChain(template, [...seen, file]);
  const { extends: _drop, ...baseValue } = base.value;
  return { value: mergeExperiment(baseValue, value), sources: [source, ...base.sources] };
}

/** The stage id of a `from:` reference: `train` or an instance reference `train[fold=0]`. */
function stageOf(ref: string): string {
  const i = ref.indexOf('[');
  return i < 0 ? ref : ref.slice(0, i);
}

function normaliseFrom(from: StageSpec['from']): Array<{ name: string; stages: string[] }> {
  if (from === undefined) return [];
  if (typeof from === 'string') return [{ name: from, stages: [from] }];
  if (Array.isArray(from)) return from.map((s) => ({ name: s, stages: [s] }));
  return Object.entries(from).map(([name, s]) => ({ name, stages: Array.isArray(s) ? s : [s] }));
}

function expandForeach(
  id: string,
  stage: StageSpec,
  params: Record<string, unknown>,
  env: Record<string, string | undefined>,
  problems: InterpolationProblem[],
  diags: Diagnostic[],
  at: (p: PathKey[]) => SourceLocation,
): Record<string, unknown>[] {
  if (!stage.foreach) return [{}];
  let combos: Record<string, unknown>[] = [{}];
  for (const [key, raw] of Object.entries(stage.foreach)) {
    const values = expandForeachValues(interpolate(raw, { params, env }, problems, ['stages', id, 'foreach', key]));
    if (typeof values === 'string') {
      diags.push({ message: `stage ${id}: ${values}`, location: at(['stages', id, 'foreach', key]), hint: 'e.g. foreach: { fold: "range(5)" } or foreach: { model: [resnet18, densenet121] }' });
      return [];
    }
    if (values.length === 0) diags.push({ message: `stage ${id}: foreach ${key} has no values`, location: at(['stages', id, 'foreach', key]) });
    combos = combos.flatMap((c) => values.map((v) => ({ ...c, [key]: v })));
  }
  return combos;
}

export function instanceId(stage: string, vars: Record<string, unknown>): string {
  const keys = Object.keys(vars);
  return keys.length ? `${stage}[${keys.map((k) => `${k}=${String(vars[k])}`).join(',')}]` : stage;
}

function dedupe(diags: Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return diags.filter((d) => {
    const key = JSON.stringify(d);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function findCycle(ids: string[], upstreamOf: (id: string) => string[]): string[] | undefined {
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (id: string): string[] | undefined => {
    if (state.get(id) === 'done') return;
    if (state.get(id) === 'visiting') return [...stack.slice(stack.indexOf(id)), id];
    state.set(id, 'visiting');
    stack.push(id);
    for (const up of upstreamOf(id)) {
      const found = visit(up);
      if (found) return found;
    }
    stack.pop();
    state.set(id, 'done');
  };
  for (const id of ids) {
    const found = visit(id);
    if (found) return found.reverse();
  }
}

function topoOrder(ids: string[], upstreamOf: (id: string) => string[]): string[] {
  const out: string[] = [];
  const done = new Set<string>();
  const visit = (id: string) => {
    if (done.has(id)) return;
    done.add(id);
    upstreamOf(id).forEach(visit);
    out.push(id);
  };
  ids.forEach(visit);
  return out;
}
