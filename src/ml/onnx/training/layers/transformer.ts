import { ClassTokenAndPosition, PatchMerging, relativePositionIndex, shiftedWindowMask, SwinBlock, TokenLayerNorm, TransformerBlock } from '../../../layers/transformer.ts';
import { UnsupportedLayerError } from '../../errors.ts';
import { registerLayerEmitter } from './registry.ts';
import type { EmitContext, Emitted, LayerVariable } from './types.ts';
import { Tape } from './tape.ts';

/**
 * Training-graph emitters of the transformer layers (src/ml/layers/transformer.ts): the same maths as
 * their tfjs `call`, written on a Tape that derives each block's backward pass. Token sequences [N, T, D]
 * are as in tfjs; rank-4 maps arrive NCHW (the graph's layout) and Swin's layers work on them as NHWC
 * between a transpose in and out.
 */

type Dims = number[];

type LayerEmitter = (ctx: EmitContext) => Emitted;

const fail = (ctx: EmitContext, reason: string): never => {
  throw new UnsupportedLayerError(ctx.layer.name, ctx.layer.getClassName(), reason);
};
const known = (ctx: EmitContext, shape: ReadonlyArray<number | null>): Dims => {
  if (shape.slice(1).some((d) => d === null)) fail(ctx, `unknown dimensions in [${shape.join(', ')}]`);
  return shape.slice(1) as Dims;
};

/**
 * Runs `forward` on a tape with the layer's input and weights (as graph values) and returns the emitted
 * layer: its backward asks the tape for the input's gradient (if wanted) and every weight's.
 */
function onTape(ctx: EmitContext, variables: readonly LayerVariable[], forward: (t: Tape, x: string, w: string[]) => string): Emitted {
  const t = new Tape(ctx.g, ctx.layer.name);
  const x = ctx.inputs[0].name;
  const w = variables.map((v) => ctx.weight(v));
  const output = forward(t, x, w);
  return {
    output,
    backward(dy, [wantInput]) {
      const trainable = new Set(ctx.layer.trainableWeights);
      if (variables.some((v) => !trainable.has(v))) fail(ctx, 'frozen weights');
      t.backward(output, dy, wantInput ? [x, ...w] : w);
      return { inputs: [wantInput ? t.gradOf(x) : undefined], weights: variables.map((v, i) => [v, t.gradOf(w[i])!] as [LayerVariable, string]) };
    },
  };
}

interface AttentionWeights {
  qkvW: string;
  qkvB: string;
  outW: string;
  outB: string;
}

/** Multi-head self-attention over [B, T, D] tokens; `bias` edits the scores [B, heads, T, T] before the softmax. */
function attention(t: Tape, x: string, tokens: number, dim: number, heads: number, w: AttentionWeights, bias?: (scores: string) => string): string {
  const dh = dim / heads;
  const qkv = t.reshape(t.linear(x, [tokens, dim], w.qkvW, 3 * dim, w.qkvB), [-1, tokens, 3, heads, dh], [-1, tokens, 3 * dim]);
  const parts = t.split(t.transpose(qkv, [2, 0, 3, 1, 4]), 0, [1, 1, 1]); // 3 x [1, B, H, T, dh]
  const [q, k, v] = parts.map((p) => t.reshape(p, [-1, heads, tokens, dh], [1, -1, heads, tokens, dh]));
  let scores = t.matmul(t.scale(q, 1 / Math.sqrt(dh)), t.transpose(k, [0, 1, 3, 2]), 4);
  if (bias) scores = bias(scores);
  const o = t.matmul(t.softmax(scores, 4), v, 4); // [B, H, T, dh]
  const merged = t.reshape(t.transpose(o, [0, 2, 1, 3]), [-1, tokens, dim], [-1, tokens, heads, dh]);
  return t.linear(merged, [tokens, dim], w.outW, dim, w.outB);
}

/** The block weights in `addBlockWeights` order as graph values. */
function blockValues(w: string[]) {
  const [ln1g, ln1b, qkvW, qkvB, outW, outB, ln2g, ln2b, fc1W, fc1B, fc2W, fc2B] = w;
  return { ln1g, ln1b, attn: { qkvW, qkvB, outW, outB }, ln2g, ln2b, fc1W, fc1B, fc2W, fc2B };
}

