import * as tf from '../tf.ts';
import { foldConvBatchNorms } from '../layers/fold-model.ts';
import { LayerBuilder } from '../models/builder.ts';

type T = tf.SymbolicTensor;

export interface AutoencoderSpec {
  inputSize: number;
  channels: 1 | 3;
  seed: number;
  /** Channel multiplier of the 32/64/128/128 filters of the four levels (default 1). */
  width: number;
  /** Channels of the code, a (size / 16) x (size / 16) map (64 px, 16: a 256-number code). */
  bottleneck: number;
}

/** Stride-2 levels of the encoder (and upsampling levels of the decoder): the input size is a multiple of 2^LEVELS. */
export const LEVELS = 4;
const FILTERS = [32, 64, 128, 128];

/**
 * A convolutional autoencoder (docs/training.md, Anomaly detection): four stride-2 conv-BN-ReLU levels down
 * to a (size/16)^2 x `bottleneck` code (1x1 conv `code`), four nearest-upsampling + conv-BN-ReLU levels back,
 * a 3x3 conv with a sigmoid (`reconstruction`, NHWC in [0, 1]) and its flattening `reconstruction_flat`
 * [N, size*size*channels], the training output (the target is the flattened input). Only layers that both
 * ONNX Runtime engines (training steps, inference) implement.
 */
export function buildAutoencoder(spec: AutoencoderSpec): tf.LayersModel {
  if (spec.inputSize % 2 ** LEVELS !== 0) throw new Error(`autoencoder input size ${spec.inputSize} is not a multiple of ${2 ** LEVELS}`);
  const b = new LayerBuilder(spec.seed);
  const filters = levelFilters(spec.width);
  const input = tf.input({ name: 'image', shape: [spec.inputSize, spec.inputSize, spec.channels] });
  let y: T = input;
  for (const [i, f] of filters.entries()) y = b.convBnAct(y, `enc${i + 1}`, f, 3, 2);
  y = b.conv(y, 'code', spec.bottleneck, 1, 1, true);
  const reconstruction = decoder(b, y, filters, spec.channels, { prefix: 'dec', out: 'out_conv', image: 'reconstruction' });
  const flat = tf.layers.reshape({ name: 'reconstruction_flat', targetShape: [spec.inputSize * spec.inputSize * spec.channels] }).apply(reconstruction) as T;
  const model = tf.model({ name: 'autoencoder', inputs: input, outputs: flat });
  foldConvBatchNorms(model);
  return model;
}

/** Filters of the four levels at channel multiplier `width`. */
export function levelFilters(width: number): number[] {
  return FILTERS.map((f) => Math.max(8, Math.round(f * width)));
}

/**
 * The decoder (the autoencoder's, and f-AnoGAN's generator): four nearest-upsampling + conv-BN-ReLU levels
 * `<prefix><level>_*` from a (size/16)^2 code, a 3x3 conv `out` with a sigmoid `image` (NHWC in [0, 1]).
 */
export function decoder(b: LayerBuilder, code: T, filters: readonly number[], channels: number, names: { prefix: string; out: string; image: string }): T {
  let y = code;
  for (let i = LEVELS - 1; i >= 0; i--) {
    y = tf.layers.upSampling2d({ name: `${names.prefix}${i + 1}_up`, size: [2, 2] }).apply(y) as T;
    y = b.convBnAct(y, `${names.prefix}${i + 1}`, filters[i], 3);
  }
  return b.act(b.conv(y, names.out, channels, 3, 1, true), names.image, 'sigmoid');
}

/** Layer names of a mean squared difference built by `meanSquaredDifference`. */
export interface DifferenceNames {
  negate: string;
  residual: string;
  squared: string;
  pool: string;
  mean: string;
}

/**
 * weight * mean((a - b)^2) over positions and channels of two NHWC maps, [N, 1], as layers with fixed
 * weights (a 1x1 conv of -1, add, multiply, global average pooling, a dense of weight/C), so it saves,
 * loads and exports to ONNX like the zoo's layers.
 */
export function meanSquaredDifference(a: T, b: T, names: DifferenceNames, weight = 1): T {
  const channels = a.shape[3] as number;
  const negate = tf.layers.conv2d({ name: names.negate, filters: channels, kernelSize: 1, useBias: false, trainable: false });
  const residual = tf.layers.add({ name: names.residual }).apply([a, negate.apply(b) as T]) as T;
  const squared = tf.layers.multiply({ name: names.squared }).apply([residual, residual]) as T;
  const pooled = tf.layers.globalAveragePooling2d({ name: names.pool }).apply(squared) as T;
  const mean = tf.layers.dense({ name: names.mean, units: 1, useBias: false, trainable: false });
  const out = mean.apply(pooled) as T;
  tf.tidy(() => {
    negate.setWeights([tf.eye(channels).mul(-1).reshape([1, 1, channels, channels])]);
    mean.setWeights([tf.fill([channels, 1], weight / channels)]);
  });
  return out;
}

/**
 * The scoring model over a trained autoencoder's layers (shared weights): image -> `residual` (x - x̂),
 * `squared_residual`, its mean over pixels and channels -> `score` [N, 1], the anomaly score (the
 * reconstruction MSE of the image, the training loss per image). The subtraction and the mean are layers
 * with fixed weights (a 1x1 conv of -1, a dense of 1/C after global average pooling), so the model saves,
 * loads and exports to ONNX like the zoo's. (The autoencoder's batch norms are folded for inference, as the zoo's.)
 */
export function buildScoreModel(autoencoder: tf.LayersModel): tf.LayersModel {
  const input = autoencoder.inputs[0];
  const reconstruction = autoencoder.getLayer('reconstruction').output as T;
  const score = meanSquaredDifference(input, reconstruction, SCORE_NAMES);
  return tf.model({ name: 'anomaly_autoencoder', inputs: input, outputs: score });
}

/** The image residual's layers (the gallery's residual maps read `squared_residual`). */
export const SCORE_NAMES: DifferenceNames = { negate: 'negate', residual: 'residual', squared: 'squared_residual', pool: 'pool', mean: 'score' };

/** Per-image squared residual maps [N, H, W] (summed over channels) of a scoring model: the anomaly heat maps. */
export function residualMaps(scoreModel: tf.LayersModel, images: tf.Tensor4D): { maps: Float32Array[]; height: number; width: number } {
  const squared = scoreModel.getLayer('squared_residual').output as T;
  const probe = tf.model({ inputs: scoreModel.inputs, outputs: squared });
  const summed = tf.tidy(() => (probe.predict(images) as tf.Tensor4D).sum(3));
  const [n, height, width] = summed.shape as [number, number, number];
  const data = summed.dataSync() as Float32Array;
  summed.dispose();
  return { maps: Array.from({ length: n }, (_, i) => data.slice(i * height * width, (i + 1) * height * width)), height, width };
}

/** Mean squared error between reconstructions and their targets (both [N, K]): the training loss. */
export function reconstructionLoss(target: tf.Tensor2D, reconstruction: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.squaredDifference(reconstruction, target)) as tf.Scalar);
}
