import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '../../../src/ml/tf.ts';
import { initBackend } from '../../../src/ml/backend.ts';
import { buildModel } from '../../../src/ml/models/index.ts';
import { gradCam } from '../../../src/ml/gradcam.ts';
import { modelFromBytes, saveModelFiles } from '../../../src/ml/model-io.ts';
import { readFloats, runPython, tempDir, torchUnavailable } from '../import/torch-reference.ts';

const skip = torchUnavailable();
let dir = '';
let counts: Record<string, number> = {};
before(() => {
  if (skip) return;
  dir = tempDir('transformers-');
  counts = JSON.parse(runPython('torchvision_transformers.py', [dir]));
});
after(() => dir && rmSync(dir, { recursive: true, force: true }));

const trainable = (m: tf.LayersModel) => m.trainableWeights.reduce((n, w) => n + w.shape.reduce((a: number, b) => a * (b ?? 1), 1), 0);

test('vit-tiny, vit-small, swin-tiny: trainable parameter counts equal torchvision VisionTransformer / swin_t at the same sizes', { skip }, async () => {
  await initBackend('cpu');
  for (const arch of ['vit-tiny', 'vit-small', 'swin-tiny'] as const) {
    const model = buildModel({ arch, inputSize: 64, channels: 3, classes: 1000, task: 'multiclass' });
    assert.equal(trainable(model), counts[arch], arch);
    model.dispose();
  }
});

/** torchvision parameter name -> [our layer, our weight name suffix, transposed (a Linear's [out, in])]. */
function ourWeight(name: string): [string, string, 'linear' | 'conv' | 'same'] {
  const block = (prefix: string, rest: string): [string, string, 'linear' | 'conv' | 'same'] => {
    const map: Record<string, [string, 'linear' | 'same']> = {
      'norm1.weight': ['norm1/gamma', 'same'], 'norm1.bias': ['norm1/beta', 'same'], 'ln_1.weight': ['norm1/gamma', 'same'], 'ln_1.bias': ['norm1/beta', 'same'],
      'norm2.weight': ['norm2/gamma', 'same'], 'norm2.bias': ['norm2/beta', 'same'], 'ln_2.weight': ['norm2/gamma', 'same'], 'ln_2.bias': ['norm2/beta', 'same'],
      'attn.qkv.weight': ['attn/qkv/kernel', 'linear'], 'attn.qkv.bias': ['attn/qkv/bias', 'same'], 'self_attention.in_proj_weight': ['attn/qkv/kernel', 'linear'], 'self_attention.in_proj_bias': ['attn/qkv/bias', 'same'],
      'attn.proj.weight': ['attn/proj/kernel', 'linear'], 'attn.proj.bias': ['attn/proj/bias', 'same'], 'self_attention.out_proj.weight': ['attn/proj/kernel', 'linear'], 'self_attention.out_proj.bias': ['attn/proj/bias', 'same'],
      'attn.relative_position_bias_table': ['attn/relative_position_bias_table', 'same'],
      'mlp.0.weight': ['mlp/fc1/kernel', 'linear'], 'mlp.0.bias': ['mlp/fc1/bias', 'same'], 'mlp.3.weight': ['mlp/fc2/kernel', 'linear'], 'mlp.3.bias': ['mlp/fc2/bias', 'same'],
    };
    const [suffix, kind] = map[rest];
    return [prefix, suffix, kind];
  };
  let m: RegExpMatchArray | null;
  if ((m = name.match(/^encoder\.layers\.encoder_layer_(\d+)\.(.+)$/))) return block(`block${Number(m[1]) + 1}`, m[2]);
  if ((m = name.match(/^features\.(\d+)\.(\d+)\.(norm1|norm2|attn|mlp)(.*)$/))) return block(`s${(Number(m[1]) + 1) / 2}b${Number(m[2]) + 1}`, `${m[3]}${m[4]}`);
  if ((m = name.match(/^features\.(\d+)\.(reduction|norm)\.(weight|bias)$/))) {
    const stage = Number(m[1]) / 2;
    return m[2] === 'reduction' ? [`s${stage}_merge`, 'reduction/kernel', 'linear'] : [`s${stage}_merge`, m[3] === 'weight' ? 'norm/gamma' : 'norm/beta', 'same'];
  }
  const fixed: Record<string, [string, string, 'linear' | 'conv' | 'same']> = {
    'conv_proj.weight': ['patch_embed', 'kernel', 'conv'], 'conv_proj.bias': ['patch_embed', 'bias', 'same'], 'features.0.0.weight': ['patch_embed', 'kernel', 'conv'], 'features.0.0.bias': ['patch_embed', 'bias', 'same'],
    'features.0.2.weight': ['patch_norm', 'gamma', 'same'], 'features.0.2.bias': ['patch_norm', 'beta', 'same'],
    class_token: ['tokens', 'class_token', 'same'], 'encoder.pos_embedding': ['tokens', 'pos_embedding', 'same'],
    'encoder.ln.weight': ['final_norm', 'gamma', 'same'], 'encoder.ln.bias': ['final_norm', 'beta', 'same'], 'norm.weight': ['final_norm', 'gamma', 'same'], 'norm.bias': ['final_norm', 'beta', 'same'],
    'heads.head.weight': ['logits', 'kernel', 'linear'], 'heads.head.bias': ['logits', 'bias', 'same'], 'head.weight': ['logits', 'kernel', 'linear'], 'head.bias': ['logits', 'bias', 'same'],
  };
  if (!fixed[name]) throw new Error(`no mapping for ${name}`);
  return fixed[name];
}

