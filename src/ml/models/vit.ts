import * as tf from '../tf.ts';
import { ClassTokenAndPosition, ClassTokenSelect, PatchMerging, SwinBlock, swinNormal, TokenLayerNorm, TransformerBlock } from '../layers/transformer.ts';
import type { LayerBuilder } from './builder.ts';

type T = tf.SymbolicTensor;

export interface VitConfig {
  dim: number;
  heads: number;
  depth: number;
  patch: number;
}

/** ViT sizes of DeiT/timm: tiny 192-dim, 3 heads; small 384-dim, 6 heads; 12 blocks, MLP 4x, patch 16. */
export const VIT_SIZES = { 'vit-tiny': { dim: 192, heads: 3, depth: 12, patch: 16 }, 'vit-small': { dim: 384, heads: 6, depth: 12, patch: 16 } } as const;

export interface SwinConfig {
  dim: number;
  depths: number[];
  heads: number[];
  window: number;
  patch: number;
}

/** torchvision's swin_t initialises its head as its other Linear layers. */
export const SWIN_HEAD_INIT = swinNormal;

export const SWIN_TINY: SwinConfig = { dim: 96, depths: [2, 2, 6, 2], heads: [3, 6, 12, 24], window: 7, patch: 4 };

/**
 * Vision Transformer (Dosovitskiy et al. 2021) as torchvision's VisionTransformer: a `patch` x `patch`
 * stride-`patch` conv embedding, a class token and learned position embeddings, 12 pre-norm encoder
 * blocks (LayerNorm eps 1e-6, exact GELU), a final LayerNorm and the class token as the pooled output
 * (layer `pool`). The tokens entering the last block are the layer `features` (Grad-CAM reads the patch
 * tokens there: after the last block only the class token reaches the classifier).
 */
export function vitBody(b: LayerBuilder, x: T, { dim, heads, depth, patch }: VitConfig): T {
  let y = b.patchConv(x, 'patch_embed', dim, patch);
  y = new ClassTokenAndPosition({ name: 'tokens', seed: b.nextSeed() }).apply(y) as T;
  for (let i = 1; i <= depth; i++) {
    if (i === depth) y = tf.layers.activation({ name: 'features', activation: 'linear' }).apply(y) as T;
    y = new TransformerBlock({ name: `block${i}`, dim, heads, mlpDim: 4 * dim, epsilon: 1e-6, seed: b.nextSeed(4) }).apply(y) as T;
  }
  y = new TokenLayerNorm({ name: 'final_norm', epsilon: 1e-6 }).apply(y) as T;
  return new ClassTokenSelect({ name: 'pool' }).apply(y) as T;
}

/**
 * Swin Transformer v1 (Liu et al. 2021) as torchvision's SwinTransformer; `SWIN_TINY` is swin_t: 4x4 patch embedding + LayerNorm,
 * stages of [2, 2, 6, 2] blocks at 96/192/384/768 channels with [3, 6, 12, 24] heads, 7x7 windows
 * shifted by 3 in every second block, patch merging (cat of the 2x2 neighbours, LayerNorm, linear to
 * twice the channels, no bias) between stages, a final LayerNorm (eps 1e-5 throughout). Returns the
 * NHWC map before pooling. Initial weights as torchvision's (whatever the init scheme): normal sd 0.02
 * for every linear kernel (`swinNormal`; the head too, `SWIN_HEAD_INIT`) and the relative position bias
 * table, zero biases, PyTorch's Conv2d defaults for the patch embedding. With Glorot kernels and a
 * He-normal patch conv (3.6x and 2.5x the sd at 96 channels) the first step's gradient norm was 46x
 * torchvision's and Adam at lr 1e-4 drove the softmax past the loss's 1e-7 clipping (docs/training.md).
 */
export function swinBody(b: LayerBuilder, x: T, config: SwinConfig): T {
  const { depths, heads, window, patch } = config;
  let dim = config.dim;
  let y = b.patchConv(x, 'patch_embed', dim, patch, 'torch');
  y = new TokenLayerNorm({ name: 'patch_norm', epsilon: 1e-5 }).apply(y) as T;
  for (const [stage, count] of depths.entries()) {
    for (let i = 0; i < count; i++) {
      y = new SwinBlock({ name: `s${stage + 1}b${i + 1}`, dim, heads: heads[stage], mlpDim: 4 * dim, epsilon: 1e-5, window, shift: i % 2 ? Math.floor(window / 2) : 0, seed: b.nextSeed(8) }).apply(y) as T;
    }
    if (stage < depths.length - 1) {
      y = new PatchMerging({ name: `s${stage + 1}_merge`, epsilon: 1e-5, seed: b.nextSeed() }).apply(y) as T;
      dim *= 2;
    }
  }
  return new TokenLayerNorm({ name: 'final_norm', epsilon: 1e-5 }).apply(y) as T;
}
