import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { StageInputError } from '../engine/stage.ts';
import { modelFromBytes } from '../ml/model-io.ts';
import type * as tf from '../ml/tf.ts';
import { errorText } from '../util/error-text.ts';

/**
 * `weights: x/model.json`: a tfjs layers model with its weight files next to it. A file that is not one
 * is a stage error naming the file and what is wrong with it (it was a TypeError from deep inside).
 */
export async function modelFromFile(path: string, shown: string): Promise<tf.LayersModel> {
  const bad = (why: string, hint = 'give a model.json that tfjs wrote (a train stage\'s output: pipeline export EXPERIMENT STAGE DIR) with its weight files next to it, or an .onnx export (docs/training.md "Pretrained weights")') =>
    new StageInputError(`train: weights ${shown}: ${why}`, hint);
  const json = await readFile(path, 'utf8');
  let manifest: unknown;
  try {
    manifest = JSON.parse(json);
  } catch (e) {
    throw bad(`not JSON (${errorText(e)})`);
  }
  const m = manifest as { modelTopology?: unknown; weightsManifest?: unknown };
  if (typeof m !== 'object' || m === null || typeof m.modelTopology !== 'object' || !m.modelTopology) throw bad('not a tfjs layers model.json (no modelTopology object)');
  if (!Array.isArray(m.weightsManifest) || !m.weightsManifest.every((g) => Array.isArray(g?.paths) && g.paths.every((p: unknown) => typeof p === 'string'))) {
    throw bad('not a tfjs layers model.json (weightsManifest is not a list of { paths: [...] } groups)');
  }
  const paths = (m.weightsManifest as Array<{ paths: string[] }>).flatMap((g) => g.paths);
  const parts = await Promise.all(
    paths.map(async (p) => {
      try {
        return await readFile(join(dirname(path), p));
      } catch (e) {
        throw bad(`weight file ${p} (listed in its weightsManifest) cannot be read: ${errorText(e)}`, 'copy the weight files next to the model.json, as tfjs wrote them');
      }
    }),
  );
  try {
    return await modelFromBytes(json, Buffer.concat(parts));
  } catch (e) {
    throw bad(`tfjs cannot load it: ${errorText(e)}`);
  }
}
