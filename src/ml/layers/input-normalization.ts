import * as tf from '../tf.ts';
import type { InputNormalization } from '../normalize-param.ts';

/**
 * (x - mean) / std over the last (channel) axis, with a mean and std per channel held in the layer's
 * config: no weights, so it saves with the model topology, weight transfers by name skip it, and every
 * consumer of the model (training on either engine, ONNX export, TTA, Grad-CAM) sees it.
 * `tf.layers.rescaling` takes scalars only.
 */
export class InputNormalizationLayer extends tf.layers.Layer {
  static className = 'InputNormalization';
  readonly mean: number[];
  readonly std: number[];

  constructor(args: InputNormalization & { name?: string }) {
    super({ name: args.name });
    if (args.mean.length !== args.std.length || args.mean.length === 0) throw new Error(`InputNormalization: ${args.mean.length} means and ${args.std.length} stds`);
    if (args.std.some((s) => !(s > 0))) throw new Error(`InputNormalization: std [${args.std.join(', ')}] must be positive`);
    this.mean = [...args.mean];
    this.std = [...args.std];
  }

  computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    const shape = inputShape as tf.Shape;
    if (shape[shape.length - 1] !== this.mean.length) throw new Error(`InputNormalization ${this.name}: ${this.mean.length} channel means for an input of shape [${shape.join(', ')}]`);
    return shape;
  }

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      return tf.div(tf.sub(x, tf.tensor1d(this.mean)), tf.tensor1d(this.std));
    });
  }

  getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), mean: this.mean, std: this.std };
  }
}

tf.serialization.registerClass(InputNormalizationLayer as unknown as tf.serialization.SerializableConstructor<tf.serialization.Serializable>);

/** The normalisation a model applies to its input (its InputNormalization layer's), if any. */
export function inputNormalizationOf(model: tf.LayersModel): InputNormalization | undefined {
  const layer = model.layers.find((l) => l.getClassName() === InputNormalizationLayer.className) as InputNormalizationLayer | undefined;
  return layer ? { mean: layer.mean, std: layer.std } : undefined;
}
