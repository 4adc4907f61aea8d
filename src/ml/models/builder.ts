import * as tf from '../tf.ts';
import { batchNormalization } from '../layers/batch-norm.ts';
import { conv2d } from '../layers/conv2d.ts';

type T = tf.SymbolicTensor;

/**
 * Builds named layers with seeded initializers: the n-th weight-bearing layer of a model gets seed
 * `seed + n`, so the same (architecture, seed) gives the same initial weights on a given backend, and
 * layer names are stable (`<prefix>_conv`, ...) for loading weights by name.
 */
export class LayerBuilder {
  private n = 0;
  constructor(private readonly seed: number) {}

  private init(kind: 'he' | 'glorot') {
    const seed = this.seed + this.n++;
    return kind === 'he' ? tf.initializers.heNormal({ seed }) : tf.initializers.glorotUniform({ seed });
  }

  conv(x: T, name: string, filters: number, kernelSize: number, strides = 1, useBias = false): T {
    return conv2d({ name, filters, kernelSize, strides, padding: 'same', useBias, kernelInitializer: this.init('he') }).apply(x) as T;
  }

  depthwise(x: T, name: string, kernelSize: number, strides = 1): T {
    return tf.layers.depthwiseConv2d({ name, kernelSize, strides, padding: 'same', useBias: false, depthwiseInitializer: this.init('he') }).apply(x) as T;
  }

  bn(x: T, name: string): T {
    return batchNormalization({ name, momentum: 0.9, epsilon: 1e-5 }).apply(x) as T;
  }

  act(x: T, name: string, activation: 'relu' | 'relu6' | 'swish' | 'sigmoid' = 'relu'): T {
    if (activation === 'relu6') return tf.layers.reLU({ name, maxValue: 6 }).apply(x) as T;
    if (activation === 'swish') return tf.layers.activation({ name, activation: 'swish' }).apply(x) as T;
    return tf.layers.activation({ name, activation }).apply(x) as T;
  }

  /** conv -> batch norm -> activation (activation `null`: none). */
  convBnAct(x: T, name: string, filters: number, kernelSize: number, strides = 1, activation: 'relu' | 'relu6' | 'swish' | null = 'relu'): T {
    const y = this.bn(this.conv(x, `${name}_conv`, filters, kernelSize, strides), `${name}_bn`);
    return activation ? this.act(y, `${name}_${activation}`, activation) : y;
  }

  dense(x: T, name: string, units: number, activation?: 'relu' | 'sigmoid' | 'softmax' | 'swish'): T {
    return tf.layers.dense({ name, units, activation, kernelInitializer: this.init('glorot') }).apply(x) as T;
  }

  add(xs: T[], name: string): T {
    return tf.layers.add({ name }).apply(xs) as T;
  }

  multiply(xs: T[], name: string): T {
    return tf.layers.multiply({ name }).apply(xs) as T;
  }

  concat(xs: T[], name: string): T {
    return tf.layers.concatenate({ name, axis: -1 }).apply(xs) as T;
  }

  maxPool(x: T, name: string, poolSize: number, strides: number): T {
    return tf.layers.maxPooling2d({ name, poolSize, strides, padding: 'same' }).apply(x) as T;
  }

  avgPool(x: T, name: string, poolSize: number, strides: number): T {
    return tf.layers.averagePooling2d({ name, poolSize, strides, padding: 'same' }).apply(x) as T;
  }

  globalPool(x: T, name = 'pool'): T {
    return tf.layers.globalAveragePooling2d({ name }).apply(x) as T;
  }
}

/** Channels of a symbolic NHWC tensor. */
export function channelsOf(x: T): number {
  return x.shape[x.shape.length - 1] as number;
}
