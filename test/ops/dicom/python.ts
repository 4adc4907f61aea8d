import { execFileSync } from 'node:child_process';

/** Debian's python (with python3-pydicom etc.), not the pyenv one first on PATH. */
export const DEBIAN_PYTHON = '/usr/bin/python3';

/** Runs a Python script with Debian's python, passing `args`; returns stdout parsed as JSON. Throws loudly if a module is missing. */
export function runPythonJson<T = unknown>(script: string, args: string[] = []): T {
  const out = execFileSync(DEBIAN_PYTHON, ['-c', script, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  return JSON.parse(out) as T;
}
