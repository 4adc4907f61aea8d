import * as tf from '../tf.ts';

/**
 * Transformer layers of the zoo, one layer per encoder block so that Grad-CAM's head (the last block,
 * the final norm, the classifier) is a plain chain and each block is one unit for the exporters. The
 * maths and parameters follow torchvision's VisionTransformer and SwinTransformer (v1), so parameter
 * counts and (with imported weights) outputs agree.
 */

type Init = ReturnType<typeof tf.initializers.zeros>;
type LayerVariable = tf.LayerVariable;

/** LayerNorm over the last axis: (x - mean) / sqrt(var + eps) * gamma + beta (biased variance, as PyTorch). */
export function layerNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, epsilon: number): tf.Tensor {
  return tf.tidy(() => {
    const { mean, variance } = tf.moments(x, -1, true);
    return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, epsilon))), gamma), beta);
  });
}

/** GELU with the exact erf form (PyTorch's nn.GELU default). */
export function gelu(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2)))));
}

/** x @ W + b on the last axis of any rank. */
function linear(x: tf.Tensor, w: tf.Tensor, b?: tf.Tensor): tf.Tensor {
  const shape = x.shape;
  const flat = tf.reshape(x, [-1, shape[shape.length - 1]]);
  let y: tf.Tensor = tf.matMul(flat as tf.Tensor2D, w as tf.Tensor2D);
  if (b) y = tf.add(y, b);
  return tf.reshape(y, [...shape.slice(0, -1), w.shape[1] as number]);
}

/** Scaled dot-product attention over [B, T, D] tokens with `heads` heads; `bias` [heads|1, T, T] or [B, heads, T, T] is added to the scores. */
function attention(x: tf.Tensor3D, qkvW: tf.Tensor, qkvB: tf.Tensor, outW: tf.Tensor, outB: tf.Tensor, heads: number, bias?: (scores: tf.Tensor4D) => tf.Tensor4D): tf.Tensor3D {
  const [b, t, d] = x.shape;
  const dh = d / heads;
  const qkv = tf.transpose(tf.reshape(linear(x, qkvW, qkvB), [b, t, 3, heads, dh]), [2, 0, 3, 1, 4]); // [3, B, H, T, dh]
  const [q, k, v] = tf.unstack(qkv) as tf.Tensor4D[];
  let scores = tf.matMul(tf.mul(q, 1 / Math.sqrt(dh)), k, false, true) as tf.Tensor4D; // [B, H, T, T]
  if (bias) scores = bias(scores);
  const o = tf.matMul(tf.softmax(scores), v); // [B, H, T, dh]
  return linear(tf.reshape(tf.transpose(o, [0, 2, 1, 3]), [b, t, d]), outW, outB) as tf.Tensor3D;
}

interface BlockWeights {
  ln1g: LayerVariable;
  ln1b: LayerVariable;
  qkvW: LayerVariable;
  qkvB: LayerVariable;
  outW: LayerVariable;
  outB: LayerVariable;
  ln2g: LayerVariable;
  ln2b: LayerVariable;
  fc1W: LayerVariable;
  fc1B: LayerVariable;
  fc2W: LayerVariable;
  fc2B: LayerVariable;
}

export interface BlockArgs {
  name?: string;
  dim: number;
  heads: number;
  mlpDim: number;
  epsilon: number;
  seed?: number;
}

/**
 * torchvision's SwinTransformer init for every Linear weight and the relative position bias table:
 * `trunc_normal_(std=0.02)`, whose default bounds are +-2 absolute (100 sd), i.e. a normal; tfjs's
 * truncatedNormal would cut at 2 sd (sd 0.88 of 0.02).
 */
export const swinNormal = (seed: number): Init => tf.initializers.randomNormal({ stddev: 0.02, seed });

/**
 * The weights of a pre-norm encoder block, in torchvision's parameter order (norm1, attention qkv + out,
 * norm2, mlp). Linear kernels: Glorot uniform (ViT: torchvision's xavier_uniform for the MLP and the
 * qkv projection) unless `kernelInit` is given; biases zero.
 */
