import * as tf from '../tf.ts';
import { batchNormalization } from '../layers/batch-norm.ts';
import { conv2d } from '../layers/conv2d.ts';
import type { InitScheme } from './architectures.ts';

type T = tf.SymbolicTensor;
type Initializer = ReturnType<typeof tf.initializers.heNormal>;

/**
 * Builds named layers with seeded initializers: the n-th weight-bearing layer of a model gets seed
 * `seed + n`, so the same (architecture, seed) gives the same initial weights on a given backend, and
 * layer names are stable (`<prefix>_conv`, ...) for loading weights by name.
 */
export class LayerBuilder {
  private n = 0;
  constructor(
    private readonly seed: number,
    private readonly scheme: InitScheme = 'zoo',
  ) {}

  /** The next layer seed (reserving `count` of them for a layer with several initialised weights). */
  nextSeed(count = 1): number {
    const seed = this.seed + this.n;
    this.n += count;
    return seed;
  }

  private init(kind: 'he' | 'glorot', fanIn: number): Initializer {
    const seed = this.seed + this.n++;
    if (this.scheme === 'torch') return torchUniform(fanIn, seed);
    return kind === 'he' ? tf.initializers.heNormal({ seed }) : tf.initializers.glorotUniform({ seed });
  }

  /** A bias's initializer: zeros (zoo) or PyTorch's uniform in +-1/sqrt(fan_in) with a seed of its own. */
  private biasInit(fanIn: number): Initializer | undefined {
    return this.scheme === 'torch' ? torchUniform(fanIn, this.nextSeed()) : undefined;
  }

  /**
   * A convolution padded as torchvision's (`padding = kernel // 2` on every side), so imported weights
   * give the same outputs: stride 1 with an odd kernel is TF's 'same'; a strided one gets a
   * ZeroPadding2D layer `<name>_pad` and 'valid' (TF's 'same' would pad the odd pixel at the end only).
   */
  conv(x: T, name: string, filters: number, kernelSize: number, strides = 1, useBias = false): T {
    const [input, padding] = this.torchPadding(x, name, kernelSize, strides);
    const fanIn = channelsOf(x) * kernelSize * kernelSize;
    const kernelInitializer = this.init('he', fanIn);
    return conv2d({ name, filters, kernelSize, strides, padding, useBias, kernelInitializer, biasInitializer: useBias ? this.biasInit(fanIn) : undefined }).apply(input) as T;
  }

  depthwise(x: T, name: string, kernelSize: number, strides = 1): T {
    const [input, padding] = this.torchPadding(x, name, kernelSize, strides);
    // PyTorch's depthwise weight is [C, 1, k, k]: fan_in k * k.
    return tf.layers.depthwiseConv2d({ name, kernelSize, strides, padding, useBias: false, depthwiseInitializer: this.init('he', kernelSize * kernelSize) }).apply(input) as T;
  }

  private torchPadding(x: T, name: string, kernelSize: number, strides: number): [T, 'same' | 'valid'] {
    if (strides === 1 || kernelSize === 1) return [x, kernelSize % 2 === 1 ? 'same' : 'valid'];
    return [this.zeroPad(x, `${name}_pad`, Math.floor(kernelSize / 2)), 'valid'];
  }

  /** A patch embedding: a `patch` x `patch` convolution with stride `patch`, no padding, with bias (ViT, Swin). */
  /** A transformer's patch embedding; `torch`: PyTorch's Conv2d defaults whatever the scheme (torchvision's swin_t keeps them). */
  patchConv(x: T, name: string, filters: number, patch: number, init: 'scheme' | 'torch' = 'scheme'): T {
    const fanIn = channelsOf(x) * patch * patch;
    const kernelInitializer = init === 'torch' ? torchUniform(fanIn, this.nextSeed()) : this.init('he', fanIn);
    const biasInitializer = init === 'torch' ? torchUniform(fanIn, this.nextSeed()) : this.biasInit(fanIn);
    return conv2d({ name, filters, kernelSize: patch, strides: patch, padding: 'valid', useBias: true, kernelInitializer, biasInitializer }).apply(x) as T;
  }

  zeroPad(x: T, name: string, pixels: number): T {
    return tf.layers.zeroPadding2d({ name, padding: pixels }).apply(x) as T;
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

  /** `kernel`: a kernel initializer of the architecture's own (given the layer's seed; bias zero) instead of the scheme's. */
  dense(x: T, name: string, units: number, activation?: 'relu' | 'sigmoid' | 'softmax' | 'swish', kernel?: (seed: number) => Initializer): T {
    const fanIn = channelsOf(x);
    const kernelInitializer = kernel ? kernel(this.nextSeed()) : this.init('glorot', fanIn);
    const biasInitializer = kernel ? undefined : this.biasInit(fanIn);
    return tf.layers.dense({ name, units, activation, kernelInitializer, biasInitializer }).apply(x) as T;
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

  /**
   * torchvision's stem pooling, MaxPool2d(3, stride 2, padding 1): zero padding equals its -inf padding
   * because it follows a ReLU (inputs >= 0).
   */
  stemMaxPool(x: T, name: string): T {
    return tf.layers.maxPooling2d({ name, poolSize: 3, strides: 2, padding: 'valid' }).apply(this.zeroPad(x, `${name}_pad`, 1)) as T;
  }

  /** AvgPool2d(size, stride) without padding (torchvision's DenseNet transitions; floors odd sizes as torch does). */
  avgPool(x: T, name: string, poolSize: number, strides: number): T {
    return tf.layers.averagePooling2d({ name, poolSize, strides, padding: 'valid' }).apply(x) as T;
  }

  globalPool(x: T, name = 'pool'): T {
    return tf.layers.globalAveragePooling2d({ name }).apply(x) as T;
  }
}

function torchUniform(fanIn: number, seed: number): Initializer {
  const bound = 1 / Math.sqrt(fanIn);
  return tf.initializers.randomUniform({ minval: -bound, maxval: bound, seed });
}

/** Channels of a symbolic NHWC tensor. */
export function channelsOf(x: T): number {
  return x.shape[x.shape.length - 1] as number;
}
