import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type * as WasmPackage from '@tensorflow/tfjs-backend-wasm';
import * as tf from './tf.ts';

const require = createRequire(import.meta.url);

interface EmscriptenModule {
  cwrap(name: string, returnType: string | null, argTypes: string[]): (...args: number[]) => number;
  [key: string]: unknown;
}
type WasmImports = { env: Record<string, unknown> };

/**
 * Replaces tfjs's `wasm` backend factory with one that loads the multi-threaded SIMD build, so XNNPACK
 * (convolutions, matrix products) runs on `threads` cores. tfjs ships that build but never uses it in
 * Node (tensorflow/tfjs#3830), and its C side caps the pool at half of `emscripten_num_logical_cores`
 * (a hyper-threading guess): we answer that import with `2 * threads` so the pool gets exactly `threads`.
 * The pthread worker script tfjs embeds as a string is written once to the temp folder, since Node's
 * `Worker` cannot start from the Blob URL tfjs builds for browsers. Call before `tf.setBackend('wasm')`.
 */
export function registerThreadedWasm(wasmPackage: typeof WasmPackage, threads: number): void {
  const root = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
  const mainScript = join(root, 'wasm-out/tfjs-backend-wasm-threaded-simd.js');
  const binary = join(root, 'dist/tfjs-backend-wasm-threaded-simd.wasm');
  const factory = require(mainScript) as (config: Record<string, unknown>) => Promise<EmscriptenModule>;
  const { wasmWorkerContents } = require(join(root, 'wasm-out/tfjs-backend-wasm-threaded-simd.worker.js')) as { wasmWorkerContents: string };
  const workerScript = writeWorkerScript(wasmWorkerContents);
  wasmPackage.setThreadsCount(threads);
  tf.removeBackend('wasm');
  tf.registerBackend(
    'wasm',
    async () => {
      const module = await factory({
        locateFile: (path: string) => (path.endsWith('.worker.js') ? workerScript : path.endsWith('.wasm') ? binary : join(root, 'wasm-out', path)),
        mainScriptUrlOrBlob: mainScript,
        instantiateWasm: (imports: WasmImports, receive: (instance: WebAssembly.Instance, module: WebAssembly.Module) => void) => {
          imports.env.emscripten_num_logical_cores = () => 2 * threads;
          void WebAssembly.instantiate(readFileSync(binary), imports as unknown as WebAssembly.Imports).then((r) => receive(r.instance, r.module));
          return {};
        },
      });
      module.tfjs = {
        init: module.cwrap('init', null, []),
        initWithThreadsCount: module.cwrap('init_with_threads_count', null, ['number']),
        getThreadsCount: module.cwrap('get_threads_count', 'number', []),
        registerTensor: module.cwrap('register_tensor', null, ['number', 'number', 'number']),
        disposeData: module.cwrap('dispose_data', null, ['number']),
        dispose: module.cwrap('dispose', null, []),
      };
      const backend = new wasmPackage.BackendWasm(module as never);
      unrefWorkers(module);
      return backend;
    },
    2,
  );
}

/**
 * The thread pool's workers wait for work for the life of the backend; unreferenced, they do not keep
 * Node running once the pipeline is done (they still run while it computes: the main thread waits on them).
 */
function unrefWorkers(module: EmscriptenModule): void {
  const pthreads = module.PThread as { runningWorkers: { unref(): void }[]; unusedWorkers: { unref(): void }[] };
  for (const worker of [...pthreads.runningWorkers, ...pthreads.unusedWorkers]) worker.unref();
}

/** tfjs embeds the script with its `\n` escapes unescaped (it re-escapes them before making a Blob): so do we. */
function writeWorkerScript(contents: string): string {
  const source = contents.replace(/\n/g, '\\n');
  const path = join(tmpdir(), `pipeline-tfjs-wasm-pthread-${createHash('sha256').update(source).digest('hex').slice(0, 16)}.cjs`);
  if (!existsSync(path)) {
    const temp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}`;
    writeFileSync(temp, source);
    renameSync(temp, path);
  }
  return path;
}
