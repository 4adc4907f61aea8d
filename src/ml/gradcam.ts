import * as tf from './tf.ts';
import { unfoldConv } from './layers/conv-bn-fold.ts';

/**
 * The layer Grad-CAM looks at: the named one, else the zoo's `features` layer (last conv block
 * output), else the last layer with a 4-D (NHWC) output.
 */
export function camLayerIndex(model: tf.LayersModel, name?: string): number {
  const layers = model.layers;
  const want = name ?? (layers.some((l) => l.name === 'features') ? 'features' : undefined);
  if (want) {
    const i = layers.findIndex((l) => l.name === want);
    if (i < 0) throw new Error(`model has no layer "${want}" (layers: ${layers.map((l) => l.name).join(', ')})`);
    return i;
  }
  for (let i = layers.length - 1; i >= 0; i--) if ((layers[i].outputShape as number[]).length === 4) return i;
  throw new Error('model has no layer with a 4-D (image-like) output for Grad-CAM');
}

/**
 * The layers after `index` up to the class score (the `logits` layer when present, else the output),
 * as a chain each feeding the next; Grad-CAM differentiates the score through them.
 */
export function headChain(model: tf.LayersModel, index: number): tf.layers.Layer[] {
  const layers = model.layers;
  const end = layers.findIndex((l) => l.name === 'logits');
  const head = layers.slice(index + 1, (end > index ? end : layers.length - 1) + 1);
  let previous = layers[index];
  for (const layer of head) {
    const inbound = layer.inboundNodes[0]?.inboundLayers ?? [];
    if (inbound.length !== 1 || inbound[0] !== previous) {
      throw new Error(`Grad-CAM needs a plain chain of layers after "${layers[index].name}"; "${layer.name}" is fed by ${inbound.map((l) => l.name).join(', ') || 'nothing'}`);
    }
    previous = layer;
  }
  return head;
}

/**
 * Feature maps as NHWC: a CNN's as they are; a ViT's tokens [N, T, D] without the leading class token(s)
 * as the square patch grid (as pytorch-grad-cam's reshape_transform for ViTs).
 */
function tokenGrid(x: tf.Tensor): tf.Tensor4D {
  if (x.rank === 4) return x as tf.Tensor4D;
  if (x.rank !== 3) throw new Error(`Grad-CAM needs feature maps [N,H,W,C] or tokens [N,T,D], got rank ${x.rank}`);
  const [n, t, d] = x.shape as [number, number, number];
  const side = Math.floor(Math.sqrt(t));
  return tf.reshape(tf.slice(x, [0, t - side * side, 0], [-1, side * side, -1]), [n, side, side, d]);
}

export interface CamResult {
  /** Per image: the CAM at the layer's resolution (h×w, ReLU'd, scaled to max 1; all 0 when nothing is positive). */
  maps: Float32Array[];
  height: number;
  width: number;
  /** The model's class score per image (after the head's last layer). */
  scores: number[];
}

/**
 * Grad-CAM (Selvaraju et al. 2017): weights α_k = spatial mean of ∂score/∂A_k over the chosen layer's
 * feature maps A, CAM = ReLU(Σ_k α_k A_k), normalised per image.
 */
export function gradCam(model: tf.LayersModel, images: tf.Tensor4D, classIndex: number, layerName?: string): CamResult {
  const index = camLayerIndex(model, layerName);
  // A conv chosen by name must give its own output, not the batch norm folded into it for inference.
  unfoldConv(model.layers[index]);
  const head = headChain(model, index);
  const trunk = tf.model({ inputs: model.inputs, outputs: model.layers[index].output as tf.SymbolicTensor });
  const [cams, scores] = tf.tidy(() => {
    const output = trunk.predict(images) as tf.Tensor;
    const applyHead = (a: tf.Tensor) => head.reduce<tf.Tensor>((t, layer) => layer.apply(t) as tf.Tensor, a) as tf.Tensor2D;
    const scoreOf = (a: tf.Tensor) => applyHead(a).slice([0, classIndex], [-1, 1]).sum();
    const features = tokenGrid(output);
    const grads = tokenGrid(tf.grad(scoreOf)(output));
    const alpha = grads.mean([1, 2], true);
    const cam = tf.relu(features.mul(alpha).sum(3));
    const max = cam.max([1, 2], true);
    const normalised = tf.where(max.greater(0), cam.div(tf.maximum(max, 1e-12)), tf.zerosLike(cam));
    return [normalised, applyHead(output).slice([0, classIndex], [-1, 1]).reshape([-1])] as [tf.Tensor3D, tf.Tensor1D];
  });
  const [n, h, w] = cams.shape;
  const flat = cams.dataSync() as Float32Array;
  const result: CamResult = { maps: Array.from({ length: n }, (_, i) => flat.slice(i * h * w, (i + 1) * h * w)), height: h, width: w, scores: Array.from(scores.dataSync()) };
  cams.dispose();
  scores.dispose();
  return result;
}
