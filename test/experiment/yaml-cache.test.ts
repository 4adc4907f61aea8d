import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseYamlText, yamlSource } from '../../src/experiment/yaml-source.ts';
import { loadExperiment } from '../../src/experiment/load.ts';
import { DiagnosticError } from '../../src/engine/diagnostics.ts';

// The parse cache (yaml-cache.ts): a file read again with the same bytes takes its value from the
// cache; errors found later still point at the right line and column; values JSON cannot keep exactly
// are never cached; PIPELINE_CACHE_DIR= (empty) turns it off.
async function withCacheDir<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  const before = process.env.PIPELINE_CACHE_DIR;
  process.env.PIPELINE_CACHE_DIR = dir;
  try {
    return await fn();
  } finally {
    if (before === undefined) delete process.env.PIPELINE_CACHE_DIR;
    else process.env.PIPELINE_CACHE_DIR = before;
  }
}

test('a cached parse gives the same value, and locations as exact as a fresh parse', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'yaml-cache-'));
  const cache = join(dir, 'cache');
  const text = `# ${Math.random()}\nname: x\nparams: { lr: 3.0e-4, n: 7 }\nstages:\n  a:\n    uses: convert\n    with: { window: auto }\n`;
  await withCacheDir(cache, async () => {
    const first = await yamlSource(text, 'a.yaml');
    assert.equal((await readdir(cache)).length, 1, 'the value was remembered');
    const second = await yamlSource(text, 'b.yaml');
    assert.deepEqual(second.value, first.value);
    assert.deepEqual(second.value, parseYamlText(text, 'b.yaml').value);
    assert.deepEqual(second.locate(['stages', 'a', 'with', 'window']), { file: 'b.yaml', line: 7, col: 21 });
    assert.equal(second.has(['params', 'lr']), true);
    assert.equal(second.has(['params', 'epochs']), false);
  });
  await rm(dir, { recursive: true, force: true });
});

test('an experiment loaded from the cache reports a bad value at its line and column', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'yaml-cache-'));
  const file = join(dir, 'exp.yaml');
  await writeFile(file, `name: x${Math.random().toString().slice(2, 8)}\nstages:\n  c:\n    uses: convert\n    with: { bits: 9 }\n`);
  await withCacheDir(join(dir, 'cache'), async () => {
    for (const round of ['parsed', 'cached']) {
      const err = await loadExperiment(file).then(() => undefined, (e: unknown) => e);
      assert.ok(err instanceof DiagnosticError, round);
      assert.deepEqual(err.diagnostics.map((d) => [d.location?.line, d.location?.col]), [[5, 19]], round);
    }
    assert.equal((await readdir(join(dir, 'cache'))).length, 1);
  });
  await rm(dir, { recursive: true, force: true });
});

test('values JSON cannot keep exactly are not cached; an empty PIPELINE_CACHE_DIR turns the cache off', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'yaml-cache-'));
  const cache = join(dir, 'cache');
  await withCacheDir(cache, async () => {
    const inf = await yamlSource(`x: .inf\ny: -0\n# ${Math.random()}\n`, 'a.yaml');
    assert.deepEqual(inf.value, { x: Infinity, y: -0 });
    assert.deepEqual(await readdir(cache).catch(() => []), []);
  });
  await withCacheDir('', async () => {
    await yamlSource(`x: 1\n# ${Math.random()}\n`, 'a.yaml');
  });
  assert.deepEqual(await readdir(cache).catch(() => []), []);
  await rm(dir, { recursive: true, force: true });
});
