import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const child = fileURLToPath(new URL('./fixtures/threaded-step.ts', import.meta.url));

/**
 * Runs the fixture in a fresh process (the backend is chosen once per process); it must exit on its own.
 * The timeout only catches a child that never exits (wasm worker threads kept alive): a few seconds on a
 * quiet machine, but minutes when many test processes share the cores, so it is generous.
 */
async function step(threads: string): Promise<{ backend: string; threads: number; logs: string[]; weights: string }> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', child], { env: { ...process.env, PIPELINE_WASM_THREADS: threads }, timeout: 300_000 });
  return JSON.parse(stdout.trim().split('\n').at(-1)!);
}

test('the wasm backend runs XNNPACK on 2 threads in Node, exits cleanly, and trains to the same bytes as 1 thread', async () => {
  const [two, one] = await Promise.all([step('2'), step('1')]);
  assert.equal(two.backend, 'wasm');
  assert.equal(two.threads, 2);
  assert.match(two.logs.join('\n'), /tfjs backend: wasm \(2 threads/);
  assert.equal(one.threads, 1);
  assert.match(one.logs.join('\n'), /tfjs backend: wasm \(single-threaded/);
  // Two Adam steps through every kernel we register: the thread split does not change a single bit.
  assert.equal(two.weights, one.weights);
});

test('a malformed PIPELINE_WASM_THREADS is a clear error, not a silent default', async () => {
  await assert.rejects(step('two'), (err: Error & { stderr?: string }) => {
    assert.match(String(err.stderr), /PIPELINE_WASM_THREADS must be a whole number >= 1, got "two"/);
    return true;
  });
});
