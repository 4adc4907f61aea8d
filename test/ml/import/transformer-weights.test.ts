import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../../src/ml/backend.ts';
import { buildModel } from '../../../src/ml/models/index.ts';
import { transformerLayerWeights } from '../../../src/ml/import/transformer-weights.ts';
import type { OnnxLayer } from '../../../src/ml/import/onnx-layers.ts';

// The ViT's tokens layer (class token, position embedding) fed hand-made ONNX parameters; the end to end
// resampling against timm is in onnx-import-timm.test.ts.
const param = (name: string, dims: number[]): OnnxLayer => ({
  kind: 'param',
  node: { opType: 'Add', domain: '', name, inputs: [], outputs: [name], attributes: new Map() },
  tensor: { name, dims, data: Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, (_, i) => Math.cos(i)) },
  output: name,
});
const fail = (expected: string, found?: OnnxLayer): never => {
  throw new Error(`expects ${expected}; found ${found?.node.name} [${found?.kind === 'param' ? found.tensor.dims.join(', ') : ''}]`);
};

test('tokens layer: a position embedding of the same grid is taken as is, another square grid resampled, other token counts a clear error', async () => {
  await initBackend('cpu');
  const model = buildModel({ arch: 'vit-tiny', inputSize: 64, channels: 3, classes: 5, task: 'multiclass' });
  const tokens = model.getLayer('tokens');
  const load = (pos: number[], name = 'pos_embed') => transformerLayerWeights(tokens, [param('cls_token', [1, 1, 192]), param(name, pos)], 0, fail);

  const same = load([1, 17, 192]);
  assert.equal(same.resampled, undefined);
  assert.deepEqual(same.values[1], Float32Array.from({ length: 17 * 192 }, (_, i) => Math.cos(i)));

  const resampled = load([1, 1 + 7 * 7, 192]);
  assert.deepEqual(resampled.resampled, { from: 7, to: 4, as: 'timm' });
  assert.equal(resampled.values[1].length, 17 * 192);
  // the class token's embedding is kept as it is
  assert.deepEqual(resampled.values[1].subarray(0, 192), Float32Array.from({ length: 192 }, (_, i) => Math.cos(i)));

  // torchvision's parameter name: resampled its way (align_corners, no antialias), to other values
  const torchvision = load([1, 1 + 7 * 7, 192], 'encoder.pos_embedding');
  assert.deepEqual(torchvision.resampled, { from: 7, to: 4, as: 'torchvision' });
  assert.deepEqual(torchvision.values[1].subarray(0, 192), resampled.values[1].subarray(0, 192));
  assert.ok(torchvision.values[1].some((v, i) => Math.abs(v - resampled.values[1][i]) > 1e-2));

  // a 2x3 grid (a non-square export) or no class token: not 1 + g^2 tokens
  for (const count of [7, 16]) {
    assert.throws(() => load([1, count, 192]), new RegExp(`expects a position embedding \\[1, 17, 192\\] \\(.*pos_embedding: a class token and a 4x4 patch grid\\), or one of 1 \\+ g\\^2 tokens of a square grid to resample; ${count} tokens are not .*non-square.*found pos_embed \\[1, ${count}, 192\\]`));
  }
  assert.throws(() => load([1, 17, 384]), /expects a position embedding \[1, 17, 192\] .*found pos_embed \[1, 17, 384\]/);
  model.dispose();
});

test('swin block: the folded bias of a shrunken window (timm at a small img_size) is a located error that says to export at 224 px', async () => {
  await initBackend('cpu');
  const model = buildModel({ arch: 'swin-tiny', inputSize: 64, channels: 3, classes: 5, task: 'multiclass' });
  const block = model.getLayer('s1b1');
  const linear = (name: string, inputs: number, outputs: number): OnnxLayer => ({ kind: 'linear', node: { ...param(name, [1]).node, opType: 'MatMul' }, weight: new Float32Array(inputs * outputs), inputs, outputs, bias: new Float32Array(outputs), output: name });
  const norm: OnnxLayer = { kind: 'layernorm', node: { ...param('norm1', [1]).node, opType: 'LayerNormalization' }, scale: { name: 'g', dims: [96], data: new Float32Array(96).fill(1) }, epsilon: 1e-5, output: 'norm1' };
  const theirs = (bias: number[]) => [norm, linear('qkv', 96, 288), param('bias', bias)];
  assert.throws(() => transformerLayerWeights(block, theirs([1, 3, 16, 16]), 0, fail), /expects a relative position bias \[1, 3, 49, 49\] of 7x7 windows .*; the export has 4x4 windows here \(timm shrinks windows at img_size below 224 px\): export the Swin at 224 px/);
  // another head count is a plain mismatch, without the hint
  assert.throws(() => transformerLayerWeights(block, theirs([1, 4, 49, 49]), 0, fail), (e: Error) => /expects a relative position bias \[1, 3, 49, 49\]/.test(e.message) && !/shrinks/.test(e.message));
  model.dispose();
});
