/** Defined (true) by the compiled build (scripts/build.mjs); absent when the sources run through tsx. */
declare const __PIPELINE_COMPILED__: boolean | undefined;

let registering: Promise<void> | undefined;

/**
 * Makes `import()` of TypeScript files (users' stage modules) work. Running from the TypeScript sources,
 * tsx is already registered; the compiled CLI registers it here, on first need only, so that commands
 * that load no TypeScript module never pay for it.
 */
export function ensureTypeScriptLoader(): Promise<void> {
  if (typeof __PIPELINE_COMPILED__ === 'undefined') return Promise.resolve();
  registering ??= import('tsx/esm/api').then(({ register }) => void register());
  return registering;
}
