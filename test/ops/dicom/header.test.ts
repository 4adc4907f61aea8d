import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readDicomFileHeader } from '../../../src/ops/dicom/header.ts';
import { writeDicom } from '../../../src/ops/dicom/write.ts';

test('a header cut inside the data set is reported as text, never "[object Object]"', async () => {
  const file = writeDicom({ rows: 4, columns: 4, pixels: new Uint16Array(16), patient: { id: 'PID', name: 'DOE^JANE' } });
  const dir = await mkdtemp(join(tmpdir(), 'header-'));
  for (const cut of [350, 400, 500, 550]) {
    const path = join(dir, `cut${cut}.dcm`);
    await writeFile(path, file.subarray(0, cut));
    await assert.rejects(readDicomFileHeader(path), (err: Error) => {
      assert.match(err.message, /^truncated or corrupt header: \S/, `cut at ${cut}`);
      assert.doesNotMatch(err.message, /\[object|DOE|PID/, `cut at ${cut}: ${err.message}`);
      return true;
    });
  }
});
