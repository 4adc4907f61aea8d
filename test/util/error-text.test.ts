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
