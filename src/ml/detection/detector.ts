import * as tf from '../tf.ts';
import { LayerBuilder } from '../models/builder.ts';
import { cspDarknetStages } from '../models/csp-darknet.ts';
import { resnetStages } from '../models/resnet.ts';
import { foldConvBatchNorms } from '../layers/fold-model.ts';
import { conv2d } from '../layers/conv2d.ts';
import type { DetectorBackbone } from './detector-spec.ts';

export { detectorBackbones, type DetectorBackbone } from './detector-spec.ts';

type T = tf.SymbolicTensor;

export interface DetectorSpec {
  backbone: DetectorBackbone;
  /** Input width in pixels; a multiple of 32 (the coarsest stride). */
  inputSize: number;
  /** Input height in pixels, a multiple of 32 (default: inputSize, square). */
  inputHeight?: number;
  channels: 1 | 3;
  classes: number;
  seed?: number;
  /** Backbone channel multiplier (default 1). */
  width?: number;
  /** `fpn` (top-down) or `pan` (top-down then bottom-up, as YOLOv5/v8). */
  neck: 'fpn' | 'pan';
  /** Channels of the neck and head. */
  neckChannels: number;
  /** 3x3 conv-BN-ReLU layers of each level's head before its output convolution. */
  headConvs: number;
  /**
   * `shared`: one tower of `headConvs` layers per level feeds one output convolution (box, centerness and
   * classes); `decoupled` (default): a classification tower and a box tower per level (FCOS, RetinaNet,
   * YOLOX), the box tower also giving centerness as FCOS does.
   */
  head?: 'shared' | 'decoupled';
}

/** Per output value of an anchor point: 4 box distances (l, t, r, b), centerness, then one logit per class. */
export const BOX_CHANNELS = 4;
export const CENTERNESS_CHANNEL = 4;
export const CLASS_OFFSET = 5;

export const DETECTOR_STRIDES = [8, 16, 32] as const;

/** Bias of the class logits at start: sigmoid(b) = .01, the focal-loss prior (Lin et al. 2017). */
const CLASS_PRIOR_BIAS = -Math.log((1 - 0.01) / 0.01);

export interface PyramidLevel {
  stride: number;
  height: number;
  width: number;
}

/** The grid of every output level for a `inputSize` x `inputHeight` input (`same` padding: ceil(size / stride)). */
export function pyramidLevels(inputSize: number, inputHeight = inputSize): PyramidLevel[] {
  return DETECTOR_STRIDES.map((stride) => ({ stride, height: Math.ceil(inputHeight / stride), width: Math.ceil(inputSize / stride) }));
}

/**
 * An anchor-free one-stage detector (FCOS-style head on an FPN/PAN neck): backbone features at strides
 * 8, 16, 32; per level a box tower and a class tower of `headConvs` conv-BN-ReLU layers each, with 1x1
 * output convolutions of 5 (box, centerness) and `classes` channels concatenated (or one shared tower, `head: shared`); the levels' outputs flattened row-major and concatenated into one output
 * `detections` [N, A, 5 + classes] of raw values (A = sum of the grids' cells). Not shared across
 * levels, as in YOLOv5/v8: each level's head learns its own scale.
 */