function addBlockWeights(layer: tf.layers.Layer, args: BlockArgs, seed: number, attentionExtra?: () => void, kernelInit?: (seed: number) => Init): BlockWeights {
  const { dim, mlpDim } = args;
  const add = (name: string, shape: number[], init: Init) => (layer as unknown as { addWeight(n: string, s: number[], d: 'float32', i: Init): LayerVariable }).addWeight(name, shape, 'float32', init);
  const kernel = (k: number) => (kernelInit ? kernelInit(seed + k) : tf.initializers.glorotUniform({ seed: seed + k }));
  const zeros = tf.initializers.zeros();
  const ones = tf.initializers.ones();
  const w: Partial<BlockWeights> = {};
  w.ln1g = add('norm1/gamma', [dim], ones);
  w.ln1b = add('norm1/beta', [dim], zeros);
  w.qkvW = add('attn/qkv/kernel', [dim, 3 * dim], kernel(0));
  w.qkvB = add('attn/qkv/bias', [3 * dim], zeros);
  w.outW = add('attn/proj/kernel', [dim, dim], kernel(1));
  w.outB = add('attn/proj/bias', [dim], zeros);
  attentionExtra?.();
  w.ln2g = add('norm2/gamma', [dim], ones);
  w.ln2b = add('norm2/beta', [dim], zeros);
  w.fc1W = add('mlp/fc1/kernel', [dim, mlpDim], kernel(2));
  w.fc1B = add('mlp/fc1/bias', [mlpDim], zeros);
  w.fc2W = add('mlp/fc2/kernel', [mlpDim, dim], kernel(3));
  w.fc2B = add('mlp/fc2/bias', [dim], zeros);
  return w as BlockWeights;
}

/** x + mlp(norm2(x)) */
function mlpResidual(x: tf.Tensor, w: BlockWeights, epsilon: number): tf.Tensor {
  const h = layerNorm(x, w.ln2g.read(), w.ln2b.read(), epsilon);
  return tf.add(x, linear(gelu(linear(h, w.fc1W.read(), w.fc1B.read())), w.fc2W.read(), w.fc2B.read()));
}

/** A ViT encoder block on [N, T, D] tokens: x + MSA(LN(x)), then + MLP(LN(x)) (torchvision's EncoderBlock, dropout 0). */
export class TransformerBlock extends tf.layers.Layer {
  static className = 'TransformerBlock';
  readonly args: BlockArgs;
  private w!: BlockWeights;

  constructor(args: BlockArgs) {
    super({ name: args.name });
    this.args = { dim: args.dim, heads: args.heads, mlpDim: args.mlpDim, epsilon: args.epsilon, seed: args.seed ?? 0 };
  }

  build(): void {
    this.w = addBlockWeights(this, this.args, this.args.seed ?? 0);
    this.built = true;
  }

  weightsOf(): BlockWeights {
    return this.w;
  }

  computeOutputShape(inputShape: tf.Shape): tf.Shape {
    return inputShape;
  }

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor3D;
      const { w, args } = this;
      const h = layerNorm(x, w.ln1g.read(), w.ln1b.read(), args.epsilon) as tf.Tensor3D;
      const y = tf.add(x, attention(h, w.qkvW.read(), w.qkvB.read(), w.outW.read(), w.outB.read(), args.heads));
      return mlpResidual(y, w, args.epsilon);
    });
  }

  getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), dim: this.args.dim, heads: this.args.heads, mlpDim: this.args.mlpDim, epsilon: this.args.epsilon, seed: this.args.seed ?? 0 };
  }
}

/** Patch grid [N, h, w, D] -> tokens [N, 1 + h*w, D]: a learned class token in front, plus learned position embeddings. */
export class ClassTokenAndPosition extends tf.layers.Layer {
  static className = 'ClassTokenAndPosition';
  private classToken!: LayerVariable;
  private position!: LayerVariable;
  private readonly seed: number;

  constructor(args: { name?: string; seed?: number }) {
    super({ name: args.name });
    this.seed = args.seed ?? 0;
  }

  build(inputShape: tf.Shape | tf.Shape[]): void {
    const [, h, w, d] = inputShape as number[];
    const add = (name: string, shape: number[], init: Init) => this.addWeight(name, shape, 'float32', init);
    this.classToken = add('class_token', [1, 1, d], tf.initializers.zeros());
    this.position = add('pos_embedding', [1, 1 + h * w, d], tf.initializers.randomNormal({ stddev: 0.02, seed: this.seed }));
    this.built = true;
  }

