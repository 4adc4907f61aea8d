// Training and scoring throughput of the anomaly autoencoder (task: anomaly) on the pipeline's default
// engines: the train step (reconstruction MSE, Adam) as one ONNX Runtime graph, then scoring by the exported
// score model; the same network, batch, loss and images as bench/anomaly_torch.py. Prints one JSON line.
// usage: ORT_THREADS=1 [IMAGES=file] node --import tsx bench/anomaly.ts SIZE BATCH STEPS [WIDTH=0.5] [BOTTLENECK=16]
import * as tf from '../src/ml/tf.ts';
import { initBackend } from '../src/ml/backend.ts';
import { buildAutoencoder, buildScoreModel } from '../src/ml/anomaly/autoencoder.ts';
import { reconstructionTrainLoss } from '../src/ml/anomaly/anomaly-engine.ts';
import { createPredictor } from '../src/ml/inference/predictor.ts';
import { OrtTrainer } from '../src/ml/onnx/training/ort-trainer.ts';
import { benchArgs, benchBatches, parameterCount, rate, report } from './anomaly-bench.ts';

const args = await benchArgs();
const { size, batch, steps, width, bottleneck, threads, runtime } = args;
await initBackend('auto'); // builds the model and its initial weights only
const model = buildAutoencoder({ inputSize: size, channels: 1, seed: 1, width, bottleneck });
const xs = benchBatches(args, () => tf.randomUniform([batch, size, size, 1], 0, 1, 'float32', 1).dataSync() as Float32Array);
const params = { autoencoder: parameterCount(model) };
const trainer = await OrtTrainer.create(model, { loss: reconstructionTrainLoss(size * size), optimizer: { name: 'adam' }, threads, runtime });
const train = await rate((x) => trainer.step(x, x, batch, 1e-3), xs, batch, steps);
trainer.writeToModel();
await trainer.dispose();
const predictor = await createPredictor(buildScoreModel(model), { engine: 'onnxruntime', threads });
const scoring = await rate((x) => predictor.predict(x, batch), xs, batch, steps);
await predictor.dispose();
report(args, { train, scoring }, params);
