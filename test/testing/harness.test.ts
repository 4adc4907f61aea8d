import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { defineStage } from '../../src/engine/stage.ts';
import { runStage, tempStore } from '../../src/testing/harness.ts';

const double = defineStage({
  name: 'double',
  version: 1,
  description: 'doubles x in each row',
  params: z.object({ factor: z.number().default(2) }).strict(),
  async run(ctx, inputs, params) {
    const rows = await ctx.readRows<{ id: string; x: number }>(inputs[0].artifact);
    const out = await ctx.eachItem(rows, { key: (r) => r.x, id: (r) => r.id }, async (r) => ({ id: r.id, x: r.x * params.factor }));
    return { kind: 'dataset', rows: out.map((o) => (o.ok ? o.value : null)).filter(Boolean) as object[] };
  },
});

test('runStage validates params, commits inputs and output, and caches items', async () => {
  const store = await tempStore();
  const input = { artifact: { kind: 'dataset' as const, rows: [{ id: 'a', x: 1 }, { id: 'b', x: 2 }] } };
  const first = await runStage(double, { store, inputs: [input] });
  assert.deepEqual(await first.rows(), [{ id: 'a', x: 2 }, { id: 'b', x: 4 }]);
  const second = await runStage(double, { store, inputs: [input] });
  const progress = second.events.filter((e) => e.type === 'progress').at(-1);
  assert.equal(progress?.type === 'progress' && progress.items.cached, 2);
  assert.equal(second.artifact.digest, first.artifact.digest);
  const tripled = await runStage(double, { store, inputs: [input], params: { factor: 3 } });
  assert.deepEqual(await tripled.rows(), [{ id: 'a', x: 3 }, { id: 'b', x: 6 }]);
  await assert.rejects(runStage(double, { inputs: [input], params: { factr: 3 } }), /invalid params for double/);
});

test('an item that throws something other than an Error is reported with its text', async () => {
  const throws = defineStage({
    name: 'throws',
    version: 1,
    description: 'each item throws what a library might',
    params: z.object({}).strict(),
    async run(ctx, inputs) {
      const rows = await ctx.readRows<{ id: string; x: number }>(inputs[0].artifact);
      const thrown: unknown[] = [{ exception: 'buffer overrun', dataSet: {} }, 'plain string', 42];
      const out = await ctx.eachItem(rows, { key: (r) => r.x, id: (r) => r.id, onError: 'skip' }, async (r) => {
        throw thrown[r.x];
      });
      return { kind: 'dataset', rows: out.map((o) => ({ id: o.id, error: o.ok ? '' : o.error })) };
    },
  });
  const input = { artifact: { kind: 'dataset' as const, rows: [0, 1, 2].map((x) => ({ id: `r${x}`, x })) } };
  const result = await runStage(throws, { inputs: [input] });
  assert.deepEqual((await result.rows()).map((r) => r.error), ['buffer overrun', 'plain string', 'number thrown: 42']);
});

test('a temporary store is removed when its process exits, and kept with PIPELINE_KEEP_TEST_TMP=1', async () => {
  const { execFileSync } = await import('node:child_process');
  const { existsSync, rmSync } = await import('node:fs');
  const harness = new URL('../../src/testing/harness.ts', import.meta.url).href;
  const script = `const { tempStore } = await import(${JSON.stringify(harness)}); const s = await tempStore(); await s.putBlob(new Uint8Array(1000)); console.log(s.root);`;
  const storeRoot = (keep: boolean) => {
    const env = { ...process.env, PIPELINE_KEEP_TEST_TMP: keep ? '1' : '' };
    return execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { env, encoding: 'utf8' }).trim();
  };
  const removed = storeRoot(false);
  assert.match(removed, /pipeline-test-/);
  assert.equal(existsSync(removed), false, `${removed} was left behind`);
  const kept = storeRoot(true);
  assert.equal(existsSync(kept), true);
  rmSync(kept.replace(/\/\.pipeline$/, ''), { recursive: true, force: true });
});