  computeOutputShape(inputShape: tf.Shape): tf.Shape {
    const [n, h, w, d] = inputShape as number[];
    return [n, 1 + h * w, d];
  }

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
      const [n, h, w, d] = x.shape;
      const cls = tf.tile(this.classToken.read(), [n, 1, 1]);
      return tf.add(tf.concat([cls, tf.reshape(x, [n, h * w, d])], 1), this.position.read());
    });
  }

  getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), seed: this.seed };
  }
}

/** The class token of [N, T, D] tokens after a final LayerNorm: [N, D] (torchvision's `x[:, 0]`). */
export class ClassTokenSelect extends tf.layers.Layer {
  static className = 'ClassTokenSelect';
  computeOutputShape(inputShape: tf.Shape): tf.Shape {
    return [inputShape[0], inputShape[2]];
  }
  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor3D;
      return tf.reshape(tf.slice(x, [0, 0, 0], [-1, 1, -1]), [x.shape[0], x.shape[2]]);
    });
  }
}

/** LayerNorm over the last axis of any rank (torchvision's nn.LayerNorm(dim, eps)). */
export class TokenLayerNorm extends tf.layers.Layer {
  static className = 'TokenLayerNorm';
  private gamma!: LayerVariable;
  private beta!: LayerVariable;
  readonly epsilon: number;

  constructor(args: { name?: string; epsilon: number }) {
    super({ name: args.name });
    this.epsilon = args.epsilon;
  }

  build(inputShape: tf.Shape | tf.Shape[]): void {
    const d = (inputShape as number[])[(inputShape as number[]).length - 1];
    this.gamma = this.addWeight('gamma', [d], 'float32', tf.initializers.ones());
    this.beta = this.addWeight('beta', [d], 'float32', tf.initializers.zeros());
    this.built = true;
  }

  computeOutputShape(inputShape: tf.Shape): tf.Shape {
    return inputShape;
  }

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return layerNorm((Array.isArray(inputs) ? inputs[0] : inputs), this.gamma.read(), this.beta.read(), this.epsilon);
  }

  getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), epsilon: this.epsilon };
  }
}

/** Python's x[start:end] bounds on an axis of length n (negative counts from the end, -0 is 0, undefined is None). */
function pySlice(start: number, end: number | undefined, n: number): [number, number] {
  const bound = (i: number) => Math.max(0, Math.min(n, i < 0 ? n + i : i)); // -0 < 0 is false: -0 stays 0
  return [bound(start), end === undefined ? n : bound(end)];
}

/** torchvision's relative_position_index of a window: [T*T] indices into the (2w-1)^2 bias table. */
export function relativePositionIndex(ws: number): Int32Array {
  const t = ws * ws;
  const out = new Int32Array(t * t);
  for (let i = 0; i < t; i++) {
    for (let j = 0; j < t; j++) {
      const dy = Math.floor(i / ws) - Math.floor(j / ws) + ws - 1;
      const dx = (i % ws) - (j % ws) + ws - 1;
      out[i * t + j] = dy * (2 * ws - 1) + dx;
    }
  }
  return out;
}

/** torchvision's shifted-window attention mask: [windows, T, T] of 0 / -100. */
export function shiftedWindowMask(padH: number, padW: number, ws: number, shiftH: number, shiftW: number): Float32Array {
  const region = new Int32Array(padH * padW);
  const hs = [[0, -ws], [-ws, -shiftH], [-shiftH, undefined]] as const;
  const wsl = [[0, -ws], [-ws, -shiftW], [-shiftW, undefined]] as const;
  let count = 0;
  for (const [h0, h1] of hs) {
    for (const [w0, w1] of wsl) {
      const [ya, yb] = pySlice(h0, h1, padH);
      const [xa, xb] = pySlice(w0, w1, padW);
      for (let y = ya; y < yb; y++) for (let x = xa; x < xb; x++) region[y * padW + x] = count;
      count++;
    }
  }
  const nh = padH / ws;
  const nw = padW / ws;
  const t = ws * ws;
  const mask = new Float32Array(nh * nw * t * t);
  for (let wy = 0; wy < nh; wy++) {
    for (let wx = 0; wx < nw; wx++) {
      const win = wy * nw + wx;
      const ids = Array.from({ length: t }, (_, k) => region[(wy * ws + Math.floor(k / ws)) * padW + wx * ws + (k % ws)]);
      for (let i = 0; i < t; i++) for (let j = 0; j < t; j++) mask[(win * t + i) * t + j] = ids[j] - ids[i] !== 0 ? -100 : 0;
    }
  }
  return mask;
}

