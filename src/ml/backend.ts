import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from './tf.ts';
import { registerWasmGradientKernels } from './wasm-kernels/register.ts';

export type BackendPreference = 'auto' | 'tensorflow' | 'wasm' | 'cpu';

const require = createRequire(import.meta.url);
let active: Promise<string> | undefined;
let activePreference: BackendPreference | undefined;

/**
 * Picks the fastest TensorFlow.js backend that loads: tfjs-node-gpu, tfjs-node (optional packages,
 * imported dynamically), else wasm with our gradient kernels, else the pure-JS cpu backend. The env var
 * `PIPELINE_TF_BACKEND` overrides `auto`. Returns the backend name (`tensorflow`, `wasm` or `cpu`).
 */
export function initBackend(preference: BackendPreference = 'auto', log: (message: string) => void = () => {}): Promise<string> {
  const wanted = preference === 'auto' ? ((process.env.PIPELINE_TF_BACKEND as BackendPreference | undefined) ?? 'auto') : preference;
  if (active && activePreference === wanted) return active;
  activePreference = wanted;
  active = pick(wanted, log);
  return active;
}

async function pick(wanted: BackendPreference, log: (message: string) => void): Promise<string> {
  const attempts: string[] = [];
  if (wanted === 'auto' || wanted === 'tensorflow') {
    for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
      try {
        await import(pkg);
        if (await tf.setBackend('tensorflow')) {
          log(`tfjs backend: tensorflow (${pkg})`);
          return 'tensorflow';
        }
      } catch (err) {
        attempts.push(`${pkg}: ${firstLine(err)}`);
      }
    }
    if (wanted === 'tensorflow') log(`tfjs backend: tensorflow not available (${attempts.join('; ')}); falling back`);
  }
  if (wanted !== 'cpu') {
    try {
      if (await useWasm()) {
        log(`tfjs backend: wasm (single-threaded, with pipeline gradient kernels)`);
        return 'wasm';
      }
    } catch (err) {
      attempts.push(`wasm: ${firstLine(err)}`);
    }
  }
  await tf.setBackend('cpu');
  log(`tfjs backend: cpu${attempts.length ? ` (${attempts.join('; ')})` : ''}`);
  return 'cpu';
}

async function useWasm(): Promise<boolean> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  if (!tf.findBackendFactory('wasm')) return false;
  const dist = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + '/';
  wasm.setWasmPaths(dist);
  registerWasmGradientKernels();
  return tf.setBackend('wasm');
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0];
}
