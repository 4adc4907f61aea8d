import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEBIAN_PYTHON, needs } from '../../support/reference-tools.ts';

/** The skip reason when Debian's PyTorch/torchvision are missing (false when present; fails instead under CI). */
export function torchUnavailable(): string | false {
  return needs('torch', 'torchvision');
}

/** Runs a python script of this folder with arguments; throws with its stderr on failure. */
export function runPython(script: string, args: string[], timeoutMs = 600_000): string {
  const run = spawnSync(DEBIAN_PYTHON, [join(dirname(fileURLToPath(import.meta.url)), script), ...args], { encoding: 'utf8', timeout: timeoutMs });
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
