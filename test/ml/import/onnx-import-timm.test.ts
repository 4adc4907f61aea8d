import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { initBackend } from '../../../src/ml/backend.ts';
import { buildModel, type Architecture } from '../../../src/ml/models/index.ts';
import { importOnnxWeights, WeightImportError } from '../../../src/ml/import/onnx-weights.ts';
import { needsTimm, TIMM_PYTHONPATH } from '../../support/reference-tools.ts';
import { trainFromWeights } from './train-from-weights.ts';
import { assertHeadReplaced, assertLogitsEqual, maxAbsDiff, readFloats, runPython, tempDir } from './torch-reference.ts';

// timm models (timm.create_model(name, pretrained=False)) with random weights and randomised
// batch-norm statistics, exported to ONNX by Debian's PyTorch at test time, with PyTorch's outputs.
const SIZE = 32;
const skip = needsTimm();
let dir = '';
const CNNS: Array<{ timm: string; arch: Architecture }> = [
  { timm: 'resnet18', arch: 'resnet18' },
  { timm: 'resnet34', arch: 'resnet34' },
  { timm: 'resnet50', arch: 'resnet50' },
  { timm: 'densenet121', arch: 'densenet121' },
  { timm: 'efficientnet_b0', arch: 'efficientnet-b0' },
  { timm: 'mobilenetv2_100', arch: 'mobilenetv2' },
];
// Exported with img_size = the test's size (position embeddings and windows depend on it). Swin at
// 224 px, where every stage's grid is a multiple of its 7x7 window (timm shrinks windows on smaller grids).
const TRANSFORMERS: Array<{ timm: string; arch: Architecture; size: number }> = [
  { timm: 'vit_tiny_patch16_224', arch: 'vit-tiny', size: SIZE },
  { timm: 'vit_small_patch16_224', arch: 'vit-small', size: SIZE },
  { timm: 'swin_tiny_patch4_window7_224', arch: 'swin-tiny', size: 224 },
];
before(() => {
  if (skip) return;
  dir = tempDir('onnx-import-timm-');
  const specs = [...CNNS.map((c) => `timm.${c.timm}:5${c.timm === 'resnet18' ? ':unfused' : ''}`), 'timm.resnet50d:5', 'timm.tf_efficientnet_b0:5'];
  runPython('torchvision_export.py', [dir, String(SIZE), ...specs, 'timm.vit_tiny_patch16_224:5:at64', 'timm.vit_small_patch16_224:5'], 600_000, TIMM_PYTHONPATH);
  runPython('torchvision_export.py', [dir, '224', 'timm.swin_tiny_patch4_window7_224:5:at448'], 600_000, TIMM_PYTHONPATH);
  // the same model names exported otherwise, in folders of their own
  mkdirSync(join(dir, '224'));
  runPython('torchvision_export.py', [join(dir, '224'), '224', 'timm.vit_tiny_patch16_224:5:at128'], 600_000, TIMM_PYTHONPATH);
  mkdirSync(join(dir, 'patch8'));
  runPython('torchvision_export.py', [join(dir, 'patch8'), String(SIZE), 'timm.vit_tiny_patch16_224:5:patch8'], 600_000, TIMM_PYTHONPATH);
});
after(() => dir && rmSync(dir, { recursive: true, force: true }));

const file = (name: string, suffix: string) => join(dir, `timm.${name}.${suffix}`);

for (const c of [...CNNS.map((m) => ({ ...m, size: SIZE })), ...TRANSFORMERS]) {
  const cnn = CNNS.some((m) => m.timm === c.timm);
  for (const channels of [3, 1] as const) {
    test(`timm ${c.timm} ONNX export -> ${c.arch} (${channels} channel${channels === 1 ? ', RGB filters summed' : 's'}, ${c.size} px): outputs equal PyTorch's within 1e-4`, { skip }, async (t) => {
      await initBackend('wasm');
      const model = buildModel({ arch: c.arch, inputSize: c.size, channels, classes: 5, task: 'multiclass', seed: 3 });
      const result = importOnnxWeights(model, readFileSync(file(c.timm, 'onnx')));
      assert.equal(result.headReplaced, false);
      assert.equal(result.inputChannelsSummed, channels === 1);
      assert.equal(result.foldedBatchNorms > 0, cnn && c.timm !== 'resnet18');
      const { diff, largest, spread } = assertLogitsEqual(model, file(c.timm, channels === 3 ? 'input.bin' : 'grey.bin'), file(c.timm, channels === 3 ? 'logits.bin' : 'grey_logits.bin'), channels, c.size);
      t.diagnostic(`max abs difference ${diff.toExponential(1)}, logits up to ${largest.toPrecision(3)}, the two images' differ by ${spread.toPrecision(2)}`);
      model.dispose();
    });
  }
}

