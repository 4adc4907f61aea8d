// Per-kernel time of model.predict on one batch (tf.profile), to see where inference time goes.
// usage: [FOLD=0] node --import tsx bench/train-infer-profile.ts [ARCH=small-cnn] [SIZE=64] [BATCH=32]
// FOLD=0 builds the model without folding batch norm into the convolutions (the pre-fold path).
import * as tf from '../src/ml/tf.ts';
import { initBackend } from '../src/ml/backend.ts';
import { buildModel, type Architecture } from '../src/ml/models/index.ts';

const arch = (process.argv[2] ?? 'small-cnn') as Architecture;
const size = Number(process.argv[3] ?? 64);
const batch = Number(process.argv[4] ?? 32);
console.log(`backend ${await initBackend('auto')}`);
const model = buildModel({ arch, inputSize: size, channels: 1, classes: 4, task: 'multilabel', seed: 1 }, { foldBatchNorms: process.env.FOLD !== '0' });
const x = tf.randomUniform([batch, size, size, 1], 0, 1, 'float32', 1);
const predict = () => tf.tidy(() => void (model.predict(x) as tf.Tensor).dataSync());
predict();
const started = performance.now();
for (let i = 0; i < 3; i++) predict();
console.log(`predict ${((performance.now() - started) / 3).toFixed(0)} ms per batch of ${batch}`);
const profile = await tf.profile(() => predict());
const byKernel = new Map<string, number>();
for (const k of profile.kernels) byKernel.set(k.name, (byKernel.get(k.name) ?? 0) + Number(k.kernelTimeMs));
const total = [...byKernel.values()].reduce((a, b) => a + b, 0);
for (const [name, ms] of [...byKernel].sort((a, b) => b[1] - a[1]).slice(0, 12)) console.log(`${name.padEnd(36)} ${ms.toFixed(1).padStart(9)} ms ${((100 * ms) / total).toFixed(1).padStart(5)}%`);
