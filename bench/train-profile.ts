// Per-kernel time of one training step (tf.profile), to find the next hot spot of the wasm backend.
// usage: node --import tsx bench/train-profile.ts [ARCH=small-cnn] [SIZE=64] [BATCH=32]
import * as tf from '../src/ml/tf.ts';
import { initBackend } from '../src/ml/backend.ts';
import { binaryCrossEntropy } from '../src/ml/losses/index.ts';
import { buildModel, type Architecture } from '../src/ml/models/index.ts';

const arch = (process.argv[2] ?? 'small-cnn') as Architecture;
const size = Number(process.argv[3] ?? 64);
const batch = Number(process.argv[4] ?? 32);
console.log(`backend ${await initBackend('auto')}`);
const model = buildModel({ arch, inputSize: size, channels: 1, classes: 4, task: 'multilabel', seed: 1 });
const optimizer = tf.train.adam(1e-3);
const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
const x = tf.randomUniform([batch, size, size, 1], 0, 1, 'float32', 1);
const y = tf.round(tf.randomUniform([batch, 4], 0, 1, 'float32', 2)) as tf.Tensor2D;
const loss = binaryCrossEntropy();
const step = () => tf.tidy(() => optimizer.minimize(() => loss(y, model.apply(x, { training: true }) as tf.Tensor2D), true, vars)!.dataSync()[0]);
step();
const started = performance.now();
const profile = await tf.profile(() => void step());
console.log(`step ${(performance.now() - started).toFixed(0)} ms (profiled)`);
const byKernel = new Map<string, number>();
for (const k of profile.kernels) byKernel.set(k.name, (byKernel.get(k.name) ?? 0) + Number(k.kernelTimeMs));
const total = [...byKernel.values()].reduce((a, b) => a + b, 0);
for (const [name, ms] of [...byKernel].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`${name.padEnd(36)} ${ms.toFixed(1).padStart(9)} ms ${((100 * ms) / total).toFixed(1).padStart(5)}%`);