for (const c of [{ timm: 'resnet50', arch: 'resnet50' }, { timm: 'vit_tiny_patch16_224', arch: 'vit-tiny' }] as const) {
  test(`timm ${c.timm} into a 2-class model: the head stays fresh, the pooled features equal PyTorch's`, { skip }, async () => {
    await initBackend('wasm');
    const model = buildModel({ arch: c.arch, inputSize: SIZE, channels: 3, classes: 2, task: 'binary', seed: 3 });
    assertHeadReplaced(model, file(c.timm, 'onnx'), file(c.timm, 'input.bin'), file(c.timm, 'features.bin'), SIZE);
    model.dispose();
  });
}

// Variants of another design than the zoo's fail at the first layer that differs, with both sides named.
const OTHER_DESIGNS: Array<{ timm: string; arch: Architecture; why: RegExp }> = [
  // deep stem: three 3x3 convs (32, 32, 64 channels) instead of one 7x7
  { timm: 'resnet50d', arch: 'resnet50', why: /layer stem_conv \(Conv2D, #1 of .*expects a convolution 7x7, 3 -> 64 .*found ONNX node .*weight \[32, 3, 3, 3\], stride 2x2, pads \[1, 1, 1, 1\]/ },
  // TensorFlow 'same' padding (asymmetric, computed at run time) instead of PyTorch's symmetric pads
  { timm: 'tf_efficientnet_b0', arch: 'efficientnet-b0', why: /layer stem_conv \(Conv2D, #1 of .*expects a convolution 3x3, 3 -> 32 .*pads \[1, 1, 1, 1\]; found ONNX node .*weight \[32, 3, 3, 3\], stride 2x2, pads \[0, 0, 0, 0\]/ },
];
for (const c of OTHER_DESIGNS) {
  test(`timm ${c.timm} into ${c.arch}: a located error, nothing written`, { skip }, async () => {
    await initBackend('cpu');
    const model = buildModel({ arch: c.arch, inputSize: SIZE, channels: 3, classes: 5, task: 'multiclass' });
    const before = model.getWeights().map((w) => w.dataSync().slice());
    assert.throws(() => importOnnxWeights(model, readFileSync(file(c.timm, 'onnx'))), (e: unknown) => e instanceof WeightImportError && c.why.test(e.message));
    model.getWeights().forEach((w, i) => assert.deepEqual(w.dataSync(), before[i]));
    model.dispose();
  });
}

// timm's way to another image size: timm.create_model(name, img_size=N) loading the state dict through
// checkpoint_filter_fn, which resamples the position embedding (resample_abs_pos_embed, bicubic, antialias).
for (const c of [{ from: 224, to: 128, sub: '224' }, { from: SIZE, to: 64, sub: '' }]) {
  const [g, h] = [c.from / 16, c.to / 16];
  test(`timm ViT exported at ${c.from} px into vit-tiny at ${c.to} px: position embedding resampled ${g}x${g} -> ${h}x${h} as timm's, logits equal timm's at ${c.to} px within 1e-4`, { skip }, async (t) => {
    await initBackend('wasm');
    const at = (suffix: string) => join(dir, c.sub, `timm.vit_tiny_patch16_224.at${c.to}.${suffix}.bin`);
    const model = buildModel({ arch: 'vit-tiny', inputSize: c.to, channels: 3, classes: 5, task: 'multiclass', seed: 3 });
    const result = importOnnxWeights(model, readFileSync(join(dir, c.sub, 'timm.vit_tiny_patch16_224.onnx')));
    assert.deepEqual(result.positionEmbeddingResampled, { from: g, to: h, as: 'timm' });
    const pos = model.getLayer('tokens').getWeights()[1].dataSync();
    const want = readFloats(at('pos'));
    assert.equal(pos.length, (1 + h * h) * 192);
    assert.ok(maxAbsDiff(pos, want) < 1e-5, `position embedding differs from timm's resample_abs_pos_embed by ${maxAbsDiff(pos, want)}`);
    const { diff } = assertLogitsEqual(model, at('input'), at('logits'), 3, c.to);
    t.diagnostic(`position embedding within ${maxAbsDiff(pos, want).toExponential(1)}, logits within ${diff.toExponential(1)}`);
    model.dispose();
  });
}

// timm's Swin at another img_size (through checkpoint_filter_fn) keeps 7x7 windows on grids of 7 and more,
// but shifts before padding and shrinks windows on smaller grids; it equals the zoo's (torchvision's)
// Swin where every stage's grid is a multiple of 7: 224 px and 448 px (112/56/28/14).
test('timm Swin exported at 224 px into swin-tiny at 448 px: logits equal timm\'s model created at img_size=448 within 1e-4', { skip }, async (t) => {
  await initBackend('wasm');
  const model = buildModel({ arch: 'swin-tiny', inputSize: 448, channels: 3, classes: 5, task: 'multiclass', seed: 3 });
  const result = importOnnxWeights(model, readFileSync(file('swin_tiny_patch4_window7_224', 'onnx')));
  assert.equal(result.swinWindowsPadded, undefined);
  const at = (suffix: string) => file('swin_tiny_patch4_window7_224', `at448.${suffix}.bin`);
  const { diff, largest, spread } = assertLogitsEqual(model, at('input'), at('logits'), 3, 448);
  t.diagnostic(`max abs difference ${diff.toExponential(1)}, logits up to ${largest.toPrecision(3)}, the two images' differ by ${spread.toPrecision(2)}`);
  model.dispose();
});

test('timm ViT with 8 px patches into vit-tiny (16 px): a located error at the patch embedding, nothing written', { skip }, async () => {
  await initBackend('cpu');
  const model = buildModel({ arch: 'vit-tiny', inputSize: SIZE, channels: 3, classes: 5, task: 'multiclass' });
  const before = model.getWeights().map((w) => w.dataSync().slice());
  assert.throws(
    () => importOnnxWeights(model, readFileSync(join(dir, 'patch8', 'timm.vit_tiny_patch16_224.onnx'))),
    (e: unknown) => e instanceof WeightImportError && /\(Conv2D, #1 of .*expects a convolution 16x16, 3 -> 192 .*found ONNX node .*weight \[192, 3, 8, 8\], stride 8x8/.test(e.message),
  );
  model.getWeights().forEach((w, i) => assert.deepEqual(w.dataSync(), before[i]));
  model.dispose();
});

test('train with model: vit-tiny and weights: a timm ViT export at another size (grey images, another class count): the imported, resampled weights are where training starts', { skip }, async () => {
  await initBackend('wasm');
  const weights = file('vit_tiny_patch16_224', 'onnx');
  const { logs, trained } = await trainFromWeights('vit-tiny', weights, 16);
  assert.ok(logs.some((l) => /initialised 15 layers from ONNX weights .*vit_tiny_patch16_224\.onnx \(classifier kept fresh \(other class count\); first conv summed over RGB for 1-channel input; position embedding resampled 2x2 -> 4x4, as timm\)/.test(l)), logs.join('\n'));
  // lr 1e-9: the position embedding is still the imported one
  const imported = buildModel({ arch: 'vit-tiny', inputSize: 64, channels: 1, classes: 5, task: 'multiclass' });
  importOnnxWeights(imported, readFileSync(weights));
  const [pos, want] = [trained, imported].map((m) => m.getLayer('tokens').getWeights()[1].dataSync());
  assert.equal(pos.length, 17 * 192);
  assert.ok(maxAbsDiff(pos, want) < 1e-6, `position embedding moved by ${maxAbsDiff(pos, want)}`);
  trained.dispose();
  imported.dispose();
});
