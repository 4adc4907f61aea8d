import * as tf from './tf.ts';

/**
 * Why `auto` engines keep TensorFlow.js: when tfjs runs on native TensorFlow (`@tensorflow/tfjs-node`,
 * or `-gpu` with CUDA), its kernels are native too, and on a GPU far faster than ONNX Runtime's CPU
 * build. Undefined on the wasm and cpu backends, where ONNX Runtime is the faster engine.
 */
export function nativeTensorflowReason(): string | undefined {
  return tf.getBackend() === 'tensorflow' ? 'tfjs runs on native TensorFlow (tfjs-node)' : undefined;
}