/** Cyclic shift of an NHWC tensor by (dy, dx) pixels (torch.roll on the spatial axes). */
function roll(x: tf.Tensor4D, dy: number, dx: number): tf.Tensor4D {
  const [, h, w] = x.shape;
  let y = x;
  const sy = ((dy % h) + h) % h;
  const sx = ((dx % w) + w) % w;
  if (sy) y = tf.concat([tf.slice(y, [0, h - sy, 0, 0], [-1, sy, -1, -1]), tf.slice(y, [0, 0, 0, 0], [-1, h - sy, -1, -1])], 1);
  if (sx) y = tf.concat([tf.slice(y, [0, 0, w - sx, 0], [-1, -1, sx, -1]), tf.slice(y, [0, 0, 0, 0], [-1, -1, w - sx, -1])], 2);
  return y;
}

export interface SwinBlockArgs extends BlockArgs {
  window: number;
  shift: number;
}

/**
 * A Swin Transformer block on [N, H, W, C] (torchvision's SwinTransformerBlock v1): x + W-MSA(LN(x)) with
 * windows of `window` pixels, cyclically shifted by `shift` (0 on an axis the window covers), zero
 * padding to whole windows (unmasked, as torchvision), a learned relative-position bias table
 * [(2w-1)^2, heads]; then x + MLP(LN(x)).
 */
export class SwinBlock extends tf.layers.Layer {
  static className = 'SwinBlock';
  readonly args: SwinBlockArgs;
  private w!: BlockWeights;
  private table!: LayerVariable;

  constructor(args: SwinBlockArgs) {
    super({ name: args.name });
    this.args = { dim: args.dim, heads: args.heads, mlpDim: args.mlpDim, epsilon: args.epsilon, seed: args.seed ?? 0, window: args.window, shift: args.shift };
  }

  build(): void {
    const { window: ws, heads } = this.args;
    this.w = addBlockWeights(this, this.args, this.args.seed ?? 0, () => {
      this.table = this.addWeight('attn/relative_position_bias_table', [(2 * ws - 1) ** 2, heads], 'float32', swinNormal((this.args.seed ?? 0) + 7));
    }, swinNormal);
    this.built = true;
  }

  weightsOf(): BlockWeights & { table: LayerVariable } {
    return { ...this.w, table: this.table };
  }

  computeOutputShape(inputShape: tf.Shape): tf.Shape {
    return inputShape;
  }

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
      const { w, args } = this;
      const { window: ws, heads, dim } = args;
      const [n, h, wd] = x.shape;
      let y = layerNorm(x, w.ln1g.read(), w.ln1b.read(), args.epsilon) as tf.Tensor4D;
      const padH = Math.ceil(h / ws) * ws;
      const padW = Math.ceil(wd / ws) * ws;
      if (padH !== h || padW !== wd) y = tf.pad(y, [[0, 0], [0, padH - h], [0, padW - wd], [0, 0]]);
      const shiftH = ws >= padH ? 0 : args.shift;
      const shiftW = ws >= padW ? 0 : args.shift;
      if (shiftH + shiftW > 0) y = roll(y, -shiftH, -shiftW);
      const nh = padH / ws;
      const nw = padW / ws;
      const t = ws * ws;
      const windows = tf.reshape(tf.transpose(tf.reshape(y, [n, nh, ws, nw, ws, dim]), [0, 1, 3, 2, 4, 5]), [n * nh * nw, t, dim]) as tf.Tensor3D;
      const index = tf.tensor1d(relativePositionIndex(ws), 'int32');
      const bias = tf.transpose(tf.reshape(tf.gather(this.table.read(), index), [t, t, heads]), [2, 0, 1]); // [heads, T, T]
      const mask = shiftH + shiftW > 0 ? tf.tensor(shiftedWindowMask(padH, padW, ws, shiftH, shiftW), [1, nh * nw, 1, t, t]) : undefined;
      const addBias = (scores: tf.Tensor4D): tf.Tensor4D => {
        let s = tf.add(scores, bias) as tf.Tensor4D;
        if (mask) s = tf.reshape(tf.add(tf.reshape(s, [n, nh * nw, heads, t, t]), mask), [n * nh * nw, heads, t, t]);
        return s;
      };
      const o = attention(windows, w.qkvW.read(), w.qkvB.read(), w.outW.read(), w.outB.read(), heads, addBias);
      let merged = tf.reshape(tf.transpose(tf.reshape(o, [n, nh, nw, ws, ws, dim]), [0, 1, 3, 2, 4, 5]), [n, padH, padW, dim]) as tf.Tensor4D;
      if (shiftH + shiftW > 0) merged = roll(merged, shiftH, shiftW);
      if (padH !== h || padW !== wd) merged = tf.slice(merged, [0, 0, 0, 0], [-1, h, wd, -1]);
      return mlpResidual(tf.add(x, merged), w, args.epsilon);
    });
  }

  getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), dim: this.args.dim, heads: this.args.heads, mlpDim: this.args.mlpDim, epsilon: this.args.epsilon, seed: this.args.seed ?? 0, window: this.args.window, shift: this.args.shift };
  }
}

