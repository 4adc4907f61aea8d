import type * as tf from '../tf.ts';
import { relativePositionIndex, SwinBlock } from '../layers/transformer.ts';
import { asLinear, f32, type OnnxLayer } from './onnx-layers.ts';
import { resizeBicubic } from './resize-bicubic.ts';

/** The zoo's transformer layers whose weights come from an ONNX export (timm's VisionTransformer and SwinTransformer). */
export const TRANSFORMER_CLASSES = new Set(['ClassTokenAndPosition', 'TransformerBlock', 'TokenLayerNorm', 'SwinBlock', 'PatchMerging']);

type Fail = (expected: string, found?: OnnxLayer) => never;

/**
 * The values for one transformer layer's weights (in its weight order) from the ONNX layers starting
 * at `start`: each LayerNorm (gamma, beta) takes a LayerNormalization, each kernel (+ bias) a linear
 * layer, the class token and the position embedding a learned tensor of the same shape, and Swin's
 * relative position bias table the [1, heads, T, T] bias the exporter folded it into (it comes between
 * qkv and the output projection there). `consumed` is the number of ONNX layers used.
 */
export function transformerLayerWeights(layer: tf.layers.Layer, theirs: OnnxLayer[], start: number, fail: Fail): { values: Float32Array[]; consumed: number; resampled?: GridChange } {
  const weights = graphOrder(layer.weights);
  const values: Float32Array[] = [];
  let resampled: GridChange | undefined;
  let j = start;
  for (let k = 0; k < weights.length; j++) {
    const name = weights[k].originalName;
    const shape = weights[k].shape as number[];
    const base = name.slice(name.lastIndexOf('/') + 1);
    const t = theirs[j];
    if (base === 'gamma') {
      const epsilon = (layer.getConfig() as { epsilon: number }).epsilon;
      const expected = `a layer norm of ${shape[0]} channels, epsilon ${epsilon} (${name})`;
      if (t?.kind !== 'layernorm' || t.scale.dims.length !== 1 || t.scale.dims[0] !== shape[0]) fail(expected, t);
      const ln = t as Extract<OnnxLayer, { kind: 'layernorm' }>;
      // a different epsilon changes the outputs; float32 rounding of the attribute is tolerated
      if (Math.abs(ln.epsilon - epsilon) > 1e-3 * epsilon) fail(expected, ln);
      values.push(f32(ln.scale), ln.bias ? f32(ln.bias) : new Float32Array(shape[0]));
      k += 2;
    } else if (base === 'kernel') {
      const [inputs, outputs] = shape;
      const hasBias = weights[k + 1]?.originalName === name.replace(/kernel$/, 'bias');
      const linear = t ? asLinear(t) : undefined;
      if (!linear || linear.inputs !== inputs || linear.outputs !== outputs) fail(`a linear layer ${inputs} -> ${outputs} (${name})`, t);
      if (!hasBias && linear!.bias?.some((v) => v !== 0)) fail(`a linear layer ${inputs} -> ${outputs} without a bias (${name})`, t);
      values.push(linear!.weight);
      if (hasBias) values.push(linear!.bias ?? new Float32Array(outputs));
      k += hasBias ? 2 : 1;
    } else if (base === 'class_token') {
      if (t?.kind !== 'param' || t.tensor.dims.join() !== shape.join()) fail(`a class token [${shape.join(', ')}]`, t);
      values.push(f32((t as Extract<OnnxLayer, { kind: 'param' }>).tensor));
      k += 1;
    } else if (base === 'pos_embedding') {
      const { value, change } = positionEmbedding(shape, t, name, fail);
      values.push(value);
      resampled = change;
      k += 1;
    } else if (base === 'relative_position_bias_table') {
      const [entries, heads] = shape;
      const ws = (Math.sqrt(entries) + 1) / 2;
      const tokens = ws * ws;
      const expected = `a relative position bias [1, ${heads}, ${tokens}, ${tokens}] of ${ws}x${ws} windows (${name})`;
      if (t?.kind !== 'param' || t.tensor.dims.join() !== [1, heads, tokens, tokens].join()) fail(`${expected}${shrunkWindow(t, heads, tokens)}`, t);
      const table = tableFromBias(f32((t as Extract<OnnxLayer, { kind: 'param' }>).tensor), ws, heads);
      if (!table) fail(`${expected} indexed by relative position as in Swin v1 (equal offsets, equal bias)`, t);
      values.push(table!);
      k += 1;
    } else {
      fail(`${name}, which the ONNX import cannot recover (${layer.getClassName()} weights from ONNX are not supported)`, t);
    }
  }
  return { values: layer.weights.map((w) => values[weights.indexOf(w)]), consumed: j - start, resampled };
}

/** A position embedding's square patch grid before and after resampling (g for g x g), and whose way it was resampled. */
export interface GridChange {
  from: number;
  to: number;
  as: 'torchvision' | 'timm';
}

/**
 * The position embedding [1, 1 + g^2, D] from the export's, resampled when the export's grid differs
 * (the class token's embedding kept): as torchvision's `interpolate_embeddings` (bicubic, align_corners)
 * for a torchvision export, else as timm's `resample_abs_pos_embed` (bicubic with antialias, timm's
 * defaults). The patch size was checked at the patch-embedding conv.
 */
