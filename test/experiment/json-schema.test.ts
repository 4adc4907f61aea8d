import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import Ajv from 'ajv';
import { experimentJsonSchema } from '../../src/experiment/json-schema.ts';
import { REPO } from '../support/workspace.ts';

const ajv = new Ajv.default({ allErrors: true, strict: false });

test('the published JSON Schema is up to date with the stage schemas (regenerate: pipeline schema --out schema/experiment.schema.json)', async () => {
  const published = JSON.parse(await readFile(join(REPO, 'schema/experiment.schema.json'), 'utf8'));
  assert.deepEqual(published, experimentJsonSchema());
});

test('every shipped experiment and template validates against the JSON Schema, and bad ones do not', async () => {
  const validate = ajv.compile(experimentJsonSchema());
  const files = [
    ...(await readdir(join(REPO, 'experiments'))).map((f) => join(REPO, 'experiments', f)),
    ...(await readdir(join(REPO, 'pipelines'))).map((f) => join(REPO, 'pipelines', f)),
  ].filter((f) => f.endsWith('.yaml'));
  assert.ok(files.length >= 2);
  for (const file of files) {
    const ok = validate(parse(await readFile(file, 'utf8')));
    assert.ok(ok, `${file}: ${ajv.errorsText(validate.errors)}`);
  }
  assert.equal(validate({ stages: { c: { uses: 'command', with: { run: 'x', bogus: 1 } } } }), false);
  assert.equal(validate({ stages: { c: { uses: 'command', with: { run: 'x', kind: 'files' } } } }), true);
  assert.equal(validate({ params: { n: 3 }, stages: { c: { uses: 'command', with: { run: 'x', deps: '${params.deps}' } } } }), true);
});
