import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { builtinStages } from '../stages/index.ts';
import type { StageType } from '../engine/stage.ts';
import { StageCodeMismatch, type ResolvedStage, type StageRegistry } from '../engine/stage-registry.ts';
import { sha256 } from '../util/hash.ts';
import { ensureTypeScriptLoader } from '../util/typescript-loader.ts';

export type ResolvedStageType = ResolvedStage;

export function isModulePath(uses: string): boolean {
  return uses.startsWith('./') || uses.startsWith('../') || isAbsolute(uses) || /\.(m?[jt]s)$/.test(uses);
}

/** Loads a user's stage module (default export or `stage` export) and checks its shape. */
export async function loadStageModule(uses: string, baseDir: string): Promise<ResolvedStageType> {
  const path = resolve(baseDir, uses);
  let source: Buffer;
  try {
    source = await readFile(path);
  } catch {
    throw new Error(`stage module not found: ${path}`);
  }
  // Also for a JavaScript module: the package it imports (`@medpipe/pipeline`) is TypeScript sources.
  await ensureTypeScriptLoader();
  const mod = await import(pathToFileURL(path).href);
  const type = (mod.default ?? mod.stage) as StageType | undefined;
  const problems: string[] = [];
  if (!type || typeof type !== 'object') problems.push('it has no default export or `stage` export');
  else {
    if (typeof type.name !== 'string') problems.push('`name` must be a string');
    if (typeof type.version !== 'number' && typeof type.version !== 'string') problems.push('`version` must be a number or string');
    if (!type.params || typeof (type.params as any).safeParse !== 'function') problems.push('`params` must be a zod schema');
    if (typeof type.run !== 'function') problems.push('`run` must be a function');
  }
  if (problems.length) throw new Error(`${path} is not a stage module: ${problems.join('; ')}`);
  return { type: type!, codeHash: sha256(source) };
}

export function builtinStageNames(): string[] {
  return [...builtinStages.keys()];
}

export function builtinStage(uses: string): StageType | undefined {
  return builtinStages.get(uses);
}

/** The registry of this checkout: the built-in stages plus users' modules loaded from disk. */
export const stageRegistry: StageRegistry = {
  moduleUrl: import.meta.url,
  names: builtinStageNames,
  async resolve(uses, baseDir, codeHash) {
    if (!isModulePath(uses)) {
      const type = builtinStage(uses);
      if (!type) throw new StageCodeMismatch(`this checkout has no stage type "${uses}"`);
      return { type };
    }
    const resolved = await loadStageModule(uses, baseDir);
    if (codeHash && resolved.codeHash !== codeHash) {
      throw new StageCodeMismatch(`stage module ${uses} here (${resolve(baseDir, uses)}) has sha256 ${resolved.codeHash!.slice(0, 12)}, the run was planned with ${codeHash.slice(0, 12)}`);
    }
    return resolved;
  },
};
