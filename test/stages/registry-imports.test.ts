import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The modules (relative to the repository) and packages that importing `entry` loads before any dynamic import. */
async function staticClosure(entry: string): Promise<{ modules: string[]; packages: string[] }> {
  const result = await esbuild.build({ entryPoints: [ROOT + entry], absWorkingDir: ROOT, bundle: true, write: false, metafile: true, splitting: true, format: 'esm', platform: 'node', packages: 'external', outdir: 'out', logLevel: 'silent' });
  const inputs = result.metafile.inputs;
  const modules = new Set<string>();
  const packages = new Set<string>();
  const stack = [entry];
  while (stack.length) {
    const file = stack.pop()!;
    if (modules.has(file)) continue;
    modules.add(file);
    for (const i of inputs[file].imports) {
      if (i.kind !== 'import-statement') continue; // import() loads later, when called
      if (i.external) packages.add(i.path);
      else stack.push(i.path);
    }
  }
  return { modules: [...modules].sort(), packages: [...packages].sort() };
}

test('loading the stage registry (every command that reads an experiment) loads no stage run code: only definitions, params and zod', async () => {
  const { modules, packages } = await staticClosure('src/stages/index.ts');
  assert.deepEqual(modules.filter((m) => m.endsWith('.run.ts')), [], 'a .run.ts module is imported statically');
  // Params and schemas may live beside the code they configure; the code itself may not be loaded.
  const isParams = (m: string) => /(-param|-params|-schema|\/architectures|\/groups|\/issues|\/source)\.ts$/.test(m);
  const runCode = modules.filter((m) => (/^src\/(ml|ops\/(image|labels|metrics|splits|boxes)|evaluation)\//.test(m) && !isParams(m)) || /\/(label-join|ingest-common|split-common)\.ts$/.test(m));
  assert.deepEqual(runCode, [], 'run-time modules in the registry\'s static imports');
  assert.deepEqual(packages.filter((p) => !p.startsWith('node:')), ['zod']);
  // The lazily loaded run modules exist and export run().
  for (const name of ['preprocess', 'evaluate', 'ingest-dicom', 'kfold', 'command']) {
    const mod = await import(`../../src/stages/${name}.run.ts`);
    assert.equal(typeof mod.run, 'function', name);
  }
});
