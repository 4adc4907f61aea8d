import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, utimesSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { sourceStateSync, STAMP } from '../../bin/build-state.mjs';
import { ensureBuiltCli } from '../support/built-cli.ts';
import { REPO, runCli, workspace } from '../support/workspace.ts';

// Issue 14 item 6: bin/pipeline.js runs the compiled build only when it was built from the sources as
// they are; otherwise the TypeScript sources, saying so. A copy of bin/ with a one-file src/ and dist/.
function fakePackage() {
  const dir = mkdtempSync(join(tmpdir(), 'instant-cli-'));
  mkdirSync(join(dir, 'bin'));
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
  for (const f of ['pipeline.js', 'build-state.mjs']) copyFileSync(join(REPO, 'bin', f), join(dir, 'bin', f));
  symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'));
  mkdirSync(join(dir, 'src/cli'), { recursive: true });
  writeFileSync(join(dir, 'src/cli/main.ts'), "export async function main(argv: string[]): Promise<number> { console.log('sources', argv.join(' ')); return 0; }\n");
  mkdirSync(join(dir, 'dist'));
  writeFileSync(join(dir, 'dist/main.js'), "export async function main(argv) { console.log('compiled', argv.join(' ')); return 3; }\n");
  const build = () => writeFileSync(join(dir, 'dist', STAMP), JSON.stringify(sourceStateSync(join(dir, 'src'))));
  build();
  const cli = (...args: string[]) => {
    const env = { ...process.env };
    delete env.PIPELINE_FROM_SOURCE;
    const r = spawnSync(process.execPath, [join(dir, 'bin/pipeline.js'), ...args], { encoding: 'utf8', env });
    return { code: r.status, stdout: r.stdout.trim(), stderr: r.stderr.trim() };
  };
  return { dir, build, cli };
}

test('the compiled build runs only while it matches src/: an edit, a new or renamed file, or no build runs the sources, saying why', () => {
  const pkg = fakePackage();
  try {
    assert.deepEqual(pkg.cli('a', 'b'), { code: 3, stdout: 'compiled a b', stderr: '' });

    // An edit (content and time).
    const main = join(pkg.dir, 'src/cli/main.ts');
    writeFileSync(main, "export async function main(): Promise<number> { console.log('edited'); return 0; }\n");
    let r = pkg.cli();
    assert.equal(r.stdout, 'edited');
    assert.match(r.stderr, /^pipeline: src\/ changed since dist\/ was built; running the TypeScript sources through tsx \(slower start; npm run build compiles them\)$/);
    pkg.build();
    assert.equal(pkg.cli().stdout, 'compiled');

    // A new file, and a rename that keeps every modification time (mv).
    writeFileSync(join(pkg.dir, 'src/cli/extra.ts'), 'export {};\n');
    assert.match(pkg.cli().stderr, /src\/ changed since dist\/ was built/);
    pkg.build();
    const { mtime } = statSync(join(pkg.dir, 'src/cli/extra.ts'));
    renameSync(join(pkg.dir, 'src/cli/extra.ts'), join(pkg.dir, 'src/cli/other.ts'));
    utimesSync(join(pkg.dir, 'src/cli/other.ts'), mtime, mtime);
    assert.match(pkg.cli().stderr, /src\/ changed since dist\/ was built/);

    // Asked for, or nothing built.
    pkg.build();
    const asked = spawnSync(process.execPath, [join(pkg.dir, 'bin/pipeline.js')], { encoding: 'utf8', env: { ...process.env, PIPELINE_FROM_SOURCE: '1' } });
    assert.match(asked.stderr, /PIPELINE_FROM_SOURCE=1; running the TypeScript sources/);
    rmSync(join(pkg.dir, 'dist'), { recursive: true });
    r = pkg.cli();
    assert.equal(r.stdout, 'edited');
    assert.match(r.stderr, /^pipeline: dist\/ is not built; running the TypeScript sources/);
  } finally {
    rmSync(pkg.dir, { recursive: true, force: true });
  }
});

test('the compiled CLI prints what the sources print, and runs users\' TypeScript stage modules (their StageInputError shown as input errors)', async () => {
  ensureBuiltCli();
  const fromDist = spawnSync(process.execPath, [join(REPO, 'bin/pipeline.js'), '--help'], { encoding: 'utf8' });
  const fromSources = spawnSync(process.execPath, [join(REPO, 'bin/pipeline.js'), '--help'], { encoding: 'utf8', env: { ...process.env, PIPELINE_FROM_SOURCE: '1' } });
  assert.equal(fromDist.stderr, '');
  assert.match(fromSources.stderr, /running the TypeScript sources/);
  assert.equal(fromDist.stdout, fromSources.stdout);
  assert.match(fromDist.stdout, /^ {2}push\s/m);

  const ws = await workspace(`
name: instant
stages:
  source: { uses: $FIXTURES/source.ts, with: { n: 3 } }
  double: { uses: $FIXTURES/count.ts, from: source, with: { log: p.log, fail_on: item1 } }
`);
  const run = await runCli(['run', 'exp.yaml', '--plain'], ws.dir);
  assert.equal(run.code, 1);
  assert.doesNotMatch(run.stderr, /running the TypeScript sources/);
  assert.match(run.stdout + run.stderr, /cannot process item1/);
  assert.doesNotMatch(run.stdout + run.stderr, /at .*count\.ts:\d+/, 'an input error is shown without a stack trace');
});

test('a JavaScript stage module that imports the package (TypeScript sources) loads in the compiled CLI', async () => {
  ensureBuiltCli();
  const ws = await workspace(`
name: js-stage
stages:
  only: { uses: ./stage.mjs }
`);
  writeFileSync(
    join(ws.dir, 'stage.mjs'),
    `import { defineStage, StageInputError } from ${JSON.stringify(pathToFileURL(join(REPO, 'src/index.ts')).href)};
import { z } from ${JSON.stringify(pathToFileURL(join(REPO, 'node_modules/zod/index.js')).href)};
export default defineStage({ name: 'js-stage', version: 1, description: 'refuses', params: z.object({}).strict(), inputs: { min: 0, max: 0 }, async run() { throw new StageInputError('the JS stage refuses'); } });
`,
  );
  const run = await runCli(['run', 'exp.yaml', '--plain'], ws.dir);
  assert.equal(run.code, 2, run.stdout + run.stderr); // a stage's StageInputError is bad input: exit 2
  assert.doesNotMatch(run.stderr, /running the TypeScript sources|Unknown file extension/);
  assert.match(run.stdout + run.stderr, /the JS stage refuses/);
});
