import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { initBackend } from '../../../src/ml/backend.ts';
import { buildModel, type Architecture } from '../../../src/ml/models/index.ts';
import { importOnnxWeights, WeightImportError } from '../../../src/ml/import/onnx-weights.ts';
import { onnxLayers, type OnnxLayer } from '../../../src/ml/import/onnx-layers.ts';
import { resizeBicubic } from '../../../src/ml/import/resize-bicubic.ts';
import { readOnnxModel } from '../../../src/ml/onnx/onnx-reader.ts';
import { trainFromWeights } from './train-from-weights.ts';
import { assertHeadReplaced, assertLogitsEqual, maxAbsDiff, readFloats, runPython, tempDir, torchUnavailable } from './torch-reference.ts';

// torchvision models with random weights (batch-norm statistics randomised) exported to ONNX by
// PyTorch at test time, with PyTorch's outputs for a fixed input.
const SIZE = 32;
const skip = torchUnavailable();
let dir = '';
before(() => {
  if (skip) return;
  dir = tempDir('onnx-import-');
  // vit_tiny also moved to 64 px the torchvision way (interpolate_embeddings)
  runPython('torchvision_export.py', [dir, String(SIZE), 'resnet18:5:unfused', 'resnet50:5', 'densenet121:5', 'mobilenet_v2:5', 'efficientnet_b0:5', 'vit_tiny:5:at64']);
  // swin_t at 224 px, its ImageNet size (7x7 windows on every stage's grid), with its outputs at 128 and 256 px
  runPython('torchvision_export.py', [dir, '224', 'swin_t:5:at128:at256']);
  mkdirSync(join(dir, '224'));
  runPython('torchvision_export.py', [join(dir, '224'), '224', 'vit_tiny:5:at128']);
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
    assert.equal(result.swinWindowsPadded, undefined);
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

// torchvision's Swin runs at any size (7x7 windows, the grid zero-padded to whole windows, no shift where
// one window covers it), so its weights are those of every size: the 224 px export at 128 and 256 px.
const PADDED = {
  128: { grids: ['32x32', '16x16', '8x8', '4x4'], timmShrinks: ['4x4'], timmShiftsFirst: ['32x32', '16x16', '8x8'] },
  256: { grids: ['64x64', '32x32', '16x16', '8x8'], timmShrinks: [], timmShiftsFirst: ['64x64', '32x32', '16x16', '8x8'] },
};
for (const size of [128, 256] as const) {
  test(`torchvision swin_t exported at 224 px into swin-tiny at ${size} px: logits equal torchvision's swin_t at ${size} px within 1e-4`, { skip }, async (t) => {
    await initBackend('wasm');
    const model = buildModel({ arch: 'swin-tiny', inputSize: size, channels: 3, classes: 5, task: 'multiclass', seed: 3 });
    const result = importOnnxWeights(model, readFileSync(join(dir, 'swin_t.onnx')));
    assert.deepEqual(result.swinWindowsPadded, PADDED[size]);
    const { diff, largest, spread } = assertLogitsEqual(model, join(dir, `swin_t.at${size}.input.bin`), join(dir, `swin_t.at${size}.logits.bin`), 3, size);
    t.diagnostic(`max abs difference ${diff.toExponential(1)}, logits up to ${largest.toPrecision(3)}, the two images' differ by ${spread.toPrecision(2)}`);
    model.dispose();
  });
}

// torchvision's way to another image size: a VisionTransformer built at the new size loading the state
// dict through interpolate_embeddings (bicubic, align_corners=True, no antialias).
for (const c of [{ from: 224, to: 128, sub: '224' }, { from: SIZE, to: 64, sub: '' }]) {
  const [g, h] = [c.from / 16, c.to / 16];
  test(`torchvision ViT (vit-tiny sizes) exported at ${c.from} px into vit-tiny at ${c.to} px: position embedding resampled ${g}x${g} -> ${h}x${h} as interpolate_embeddings, logits equal torchvision's at ${c.to} px within 1e-4`, { skip }, async (t) => {
    await initBackend('wasm');
    const at = (suffix: string) => join(dir, c.sub, `vit_tiny.at${c.to}.${suffix}.bin`);
    const bytes = readFileSync(join(dir, c.sub, 'vit_tiny.onnx'));
    const model = buildModel({ arch: 'vit-tiny', inputSize: c.to, channels: 3, classes: 5, task: 'multiclass', seed: 3 });
    const result = importOnnxWeights(model, bytes);
    assert.deepEqual(result.positionEmbeddingResampled, { from: g, to: h, as: 'torchvision' });
    const pos = model.getLayer('tokens').getWeights()[1].dataSync();
    const want = readFloats(at('pos'));
    assert.equal(pos.length, (1 + h * h) * 192);
    assert.ok(maxAbsDiff(pos, want) < 1e-5, `position embedding differs from torchvision's interpolate_embeddings by ${maxAbsDiff(pos, want)}`);
    // the check tells the two ways apart: timm's resampling of the same embedding is far from torchvision's
    const exported = onnxLayers(readOnnxModel(bytes)).find((l): l is Extract<OnnxLayer, { kind: 'param' }> => l.kind === 'param' && l.tensor.name === 'encoder.pos_embedding')!;
    const timmWay = resizeBicubic(Float32Array.from(exported.tensor.data).subarray(192), g, g, 192, h, h, { antialias: true });
    assert.ok(maxAbsDiff(timmWay, want.subarray(192)) > 1e-2, `timm's resampling is within ${maxAbsDiff(timmWay, want.subarray(192))} of torchvision's`);
    const { diff } = assertLogitsEqual(model, at('input'), at('logits'), 3, c.to);
    t.diagnostic(`position embedding within ${maxAbsDiff(pos, want).toExponential(1)} (timm's way: ${maxAbsDiff(timmWay, want.subarray(192)).toExponential(1)}), logits within ${diff.toExponential(1)}`);
    model.dispose();
  });
}

test('train with model: swin-tiny at 64 px and weights: the 224 px torchvision export: loads, logs the padded windows once', { skip }, async () => {
  await initBackend('wasm');
  const { logs, trained } = await trainFromWeights('swin-tiny', join(dir, 'swin_t.onnx'), 8);
  assert.ok(logs.some((l) => /initialised \d+ layers from ONNX weights .*swin_t\.onnx \(classifier kept fresh \(other class count\); first conv summed over RGB for 1-channel input\)/.test(l)), logs.join('\n'));
  const notes = logs.filter((l) => /Swin windows padded/.test(l));
  assert.equal(notes.length, 1, logs.join('\n'));
  assert.match(notes[0], /Swin windows padded as torchvision at 16x16, 8x8, 4x4, 2x2 grids; timm would shrink them at 4x4, 2x2 and shift before padding at 16x16, 8x8/);
  // lr 1e-9: the last block's relative position bias table is still the imported one
  const imported = buildModel({ arch: 'swin-tiny', inputSize: 64, channels: 1, classes: 3, task: 'multilabel' });
  importOnnxWeights(imported, readFileSync(join(dir, 'swin_t.onnx')));
  const [table, want] = [trained, imported].map((m) => m.getLayer('s4b2').weights.find((w) => w.originalName.endsWith('relative_position_bias_table'))!.read().dataSync());
  assert.equal(table.length, 169 * 24);
  assert.ok(maxAbsDiff(table, want) < 1e-6, `bias table moved by ${maxAbsDiff(table, want)}`);
  trained.dispose();
  imported.dispose();
});
