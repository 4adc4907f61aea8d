import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import * as tf from '../../../src/ml/tf.ts';
import { importOnnxWeights } from '../../../src/ml/import/onnx-weights.ts';
import { DEBIAN_PYTHON, needs } from '../../support/reference-tools.ts';

/** The skip reason when Debian's PyTorch/torchvision are missing (false when present; fails instead under CI). */
export function torchUnavailable(): string | false {
  return needs('torch', 'torchvision');
}

/** Runs a python script of this folder with arguments; throws with its stderr on failure. */
export function runPython(script: string, args: string[], timeoutMs = 600_000, pythonPath?: string): string {
  const env = pythonPath ? { ...process.env, PYTHONPATH: pythonPath } : process.env;
  const run = spawnSync(DEBIAN_PYTHON, [join(dirname(fileURLToPath(import.meta.url)), script), ...args], { encoding: 'utf8', timeout: timeoutMs, env });
  if (run.status !== 0) throw new Error(`${script} failed: ${run.stderr || run.error?.message}`);
  return run.stdout;
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function readFloats(path: string): Float32Array {
  const b = readFileSync(path);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

/** A zoo model's logits (the layer before the head activation) for an NCHW float input of 2 images. */
export function logitsOf(model: tf.LayersModel, nchw: Float32Array, channels: number, size: number): Float32Array {
  return tf.tidy(() => {
    const x = tf.tensor4d(nchw, [2, channels, size, size]).transpose([0, 2, 3, 1]);
    const trunk = tf.model({ inputs: model.inputs, outputs: model.getLayer('logits').output as tf.SymbolicTensor });
    return (trunk.predict(x) as tf.Tensor).dataSync() as Float32Array;
  });
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  for (let i = 0; i < b.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

/**
 * Asserts the model's logits for the NCHW input file (2 images) equal PyTorch's (the file `want`) within
 * 1e-4, relative to the logits' magnitude where that exceeds 1 (float32 rounding grows with it), and
 * that PyTorch's logits depend on the input (the two images' differ by more than 10x the tolerance), so
 * that a mapping error deep in the network shows. Returns the difference, the logits' largest magnitude
 * and the two images' largest logit difference.
 */
export function assertLogitsEqual(model: tf.LayersModel, inputFile: string, wantFile: string, channels: number, size: number): { diff: number; largest: number; spread: number } {
  const want = readFloats(wantFile);
  const scale = Math.max(1, ...want.map(Math.abs));
  const half = want.length / 2;
  const spread = maxAbsDiff(want.subarray(0, half), want.subarray(half));
  assert.ok(spread > 1e-3 * scale, `PyTorch's logits barely depend on the input (the two images' differ by ${spread})`);
  const diff = maxAbsDiff(logitsOf(model, readFloats(inputFile), channels, size), want);
  assert.ok(diff <= 1e-4 * scale, `max abs difference ${diff} (logits up to ${scale})`);
  return { diff, largest: Math.max(...want.map(Math.abs)), spread };
}

/**
 * Imports an ONNX export with another class count than the (3-channel) model's: asserts the head keeps
 * its fresh weights and the pooled features for the input file equal PyTorch's (`featuresFile`) within 1e-4
 * (relative where they exceed 1, as assertLogitsEqual).
 */
export function assertHeadReplaced(model: tf.LayersModel, onnxFile: string, inputFile: string, featuresFile: string, size: number): void {
  const fresh = model.getLayer('logits').getWeights()[0].dataSync().slice();
  const result = importOnnxWeights(model, readFileSync(onnxFile));
  assert.equal(result.headReplaced, true);
  assert.deepEqual(model.getLayer('logits').getWeights()[0].dataSync(), fresh);
  const features = tf.tidy(() => {
    const x = tf.tensor4d(readFloats(inputFile), [2, 3, size, size]).transpose([0, 2, 3, 1]);
    return (tf.model({ inputs: model.inputs, outputs: model.getLayer('pool').output as tf.SymbolicTensor }).predict(x) as tf.Tensor).dataSync();
  });
  const want = readFloats(featuresFile);
  assert.equal(features.length, want.length);
  const scale = Math.max(1, ...want.map(Math.abs));
  assert.ok(maxAbsDiff(features, want) <= 1e-4 * scale, `pooled features differ by ${maxAbsDiff(features, want)} (up to ${scale})`);
}
