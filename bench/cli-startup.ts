// Wall time of the CLI as a user types it (process start included), side by side with `node -e 0`:
// `pipeline --help`, and a fully cached `pipeline run experiments/demo.yaml` (every stage cached, nothing
// to write), each from the compiled build (dist/, what bin/pipeline.js runs when it matches src/) and
// from the TypeScript sources through tsx (PIPELINE_FROM_SOURCE=1: how every command started before dist/).
// The demo runs once first in a scratch folder (copies of experiments/ and pipelines/, its own store).
// Run: npm run build && node --import tsx bench/cli-startup.ts [REPEATS]   (DEMO_PATIENTS / DEMO_EPOCHS make the first run
// shorter; BENCH_DIR=DIR reuses a scratch folder whose demo is cached; do not edit src/ meanwhile: dist/ would be stale)
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const REPO = resolve(import.meta.dirname, '..');
const repeats = Number(process.argv[2] ?? 15);
const bin = join(REPO, 'bin/pipeline.js');
// BENCH_DIR: a scratch folder of an earlier run of this benchmark (its demo already cached), kept.
const work = process.env.BENCH_DIR || mkdtempSync(join(tmpdir(), 'bench-cli-'));
if (!process.env.BENCH_DIR) for (const dir of ['experiments', 'pipelines', 'schema']) cpSync(join(REPO, dir), join(work, dir), { recursive: true });

// CPU time (user + system, from GNU time) as well as wall time: on a machine shared with other jobs the
// wall time mostly measures the wait for a core; the CPU time is what the command itself costs.
const GNU_TIME = '/usr/bin/time';
const cpuFile = join(work, '.cpu-time');
const hasGnuTime = spawnSync(GNU_TIME, ['-f', '%U', '-o', cpuFile, process.execPath, '-e', '0']).status === 0;

function timed(args: string[], env: Record<string, string> = {}): { wall: number; cpu: number } {
  const t = performance.now();
  const r = hasGnuTime
    ? spawnSync(GNU_TIME, ['-f', '%U %S', '-o', cpuFile, process.execPath, ...args], { cwd: work, env: { ...process.env, ...env }, encoding: 'utf8' })
    : spawnSync(process.execPath, args, { cwd: work, env: { ...process.env, ...env }, encoding: 'utf8' });
  const wall = performance.now() - t;
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}:\n${r.stderr}`);
  if (env.PIPELINE_FROM_SOURCE !== '1' && /running the TypeScript sources/.test(r.stderr)) throw new Error('dist/ is stale or missing: run npm run build first');
  const cpu = hasGnuTime ? readFileSync(cpuFile, 'utf8').trim().split(/\s+/).slice(-2).reduce((a, x) => a + Number(x) * 1000, 0) : NaN;
  return { wall, cpu };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const demo = [bin, 'run', 'experiments/demo.yaml'];
console.log(`first demo run (uncached unless BENCH_DIR) in ${work} ...`);
const firstMs = timed(demo).wall;
console.log(`  ${(firstMs / 1000).toFixed(1)} s`);

const cases: [string, string[], Record<string, string>?][] = [
  ['node -e 0', ['-e', '0']],
  ['pipeline --help (compiled)', [bin, '--help']],
  ['pipeline --help (tsx, sources)', [bin, '--help'], { PIPELINE_FROM_SOURCE: '1' }],
  ['cached demo run (compiled)', demo],
  ['cached demo run (tsx, sources)', demo, { PIPELINE_FROM_SOURCE: '1' }],
];
const samples = new Map(cases.map(([name]) => [name, [] as { wall: number; cpu: number }[]]));
const load = loadavg()[0];
// Interleaved, so that a change in the machine's load hits every case alike.
for (let i = 0; i < repeats; i++) for (const [name, args, env] of cases) samples.get(name)!.push(timed(args, env));
const walls = (name: string) => samples.get(name)!.map((x) => x.wall);
const cpus = (name: string) => samples.get(name)!.map((x) => x.cpu);
const [baseWall, baseCpu] = [median(walls('node -e 0')), median(cpus('node -e 0'))];
const s = (ms: number) => `${(ms / 1000).toFixed(3)} s`;
console.log(`\n${repeats} runs each, interleaved; load average ${load.toFixed(2)} -> ${loadavg()[0].toFixed(2)}`);
console.log('| command | median wall | min wall | wall vs node -e 0 | median CPU (user+sys) | CPU vs node -e 0 |');
console.log('| --- | --- | --- | --- | --- | --- |');
for (const [name] of cases) {
  console.log(`| ${name} | ${s(median(walls(name)))} | ${s(Math.min(...walls(name)))} | ${(median(walls(name)) / baseWall).toFixed(1)}x | ${s(median(cpus(name)))} | ${(median(cpus(name)) / baseCpu).toFixed(1)}x |`);
}
rmSync(cpuFile, { force: true });
if (!process.env.BENCH_DIR) rmSync(work, { recursive: true, force: true });
