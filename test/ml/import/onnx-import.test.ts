import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { initBackend } from '../../../src/ml/backend.ts';
import { buildModel, type Architecture } from '../../../src/ml/models/index.ts';
import { importOnnxWeights, WeightImportError } from '../../../src/ml/import/onnx-weights.ts';
import { assertHeadReplaced, assertLogitsEqual, runPython, tempDir, torchUnavailable } from './torch-reference.ts';

// torchvision models with random weights (batch-norm statistics randomised) exported to ONNX by
// PyTorch at test time, with PyTorch's outputs for a fixed input.
const SIZE = 32;
const skip = torchUnavailable();
let dir = '';
before(() => {
  if (skip) return;
  dir = tempDir('onnx-import-');
  runPython('torchvision_export.py', [dir, String(SIZE), 'resnet18:5:unfused', 'resnet50:5', 'densenet121:5', 'mobilenet_v2:5', 'efficientnet_b0:5', 'vit_tiny:5']);
  // swin_t at 224 px, its ImageNet size (7x7 windows on every stage's grid)
  runPython('torchvision_export.py', [dir, '224', 'swin_t:5']);
});
after(() => dir && rmSync(dir, { recursive: true, force: true }));

const cases: Array<{ torch: string; arch: Architecture; channels: 1 | 3; folded: boolean; size?: number }> = [
  { torch: 'resnet18', arch: 'resnet18', channels: 3, folded: false }, // exported with its BatchNormalization nodes
  { torch: 'resnet18', arch: 'resnet18', channels: 1, folded: false },
  { torch: 'resnet50', arch: 'resnet50', channels: 1, folded: true }, // batch norms folded into the convs by the exporter
  { torch: 'densenet121', arch: 'densenet121', channels: 3, folded: true },
  { torch: 'mobilenet_v2', arch: 'mobilenetv2', channels: 1, folded: true },
  { torch: 'efficientnet_b0', arch: 'efficientnet-b0', channels: 3, folded: true },
  { torch: 'vit_tiny', arch: 'vit-tiny', channels: 3, folded: false }, // nn.MultiheadAttention's export
  { torch: 'swin_t', arch: 'swin-tiny', channels: 1, folded: false, size: 224 },
];

for (const c of cases) {
  test(`${c.torch} ONNX export -> ${c.arch} (${c.channels} channel${c.channels === 1 ? ', RGB filters summed' : 's'}): outputs equal PyTorch's within 1e-4`, { skip }, async (t) => {
    await initBackend('wasm');
    const model = buildModel({ arch: c.arch, inputSize: c.size ?? SIZE, channels: c.channels, classes: 5, task: 'multiclass', seed: 3 });
    const result = importOnnxWeights(model, readFileSync(join(dir, `${c.torch}.onnx`)));
    assert.equal(result.headReplaced, false);
    assert.equal(result.inputChannelsSummed, c.channels === 1);
    assert.equal(result.foldedBatchNorms > 0, c.folded);
    const { diff, largest, spread } = assertLogitsEqual(model, join(dir, `${c.torch}.${c.channels === 3 ? 'input' : 'grey'}.bin`), join(dir, `${c.torch}.${c.channels === 3 ? 'logits' : 'grey_logits'}.bin`), c.channels, c.size ?? SIZE);
    t.diagnostic(`max abs difference ${diff.toExponential(1)}, logits up to ${largest.toPrecision(3)}, the two images' differ by ${spread.toPrecision(2)}`);
    model.dispose();
  });
}

test('a different class count keeps the classifier fresh and loads everything before it', { skip }, async () => {
  await initBackend('wasm');
  const model = buildModel({ arch: 'resnet18', inputSize: SIZE, channels: 3, classes: 2, task: 'binary', seed: 3 });
  assertHeadReplaced(model, join(dir, 'resnet18.onnx'), join(dir, 'resnet18.input.bin'), join(dir, 'resnet18.features.bin'), SIZE);
  model.dispose();
});

test('a mismatch is a located error naming the layer, the ONNX node and both shapes; nothing is written', { skip }, async () => {
  await initBackend('cpu');
  const bytes = readFileSync(join(dir, 'resnet18.onnx'));
  // the small stem (3x3 stride 1) against ImageNet's 7x7 stride-2 stem
  const small = buildModel({ arch: 'resnet18', inputSize: SIZE, channels: 3, classes: 5, task: 'multiclass', stem: 'small' });
  const before = small.getWeights().map((w) => w.dataSync().slice());
  assert.throws(
    () => importOnnxWeights(small, bytes),
    (e: unknown) => e instanceof WeightImportError && /layer stem_conv \(Conv2D, #1 of/.test(e.message) && /3x3, 3 -> 64 channels/.test(e.message) && /weight \[64, 3, 7, 7\], stride 2x2, pads \[3, 3, 3, 3\]/.test(e.message),
  );
  small.getWeights().forEach((w, i) => assert.deepEqual(w.dataSync(), before[i]));
  // a deeper network: the first block ResNet-18 lacks
  const deeper = buildModel({ arch: 'resnet34', inputSize: SIZE, channels: 3, classes: 5, task: 'multiclass' });
  assert.throws(() => importOnnxWeights(deeper, bytes), (e: unknown) => e instanceof WeightImportError && /layer s1b3_1_conv/.test(e.message) && /found ONNX node .*weight \[128, 64, 3, 3\], stride 2x2/.test(e.message));
  // a shallower one: weight layers left over in the ONNX graph
  const resnet50 = readFileSync(join(dir, 'resnet50.onnx'));
  const shallow = buildModel({ arch: 'resnet18', inputSize: SIZE, channels: 3, classes: 5, task: 'multiclass' });
  assert.throws(() => importOnnxWeights(shallow, resnet50), (e: unknown) => e instanceof WeightImportError && /layer s1b1_1_conv .*expects a convolution 3x3, 64 -> 64/.test(e.message) && /\[64, 64, 1, 1\]/.test(e.message));
  for (const m of [small, deeper, shallow]) m.dispose();
});
