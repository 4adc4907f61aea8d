import { execFileSync } from 'node:child_process';
import { DEBIAN_PYTHON } from '../../support/reference-tools.ts';

export { DEBIAN_PYTHON };

/** Runs a Python script with Debian's python, passing `args`; returns stdout parsed as JSON. Throws loudly if a module is missing. */
export function runPythonJson<T = unknown>(script: string, args: string[] = []): T {
  const out = execFileSync(DEBIAN_PYTHON, ['-c', script, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  return JSON.parse(out) as T;
}
