import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join, resolve } from 'node:path';
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
  const mod = await importUserModule(path);
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

/**
 * Imports a user's module. A `.ts` or `.js` file with `import`/`export` in a folder whose package.json
 * does not say `"type": "module"` (or that has none) is CommonJS to Node: importing it from the CLI's
 * ES module graph then fails ("Cannot require() ES Module ... in a cycle"). Such a module is loaded
 * through tsx's CommonJS hook instead, which compiles its syntax to CommonJS; if that fails too, the
 * error says how to make the module an ES module.
 */
async function importUserModule(path: string): Promise<Record<string, unknown>> {
  try {
    return await import(pathToFileURL(path).href);
  } catch (err) {
    if (!isEsmInCommonJsScope(err)) throw err;
    const { register } = await import('tsx/cjs/api');
    const unregister = register();
    try {
      const loaded = createRequire(path)(path) as Record<string, unknown>;
      return loaded && typeof loaded === 'object' && 'default' in loaded ? loaded : { default: loaded };
    } catch (again) {
      const scope = nearestPackageJson(dirname(path));
      throw new Error(
        `${path} is ES module syntax (import/export) in a CommonJS folder (${scope ? `${scope} has no "type": "module"` : 'no package.json says "type": "module"'}) and could not be loaded as CommonJS either: ${again instanceof Error ? again.message : again}. Add "type": "module" to ${scope ?? 'a package.json beside it'}, or rename the module to .mts (.mjs for JavaScript)`,
      );
    } finally {
      unregister();
    }
  }
}

function isEsmInCommonJsScope(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return e?.code === 'ERR_REQUIRE_CYCLE_MODULE' || e?.code === 'ERR_REQUIRE_ESM' || /Cannot require\(\) ES Module .* in a cycle/.test(String(e?.message));
}

function nearestPackageJson(dir: string): string | undefined {
  for (let d = dir; ; d = dirname(d)) {
    if (existsSync(join(d, 'package.json'))) return join(d, 'package.json');
    if (dirname(d) === d) return undefined;
  }
}
