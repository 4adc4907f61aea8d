import type { Artifact } from '../engine/artifact.ts';
import { StageInputError, type StageInput } from '../engine/stage.ts';

/** The one dataset input of a data-preparation stage, or a clear error. */
export function singleDataset(inputs: readonly StageInput[], stage: string): Artifact {
  if (inputs.length !== 1) throw new StageInputError(`${stage} takes exactly one input, got ${inputs.length}`, `write from: <one upstream stage>`);
  const { artifact, stage: upstream } = inputs[0];
  if (artifact.kind !== 'dataset') {
    throw new StageInputError(`${stage} needs a dataset input, but ${upstream} produced a ${artifact.kind}`, 'point from: at a stage that outputs image rows (convert, ingest-images, preprocess, kfold, ...)');
  }
  return artifact;
}
