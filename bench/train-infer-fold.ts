// Inference with and without batch norm folded into the convolutions, interleaved in one process on the
// same weights (CPU ms per batch of 32, median of 5 after one warm-up), so machine load hits both alike.
// usage: node --import tsx bench/train-infer-fold.ts [ARCH=small-cnn] [SIZE=64]
import * as tf from '../src/ml/tf.ts';
import { initBackend } from '../src/ml/backend.ts';
import { buildModel, type Architecture } from '../src/ml/models/index.ts';
await initBackend('wasm');
const arch = (process.argv[2] ?? 'small-cnn') as Architecture, size = Number(process.argv[3] ?? 64);
const spec = { arch, inputSize: size, channels: 1 as const, classes: 4, task: 'multilabel' as const, seed: 1 };
const plain = buildModel(spec, { foldBatchNorms: false }), folded = buildModel(spec);
const x = tf.randomUniform([32, size, size, 1], 0, 1, 'float32', 1);
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
const t = { plain: [] as number[], folded: [] as number[] };
for (let r = 0; r < 6; r++) for (const [k, m] of [['plain', plain], ['folded', folded]] as const) {
  const c = cpu(); tf.tidy(() => void (m.predict(x) as tf.Tensor).dataSync()); t[k].push(cpu() - c);
}
const med = (a: number[]) => a.slice(1).sort((p, q) => p - q)[Math.floor((a.length - 1) / 2)];
console.log(`${arch} ${size}px: CPU ms per batch (median of 5): unfolded ${med(t.plain).toFixed(0)}, folded ${med(t.folded).toFixed(0)}`);
