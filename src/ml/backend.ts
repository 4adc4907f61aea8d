import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import * as tf from './tf.ts';
import { registerWasmGradientKernels } from './wasm-kernels/register.ts';
import { registerThreadedWasm } from './wasm-threaded.ts';
import { errorText } from '../util/error-text.ts';

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
    const requested = wasmThreads();
    try {
      const threads = await useWasm(requested, log);
      if (threads) {
        log(`tfjs backend: wasm (${threads === 1 ? 'single-threaded' : `${threads} threads`}, with pipeline gradient kernels)`);
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

/** Threads of the wasm backend: `PIPELINE_WASM_THREADS`, else every core this process may use. */
export function wasmThreads(): number {
  const fromEnv = process.env.PIPELINE_WASM_THREADS;
  if (fromEnv === undefined || fromEnv === '') return availableParallelism();
  const n = Number(fromEnv);
  if (!Number.isInteger(n) || n < 1) throw new Error(`PIPELINE_WASM_THREADS must be a whole number >= 1, got "${fromEnv}"`);
  return n;
}

/** Returns the threads the wasm backend runs on, 0 when it does not load. */
async function useWasm(threads: number, log: (message: string) => void): Promise<number> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  const singleThreaded = tf.findBackendFactory('wasm');
  if (!singleThreaded) return 0;
  const dist = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + '/';
  wasm.setWasmPaths(dist);
  registerWasmGradientKernels();
  if (threads > 1) {
    registerThreadedWasm(wasm, threads);
    if (await tf.setBackend('wasm')) return wasm.getThreadsCount();
    log(`tfjs backend: multi-threaded wasm failed to start; using one thread`);
    tf.removeBackend('wasm');
    tf.registerBackend('wasm', singleThreaded, 2);
  }
  return (await tf.setBackend('wasm')) ? 1 : 0;
}

function firstLine(err: unknown): string {
  return errorText(err).split('\n')[0];
}
