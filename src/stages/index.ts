import type { StageType } from '../engine/stage.ts';
// Each group adds its imports below its own marker line.
// -- dicom stages --
// -- data-preparation stages --
// -- learning stages --
// -- other stages --

/**
 * The built-in stage types, by `uses:` name. Each lives in its own module under `src/stages/`.
 * Add a stage by importing it above and listing it here (one line each).
 */
const builtins: StageType[] = [
  // -- dicom --
  // -- data-preparation --
  // -- learning --
  // -- other --
];

export const builtinStages: ReadonlyMap<string, StageType> = new Map(builtins.map((s) => [s.name, s]));
