// Training and scoring throughput of f-AnoGAN (anomaly.method: f-anogan) on the pipeline's default engines, the
// same network, batch, steps and images as bench/fanogan_torch.py: the WGAN phase (OrtGanTrainer: a critic step
// per batch, RMSProp 5e-5, the critic's default Lipschitz constraint after each, a generator step after every
// 5th), the izi_f encoder phase (the encoder trainer of train-fanogan.ts: Adam 1e-3, G and D frozen), scoring
// by the exported scoring model. STEPS is rounded up to a multiple of n_critic; the WGAN phase warms up with one
// full cycle (both step sessions run). Prints one JSON line.
// usage: ORT_THREADS=1 [IMAGES=file] [LIPSCHITZ=spectral|clip] node --import tsx bench/fanogan.ts SIZE BATCH STEPS [WIDTH=0.5] [BOTTLENECK=16]
import * as tf from '../src/ml/tf.ts';
import { initBackend } from '../src/ml/backend.ts';
import { buildFanogan } from '../src/ml/anomaly/fanogan.ts';
import { OrtGanTrainer } from '../src/ml/anomaly/gan-trainer-ort.ts';
import { createEncoderTrainer } from '../src/ml/anomaly/anomaly-engine.ts';
import type { LipschitzMethod } from '../src/ml/anomaly/lipschitz.ts';
import { createPredictor } from '../src/ml/inference/predictor.ts';
import { FANOGAN_DEFAULTS as defaults } from '../src/stages/train-anomaly-params.ts';
import { benchArgs, benchBatches, parameterCount, rate, report } from './anomaly-bench.ts';

const args = await benchArgs();
const { size, batch, width, bottleneck, threads, runtime } = args;
const lipschitz = (process.env.LIPSCHITZ ?? defaults.lipschitz) as LipschitzMethod;
if (lipschitz !== 'spectral' && lipschitz !== 'clip') throw new Error(`LIPSCHITZ: spectral or clip, got ${lipschitz}`);
const nCritic = defaults.n_critic;
const steps = Math.ceil(args.steps / nCritic) * nCritic;
await initBackend('auto'); // builds the networks and their initial weights only
const gan = buildFanogan({ inputSize: size, channels: 1, seed: 1, width, bottleneck, kappa: defaults.kappa });
const xs = benchBatches(args, () => tf.randomUniform([batch, size, size, 1], 0, 1, 'float32', 1).dataSync() as Float32Array);
const params = { generator: parameterCount(gan.generator), critic: parameterCount(gan.critic), encoder: parameterCount(gan.encoder) };

const wganTrainer = await OrtGanTrainer.create(gan, { nCritic, lipschitz, clip: defaults.clip, seed: 1 }, runtime, threads);
const none = new Float32Array(0);
const wgan = await rate((x) => wganTrainer.step(x, none, batch, defaults.gan_lr), xs, batch, steps, nCritic);
wganTrainer.writeToModel();
await wganTrainer.dispose();

const encoderTrainer = await createEncoderTrainer(gan, { engine: 'onnxruntime', optimizer: 'adam', momentum: 0, threads, log: () => {} });
if (!encoderTrainer) throw new Error('the encoder trainer did not start on ONNX Runtime');
const encoder = await rate((x) => encoderTrainer.step(x, none, batch, 1e-3), xs, batch, steps);
encoderTrainer.writeToModel();
await encoderTrainer.dispose();

const predictor = await createPredictor(gan.scorer, { engine: 'onnxruntime', threads });
const scoring = await rate((x) => predictor.predict(x, batch), xs, batch, steps);
await predictor.dispose();
report({ ...args, steps }, { wgan, encoder, scoring }, params, { lipschitz, n_critic: nCritic });
