import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO, runCli } from '../support/workspace.ts';

/** A user's project as `npm install @medpipe/pipeline` leaves it, with a package.json that has no "type": "module". */
async function commonJsProject(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'pipeline-cjs-project-'));
  await writeFile(join(dir, 'package.json'), '{ "name": "my-study", "private": true }\n');
  await mkdir(join(dir, 'node_modules', '@medpipe'), { recursive: true });
  const pkg = JSON.parse(await import('node:fs').then((fs) => fs.readFileSync(join(REPO, 'package.json'), 'utf8')));
  await symlink(REPO, join(dir, 'node_modules', ...pkg.name.split('/')));
  await symlink(join(REPO, 'node_modules', 'zod'), join(dir, 'node_modules', 'zod'));
  await mkdir(join(dir, 'stages'));
  const esm = (name: string, typed: boolean) => `import { z } from 'zod';
import { defineStage, StageInputError } from '${pkg.name}';

export default defineStage({
  name: '${name}',
  version: 1,
  description: 'rows, or a bad-input error for n < 0',
  params: z.object({ n: z.number() }).strict(),
  inputs: { min: 0, max: 0 },
  async run(_ctx${typed ? ': unknown' : ''}, _inputs${typed ? ': unknown' : ''}, p${typed ? ': { n: number }' : ''}) {
    if (p.n < 0) throw new StageInputError('n must not be negative', 'give n >= 0');
    return { kind: 'dataset', rows: Array.from({ length: p.n }, (_, i) => ({ id: '${name}' + i })) };
  },
});
`;
  await writeFile(join(dir, 'stages', 'typed.ts'), esm('typed', true));
  await writeFile(join(dir, 'stages', 'plain.js'), esm('plain', false));
  await writeFile(join(dir, 'stages', 'module.mjs'), esm('module', false));
  await writeFile(
    join(dir, 'stages', 'classic.cjs'),
    `const { z } = require('zod');\nmodule.exports = { name: 'classic', version: 1, description: 'CommonJS', params: z.object({ n: z.number() }).strict(), inputs: { min: 0, max: 0 }, async run(_c, _i, p) { return { kind: 'dataset', rows: Array.from({ length: p.n }, (_, i) => ({ id: 'c' + i })) }; } };\n`,
  );
  return dir;
}

test('stage modules in a folder without "type": "module" load through the CLI: .ts and .js with import/export, .mjs, .cjs', async () => {
  const dir = await commonJsProject();
  const stages = ['typed.ts', 'plain.js', 'module.mjs', 'classic.cjs'];
  await writeFile(join(dir, 'exp.yaml'), `stages:\n${stages.map((m, i) => `  s${i}: { uses: ./stages/${m}, with: { n: ${i + 1} } }`).join('\n')}\n`);
  const run = await runCli(['run', 'exp.yaml'], dir);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /succeeded \(4 ran\)/);
  assert.doesNotMatch(run.stderr, /Cannot require|cycle/);

  // A StageInputError thrown by such a module (its own copy of the package) is still bad input: exit 2.
  await writeFile(join(dir, 'bad.yaml'), 'stages:\n  s: { uses: ./stages/typed.ts, with: { n: -1 } }\n');
  const bad = await runCli(['run', 'bad.yaml'], dir);
  assert.equal(bad.code, 2, bad.stdout + bad.stderr);
  assert.match(bad.stdout, /stage s \(\.\/stages\/typed\.ts\): n must not be negative \(hint: give n >= 0\)/);
});
