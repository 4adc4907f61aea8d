/** Defined (true) by the compiled build (scripts/build.mjs); absent when the sources run through tsx. */
declare const __PIPELINE_COMPILED__: boolean | undefined;

let registering: Promise<void> | undefined;

/**
 * Makes `import()` of users' stage modules work: TypeScript ones, and JavaScript ones that import the
 * package (its TypeScript sources). Running from the sources, tsx is already registered; the compiled
 * CLI registers it here, on first need only, so that runs of built-in stages never pay for it.
 */
export function ensureTypeScriptLoader(): Promise<void> {
  if (typeof __PIPELINE_COMPILED__ === 'undefined') return Promise.resolve();
  registering ??= import('tsx/esm/api').then(({ register }) => void register());
  return registering;
}
