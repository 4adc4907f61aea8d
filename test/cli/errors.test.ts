import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, UsageError } from '../../src/cli/args.ts';
import { uiCommand } from '../../src/cli/commands/ui.ts';
import { DiagnosticError } from '../../src/engine/diagnostics.ts';
import { REPO, runCli } from '../support/workspace.ts';

const options = { concurrency: { type: 'string', short: 'j' }, 'keep-going': { type: 'boolean' }, store: { type: 'string' } } as const;
const usage = { min: 1, max: 1, usage: 'pipeline run FILE' };
const usageError = (argv: string[]) => {
  try {
    parse(argv, options, usage);
  } catch (err) {
    assert.ok(err instanceof UsageError);
    return err.message;
  }
  assert.fail(`${argv.join(' ')} was accepted`);
};

test('a mistyped flag gets the closest known one, in our words, not Node parseArgs text', () => {
  const message = usageError(['x.yaml', '--concurency', '2']);
  assert.match(message, /^unknown option --concurency; did you mean --concurrency\? \(options: --concurrency, -j, --keep-going, --store, --help, -h\)\nusage: pipeline run FILE$/);
  assert.doesNotMatch(message, /positional argument|To specify/);
  assert.match(usageError(['x.yaml', '--keepgoing']), /did you mean --keep-going\?/);
  assert.match(usageError(['x.yaml', '--zzzzzz']), /^unknown option --zzzzzz \(options:/);
  assert.match(usageError(['x.yaml', '--conc']), /^unknown option --conc; did you mean --concurrency\?/, 'a shortened flag');
  assert.match(usageError(['x.yaml', '--keep']), /^unknown option --keep; did you mean --keep-going\?/);
  assert.match(usageError(['x.yaml', '--store']), /^option --store needs a value\n/);
  assert.match(usageError(['x.yaml', '--keep-going=yes']), /^option --keep-going takes no value\n/);
});

test('through the CLI: exit code 2 and the suggestion on stderr', async () => {
  const r = await runCli(['plan', 'experiments/demo.yaml', '--jsn'], REPO);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^error: unknown option --jsn; did you mean --json\?/);
});

test('pipeline ui on a busy port: a clear error with what to do, exit 2 (not a stack or raw EADDRINUSE)', async () => {
  const busy = createServer();
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  const port = (busy.address() as { port: number }).port;
  try {
    const store = await mkdtemp(join(tmpdir(), 'pipeline-ui-port-'));
    const err = await uiCommand.run(['--port', String(port), '--store', store]).then(() => undefined, (e) => e);
    assert.ok(err instanceof DiagnosticError, `got ${err}`);
    assert.equal(err.diagnostics[0].message, `port ${port} on 127.0.0.1 is already in use`);
    assert.match(err.diagnostics[0].hint!, new RegExp(`open http://127\\.0\\.0\\.1:${port}\\); or pick another port: --port ${port + 1}, or --port 0`));
  } finally {
    busy.close();
  }
});