/** Copies torchvision's parameters (by the name mapping above) into our model; every weight must be set. */
function loadTorchParams(model: tf.LayersModel, prefix: string): void {
  const specs = JSON.parse(readFileSync(join(dir, `${prefix}.params.json`), 'utf8')) as Array<[string, number[]]>;
  const data = readFloats(join(dir, `${prefix}.params.bin`));
  const set = new Set<string>();
  let offset = 0;
  for (const [name, shape] of specs) {
    const size = shape.reduce((a, b) => a * b, 1);
    let t = tf.tensor(data.subarray(offset, offset + size), shape);
    offset += size;
    const [layerName, suffix, kind] = ourWeight(name);
    if (kind === 'linear') t = t.transpose();
    if (kind === 'conv') t = t.transpose([2, 3, 1, 0]);
    const variable = model.getLayer(layerName).weights.find((w) => w.originalName.endsWith(`/${suffix}`));
    assert.ok(variable, `${name} -> ${layerName}/${suffix}`);
    assert.deepEqual(variable.shape, t.shape, name);
    variable.write(t);
    set.add(variable.originalName);
  }
  assert.equal(set.size, model.trainableWeights.length, 'every weight set once');
}

const small = {
  vit: { spec: { arch: 'vit-tiny', inputSize: 32, channels: 3, classes: 5, task: 'multiclass', patch: 8 } as const, sizes: { dim: 48, heads: 3, depth: 2 } },
  swin: { spec: { arch: 'swin-tiny', inputSize: 36, channels: 3, classes: 5, task: 'multiclass', patch: 4 } as const, sizes: { dim: 24, depths: [2, 2], heads: [2, 4], window: 4 } },
};

for (const [prefix, { spec, sizes }] of Object.entries(small)) {
  test(`${prefix}: with torchvision's parameters, the outputs equal torchvision's within 1e-4 (wasm)${prefix === 'swin' ? ': padding, shifted windows, odd-size merging' : ''}`, { skip }, async () => {
    await initBackend('wasm');
    const model = buildModel(spec, { transformer: sizes });
    loadTorchParams(model, prefix);
    const logits = tf.tidy(() => {
      const x = tf.tensor4d(readFloats(join(dir, `${prefix}.input.bin`)), [2, 3, spec.inputSize, spec.inputSize]).transpose([0, 2, 3, 1]);
      return (tf.model({ inputs: model.inputs, outputs: model.getLayer('logits').output as tf.SymbolicTensor }).predict(x) as tf.Tensor).dataSync();
    });
    const want = readFloats(join(dir, `${prefix}.logits.bin`));
    const diff = Math.max(...Array.from(want, (v, i) => Math.abs(v - logits[i])));
    assert.ok(diff <= 1e-4, `max abs difference ${diff} (logits up to ${Math.max(...want.map(Math.abs))})`);
    model.dispose();
  });
}

test('vit and swin: one training step changes every weight; saved models load; Grad-CAM maps the patch grid', async () => {
  await initBackend('wasm');
  for (const { spec, sizes } of Object.values(small)) {
    const model = buildModel({ ...spec, channels: 1, classes: 2, task: 'multilabel' }, { transformer: sizes });
    const x = tf.randomUniform([4, spec.inputSize, spec.inputSize, 1], 0, 1, 'float32', 3);
    const y = tf.tensor2d([[1, 0], [0, 1], [1, 1], [0, 0]]);
    // Grad-CAM of the initial weights: after the step below (which lowers both outputs of every image)
    // swin-tiny's evidence, from torchvision's small head init, is negative at every position, so its ReLU'd maps are 0.
    const cam = gradCam(model, x as tf.Tensor4D, 1);
    const grid = spec.arch === 'vit-tiny' ? spec.inputSize / spec.patch : Math.ceil(spec.inputSize / spec.patch / 2);
    assert.deepEqual([cam.height, cam.width, cam.maps.length], [grid, grid, 4], spec.arch);
    assert.ok(cam.maps.some((m) => m.some((v) => v > 0)), `${spec.arch}: all-zero CAMs`);
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const before = vars.map((v) => v.dataSync().slice());
    const optimizer = tf.train.adam(1e-3);
    optimizer.minimize(() => tf.losses.sigmoidCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor), false, vars);
    const unchanged = vars.filter((v, i) => v.dataSync().every((val, j) => val === before[i][j])).map((v) => v.name);
    assert.deepEqual(unchanged, [], `${spec.arch}: weights without gradient`);
    const files = await saveModelFiles(model);
    const loaded = await modelFromBytes(files['model.json'] as string, files['weights.bin'] as Uint8Array);
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(model.predict(x) as tf.Tensor, loaded.predict(x) as tf.Tensor))).dataSync()[0]);
    assert.ok(diff < 1e-6, `${spec.arch}: reloaded model differs by ${diff}`);
    tf.dispose([x, y]);
    optimizer.dispose();
    model.dispose();
    loaded.dispose();
  }
});
