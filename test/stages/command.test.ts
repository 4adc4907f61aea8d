import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile, copyFile, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { workspace, fixture } from '../support/workspace.ts';
import { runStage } from '../../src/testing/harness.ts';
import { commandStage } from '../../src/stages/command.ts';

test('command: inputs materialised, output folder becomes the artifact, metrics forwarded, logs captured', async () => {
  const result = await runStage(commandStage, {
    params: {
      run: 'cut -d, -f1 "$PIPELINE_INPUTS/data/manifest.csv" > "$PIPELINE_OUTPUT/ids.txt"; echo hello; echo \'{"auc": 0.75, "loss": [0.9, 0.5]}\' > "$PIPELINE_OUTPUT/metrics.json"',
    },
    inputs: [{ name: 'data', artifact: { kind: 'dataset', rows: [{ id: 'a' }, { id: 'b' }] } }],
  });
  assert.equal((await result.file('ids.txt')).toString(), 'id\na\nb\n');
  assert.deepEqual(result.metrics, [{ name: 'auc', value: 0.75, step: undefined }, { name: 'loss', value: 0.9, step: 0 }, { name: 'loss', value: 0.5, step: 1 }]);
  assert.deepEqual(result.artifact.meta.metrics, { auc: 0.75 });
  assert.ok(result.logs.includes('info: hello'));
});

test('command: a non-zero exit fails with the exit code and the end of stderr', async () => {
  await assert.rejects(runStage(commandStage, { params: { run: 'echo oops >&2; exit 3' } }), /command exited with code 3: .*\noops/);
});

test('command deps and user modules are keyed by content: editing either reruns the stage', async () => {
  const ws = await workspace(`
stages:
  src: { uses: ./my-source.ts, with: { n: 2 } }
  cmd: { uses: command, from: src, with: { run: "sh script.sh", deps: [script.sh] } }
`, { 'script.sh': 'echo v1 > "$PIPELINE_OUTPUT/out.txt"\n' });
  await copyFile(fixture('source'), join(ws.dir, 'my-source.ts'));
  // A user's project has zod installed next to pipeline.
  await symlink(join(process.cwd(), 'node_modules'), join(ws.dir, 'node_modules'));
  // The copied module imports the engine by a relative path: point it back at the repo.
  const src = (await import('node:fs/promises')).readFile;
  await writeFile(join(ws.dir, 'my-source.ts'), (await src(join(ws.dir, 'my-source.ts'), 'utf8')).replace('../../../src/', `${process.cwd()}/src/`));
  assert.deepEqual(Object.values((await ws.run()).byId).map((i) => i.status), ['ran', 'ran']);
  assert.deepEqual(Object.values((await ws.run()).byId).map((i) => i.status), ['cached', 'cached']);
  await writeFile(join(ws.dir, 'script.sh'), 'echo v2 > "$PIPELINE_OUTPUT/out.txt"\n');
  assert.deepEqual((await ws.plan()).cmd, { action: 'run', reasons: ['file content of with.deps.0 changed'] });
  await writeFile(join(ws.dir, 'my-source.ts'), (await src(join(ws.dir, 'my-source.ts'), 'utf8')) + '\n// edited\n');
  const plan = await ws.plan();
  assert.deepEqual(plan.src, { action: 'run', reasons: ['stage module source changed'] });
});
