import { z } from 'zod';

/** The `inference:` param of the stages that predict many images (kept apart from the predictor so schemas load without tfjs). */
export const inferenceParam = z
  .enum(['auto', 'tfjs', 'onnxruntime'])
  .default('auto')
  .describe('Engine of the model\'s predictions (tta: every forward pass; train: per-epoch validation). auto: ONNX Runtime when onnxruntime-node is installed and the model exports to ONNX, else TensorFlow.js. Scores agree to float rounding, so per-image predictions and training checkpoints cached under one engine are reused under the other');

export type InferenceEngine = z.output<typeof inferenceParam>;
