#!/usr/bin/env node
// `npm test`: every test file under test/ and examples/ through node's test runner, with TMPDIR pointed
// at a directory of this run's own that is removed when the run ends (tests write stores, models and
// servers' files under os.tmpdir(); without this, every run left a few GB in /tmp).
// PIPELINE_KEEP_TEST_TMP=1 keeps it (its path is printed) for a look at a failure's files.
// Extra arguments go to node's test runner: `npm test -- --test-name-pattern=gc`.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(import.meta.url), '../..');
const testFiles = ['test', 'examples'].flatMap((dir) => findTests(join(root, dir))).map((f) => relative(root, f)).sort();
const runTmp = mkdtempSync(join(tmpdir(), 'pipeline-npm-test-'));
const keep = process.env.PIPELINE_KEEP_TEST_TMP === '1';

const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', ...process.argv.slice(2), ...testFiles], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, TMPDIR: runTmp },
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => {
  if (keep) console.error(`test files kept in ${runTmp}`);
  else rmSync(runTmp, { recursive: true, force: true });
  process.exit(code ?? (signal ? 1 : 0));
});

function findTests(dir) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  return entries.flatMap((name) => {
    const path = join(dir, name);
    if (name === 'node_modules') return [];
    if (statSync(path).isDirectory()) return findTests(path);
    return name.endsWith('.test.ts') ? [path] : [];
  });
}
