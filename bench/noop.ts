// Wall time of a fully cached `pipeline run` over 1k, 10k and 100k items.
// Each experiment: a source stage over a folder of N files (keyed by their content, memoised by
// path/size/mtime, as a DICOM ingest is) -> a per-item stage. We time the first run, then a no-op rerun
// of the CLI as a user types it (process start included) and the engine alone in-process.
// Run: node --import tsx bench/noop.ts [sizes...]
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execFileSync } from 'node:child_process';
import { FsStore } from '../src/store/fs-store.ts';
import { loadExperiment } from '../src/experiment/load.ts';
import { runLoaded } from '../src/engine/runner.ts';

const sizes = process.argv.slice(2).map(Number).filter(Boolean);
const REPO = resolve(import.meta.dirname, '..');
const results: string[] = [];

for (const n of sizes.length ? sizes : [1000, 10000, 100000]) {
  const dir = await mkdtemp(join(tmpdir(), `bench-noop-${n}-`));
  await mkdir(join(dir, 'data'));
  for (let i = 0; i < n; i += 1000) {
    await Promise.all(Array.from({ length: Math.min(1000, n - i) }, (_, j) => writeFile(join(dir, 'data', `f${String(i + j).padStart(6, '0')}.txt`), String(i + j))));
  }
  await writeFile(join(dir, 'exp.yaml'), `name: noop\nstages:\n  source: { uses: ${REPO}/bench/stages/files-source.ts, with: { folder: data } }\n  items: { uses: ${REPO}/bench/stages/per-item.ts, from: source }\n`);
  const store = await FsStore.open(join(dir, '.pipeline'), { durable: false });
  let t = performance.now();
  const first = await runLoaded(await loadExperiment(join(dir, 'exp.yaml')), store, { concurrency: 2 });
  const firstMs = performance.now() - t;
  if (first.status !== 'succeeded') throw new Error(`first run ${first.status}`);
  t = performance.now();
  const again = await runLoaded(await loadExperiment(join(dir, 'exp.yaml')), store, { concurrency: 2 });
  const engineMs = performance.now() - t;
  if (!again.instances.every((i) => i.status === 'cached')) throw new Error('no-op run was not fully cached');
  t = performance.now();
  execFileSync(process.execPath, [join(REPO, 'bin/pipeline.js'), 'run', 'exp.yaml', '--plain'], { cwd: dir, stdio: 'ignore', env: { ...process.env, CI: '1' } });
  const cliMs = performance.now() - t;
  const line = `| ${n.toLocaleString('en')} | ${(firstMs / 1000).toFixed(2)} s | ${(engineMs / 1000).toFixed(3)} s | ${(cliMs / 1000).toFixed(3)} s | ${(cliMs / 1000).toFixed(2)}x |`;
  results.push(line);
  console.log(line);
}
console.log(`\n| items | first run | no-op (engine) | no-op (CLI, incl. start-up) | CLI no-op vs 1 s target |\n|---|---|---|---|---|\n${results.join('\n')}`);