/** x + MLP(LN(x)) on values of static dims `dims` (channels last). */
function mlpResidual(t: Tape, x: string, dims: Dims, b: ReturnType<typeof blockValues>, mlpDim: number, epsilon: number): string {
  const rank = dims.length + 1;
  const d = dims[dims.length - 1];
  const h = t.layerNorm(x, b.ln2g, b.ln2b, epsilon, rank - 1, rank, [d]);
  const hidden = t.gelu(t.linear(h, dims, b.fc1W, mlpDim, b.fc1B));
  return t.add(x, t.linear(hidden, [...dims.slice(0, -1), mlpDim], b.fc2W, d, b.fc2B));
}

const blockVariables = (w: ReturnType<TransformerBlock['weightsOf']>): LayerVariable[] => [w.ln1g, w.ln1b, w.qkvW, w.qkvB, w.outW, w.outB, w.ln2g, w.ln2b, w.fc1W, w.fc1B, w.fc2W, w.fc2B];

function transformerBlock(ctx: EmitContext): Emitted {
  const layer = ctx.layer as TransformerBlock;
  const { heads, mlpDim, epsilon } = layer.args;
  const [tokens, dim] = known(ctx, ctx.inputs[0].shape);
  return onTape(ctx, blockVariables(layer.weightsOf()), (t, x, w) => {
    const b = blockValues(w);
    const h = t.layerNorm(x, b.ln1g, b.ln1b, epsilon, 2, 3, [dim]);
    const y = t.add(x, attention(t, h, tokens, dim, heads, b.attn));
    return mlpResidual(t, y, [tokens, dim], b, mlpDim, epsilon);
  });
}

/** NCHW [N, D, h, w] -> [N, 1 + h*w, D]: class token in front, plus position embeddings. */
function classTokenAndPosition(ctx: EmitContext): Emitted {
  const [h, w, d] = known(ctx, ctx.inputs[0].shape);
  const [classToken, position] = ctx.layer.weights;
  if (!(ctx.layer instanceof ClassTokenAndPosition) || !classToken || !position) return fail(ctx, 'not built');
  return onTape(ctx, [classToken, position], (t, x, [cls, pos]) => {
    const tokens = t.transpose(t.reshape(x, [-1, d, h * w], [-1, d, h, w]), [0, 2, 1]);
    const all = t.concat([t.expandBatch(cls, tokens, [1, d]), tokens], 1, [1, h * w]);
    return t.addBroadcast(all, pos, [0], [1, 1 + h * w, d]);
  });
}

/** [N, T, D] -> the class token [N, D]. */
function classTokenSelect(ctx: EmitContext): Emitted {
  const [tokens, d] = known(ctx, ctx.inputs[0].shape);
  return onTape(ctx, [], (t, x) => t.reshape(t.slice(x, 1, 0, 1, tokens, 3), [-1, d], [-1, 1, d]));
}

/** LayerNorm over the channels: the last axis of tokens, axis 1 of an NCHW map. */
function tokenLayerNorm(ctx: EmitContext): Emitted {
  const layer = ctx.layer as TokenLayerNorm;
  const dims = known(ctx, ctx.inputs[0].shape);
  const rank = dims.length + 1;
  if (rank !== 3 && rank !== 4) fail(ctx, `input of rank ${rank}`);
  const d = dims[dims.length - 1];
  return onTape(ctx, layer.weights, (t, x, [gamma, beta]) => (rank === 3 ? t.layerNorm(x, gamma, beta, layer.epsilon, 2, 3, [d]) : t.layerNorm(x, gamma, beta, layer.epsilon, 1, 4, [d, 1, 1])));
}

/** torch.roll of an NHWC value by `shift` pixels on `axis` (1 or 2) of size `size`. */
function roll(t: Tape, x: string, axis: number, shift: number, size: number): string {
  const s = ((shift % size) + size) % size;
  if (s === 0) return x;
  return t.concat([t.slice(x, axis, size - s, size, size, 4), t.slice(x, axis, 0, size - s, size, 4)], axis, [s, size - s]);
}

