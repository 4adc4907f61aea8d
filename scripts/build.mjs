#!/usr/bin/env node
// Builds dist/, the compiled CLI that bin/pipeline.js runs when it matches src/ (it starts several times
// faster than compiling the TypeScript sources through tsx at every start). Run by `npm install` /
// `npm ci` (prepare) and `npm test` (pretest), a no-op when dist/ matches src/; `npm run build` by hand
// (`-- --force` rebuilds regardless).
// Type checking is separate: `npm run typecheck`.
//
// esbuild bundles the CLI and the worker-thread entries, split into chunks at dynamic imports, so a
// command loads only the modules it uses, from a few files instead of hundreds. zod, yaml and p-queue
// (needed by every run) are bundled in; other packages stay in node_modules. Every output sits at the
// top of dist/, and `import.meta.url` in a source module becomes the URL of that module's own place in a
// mirror of src/ (dist/engine/run-in-worker.js), so that paths relative to a module keep working:
// worker entries (written below), ../../package.json, createRequire.
import { cp, mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { sameSources, sourceStateSync, STAMP } from '../bin/build-state.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src');
const out = join(root, 'dist');
const started = performance.now();
const requireHere = createRequire(import.meta.url);

/** Output name -> source module. Worker entries are loaded by URL from their bootstrap (.mjs) below. */
const entries = {
  main: 'cli/main.ts',
  'resolve-stage': 'experiment/resolve-stage.ts',
  'stage-worker': 'engine/stage-worker.ts',
  'convert-worker': 'ops/dicom/convert-worker.ts',
  'process-png-worker': 'ops/image/process-png-worker.ts',
  'grad-worker': 'ml/parallel/grad-worker.ts',
};
/** Worker bootstraps (their place in the mirror of src/) and the entry they load. */
const workerBootstraps = {
  'engine/stage-worker-entry.mjs': 'stage-worker',
  'ops/dicom/convert-worker-entry.mjs': 'convert-worker',
  'ops/image/process-png-worker-entry.mjs': 'process-png-worker',
  'ml/parallel/grad-worker-entry.mjs': 'grad-worker',
};
const BUNDLED = /^(zod|yaml|p-queue|p-timeout|eventemitter3)(\/|$)/;

let esbuild;
try {
  esbuild = await import('esbuild');
} catch (err) {
  console.error(`pipeline build: esbuild is not installed (it comes with tsx): ${err.message}; the CLI will run the TypeScript sources through tsx`);
  process.exit(0);
}

const state = sourceStateSync(src);
const previous = await readFile(join(out, STAMP), 'utf8').then(JSON.parse, () => undefined);
if (previous && sameSources(state, previous) && !process.argv.includes('--force')) {
  console.error(`pipeline build: ${relative(root, out)}/ is up to date with src/ (--force rebuilds it)`);
  process.exit(0);
}
const entryOf = new Map(Object.entries(entries).map(([name, file]) => [join(src, file), name]));
// Built next to dist/ and swapped in whole, so that a CLI starting meanwhile sees the old build or none
// (then it runs the sources), never half of one.
const staging = `${out}.${process.pid}.tmp`;
await rm(staging, { recursive: true, force: true });
const result = await esbuild.build({
  entryPoints: Object.fromEntries(Object.entries(entries).map(([name, file]) => [name, join(src, file)])),
  outdir: staging,
  entryNames: '[name]',
  chunkNames: '[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  metafile: true,
  logLevel: 'warning',
  define: { __PIPELINE_COMPILED__: 'true' },
  // Less to parse at every start; identifiers are kept, so stack traces stay readable.
  minifyWhitespace: true,
  minifySyntax: true,
  plugins: [
    {
      name: 'pipeline-modules',
      setup(build) {
        // yaml's ESM build (its "node" export is CommonJS, whose require() calls an ES module cannot make);
        // it is the same parser, warning through console.warn instead of process.emitWarning.
        build.onResolve({ filter: /^yaml$/ }, () => ({ path: join(dirname(requireHere.resolve('yaml/package.json')), 'browser', 'index.js') }));
        // zod's namespace re-exports every locale (1.6 MB of messages in 40 languages); errors here are in
        // English (zod's default, imported on its own), so the bundle's z.locales holds English only.
        build.onResolve({ filter: /\/locales\/index\.js$/ }, (args) => (/[\\/]zod[\\/]/.test(args.importer) ? { path: 'zod-locales', namespace: 'pipeline' } : undefined));
        build.onLoad({ filter: /^zod-locales$/, namespace: 'pipeline' }, () => ({ contents: `export { default as en } from ${JSON.stringify(join(dirname(requireHere.resolve('zod/package.json')), 'v4', 'locales', 'en.js'))};`, loader: 'js', resolveDir: root }));
        // Packages stay where npm put them, except the few every run needs (bundled: fewer files to load).
        build.onResolve({ filter: /^[^./]/ }, (args) => (BUNDLED.test(args.path) ? undefined : { path: args.path, external: true }));
        build.onLoad({ filter: /\.ts$/ }, async (args) => {
          let contents = await readFile(args.path, 'utf8');
          if (contents.includes('import.meta.url') && args.path.startsWith(src)) {
            const name = entryOf.get(args.path);
            const own = name ? `./${name}.js` : `./${relative(src, args.path).replace(/\.ts$/, '.js')}`;
            contents = contents.replaceAll('import.meta.url', `new URL(${JSON.stringify(own)}, import.meta.url).href`);
          }
          return { contents, loader: 'ts' };
        });
      },
    },
  ],
});
for (const [place, entry] of Object.entries(workerBootstraps)) {
  const file = join(staging, place);
  await mkdir(dirname(file), { recursive: true });
  const back = relative(dirname(file), join(staging, `${entry}.js`));
  await writeFile(file, `// Worker bootstrap of the compiled build (scripts/build.mjs); src/${place} is the TypeScript one.\nawait import(${JSON.stringify(back.startsWith('.') ? back : `./${back}`)});\n`);
}
// A CLI started from the previous build keeps loading its chunks lazily (a command's modules, a stage's
// run module): those are carried over, one generation only, so that a rebuild under a running pipeline
// does not pull files from under it. Entry files (main.js...) are the new build's.
const outputs = Object.keys(result.metafile.outputs).map((o) => relative(staging, o));
const made = new Set(outputs);
for (const file of previous?.outputs ?? []) {
  if (!made.has(file) && /^[^/]+-[A-Z0-9]{8}\.js$/.test(file)) await cp(join(out, file), join(staging, file)).catch(() => {});
}
await writeFile(join(staging, STAMP), JSON.stringify({ ...state, outputs }) + '\n');
const old = `${out}.${process.pid}.old`;
await rename(out, old).catch((err) => {
  if (err.code !== 'ENOENT') throw err;
});
try {
  await rename(staging, out);
} catch (err) {
  // Another build (a parallel test file) swapped its own in meanwhile: same sources, keep that one.
  if (err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST') throw err;
  await rm(staging, { recursive: true, force: true });
}
await rm(old, { recursive: true, force: true });
const modules = Object.keys(result.metafile.inputs).filter((i) => !i.includes('node_modules')).length;
console.error(`pipeline build: ${modules} modules -> ${outputs.length} files in ${relative(root, out)}/ (${Math.round(performance.now() - started)} ms)`);