export function buildDetector(spec: DetectorSpec, options: { foldBatchNorms?: boolean } = {}): tf.LayersModel {
  const height = spec.inputHeight ?? spec.inputSize;
  if (spec.inputSize % 32 !== 0 || height % 32 !== 0) throw new Error(`detector input ${spec.inputSize} x ${height} is not a multiple of 32`);
  const b = new LayerBuilder(spec.seed ?? 42);
  const input = tf.input({ name: 'image', shape: [height, spec.inputSize, spec.channels] });
  const features = backboneOf(spec, b, input);
  const f = spec.neckChannels;
  // FPN: lateral 1x1 convolutions, top-down nearest upsampling and sums, a 3x3 smoothing conv per level
  const lateral = features.map((c, i) => b.convBnAct(c, `fpn_lateral${i + 3}`, f, 1));
  const topDown: T[] = [lateral[2]];
  for (let i = 1; i >= 0; i--) {
    const up = tf.layers.upSampling2d({ name: `fpn_up${i + 4}`, size: [2, 2] }).apply(topDown[0]) as T;
    topDown.unshift(b.add([lateral[i], up], `fpn_merge${i + 3}`));
  }
  let levels = topDown.map((p, i) => b.convBnAct(p, `fpn_smooth${i + 3}`, f, 3));
  if (spec.neck === 'pan') {
    const bottomUp: T[] = [levels[0]];
    for (let i = 1; i < 3; i++) {
      const down = b.convBnAct(bottomUp[i - 1], `pan_down${i + 3}`, f, 3, 2);
      bottomUp.push(b.convBnAct(b.add([levels[i], down], `pan_merge${i + 3}`), `pan_smooth${i + 3}`, f, 3));
    }
    levels = bottomUp;
  }
  const outChannels = CLASS_OFFSET + spec.classes;
  const tower = (p: T, name: string) => {
    let h = p;
    for (let k = 0; k < spec.headConvs; k++) h = b.convBnAct(h, `${name}_${k + 1}`, f, 3);
    return h;
  };
  const output = (h: T, name: string, filters: number, seed: number) =>
    conv2d({ name, filters, kernelSize: 1, strides: 1, padding: 'same', useBias: true, kernelInitializer: tf.initializers.randomNormal({ mean: 0, stddev: 0.01, seed }) as ReturnType<typeof tf.initializers.heNormal> }).apply(h) as T;
  const seed = spec.seed ?? 42;
  const decoupled = (spec.head ?? 'decoupled') === 'decoupled';
  const heads = levels.map((p, i) => {
    const name = `head${i + 3}`;
    const out = decoupled
      ? (tf.layers.concatenate({ name: `${name}_out`, axis: -1 }).apply([output(tower(p, `${name}_reg`), `${name}_reg_out`, CLASS_OFFSET, seed + 1000 + i), output(tower(p, `${name}_cls`), `${name}_cls_out`, spec.classes, seed + 2000 + i)]) as T)
      : output(tower(p, name), `${name}_out`, outChannels, seed + 1000 + i);
    const [gh, gw] = out.shape.slice(1, 3) as number[];
    return tf.layers.reshape({ name: `${name}_flat`, targetShape: [gh * gw, outChannels] }).apply(out) as T;
  });
  const detections = tf.layers.concatenate({ name: 'detections', axis: 1 }).apply(heads) as T;
  const model = tf.model({ name: `detector_${spec.backbone.replace(/-/g, '_')}`, inputs: input, outputs: detections });
  for (let i = 0; i < levels.length; i++) {
    // class logits start at the focal-loss prior; box and centerness biases at 0
    const layer = model.getLayer(decoupled ? `head${i + 3}_cls_out` : `head${i + 3}_out`);
    const [kernel] = layer.getWeights();
    const bias = new Float32Array(decoupled ? spec.classes : outChannels);
    bias.fill(CLASS_PRIOR_BIAS, decoupled ? 0 : CLASS_OFFSET);
    layer.setWeights([kernel, tf.tensor1d(bias)]);
  }
  if (options.foldBatchNorms ?? true) foldConvBatchNorms(model);
  return model;
}

function backboneOf(spec: DetectorSpec, b: LayerBuilder, x: T): T[] {
  switch (spec.backbone) {
    case 'resnet18':
      return resnetStages(b, x, [2, 2, 2, 2], spec.width).slice(1);
    case 'resnet34':
      return resnetStages(b, x, [3, 4, 6, 3], spec.width).slice(1);
    case 'csp-nano':
      return cspDarknetStages(b, x, spec.width);
  }
}