function swinBlock(ctx: EmitContext): Emitted {
  const layer = ctx.layer as SwinBlock;
  const { heads, mlpDim, epsilon, window: ws, dim } = layer.args;
  const [h, wd, c] = known(ctx, ctx.inputs[0].shape);
  if (c !== dim) fail(ctx, `${c} channels for a ${dim}-dim block`);
  const weights = layer.weightsOf();
  const padH = Math.ceil(h / ws) * ws;
  const padW = Math.ceil(wd / ws) * ws;
  const shiftH = ws >= padH ? 0 : layer.args.shift;
  const shiftW = ws >= padW ? 0 : layer.args.shift;
  const nh = padH / ws;
  const nw = padW / ws;
  const tokens = ws * ws;
  return onTape(ctx, [...blockVariables(weights), weights.table], (t, xNchw, w) => {
    const b = blockValues(w);
    const table = w[12];
    const x = t.transpose(xNchw, [0, 2, 3, 1]);
    let y = t.layerNorm(x, b.ln1g, b.ln1b, epsilon, 3, 4, [c]);
    if (padH !== h || padW !== wd) y = t.padEnd(y, [1, 2], [padH - h, padW - wd], [h, wd], 4);
    y = roll(t, roll(t, y, 1, -shiftH, padH), 2, -shiftW, padW);
    const partitioned = t.transpose(t.reshape(y, [-1, nh, ws, nw, ws, c], [-1, padH, padW, c]), [0, 1, 3, 2, 4, 5]);
    const windows = t.reshape(partitioned, [-1, tokens, c], [-1, nh, nw, ws, ws, c]);
    const bias = t.transpose(t.reshape(t.gather(table, Array.from(relativePositionIndex(ws)), [(2 * ws - 1) ** 2, heads]), [tokens, tokens, heads], [tokens * tokens, heads]), [2, 0, 1]);
    const mask = shiftH + shiftW > 0 ? ctx.g.floats(`${ctx.layer.name}/mask`, [1, nh * nw, 1, tokens, tokens], shiftedWindowMask(padH, padW, ws, shiftH, shiftW)) : undefined;
    const addBias = (scores: string): string => {
      const s = t.addBroadcast(scores, bias, [0], [heads, tokens, tokens]);
      if (!mask) return s;
      const perWindow = t.reshape(s, [-1, nh * nw, heads, tokens, tokens], [-1, heads, tokens, tokens]);
      return t.reshape(t.addConstant(perWindow, mask), [-1, heads, tokens, tokens], [-1, nh * nw, heads, tokens, tokens]);
    };
    const o = attention(t, windows, tokens, c, heads, b.attn, addBias);
    const unpartitioned = t.transpose(t.reshape(o, [-1, nh, nw, ws, ws, c], [-1, tokens, c]), [0, 1, 3, 2, 4, 5]);
    let merged = t.reshape(unpartitioned, [-1, padH, padW, c], [-1, nh, ws, nw, ws, c]);
    merged = roll(t, roll(t, merged, 1, shiftH, padH), 2, shiftW, padW);
    if (padH !== h) merged = t.slice(merged, 1, 0, h, padH, 4);
    if (padW !== wd) merged = t.slice(merged, 2, 0, wd, padW, 4);
    const out = mlpResidual(t, t.add(x, merged), [h, wd, c], b, mlpDim, epsilon);
    return t.transpose(out, [0, 3, 1, 2]);
  });
}

/** NCHW [N, C, H, W] -> [N, 2C, ceil(H/2), ceil(W/2)]: the 2x2 neighbourhoods' cat, LayerNorm, reduction. */
function patchMerging(ctx: EmitContext): Emitted {
  const layer = ctx.layer as PatchMerging;
  const [h, w, c] = known(ctx, ctx.inputs[0].shape);
  const { reduction, gamma, beta } = layer.weightsOf();
  const hp = h + (h % 2);
  const wp = w + (w % 2);
  return onTape(ctx, [reduction, gamma, beta], (t, xNchw, [kernel, g, b]) => {
    let x = t.transpose(xNchw, [0, 2, 3, 1]);
    if (hp !== h || wp !== w) x = t.padEnd(x, [1, 2], [hp - h, wp - w], [h, w], 4);
    const split = t.reshape(x, [-1, hp / 2, 2, wp / 2, 2, c], [-1, hp, wp, c]);
    const merged = t.reshape(t.transpose(split, [0, 1, 3, 4, 2, 5]), [-1, hp / 2, wp / 2, 4 * c], [-1, hp / 2, wp / 2, 2, 2, c]);
    const normed = t.layerNorm(merged, g, b, layer.epsilon, 3, 4, [4 * c]);
    return t.transpose(t.linear(normed, [hp / 2, wp / 2, 4 * c], kernel, 2 * c), [0, 3, 1, 2]);
  });
}

/** The transformer layers' emitters by class; their forward alone is also the inference export (src/ml/onnx/transformer-converters.ts). */
export const transformerEmitters: Readonly<Record<string, LayerEmitter>> = {
  TransformerBlock: transformerBlock,
  ClassTokenAndPosition: classTokenAndPosition,
  ClassTokenSelect: classTokenSelect,
  TokenLayerNorm: tokenLayerNorm,
  SwinBlock: swinBlock,
  PatchMerging: patchMerging,
};

for (const [className, emitter] of Object.entries(transformerEmitters)) registerLayerEmitter(className, emitter);
