/**
 * ONNX Runtime's own profiler for a bench script: `profileNextSession` makes the next session created
 * through the runtime record every node and returns a reader of the profile as time per op type and per
 * node, with the part spent in nodes that ran on one thread (a node whose kernel split its work over the
 * intra-op pool records the block sizes in its thread_scheduling_stats; with 1 thread nothing is split).
 */
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import type { OnnxRuntime } from '../src/ml/onnx/runtime.ts';

interface Profiled {
  endProfiling(): string | Promise<string>;
}

export interface OpTimes {
  /** Microseconds per op type and per node, summed over every profiled run. */
  byOp: Map<string, { us: number; singleThreaded: number }>;
  /** Per node also its time in each counted run (`samples`, in run order). */
  byNode: Map<string, { op: string; us: number; samples: number[] }>;
  /** Microseconds of each counted run of the session (ORT's model_run events). */
  runs: number[];
}

/**
 * The next `InferenceSession.create` of `ort` profiles (files /tmp/PREFIX*); returns a reader of its
 * profile that leaves out the first `skipRuns` runs (warm-ups: the first run allocates the arenas).
 */
export function profileNextSession(ort: OnnxRuntime, prefix: string): (skipRuns?: number) => Promise<OpTimes> {
  const create = ort.InferenceSession.create.bind(ort.InferenceSession);
  let session: Profiled | undefined;
  (ort.InferenceSession as { create: unknown }).create = async (bytes: Uint8Array, options: object) => {
    const s = await create(bytes, { ...options, enableProfiling: true, profileFilePrefix: `/tmp/${prefix}` } as never);
    session = s as unknown as Profiled;
    (ort.InferenceSession as { create: unknown }).create = create;
    return s;
  };
  return async (skipRuns = 0) => {
    if (!session) throw new Error('no session was created');
    const file = (await session.endProfiling()) ?? (await latestProfile(prefix));
    const events = JSON.parse(await readFile(file, 'utf8')) as Array<{ cat: string; name: string; ts: number; dur: number; args?: { op_name?: string; thread_scheduling_stats?: { main_thread?: { block_size?: number[] } } } }>;
    await rm(file);
    const byOp = new Map<string, { us: number; singleThreaded: number }>();
    const byNode = new Map<string, { op: string; us: number; samples: number[] }>();
    const modelRuns = events.filter((e) => e.cat === 'Session' && e.name === 'model_run').sort((a, b) => a.ts - b.ts);
    const countedFrom = skipRuns > 0 && modelRuns.length >= skipRuns ? modelRuns[skipRuns - 1].ts + modelRuns[skipRuns - 1].dur : -Infinity;
    for (const e of events) {
      if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time') || e.ts < countedFrom) continue;
      const op = e.args?.op_name ?? '?';
      const stats = e.args?.thread_scheduling_stats;
      const single = stats !== undefined && (stats.main_thread?.block_size ?? []).length === 0;
      const sum = byOp.get(op) ?? { us: 0, singleThreaded: 0 };
      byOp.set(op, { us: sum.us + e.dur, singleThreaded: sum.singleThreaded + (single ? e.dur : 0) });
      const name = e.name.replace(/_kernel_time$/, '');
      const node = byNode.get(name) ?? byNode.set(name, { op, us: 0, samples: [] }).get(name)!;
      node.us += e.dur;
      node.samples.push(e.dur);
    }
    return { byOp, byNode, runs: modelRuns.slice(skipRuns).map((e) => e.dur) };
  };
}

/** Prints the op types (top `ops`) and the slowest nodes (top `nodes`), in ms per run over `runs` runs. */
export function printOpTimes({ byOp, byNode }: OpTimes, runs: number, ops = 20, nodes = 25): void {
  const ms = (us: number) => (us / 1000 / runs).toFixed(1).padStart(9);
  const total = [...byOp.values()].reduce((a, b) => a + b.us, 0);
  const single = [...byOp.values()].reduce((a, b) => a + b.singleThreaded, 0);
  console.log(`kernels ${ms(total)} ms/step, in nodes that ran on one thread of several ${ms(single)} ms (${((100 * single) / total).toFixed(0)}%)`);
  for (const [op, { us, singleThreaded }] of [...byOp].sort((a, b) => b[1].us - a[1].us).slice(0, ops)) console.log(`${op.padEnd(28)} ${ms(us)} ms/step ${((100 * us) / total).toFixed(1).padStart(5)}%  on one thread ${ms(singleThreaded)}`);
  console.log('slowest nodes:');
  for (const [name, { op, us }] of [...byNode].sort((a, b) => b[1].us - a[1].us).slice(0, nodes)) console.log(`${op.padEnd(16)} ${(us / 1000 / runs).toFixed(1).padStart(9)} ms/step  ${name}`);
}

/** onnxruntime-node's endProfiling returns nothing in some versions: the newest profile file then. */
async function latestProfile(prefix: string): Promise<string> {
  const files = (await readdir('/tmp')).filter((f) => f.startsWith(prefix)).map((f) => `/tmp/${f}`);
  const times = await Promise.all(files.map(async (f) => (await stat(f)).mtimeMs));
  return files[times.indexOf(Math.max(...times))];
}
