// Wall time of the CLI as a user types it (process start included), side by side with `node -e 0`:
// `pipeline --help`, and a fully cached `pipeline run experiments/demo.yaml` (every stage cached, nothing
// to write), each from the compiled build (dist/, what bin/pipeline.js runs when it matches src/) and
// from the TypeScript sources through tsx (PIPELINE_FROM_SOURCE=1: how every command started before dist/).
// The demo runs once first in a scratch folder (copies of experiments/ and pipelines/, its own store).
// Run: npm run build && node --import tsx bench/cli-startup.ts [REPEATS]   (DEMO_PATIENTS / DEMO_EPOCHS make the first run
// shorter; BENCH_DIR=DIR reuses a scratch folder whose demo is cached; do not edit src/ meanwhile: dist/ would be stale)
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const REPO = resolve(import.meta.dirname, '..');
const repeats = Number(process.argv[2] ?? 15);
const bin = join(REPO, 'bin/pipeline.js');
// BENCH_DIR: a scratch folder of an earlier run of this benchmark (its demo already cached), kept.
const work = process.env.BENCH_DIR || mkdtempSync(join(tmpdir(), 'bench-cli-'));
if (!process.env.BENCH_DIR) for (const dir of ['experiments', 'pipelines', 'schema']) cpSync(join(REPO, dir), join(work, dir), { recursive: true });

function timed(args: string[], env: Record<string, string> = {}): number {
  const t = performance.now();
  const r = spawnSync(process.execPath, args, { cwd: work, env: { ...process.env, ...env }, encoding: 'utf8' });
  const ms = performance.now() - t;
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}:\n${r.stderr}`);
  if (env.PIPELINE_FROM_SOURCE !== '1' && /running the TypeScript sources/.test(r.stderr)) throw new Error('dist/ is stale or missing: run npm run build first');
  return ms;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const demo = [bin, 'run', 'experiments/demo.yaml'];
console.log(`first demo run (uncached unless BENCH_DIR) in ${work} ...`);
const firstMs = timed(demo);
console.log(`  ${(firstMs / 1000).toFixed(1)} s`);

const cases: [string, string[], Record<string, string>?][] = [
  ['node -e 0', ['-e', '0']],
  ['pipeline --help (compiled)', [bin, '--help']],
  ['pipeline --help (tsx, sources)', [bin, '--help'], { PIPELINE_FROM_SOURCE: '1' }],
  ['cached demo run (compiled)', demo],
  ['cached demo run (tsx, sources)', demo, { PIPELINE_FROM_SOURCE: '1' }],
];
const samples = new Map(cases.map(([name]) => [name, [] as number[]]));
const load = loadavg()[0];
// Interleaved, so that a change in the machine's load hits every case alike.
for (let i = 0; i < repeats; i++) for (const [name, args, env] of cases) samples.get(name)!.push(timed(args, env));
const base = median(samples.get('node -e 0')!);
console.log(`\n${repeats} runs each, interleaved; load average ${load.toFixed(2)} -> ${loadavg()[0].toFixed(2)}`);
console.log('| command | median wall | min | vs node -e 0 |');
console.log('| --- | --- | --- | --- |');
for (const [name] of cases) {
  const xs = samples.get(name)!;
  console.log(`| ${name} | ${(median(xs) / 1000).toFixed(3)} s | ${(Math.min(...xs) / 1000).toFixed(3)} s | ${(median(xs) / base).toFixed(1)}x |`);
}
if (!process.env.BENCH_DIR) rmSync(work, { recursive: true, force: true });
