import * as tf from '../tf.ts';
import { LayerBuilder } from '../models/builder.ts';
import { LEVELS, SCORE_NAMES, decoder, levelFilters, meanSquaredDifference } from './autoencoder.ts';

type T = tf.SymbolicTensor;

export interface FanoganSpec {
  inputSize: number;
  channels: 1 | 3;
  seed: number;
  /** Channel multiplier of the 32/64/128/128 filters of the four levels (as the autoencoder's). */
  width: number;
  /** Channels of the latent z, a (size / 16) x (size / 16) map of standard normal noise. */
  bottleneck: number;
  /** Weight of the critic-feature residual in the izi_f loss and the score. */
  kappa: number;
}

/** f-AnoGAN's networks, sharing their layers (one set of variables). */
export interface Fanogan {
  /** z -> image in [0, 1]: the autoencoder's decoder. */
  generator: tf.LayersModel;
  /** image -> [N, 1] critic value (no batch norm: WGAN's critic is a function of each image alone). */
  critic: tf.LayersModel;
  /** image -> the critic's last feature layer, f(x) ((size/16)^2 x the last level's filters). */
  features: tf.LayersModel;
  /** image -> z: the izi_f encoder. */
  encoder: tf.LayersModel;
  /** image -> `score` [N, 1]: mean((x - G(E(x)))^2) + kappa * mean((f(x) - f(G(E(x))))^2), the izi_f loss per image. */
  scorer: tf.LayersModel;
  /** Every network's weights, for checkpoints: inputs [image, z], outputs [score, G(z), critic(image)]. */
  bundle: tf.LayersModel;
}

/** Layers of the chain of layers between `input` and `output` (each layer has one input), in order. */
export function chain(input: T, output: T): tf.layers.Layer[] {
  return tf.model({ inputs: input, outputs: output }).layers.slice(1);
}

export const replay = (layers: readonly tf.layers.Layer[], x: T): T => layers.reduce((y, layer) => layer.apply(y) as T, x);

/** Four stride-2 3x3 convs with bias and ReLU, no batch norm (the critic's and the encoder's trunk). */
function trunk(b: LayerBuilder, x: T, filters: readonly number[], prefix: string): T {
  return filters.reduce((y, f, i) => b.act(b.conv(y, `${prefix}${i + 1}_conv`, f, 3, 2, true), `${prefix}${i + 1}_relu`), x);
}

/**
 * f-AnoGAN (Schlegl et al., Medical Image Analysis 54, 2019) at the autoencoder's sizes: the generator is
 * the autoencoder's decoder from z; the critic is four stride-2 conv-ReLU levels without batch norm and a
 * linear head on their flattened output (the last level's output is f, the feature layer of the izi_f loss);
 * the encoder has the critic's trunk and a 1x1 linear conv to z (no batch norm, as the critic: it is
 * trained through a frozen generator). The scoring model applies the encoder, then the generator's and the
 * critic trunk's layers again (shared weights) to the reconstruction, and adds the image residual's mean
 * square (`squared_residual`, the gallery's residual map, as the autoencoder's) and kappa times the feature
 * residual's. Only layers the ONNX exporter knows, so `tta` runs it on ONNX Runtime.
 */
export function buildFanogan(spec: FanoganSpec): Fanogan {
  if (spec.inputSize % 2 ** LEVELS !== 0) throw new Error(`f-AnoGAN input size ${spec.inputSize} is not a multiple of ${2 ** LEVELS}`);
  const b = new LayerBuilder(spec.seed);
  const filters = levelFilters(spec.width);
  const latent = spec.inputSize / 2 ** LEVELS;
  const image = tf.input({ name: 'image', shape: [spec.inputSize, spec.inputSize, spec.channels] });
  const z = tf.input({ name: 'z', shape: [latent, latent, spec.bottleneck] });

  const fx = trunk(b, image, filters, 'critic');
  const criticOut = b.dense(tf.layers.flatten({ name: 'critic_flat' }).apply(fx) as T, 'critic_out', 1);
  const generated = decoder(b, z, filters, spec.channels, { prefix: 'gen', out: 'gen_out_conv', image: 'generated' });
  const code = b.conv(trunk(b, image, filters, 'enc'), 'enc_code', spec.bottleneck, 1, 1, true);

  const reconstruction = replay(chain(z, generated), code);
  const fxh = replay(chain(image, fx), reconstruction);
  const imageTerm = meanSquaredDifference(image, reconstruction, { ...SCORE_NAMES, mean: 'image_score' });
  const featureTerm = meanSquaredDifference(fx, fxh, { negate: 'feature_negate', residual: 'feature_residual', squared: 'squared_feature_residual', pool: 'feature_pool', mean: 'feature_score' }, spec.kappa);
  const score = tf.layers.add({ name: 'score' }).apply([imageTerm, featureTerm]) as T;

  return {
    generator: tf.model({ name: 'fanogan_generator', inputs: z, outputs: generated }),
    critic: tf.model({ name: 'fanogan_critic', inputs: image, outputs: criticOut }),
    features: tf.model({ name: 'fanogan_features', inputs: image, outputs: fx }),
    encoder: tf.model({ name: 'fanogan_encoder', inputs: image, outputs: code }),
    scorer: tf.model({ name: 'anomaly_fanogan', inputs: image, outputs: score }),
    bundle: tf.model({ name: 'fanogan', inputs: [image, z], outputs: [score, generated, criticOut] }),
  };
}

/** The variables of a network's trainable layers (the fixed-weight score layers are not trainable). */
export function variablesOf(model: tf.LayersModel): tf.Variable[] {
  return model.trainableWeights.map((w) => w.read() as tf.Variable);
}

/** Releases the shared variables once (disposing each model would dispose them again). */
export function disposeFanogan(f: Fanogan): void {
  f.bundle.dispose();
}
