import type { BackendPreference } from '../backend.ts';
import type { LossConfig } from '../losses/index.ts';
import type { ModelSpec } from '../models/index.ts';

/** Main thread -> gradient worker. */
export type WorkerRequest =
  | { type: 'init'; backend: BackendPreference; spec: ModelSpec; loss: LossConfig; classWeights?: number[] }
  | { type: 'step'; id: number; weights: Float32Array[]; x: Float32Array; xShape: number[]; y: Float32Array; yShape: number[] };

/** Gradient worker -> main thread. */
export type WorkerReply =
  | { type: 'ready' }
  | { type: 'step'; id: number; loss: number; grads: Float32Array[]; state: Float32Array[] }
  | { type: 'error'; message: string };
