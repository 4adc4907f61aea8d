import { z } from 'zod';

/** The `backend:` param of the learning stages (kept apart from backend.ts so schemas load without tfjs). */
export const backendParam = z
  .enum(['auto', 'tensorflow', 'wasm', 'cpu'])
  .default('auto')
  .describe('TensorFlow.js backend (auto: tfjs-node-gpu, then tfjs-node if installed, else wasm, else cpu)');
