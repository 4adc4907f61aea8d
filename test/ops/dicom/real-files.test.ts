import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { convertDicom } from '../../../src/ops/dicom/convert.ts';
import { compareImages, pydicomRender, type PydicomRender } from './pydicom-render.ts';
import { pngPixels } from './ours-render.ts';
import { DICOM_FIXTURES } from '../../support/fixtures.ts';
import { needs } from '../../support/reference-tools.ts';

const DATA = DICOM_FIXTURES;
// docs/convert.md claims these renderings equal pydicom's exactly, lossy files included (the decoders
// compute what GDCM computes): 0 grey levels, asserted.

const files = (await readdir(DATA)).filter((f) => f.endsWith('.dcm')).sort();
// The reference PNGs in ref/ are always compared; a live pydicom rendering too when it is installed.
const noPydicom = needs('pydicom', 'gdcm', 'numpy');
let pydicom: PydicomRender[];

before(async () => {
  if (noPydicom) return;
  const paths = files.map((f) => join(DATA, f));
  pydicom = await pydicomRender(paths, await mkdtemp(join(tmpdir(), 'pydicom-')));
});

test('the sample folder holds the 19 documented files (all of them decode)', () => {
  assert.equal(files.length, 19);
});

for (const [i, file] of files.entries()) {
  test(`real file ${file}: 8-bit PNG matches pydicom's rendering in ref/`, async (t) => {
    const eight = await convertDicom(await readFile(join(DATA, file)), { window: 'auto', bits: 8, frames: 'first' });
    const ref = await sharp(join(DATA, 'ref', file.replace(/\.dcm$/, '.png'))).greyscale().raw().toBuffer({ resolveWithObject: true });
    assert.deepEqual([eight.images[0].width, eight.images[0].height], [ref.info.width, ref.info.height]);
    const vsRef = compareImages(await pngPixels(eight.images[0].png, 8), ref.data);
    assert.equal(vsRef.maxDiff, 0, `${file} vs ref/: max diff ${vsRef.maxDiff} (${vsRef.differing} px differ), voi ${eight.voi}`);
    t.diagnostic(`${eight.voi}; max diff 8-bit vs ref ${vsRef.maxDiff}`);
  });

  test(`real file ${file}: 8- and 16-bit PNG match a live pydicom rendering`, { skip: noPydicom }, async (t) => {
    const bytes = await readFile(join(DATA, file));
    const eight = await convertDicom(bytes, { window: 'auto', bits: 8, frames: 'first' });
    const py = pydicom[i];
    assert.ok(py.ok, `pydicom failed on ${file}: ${!py.ok && py.error}`);
    assert.deepEqual([eight.images[0].width, eight.images[0].height], [py.columns, py.rows]);
    const vsPy = compareImages(await pngPixels(eight.images[0].png, 8), py.pixels8[0]);
    assert.equal(vsPy.maxDiff, 0, `${file} vs pydicom: max diff ${vsPy.maxDiff} (${vsPy.differing} px differ), voi ${eight.voi}, pydicom ${py.mode}`);

    const sixteen = await convertDicom(bytes, { window: 'auto', bits: 16, frames: 'first' });
    const vs16 = compareImages(await pngPixels(sixteen.images[0].png, 16), py.pixels16[0]);
    assert.equal(vs16.maxDiff, 0, `${file} 16-bit vs pydicom: max diff ${vs16.maxDiff}`);
    t.diagnostic(`${eight.voi}; max diff 8-bit vs pydicom ${vsPy.maxDiff}; 16-bit vs pydicom ${vs16.maxDiff}`);
  });
}
