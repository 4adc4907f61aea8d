import { test } from 'node:test';
import assert from 'node:assert/strict';
import { errorText } from '../../src/util/error-text.ts';

test('errorText gives text for everything libraries throw', () => {
  assert.equal(errorText(new Error('boom')), 'boom');
  assert.equal(errorText('dicomParser: buffer overrun'), 'dicomParser: buffer overrun');
  // dicom-parser wraps data-set errors as { exception, dataSet }
  assert.equal(errorText({ exception: 'buffer overrun', dataSet: { elements: {} } }), 'buffer overrun');
  assert.equal(errorText({ exception: new Error('inner') }), 'inner');
  assert.equal(errorText(5_242_880), 'number thrown: 5242880'); // an emscripten exception pointer
  assert.equal(errorText({ code: 7 }), '{"code":7}');
  assert.equal(errorText(undefined), 'no error detail (undefined)');
  class Odd {}
  assert.equal(errorText(new Odd()), 'Odd thrown without a message');
  for (const v of [{}, { exception: {} }, [], Object.create(null)]) assert.doesNotMatch(errorText(v), /\[object/);
});

test('no source file turns a caught value into text another way ("[object Object]" for what is not an Error)', async () => {
  const { readdir, readFile } = await import('node:fs/promises');
  const { join } = await import('node:path');
  const src = join(import.meta.dirname, '../../src');
  // String(x) of a caught value, `(x as Error).message` (undefined for a string or object), `${x}` of it.
  const risky = /String\((?:err|e|error)\)|\((?:err|e|error) as Error\)\.message|\$\{(?:err|e|error)\}/;
  const offenders: string[] = [];
  for (const entry of await readdir(src, { recursive: true })) {
    if (!/\.(ts|mts)$/.test(entry) || entry.endsWith('error-text.ts')) continue;
    (await readFile(join(src, entry), 'utf8')).split('\n').forEach((line, i) => {
      if (risky.test(line)) offenders.push(`src/${entry}:${i + 1}: ${line.trim()}`);
    });
  }
  assert.deepEqual(offenders, [], 'use errorText() from src/util/error-text.ts');
});