function positionEmbedding(shape: number[], t: OnnxLayer | undefined, name: string, fail: Fail): { value: Float32Array; change?: GridChange } {
  const [, tokens, dim] = shape;
  const to = Math.sqrt(tokens - 1);
  const expected = `a position embedding [${shape.join(', ')}] (${name}: a class token and a ${to}x${to} patch grid)`;
  if (t?.kind !== 'param' || t.tensor.dims.length !== 3 || t.tensor.dims[0] !== 1 || t.tensor.dims[2] !== dim) fail(expected, t);
  const param = t as Extract<OnnxLayer, { kind: 'param' }>;
  const theirs = f32(param.tensor);
  const theirTokens = theirs.length / dim;
  if (theirTokens === tokens) return { value: theirs };
  const from = Math.round(Math.sqrt(theirTokens - 1));
  if (from < 1 || from * from !== theirTokens - 1) {
    fail(`${expected}, or one of 1 + g^2 tokens of a square grid to resample; ${theirTokens} tokens are not (a non-square export, or another number of class/register tokens; export a square img_size)`, t);
  }
  const as = exportedBy(param);
  const grid = resizeBicubic(theirs.subarray(dim), from, from, dim, to, to, as === 'torchvision' ? { alignCorners: true } : { antialias: true });
  const value = new Float32Array(tokens * dim);
  value.set(theirs.subarray(0, dim));
  value.set(grid, dim);
  return { value, change: { from, to, as } };
}

/**
 * torchvision's VisionTransformer names its position embedding `encoder.pos_embedding` (timm's is
 * `pos_embed`), and torch.onnx.export keeps parameter names on the initializers it writes; the two
 * graphs are otherwise alike where the embedding is added. Any other name is treated as timm's.
 */
function exportedBy(param: Extract<OnnxLayer, { kind: 'param' }>): GridChange['as'] {
  return /(^|[./])encoder[./]pos_embedding$/.test(param.tensor.name) ? 'torchvision' : 'timm';
}

/**
 * The weights in the order the exported graph uses them: Swin's bias table before the output
 * projection, patch merging's LayerNorm before its reduction.
 */
function graphOrder<W extends { originalName: string }>(weights: W[]): W[] {
  return moveBefore(moveBefore(weights, ['/relative_position_bias_table'], '/attn/proj/kernel'), ['/norm/gamma', '/norm/beta'], '/reduction/kernel');
}

function moveBefore<W extends { originalName: string }>(weights: W[], moved: string[], before: string): W[] {
  const ends = (w: W, suffix: string) => w.originalName.endsWith(suffix);
  const target = weights.find((w) => ends(w, before));
  const move = weights.filter((w) => moved.some((m) => ends(w, m)));
  if (!target || move.length !== moved.length) return weights;
  const rest = weights.filter((w) => !move.includes(w));
  rest.splice(rest.indexOf(target), 0, ...move);
  return rest;
}

/** A hint when the export's bias is that of smaller windows: timm shrinks them to grids below the window (a Swin created at a small img_size). */
function shrunkWindow(t: OnnxLayer | undefined, heads: number, tokens: number): string {
  if (t?.kind !== 'param') return '';
  const [one, h, a, b] = t.tensor.dims;
  const side = Math.sqrt(a);
  if (one !== 1 || h !== heads || a !== b || a >= tokens || !Number.isInteger(side)) return '';
  return `; the export has ${side}x${side} windows here (timm shrinks windows at img_size below 224 px): export the Swin at 224 px, its weights load at any size`;
}

/** The [(2w-1)^2, heads] table from its [heads, T, T] gather; undefined when equal offsets carry different biases. */
function tableFromBias(bias: Float32Array, ws: number, heads: number): Float32Array | undefined {
  const index = relativePositionIndex(ws);
  const entries = (2 * ws - 1) ** 2;
  const table = new Float32Array(entries * heads).fill(NaN);
  for (let h = 0; h < heads; h++) {
    for (let p = 0; p < index.length; p++) {
      const v = bias[h * index.length + p];
      const at = index[p] * heads + h;
      if (Number.isNaN(table[at])) table[at] = v;
      else if (table[at] !== v) return undefined;
    }
  }
  return table;
}

/** Where the zoo's Swin pads its windows (torchvision's way) at this image size, and what timm does there instead. */
export interface SwinWindowPadding {
  /** Every padded grid, e.g. ['32x32', '4x4']. */
  grids: string[];
  /** Grids smaller than the window: timm shrinks the window to the grid (and its bias table with it). */
  timmShrinks: string[];
  /** Padded grids of shifted blocks: timm shifts before padding, torchvision after (another shifted-window mask). */
  timmShiftsFirst: string[];
}

/** The Swin blocks' padded windows (undefined when every grid is a multiple of the window, where timm and torchvision agree). */
export function swinWindowPadding(calls: Array<{ layer: tf.layers.Layer; inputShape: number[] }>): SwinWindowPadding | undefined {
  const out: SwinWindowPadding = { grids: [], timmShrinks: [], timmShiftsFirst: [] };
  const add = (list: string[], grid: string) => list.includes(grid) || list.push(grid);
  for (const { layer, inputShape } of calls) {
    if (!(layer instanceof SwinBlock)) continue;
    const [, h, w] = inputShape;
    const { window: ws, shift } = layer.args;
    if (h % ws === 0 && w % ws === 0) continue;
    const grid = `${h}x${w}`;
    add(out.grids, grid);
    if (h < ws || w < ws) add(out.timmShrinks, grid);
    else if (shift > 0) add(out.timmShiftsFirst, grid);
  }
  return out.grids.length ? out : undefined;
}
