import type { StageType } from '../engine/stage.ts';
// Each group adds its imports below its own marker line.
// -- dicom stages --
import { syntheticDicom } from './synthetic-dicom.ts';
import { ingestDicom } from './ingest-dicom.ts';
import { ingestImages } from './ingest-images.ts';
import { convertStage } from './convert.ts';
// -- data-preparation stages --
import { preprocess } from './preprocess.ts';
import { kfold } from './kfold.ts';
import { holdout } from './holdout.ts';
import { undersample } from './undersample.ts';
import { oversample } from './oversample.ts';
import { classWeightsStage } from './class-weights.ts';
import { fuseReaders } from './fuse-readers.ts';
// -- learning stages --
import { tta } from './tta.ts';
import { ensemble } from './ensemble.ts';
import { evaluate } from './evaluate.ts';
import { gradcam } from './gradcam.ts';
import { trainStage } from './train.ts';
// -- other stages --
import { commandStage } from './command.ts';

/**
 * The built-in stage types, by `uses:` name. Each lives in its own module under `src/stages/`.
 * Add a stage by importing it above and listing it here (one line each).
 */
const builtins: StageType[] = [
  // -- dicom --
  syntheticDicom,
  ingestDicom,
  ingestImages,
  convertStage,
  // -- data-preparation --
  preprocess,
  kfold,
  holdout,
  undersample,
  oversample,
  classWeightsStage,
  fuseReaders,
  // -- learning --
  tta,
  ensemble,
  evaluate,
  gradcam,
  trainStage,
  // -- other --
  commandStage,
];

export const builtinStages: ReadonlyMap<string, StageType> = new Map(builtins.map((s) => [s.name, s]));
