/**
 * The one place model code imports TensorFlow.js from. When `@tensorflow/tfjs-node(-gpu)` is installed,
 * `initBackend` loads it and it registers its backend on this same tfjs instance, so every module that
 * imports `tf` from here runs on it.
 */
export * from '@tensorflow/tfjs';
