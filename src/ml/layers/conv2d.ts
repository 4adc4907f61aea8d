import * as tf from '../tf.ts';
import { batchNormFoldedInto, foldedFilterAndBias, releaseFolded } from './conv-bn-fold.ts';

interface ConvInternals {
  kernel: { read(): tf.Tensor4D };
  bias?: { read(): tf.Tensor1D } | null;
  strides: [number, number];
  padding: 'same' | 'valid';
  dataFormat: 'channelsLast' | 'channelsFirst';
  dilationRate: [number, number];
  activation?: { apply(x: tf.Tensor): tf.Tensor } | null;
}

const BuiltinConv2D = (tf.layers.conv2d({ filters: 1, kernelSize: 1 }) as unknown as { constructor: new (args: object) => tf.layers.Layer }).constructor;

/**
 * Keras/tfjs `Conv2D` (same class name, config and weights) that runs the plain conv2d op instead of
 * tfjs-layers' fused one. The fused op's custom gradient always computes the input gradient too, so the
 * first layer wasted a full transposed convolution on the image per step (the largest single kernel
 * of a ResNet-18 step on wasm); the plain op's registered gradient computes only what is needed.
 */
export class LeanConv2D extends BuiltinConv2D {
  static className = 'Conv2D';

  call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor | tf.Tensor[] {
    const self = this as unknown as ConvInternals;
    if (self.dataFormat !== 'channelsLast' || self.dilationRate.some((d) => d !== 1)) return super.call(inputs, kwargs);
    const bn = kwargs.training ? undefined : batchNormFoldedInto(this);
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
      if (bn) {
        // Inference with the following batch norm folded in: one conv with the bias added in XNNPACK.
        const { filter, bias } = foldedFilterAndBias(this, bn);
        return tf.fused.conv2d({ x, filter, strides: self.strides, pad: self.padding, bias });
      }
      let y: tf.Tensor = tf.conv2d(x, self.kernel.read(), self.strides, self.padding);
      if (self.bias) y = tf.add(y, self.bias.read());
      return self.activation ? self.activation.apply(y) : y;
    });
  }

  dispose() {
    releaseFolded(this);
    return super.dispose();
  }
}

tf.serialization.registerClass(LeanConv2D as unknown as tf.serialization.SerializableConstructor<tf.serialization.Serializable>);

export function conv2d(args: { name: string; filters: number; kernelSize: number; strides: number; padding: 'same' | 'valid'; useBias: boolean; kernelInitializer: ReturnType<typeof tf.initializers.heNormal>; biasInitializer?: ReturnType<typeof tf.initializers.heNormal> }): tf.layers.Layer {
  return new LeanConv2D(args);
}
