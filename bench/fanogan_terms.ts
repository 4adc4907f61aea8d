/**
 * The test AUC of an exported f-AnoGAN model's score and of its two terms on nih1000_64px (normal vs
 * abnormal test images): izi_f score, image residual alone, critic-feature residual alone, the same
 * breakdown `bench/anomaly_methods.py` prints for PyTorch f-AnoGAN (results in bench/results/anomaly.md).
 * usage: npx pipeline export experiments/nih-anomaly.yaml anomaly DIR [--stale]   (after a run with method f-anogan)
 *        npx tsx bench/fanogan_terms.ts DIR path/to/nih1000_64px
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '../src/ml/tf.ts';
import { initBackend } from '../src/ml/backend.ts';
import { decodeImagePixels } from '../src/ml/image-tensor.ts';
import { modelFromBytes } from '../src/ml/model-io.ts';
import { rocAuc } from '../src/ops/metrics/roc.ts';

const [modelDir, data] = process.argv.slice(2);
if (!modelDir || !data) throw new Error('usage: npx tsx bench/fanogan_terms.ts EXPORTED_MODEL_DIR path/to/nih1000_64px');
await initBackend('wasm');
const model = await modelFromBytes(readFileSync(join(modelDir, 'model.json'), 'utf8'), readFileSync(join(modelDir, 'weights.bin')));
const [header, ...lines] = readFileSync(join(data, 'labels.csv'), 'utf8').trim().split('\n').map((l) => l.split(','));
const col = (name: string) => header.indexOf(name);
const test = lines.filter((l) => l[col('split')] === 'test');
const size = model.inputs[0].shape[1] as number;
const pixels = await Promise.all(test.map((l) => decodeImagePixels(readFileSync(join(data, l[col('image')])), { size, channels: 1 })));
const x = tf.tensor4d(Float32Array.from(pixels.flatMap((p) => Array.from(p))), [test.length, size, size, 1]);
const truth = test.map((l) => (l[col('label_name')] === 'normal' ? 0 : 1));
const probe = tf.model({ inputs: model.inputs, outputs: ['score', 'image_score', 'feature_score'].map((n) => model.getLayer(n).output as tf.SymbolicTensor) });
const [score, image, feature] = (probe.predict(x) as tf.Tensor[]).map((t) => Array.from(t.dataSync()));
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
console.log(`${test.length} test images (${truth.filter((t) => t).length} abnormal); mean image term ${mean(image).toExponential(3)}, mean kappa * feature term ${mean(feature).toExponential(3)}`);
console.log(`izi_f score: test AUC ${rocAuc(truth, score).toFixed(4)}`);
console.log(`image residual only: test AUC ${rocAuc(truth, image).toFixed(4)}`);
console.log(`critic-feature residual only: test AUC ${rocAuc(truth, feature).toFixed(4)}`);
