import * as tf from './tf.ts';
import { foldConvBatchNorms } from './layers/fold-model.ts';
import './layers/input-normalization.ts'; // registers the layer class for loading
import type { Store } from '../store/store.ts';
import type { Artifact } from '../engine/artifact.ts';
import { readArtifactFile } from '../engine/artifact.ts';

/** tfjs layers-model format: `model.json` (topology + weights manifest) and one `weights.bin`. */
export async function saveModelFiles(model: tf.LayersModel): Promise<Record<string, Uint8Array | string>> {
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(0), modelTopologyType: 'JSON' } };
    }),
  );
  if (!saved?.weightData || !saved.weightSpecs) throw new Error('model save produced no weights');
  const weights = new Uint8Array(tf.io.CompositeArrayBuffer.join(saved.weightData));
  const modelJson = {
    format: 'layers-model',
    generatedBy: `TensorFlow.js tfjs-layers v${tf.version.tfjs}`,
    convertedBy: null,
    modelTopology: saved.modelTopology,
    weightsManifest: [{ paths: ['weights.bin'], weights: saved.weightSpecs }],
  };
  return { 'model.json': JSON.stringify(modelJson), 'weights.bin': weights };
}

/** Loads a model artifact (`model.json` + `weights.bin`) from the store. */
export async function loadModel(store: Store, artifact: Artifact): Promise<tf.LayersModel> {
  const [json, weights] = await Promise.all([readArtifactFile(store, artifact, 'model.json'), readArtifactFile(store, artifact, 'weights.bin')]);
  return modelFromBytes(json, weights);
}

/** Builds a model from the bytes of a tfjs `model.json` and its single weights file. */
export async function modelFromBytes(modelJson: Uint8Array | string, weights: Uint8Array): Promise<tf.LayersModel> {
  const parsed = JSON.parse(typeof modelJson === 'string' ? modelJson : Buffer.from(modelJson).toString('utf8')) as {
    modelTopology: object;
    weightsManifest: Array<{ weights: tf.io.WeightsManifestEntry[] }>;
  };
  const weightSpecs = parsed.weightsManifest.flatMap((group) => group.weights);
  const weightData = weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength) as ArrayBuffer;
  const model = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: parsed.modelTopology, weightSpecs, weightData }));
  foldConvBatchNorms(model); // inference computes conv + batch norm as one fused conv
  return model;
}
