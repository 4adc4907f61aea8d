import * as tf from '../tf.ts';
import type { InitScheme } from './architectures.ts';
import { LayerBuilder } from './builder.ts';
import { foldConvBatchNorms } from '../layers/fold-model.ts';
import { InputNormalizationLayer } from '../layers/input-normalization.ts';
import type { InputNormalization } from '../normalize-param.ts';
import { densenetBody } from './densenet.ts';
import { efficientnetB0Body, mobilenetV2Body } from './mobilenet.ts';
import { resnetBody } from './resnet.ts';
import { cspDarknetStages } from './csp-darknet.ts';
import { smallCnnBody } from './small-cnn.ts';
import { SWIN_HEAD_INIT, SWIN_TINY, swinBody, VIT_SIZES, vitBody, type SwinConfig, type VitConfig } from './vit.ts';

import type { Architecture, Stem } from './architectures.ts';
export { initSchemes, type InitScheme } from './architectures.ts';
export { architectures, resolveStem, stems, type Architecture, type Stem, type StemOption } from './architectures.ts';
export type Task = 'binary' | 'multiclass' | 'multilabel';

export interface ModelSpec {
  arch: Architecture;
  inputSize: number;
  channels: 1 | 3;
  /** Output units: one per class (binary: usually 1). */
  classes: number;
  task: Task;
  seed?: number;
  /** Channel width multiplier for small-cnn, the ResNets and csp-nano (default 1). */
  width?: number;
  /** Dropout before the classifier (default 0). */
  dropout?: number;
  /** First layers of the CNNs (default `imagenet`; small-cnn and the transformers have none). */
  stem?: Stem;
  /** Patch size of the transformers (default ViT 16, Swin 4). */
  patch?: number;
  /** Initial weights' scheme (default `zoo`; `torch`: PyTorch's layer defaults). */
  init?: InitScheme;
  /** (x - mean) / std per channel as the model's first layer, `normalize` (default: none, the [0, 1] input as it is). */
  normalize?: InputNormalization;
}

/**
 * Builds a zoo model: the architecture's body, global average pooling, optional dropout and a dense head
 * giving probabilities (sigmoid for binary/multi-label, softmax for multi-class). The layer before the
 * activation is named `logits`, the head activation `probs`; the last conv block output is `features`.
 * Inference folds each conv's batch norm into it (`foldBatchNorms`, default true; training unaffected).
 * With `normalize` the input first goes through an InputNormalization layer named `normalize`.
 */
export function buildModel(spec: ModelSpec, options: { foldBatchNorms?: boolean; /** Other transformer sizes than the named ones (tests). */ transformer?: Partial<VitConfig> | Partial<SwinConfig>; /** Shallower DenseNet / MobileNetV2 of the same design (tests). */ depth?: ShallowerCnn } = {}): tf.LayersModel {
  const b = new LayerBuilder(spec.seed ?? 42, spec.init);
  const input = tf.input({ name: 'image', shape: [spec.inputSize, spec.inputSize, spec.channels] });
  const normalized = spec.normalize ? (new InputNormalizationLayer({ name: 'normalize', ...spec.normalize }).apply(input) as tf.SymbolicTensor) : input;
  const body = bodyOf(spec, b, normalized, options.transformer, options.depth);
  // A CNN body ends in a feature map (pooled here); a ViT body pools itself (class token) and marks its own `features`.
  let y = body.rank === 2 ? body : b.globalPool(tf.layers.activation({ name: 'features', activation: 'linear' }).apply(body) as tf.SymbolicTensor, 'pool');
  if (spec.dropout) y = tf.layers.dropout({ name: 'dropout', rate: spec.dropout, seed: spec.seed }).apply(y) as tf.SymbolicTensor;
  const logits = b.dense(y, 'logits', spec.classes, undefined, spec.arch === 'swin-tiny' ? SWIN_HEAD_INIT : undefined);
  const probs = tf.layers.activation({ name: 'probs', activation: spec.task === 'multiclass' ? 'softmax' : 'sigmoid' }).apply(logits) as tf.SymbolicTensor;
  const model = tf.model({ name: spec.arch.replace(/-/g, '_'), inputs: input, outputs: probs });
  if (options.foldBatchNorms ?? true) foldConvBatchNorms(model);
  return model;
}

/** DenseNet's dense-block lengths and growth, MobileNetV2's stages ([expansion, channels, repeats, stride] rows). */
export interface ShallowerCnn {
  blocks?: number[];
  growth?: number;
  stages?: number[][];
}

function bodyOf(spec: ModelSpec, b: LayerBuilder, x: tf.SymbolicTensor, sizes: Partial<VitConfig> | Partial<SwinConfig> = {}, depth: ShallowerCnn = {}): tf.SymbolicTensor {
  switch (spec.arch) {
    case 'small-cnn':
      return smallCnnBody(b, x, spec.width);
    case 'resnet18':
      return resnetBody(b, x, [2, 2, 2, 2], spec.width, 'basic', spec.stem);
    case 'resnet34':
      return resnetBody(b, x, [3, 4, 6, 3], spec.width, 'basic', spec.stem);
    case 'resnet50':
      return resnetBody(b, x, [3, 4, 6, 3], spec.width, 'bottleneck', spec.stem);
    case 'densenet121':
      return densenetBody(b, x, spec.stem, depth.blocks, depth.growth);
    case 'mobilenetv2':
      return mobilenetV2Body(b, x, spec.stem, depth.stages);
    case 'efficientnet-b0':
      return efficientnetB0Body(b, x, spec.stem);
    case 'csp-nano':
      return cspDarknetStages(b, x, spec.width).at(-1)!;
    case 'vit-tiny':
    case 'vit-small':
      return vitBody(b, x, { ...VIT_SIZES[spec.arch], ...(sizes as Partial<VitConfig>), patch: spec.patch ?? VIT_SIZES[spec.arch].patch });
    case 'swin-tiny':
      return swinBody(b, x, { ...SWIN_TINY, ...(sizes as Partial<SwinConfig>), patch: spec.patch ?? SWIN_TINY.patch });
  }
}
