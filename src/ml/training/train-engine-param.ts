import { z } from 'zod';

/** The train stage's `engine:` param (kept apart from the trainers so schemas load without tfjs or ONNX Runtime). */
export const trainEngineParam = z
  .enum(['auto', 'tfjs', 'onnxruntime'])
  .default('auto')
  .describe(
    'Engine of the training steps. onnxruntime: forward, backward and Adam compiled into one ONNX Runtime graph (small-cnn and resnet18/34 with bce or ce loss and adam). auto: onnxruntime when onnxruntime-node loads, the model, loss and optimizer are supported and workers is 1, else TensorFlow.js (the reason is logged). An execution detail like the backend: not part of the checkpoint identity',
  );

export type TrainEngine = z.output<typeof trainEngineParam>;
