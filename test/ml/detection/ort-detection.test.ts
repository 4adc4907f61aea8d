import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '../../../src/ml/tf.ts';
import { initBackend } from '../../../src/ml/backend.ts';
import { anchorPoints, assignTargets, targetChannels } from '../../../src/ml/detection/assign.ts';
import { buildDetector, pyramidLevels, type DetectorSpec } from '../../../src/ml/detection/detector.ts';
import { detectionTrainLoss } from '../../../src/ml/detection/detection-engine.ts';
import { defaultDetectionLoss, detectionLoss } from '../../../src/ml/detection/loss.ts';
import { loadOnnxRuntime } from '../../../src/ml/onnx/runtime.ts';
import { OrtTrainer } from '../../../src/ml/onnx/training/ort-trainer.ts';
import { maxRelDiff } from '../max-rel-diff.ts';

const ort = await loadOnnxRuntime();
const needsOrt = { skip: ort ? false : 'onnxruntime-node is not installed' };

const cases: DetectorSpec[] = [
  { backbone: 'csp-nano', inputSize: 64, channels: 1, classes: 2, seed: 3, width: 0.25, neck: 'pan', neckChannels: 8, headConvs: 1 },
  { backbone: 'resnet18', inputSize: 64, channels: 3, classes: 3, seed: 4, width: 0.125, neck: 'fpn', neckChannels: 8, headConvs: 1 },
];

for (const spec of cases) {
  test(`detector ${spec.backbone} ${spec.neck}: loss and every weight's gradient of one ONNX Runtime step equal tfjs's within 1e-3`, needsOrt, async () => {
    await initBackend('wasm');
    const model = buildDetector(spec);
    const points = anchorPoints(pyramidLevels(spec.inputSize));
    const n = 2;
    const boxes = [
      [{ x_min: 5, y_min: 8, x_max: 30, y_max: 26, cls: 0 }, { x_min: 34, y_min: 30, x_max: 60, y_max: 62, cls: spec.classes - 1 }],
      [{ x_min: 20.5, y_min: 3, x_max: 28, y_max: 11.5, cls: 1 }],
    ];
    const k = targetChannels(spec.classes);
    const ys = new Float32Array(n * points.count * k);
    boxes.forEach((b, i) => assignTargets(points, b, spec.classes, { radius: 1.5 }, ys.subarray(i * points.count * k, (i + 1) * points.count * k)));
    const x = tf.randomUniform([n, spec.inputSize, spec.inputSize, spec.channels], 0, 1, 'float32', 7);
    const y = tf.tensor3d(ys, [n, points.count, k]);
    const trainer = await OrtTrainer.create(model, { loss: detectionTrainLoss(defaultDetectionLoss, points, spec.classes), optimizer: { name: 'adam' }, threads: 1, exposeGradients: true, runtime: ort });
    const loss = await trainer.step(x.dataSync() as Float32Array, ys, n, 1e-3);
    const anchors = { cx: tf.tensor1d(points.cx), cy: tf.tensor1d(points.cy), stride: tf.tensor1d(points.stride) };
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const { value, grads } = tf.variableGrads(() => detectionLoss(model.apply(x, { training: true }) as tf.Tensor3D, y, anchors).total, vars);
    const expected = value.dataSync()[0];
    assert.ok(Math.abs(loss - expected) <= 1e-3 * Math.abs(expected), `loss ${loss} vs tfjs ${expected}`);
    const ours = trainer.lastGradients();
    let worst = 0;
    for (const [i, v] of vars.entries()) {
      const d = maxRelDiff(ours[i], grads[v.name]);
      worst = Math.max(worst, d);
      assert.ok(d < 1e-3, `${v.name}: gradient differs by ${d} (relative)`);
    }
    console.log(`${spec.backbone}: loss ${loss.toFixed(5)} vs ${expected.toFixed(5)}, worst gradient relative difference ${worst.toExponential(2)} over ${vars.length} weights`);
    await trainer.dispose();
    tf.dispose([x, y, value, anchors.cx, anchors.cy, anchors.stride, ...Object.values(grads)]);
    model.dispose();
  });
}
