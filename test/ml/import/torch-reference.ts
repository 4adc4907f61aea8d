import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Debian's python (not a pyenv one first on PATH) with python3-torch and python3-torchvision; CI installs them. */
export const PYTHON = '/usr/bin/python3';

/** Why the PyTorch reference cannot run here (undefined when it can). Under CI a missing PyTorch is an error, not a skip. */
export function torchUnavailable(): string | undefined {
  const run = spawnSync(PYTHON, ['-c', 'import torch, torchvision'], { encoding: 'utf8' });
  if (run.status === 0) return undefined;
  const reason = `needs Debian ${PYTHON} with python3-torch and python3-torchvision (${(run.stderr || run.error?.message || '').trim().split('\n').pop()})`;
  if (process.env.CI) throw new Error(reason);
  return reason;
}

/** Runs a python script of this folder with arguments; throws with its stderr on failure. */
export function runPython(script: string, args: string[], timeoutMs = 600_000): string {
  const run = spawnSync(PYTHON, [join(dirname(fileURLToPath(import.meta.url)), script), ...args], { encoding: 'utf8', timeout: timeoutMs });
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
