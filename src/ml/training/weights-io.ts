import * as tf from '../tf.ts';

export interface EncodedTensors {
  data: Uint8Array;
  specs: tf.io.WeightsManifestEntry[];
}

/** An ordered list of named tensors as one binary blob plus JSON specs (tfjs weight encoding). */
export async function encodeTensorList(list: ReadonlyArray<{ name: string; tensor: tf.Tensor }>): Promise<EncodedTensors> {
  // Index prefixes keep the order and make duplicate names (optimizer slots) unambiguous.
  const { data, specs } = await tf.io.encodeWeights(list.map((t, i) => ({ name: `${i}:${t.name}`, tensor: t.tensor })));
  return { data: new Uint8Array(data), specs };
}

export function decodeTensorList(data: Uint8Array, specs: tf.io.WeightsManifestEntry[]): Array<{ name: string; tensor: tf.Tensor }> {
  const buffer = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer;
  const map = tf.io.decodeWeights(buffer, specs);
  return specs.map((s) => ({ name: s.name.slice(s.name.indexOf(':') + 1), tensor: map[s.name] }));
}

/** A model's weights (trainable and batch-norm statistics) in `model.weights` order. */
export function encodeModelWeights(model: tf.LayersModel): Promise<EncodedTensors> {
  return encodeTensorList(model.weights.map((w) => ({ name: w.originalName, tensor: w.read() })));
}

export function restoreModelWeights(model: tf.LayersModel, data: Uint8Array, specs: tf.io.WeightsManifestEntry[]): void {
  const list = decodeTensorList(data, specs);
  if (list.length !== model.weights.length) throw new Error(`checkpoint has ${list.length} weights, the model ${model.weights.length}`);
  model.setWeights(list.map((t) => t.tensor));
  tf.dispose(list.map((t) => t.tensor));
}

/**
 * Copies weights from `source` into layers of `target` with the same name and weight shapes (transfer
 * learning / fine-tuning: a different head or input channel count is skipped). Returns counts.
 */
export function transferWeights(source: tf.LayersModel, target: tf.LayersModel): { copied: number; skipped: string[] } {
  const byName = new Map(source.layers.map((l) => [l.name, l]));
  let copied = 0;
  const skipped: string[] = [];
  for (const layer of target.layers) {
    // getWeights returns the variables' own tensors: read shapes only, never dispose them.
    const targetWeights = layer.getWeights();
    if (targetWeights.length === 0) continue;
    const from = byName.get(layer.name);
    const sourceWeights = from?.getWeights();
    const fits = sourceWeights && sourceWeights.length === targetWeights.length && sourceWeights.every((w, i) => tf.util.arraysEqual(w.shape, targetWeights[i].shape));
    if (fits) {
      layer.setWeights(sourceWeights);
      copied++;
    } else skipped.push(layer.name);
  }
  return { copied, skipped };
}
