// A training whose machine gets busy after its first epoch: the pipeline's epoch loop (runEpochs:
// steps, checkpoint per epoch, the ORT pool re-decided at each epoch start, src/ml/onnx/pool-respin.ts)
// on an ONNX Runtime trainer, random batches; after epoch 1 a busy loop of this script's own starts on
// one core (`taskset -c 1` where there is taskset) and runs to the end. Prints one JSON line per epoch
// (seconds of the epoch and of its steps, the pool it ran on) and the loop's log lines; compare
// `PIPELINE_ORT_SPIN=auto` (default) with `=on` under the same load. BUSY_TO=N stops the busy loop
// after epoch N (the load leaves: compare auto with `=off`).
// usage: ORT_THREADS=2 [PIPELINE_ORT_SPIN=on|off] [BUSY_TO=N] node --import tsx bench/respin-demo.ts ARCH SIZE EPOCHS STEPS_PER_EPOCH
import { spawn, spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import * as tf from '../src/ml/tf.ts';
import { initBackend } from '../src/ml/backend.ts';
import { buildModel, type Architecture } from '../src/ml/models/index.ts';
import { OrtTrainer, trainLossOf } from '../src/ml/onnx/training/ort-trainer.ts';
import { loadOnnxRuntime } from '../src/ml/onnx/runtime.ts';
import { ortSpinMode } from '../src/ml/onnx/pool-spin.ts';
import { CheckpointStore } from '../src/ml/training/checkpoint.ts';
import { runEpochs } from '../src/ml/training/epoch-loop.ts';
import { tempStore } from '../src/testing/harness.ts';

const [arch, size, epochs, perEpoch] = [process.argv[2] as Architecture, Number(process.argv[3]), Number(process.argv[4]), Number(process.argv[5])];
if (!arch || !size || !epochs || !perEpoch) throw new Error('usage: bench/respin-demo.ts ARCH SIZE EPOCHS STEPS_PER_EPOCH');
const ort = await loadOnnxRuntime();
if (!ort) throw new Error('onnxruntime-node is not installed');
const threads = Number(process.env.ORT_THREADS ?? availableParallelism());
await initBackend('auto');
const batch = 32;
const model = buildModel({ arch, inputSize: size, channels: 1, classes: 4, task: 'multilabel', seed: 1 });
const x = tf.randomUniform([batch, size, size, 1], 0, 1, 'float32', 1).dataSync() as Float32Array;
const y = Float32Array.from({ length: batch * 4 }, (_, i) => ((i * 7) % 3 === 0 ? 1 : 0));
const trainer = await OrtTrainer.create(model, { loss: trainLossOf('bce', 'multilabel'), optimizer: { name: 'adam' }, threads, runtime: ort });
const mode = ortSpinMode();
console.log(JSON.stringify({ arch, size, batch, threads, mode, pool: trainer.pool }));

const busyTo = Number(process.env.BUSY_TO ?? epochs);
const pinned = spawnSync('taskset', ['--version']).status === 0;
let busy: ReturnType<typeof spawn> | undefined;
let stepSeconds = 0;
let poolOfEpoch = trainer.pool;
try {
  await runEpochs(
    {
      model,
      trainRows: Array.from({ length: batch * perEpoch }, (_, i) => i),
      config: { epochs, batch, seed: 1, optimizer: 'adam', lr: 1e-4, momentum: 0, schedule: { type: 'constant' }, monitor: 'val_loss', earlyStopping: null },
      checkpoints: new CheckpointStore(await tempStore(), 'respin-demo'),
      trainer,
      signal: new AbortController().signal,
      log: (m) => console.log(JSON.stringify({ log: m })),
      onEpoch: (r) => {
        console.log(JSON.stringify({ epoch: r.epoch, seconds: r.seconds, step_seconds: Math.round(stepSeconds * 100) / 100, pool: poolOfEpoch, busy: busy !== undefined }));
        stepSeconds = 0;
        if (r.epoch === busyTo) {
          busy?.kill();
          busy = undefined;
        }
        if (r.epoch === 1) {
          const loop = ['-e', 'for (;;) {}'];
          busy = pinned ? spawn('taskset', ['-c', '1', process.execPath, ...loop], { stdio: 'ignore' }) : spawn(process.execPath, loop, { stdio: 'ignore' });
        }
      },
      onProgress: () => undefined,
    },
    {
      order: (rows) => [...rows],
      load: async () => undefined,
      async step(_b, rows, { lr }) {
        poolOfEpoch = trainer.pool;
        const t = performance.now();
        const loss = await trainer.step(x, y, rows.length, lr);
        stepSeconds += (performance.now() - t) / 1000;
        return loss;
      },
      validate: async () => ({}),
    },
  );
} finally {
  busy?.kill();
  await trainer.dispose();
}
