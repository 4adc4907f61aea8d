import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createStageContext } from '../../src/engine/context.ts';
import type { PipelineEvent } from '../../src/engine/events.ts';
import { tempStore } from '../../src/testing/harness.ts';

async function context() {
  const events: PipelineEvent[] = [];
  const ctx = createStageContext({
    store: await tempStore(),
    runId: 'r1',
    instance: { id: 'slow', stage: 'slow', uses: 'slow', vars: {} },
    stageVersion: 1,
    params: {},
    baseDir: '/',
    signal: new AbortController().signal,
    concurrency: 1,
    emit: (e) => events.push(e),
  });
  const progress = () => events.flatMap((e) => (e.type === 'progress' ? [`${e.items.done}/${e.items.total}`] : []));
  return { ctx, progress };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('eachItem with items slower than the progress interval reports the last count once', async () => {
  const { ctx, progress } = await context();
  // 250 ms per item: every item's own report passes the 200 ms throttle, so the final one did too
  // and the closing forced report used to repeat it.
  await ctx.eachItem([1, 2], { key: (i) => i }, async (i) => (await sleep(250), i));
  assert.deepEqual(progress(), ['0/2', '1/2', '2/2']);
});

test('a stage reporting the same finished count twice emits it once; a changed count is emitted', async () => {
  const { ctx, progress } = await context();
  ctx.progress({ done: 49, total: 49 });
  ctx.progress({ done: 49, total: 49 });
  ctx.progress({ done: 49, total: 49, failed: 1 });
  assert.deepEqual(progress(), ['49/49', '49/49']);
});
