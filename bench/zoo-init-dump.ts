// The zoo's initial weights of resnet18 with the small stem (what experiments/medmnist.yaml builds) as JSON
// {name: {shape, data}} in tfjs layout, for `bench/medmnist_torch.py --init-from`: PyTorch then starts
// from the pipeline's exact weights. usage: node --import tsx bench/zoo-init-dump.ts OUT.json [SEED=1] [INIT=zoo|torch] [CLASSES=2] [CHANNELS=1]
import { writeFileSync } from 'node:fs';
import { initBackend } from '../src/ml/backend.ts';
import { buildModel, initSchemes, type InitScheme } from '../src/ml/models/index.ts';

const [out, seed = '1', init = 'zoo', classes = '2', channels = '1'] = process.argv.slice(2);
if (!out || !initSchemes.includes(init as InitScheme) || !['1', '3'].includes(channels)) {
  console.error('usage: node --import tsx bench/zoo-init-dump.ts OUT.json [SEED=1] [INIT=zoo|torch] [CLASSES=2] [CHANNELS=1]');
  process.exit(2);
}
await initBackend('cpu');
const model = buildModel(
  { arch: 'resnet18', inputSize: 28, channels: Number(channels) as 1 | 3, classes: Number(classes), task: 'multiclass', seed: Number(seed), stem: 'small', init: init as InitScheme },
  { foldBatchNorms: false },
);
const weights: Record<string, { shape: number[]; data: number[] }> = {};
for (const layer of model.layers) for (const w of layer.weights) weights[w.originalName] = { shape: w.shape as number[], data: Array.from(w.read().dataSync()) };
writeFileSync(out, JSON.stringify(weights));
console.log(`${out}: ${Object.keys(weights).length} tensors of resnet18 (small stem), seed ${seed}, init ${init}`);
