import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { INSTALL_COMMAND, REFERENCE_PACKAGES } from '../support/reference-tools.ts';

const REPO = join(import.meta.dirname, '../..');
const git = (...args: string[]) => execFileSync('git', args, { cwd: REPO, encoding: 'utf8' });
/** Tracked text files, without the binary fixtures. */
const tracked = git('ls-files', '-z').split('\0').filter((f) => f && !f.startsWith('test/fixtures/') && !/\.(png|dcm|bin|onnx|jpe?g)$/.test(f) && f !== 'package-lock.json');
const THIS_FILE = 'test/repo/hygiene.test.ts';

function grep(pattern: RegExp, files = tracked): string[] {
  const hits: string[] = [];
  for (const file of files) {
    if (file === THIS_FILE || !existsSync(join(REPO, file))) continue;
    readFileSync(join(REPO, file), 'utf8').split('\n').forEach((line, i) => {
      if (pattern.test(line)) hits.push(`${file}:${i + 1}: ${line.trim()}`);
    });
  }
  return hits;
}

test('no file names the development machine: its absolute paths, its shared data folder, "the brief", "not installable here"', () => {
  // Built from parts so that this file does not match itself.
  const machine = new RegExp(['/' + 'work/', '/' + 'work\\b', '\\.\\./' + 'shared', 'shared/' + 'data', '/' + 'home/', '/' + 'root/'].join('|'));
  assert.deepEqual(grep(machine), []);
  assert.deepEqual(grep(new RegExp(['the ' + 'brief', 'not ' + 'installable'].join('|'), 'i')), []);
});

test('every experiment or template file the docs, infra and examples name exists', () => {
  const named = new Set<string>();
  const userFacing = tracked.filter((f) => !f.startsWith('test/') && !f.startsWith('src/'));
  for (const hit of grep(/(experiments|pipelines)\/[\w.-]+\.ya?ml/, userFacing)) {
    for (const m of hit.matchAll(/(?:^|[^\w./-])((?:experiments|pipelines)\/[\w.-]+\.ya?ml)/g)) named.add(m[1]);
  }
  assert.ok(named.has('experiments/demo.yaml'), 'the README names the demo');
  assert.deepEqual([...named].filter((f) => !existsSync(join(REPO, f))), []);
});

test('data/ and out/ (downloaded data, exported outputs) and the store are ignored by git', () => {
  for (const path of ['data/vinbig/train.csv', 'out/report.html', '.pipeline/docs/x.json']) {
    assert.equal(git('check-ignore', '--no-index', path).trim(), path, `${path} is not ignored`);
  }
});

test('the README and .ci/run install exactly the reference tools the tests look for', () => {
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
  assert.ok(readme.includes(INSTALL_COMMAND), `README.md shows "${INSTALL_COMMAND}"`);
  const ci = readFileSync(join(REPO, '.ci/run'), 'utf8');
  const debs = /debs=\(([^)]*)\)/.exec(ci)?.[1].trim().split(/\s+/).sort();
  assert.deepEqual(debs, [...REFERENCE_PACKAGES].sort());
  assert.match(ci, /PIPELINE_REQUIRE_REFERENCE_TOOLS=1/, 'CI fails rather than skips when a reference tool is missing');
});

test('the npm package has a publishable scoped name; the command it installs is `pipeline`; docs import that name', () => {
  const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8'));
  assert.match(pkg.name, /^@[a-z0-9-]+\/pipeline$/, 'an unscoped "pipeline" is an unrelated npm package');
  assert.equal(pkg.publishConfig?.access, 'public');
  assert.deepEqual(Object.keys(pkg.bin), ['pipeline']);
  assert.equal(JSON.parse(readFileSync(join(REPO, 'package-lock.json'), 'utf8')).name, pkg.name);
  // Every import of the package (README, examples, docs) uses its real name.
  const imports = grep(/from '(@[a-z0-9-]+\/)?pipeline(\/[a-z]+)?'/).filter((hit) => !hit.includes(`from '${pkg.name}`));
  assert.deepEqual(imports, []);
  assert.ok(grep(new RegExp(`from '${pkg.name}/testing'`)).some((hit) => hit.startsWith('README.md')), 'README shows the test harness import');
});