/**
 * Swin's patch merging (torchvision's PatchMerging v1): [N, H, W, C] -> [N, ceil(H/2), ceil(W/2), 2C] as
 * the cat of each 2x2 neighbourhood (torchvision's x0, x1, x2, x3 order; odd sizes zero-padded), a
 * LayerNorm over the 4C channels and a linear reduction to 2C without bias. One layer, as torchvision's
 * module (so each stage transition is one unit for the training compiler and the weight import).
 */
export class PatchMerging extends tf.layers.Layer {
  static className = 'PatchMerging';
  readonly epsilon: number;
  private readonly seed: number;
  private reduction!: LayerVariable;
  private gamma!: LayerVariable;
  private beta!: LayerVariable;

  constructor(args: { name?: string; epsilon: number; seed?: number }) {
    super({ name: args.name });
    this.epsilon = args.epsilon;
    this.seed = args.seed ?? 0;
  }

  build(inputShape: tf.Shape | tf.Shape[]): void {
    const c = (inputShape as number[])[3];
    this.reduction = this.addWeight('reduction/kernel', [4 * c, 2 * c], 'float32', swinNormal(this.seed));
    this.gamma = this.addWeight('norm/gamma', [4 * c], 'float32', tf.initializers.ones());
    this.beta = this.addWeight('norm/beta', [4 * c], 'float32', tf.initializers.zeros());
    this.built = true;
  }

  weightsOf(): { reduction: LayerVariable; gamma: LayerVariable; beta: LayerVariable } {
    return { reduction: this.reduction, gamma: this.gamma, beta: this.beta };
  }

  computeOutputShape(inputShape: tf.Shape): tf.Shape {
    const [n, h, w, c] = inputShape as number[];
    return [n, Math.ceil(h / 2), Math.ceil(w / 2), 2 * c];
  }

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      let x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
      const [, h, w] = x.shape;
      if (h % 2 || w % 2) x = tf.pad(x, [[0, 0], [0, h % 2], [0, w % 2], [0, 0]]);
      const [n, hp, wp, c] = x.shape;
      // channel blocks in torchvision's order x[0::2, 0::2], x[1::2, 0::2], x[0::2, 1::2], x[1::2, 1::2]: block dx*2 + dy
      // (a reshape and a transpose: tfjs has no gradient for strided slices)
      const split = tf.reshape(x, [n, hp / 2, 2, wp / 2, 2, c]); // [n, y, dy, x, dx, c]
      const merged = tf.reshape(tf.transpose(split, [0, 1, 3, 4, 2, 5]), [n, hp / 2, wp / 2, 4 * c]);
      return linear(layerNorm(merged, this.gamma.read(), this.beta.read(), this.epsilon), this.reduction.read());
    });
  }

  getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), epsilon: this.epsilon, seed: this.seed };
  }
}

for (const cls of [TransformerBlock, ClassTokenAndPosition, ClassTokenSelect, TokenLayerNorm, SwinBlock, PatchMerging]) {
  tf.serialization.registerClass(cls as unknown as tf.serialization.SerializableConstructor<tf.serialization.Serializable>);
}
