#!/usr/bin/env node
// Entry point. Runs the compiled CLI (dist/, built by `npm install` / `npm ci` / `npm run build`) when it
// was built from the sources as they are now; otherwise runs the TypeScript sources through tsx, which
// starts slower, and says so on stderr.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { sameSources, sourceStateSync, STAMP } from './build-state.mjs';

function staleReason() {
  let built;
  try {
    built = JSON.parse(readFileSync(new URL(`../dist/${STAMP}`, import.meta.url), 'utf8'));
  } catch {
    return 'dist/ is not built';
  }
  const src = fileURLToPath(new URL('../src', import.meta.url));
  // An installed package (npm gives its files one fixed time) is built before packing and not edited.
  if (/[\\/]node_modules[\\/]/.test(src)) return undefined;
  const now = sourceStateSync(src);
  return sameSources(now, built) ? undefined : 'src/ changed since dist/ was built';
}

const why = process.env.PIPELINE_FROM_SOURCE === '1' ? 'PIPELINE_FROM_SOURCE=1' : staleReason();
let main;
if (!why) ({ main } = await import('../dist/main.js'));
else {
  process.stderr.write(`pipeline: ${why}; running the TypeScript sources through tsx (slower start; npm run build compiles them)\n`);
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../src/cli/main.ts'));
}
process.exitCode = await main(process.argv.slice(2));
