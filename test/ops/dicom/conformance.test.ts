import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDicom } from '../../../src/ops/dicom/parse.ts';
import { decodeFrame, frameValues } from '../../../src/ops/dicom/decode/index.ts';
import { compareImages, pydicomRender, type PydicomRender } from './pydicom-render.ts';
import { renderOurs, type Outcome } from './ours-render.ts';
import { needs } from '../../support/reference-tools.ts';

/**
 * Conformance: every file of the corpus (test/fixtures/dicom-conformance, see its README) and of pydicom's
 * own test files (shipped with Debian's python3-pydicom) converted end to end (decode, LUTs, PNG, all
 * frames, 8 and 16 bits) and compared with the reference rendering of pydicom 2.3 + GDCM
 * (pydicom_render.py): equal to 0 grey levels, lossy files included (the same decoders' arithmetic), except
 * the deviations listed here, each with the reason, which the test checks is the actual one.
 */
const CORPUS = fileURLToPath(new URL('../../fixtures/dicom-conformance/files', import.meta.url));
const PYDICOM_FILES = '/usr/lib/python3/dist-packages/pydicom/data/test_files';
const PYDICOM3_FILES = fileURLToPath(new URL('../../fixtures/dicom-pydicom3', import.meta.url));

interface Deviation {
  reason: string;
  /** True when the outcome shows that reason. */
  holds(py: PydicomRender, ours: Outcome): boolean;
  /** Ours equals pydicom, and only GDCM's own decoder (the cross-check) disagrees. */
  gdcmOnly?: boolean;
}

const pydicomFails = (pattern: RegExp) => (py: PydicomRender) => !py.ok && pattern.test(py.error);
const oursFails = (pattern: RegExp) => (_: PydicomRender, ours: Outcome) => 'error' in ours && pattern.test(ours.error);

const gdcmDisagrees = (py: PydicomRender) => py.ok && py.gdcm === false;
const GDCM_RLE = "GDCM 3.0.21 assembles the byte segments of 16/32-bit colour RLE wrongly (65280 for 65535); pydicom's RLE handler and ours follow PS3.5 G.2";
const GDCM_HIGH_BIT = 'GDCM 3.0.21 masks the low Bits Stored bits instead of shifting the value down when High Bit > Bits Stored - 1 (PS3.5 8.1.1)';
const BE32 = 'Explicit VR Big Endian 32-bit samples: pydicom (and this converter) swap whole 32-bit samples; dcmtk, which wrote this file, and GDCM swap 16-bit OW words, so this image differs from its little-endian original in both pydicom and ours';

const DEVIATIONS: Record<string, Deviation> = {
  'SC_rgb_rle_16bit.dcm': { reason: GDCM_RLE, holds: gdcmDisagrees, gdcmOnly: true },
  'SC_rgb_rle_16bit_2frame.dcm': { reason: GDCM_RLE, holds: gdcmDisagrees, gdcmOnly: true },
  'SC_rgb_rle_32bit.dcm': { reason: GDCM_RLE, holds: gdcmDisagrees, gdcmOnly: true },
  'SC_rgb_rle_32bit_2frame.dcm': { reason: GDCM_RLE, holds: gdcmDisagrees, gdcmOnly: true },
  'rgb16-rle.dcm': { reason: GDCM_RLE, holds: gdcmDisagrees, gdcmOnly: true },
  'defined-length-rle-u16-dcmtk.dcm': { reason: 'GDCM 3.0.21 does not read RLE Pixel Data of defined length (items without a sequence delimiter); pydicom and ours read its items', holds: gdcmDisagrees, gdcmOnly: true },
  'native-u12-highbit15-explicit-le.dcm': { reason: GDCM_HIGH_BIT, holds: gdcmDisagrees, gdcmOnly: true },
  'native-u12-highbit15-implicit.dcm': { reason: GDCM_HIGH_BIT, holds: gdcmDisagrees, gdcmOnly: true },
  'native-u12-highbit15-big-endian.dcm': { reason: GDCM_HIGH_BIT, holds: gdcmDisagrees, gdcmOnly: true },
  'native-u32-big-endian.dcm': { reason: BE32, holds: gdcmDisagrees, gdcmOnly: true },
  'native-s32-big-endian.dcm': { reason: BE32, holds: gdcmDisagrees, gdcmOnly: true },
  'rtdose_expb.dcm': { reason: 'pydicom made this file with its own 32-bit big-endian convention (README: pixel data corrected by a script); GDCM swaps 16-bit OW words', holds: gdcmDisagrees, gdcmOnly: true },
  'modality-lut12.dcm': {
    reason: "pydicom 2.3 cannot apply a Modality LUT of 12-bit entries (numpy has no 'uint12'); ours applies it as the descriptor says",
    holds: pydicomFails(/uint12/),
  },
  'voi-lut8-4096-index-wraps-in-pydicom.dcm': {
    reason: "pydicom 2.3's apply_voi computes LUT indices in the LUT's 8-bit dtype, so inputs past 255 wrap around; ours clamps (PS3.3 C.11.2.1.1)",
    holds: (py) => py.ok && py.notes.includes('pydicom-voi-lut-index-wraps'),
  },
  // pydicom's own test files
  'JPEG2000-embedded-sequence-delimiter.dcm': {
    reason: 'corrupt on purpose (pydicom README: pixel data bytes replaced): the codestream says 512x512, the header 256x1024; pydicom reshapes GDCM output, ours refuses',
    holds: oursFails(/JPEG 2000 stream is 512x512x1, the header says 256x1024x1/),
  },
  'SC_rgb_small_odd_big_endian.dcm': {
    reason:
      'pydicom 2.3 reads 8-bit samples in an OW element of Explicit VR Big Endian as stored; OW is byte-swapped as 16-bit words (PS3.5 7.3), which pydicom 3.0.2, GDCM and ours undo (values checked below)',
    holds: (py, ours) => py.ok && py.gdcm === false && !('error' in ours),
  },
  'badVR.dcm': {
    reason: 'pydicom 2.3 cannot read a data element with an invalid VR; ours renders the image',
    holds: pydicomFails(/TypeError/),
  },
};

/** Compares a folder; returns one line per file that is not an exact match. */
async function conformance(dir: string, t: { diagnostic(s: string): void }): Promise<{ exact: number; images: number; deviations: string[]; storedEqual: number }> {
  const names = (await readdir(dir)).filter((f) => f.endsWith('.dcm')).sort();
  const paths = names.map((n) => join(dir, n));
  const reference = await pydicomRender(paths, await mkdtemp(join(tmpdir(), 'conformance-py-')), { allFrames: true });
  let exact = 0;
  let images = 0;
  let storedEqual = 0;
  const deviations: string[] = [];
  const unmasked: string[] = [];
  for (const [i, name] of names.entries()) {
    const py = reference[i];
    const result = await renderOurs(paths[i]);
    const deviation = DEVIATIONS[name];
    if (!py.ok && 'error' in result) continue; // neither renders it: not an image (no pixel data, truncated, ...)
    images++;
    if (deviation) {
      assert.ok(deviation.holds(py, result), `${name}: expected deviation does not show (${deviation.reason}); pydicom ${py.ok ? py.mode : py.error}, ours ${'error' in result ? result.error : 'rendered'}`);
      deviations.push(`${name}: ${deviation.reason}`);
      if (!deviation.gdcmOnly) continue;
    }
    assert.ok(py.ok, `${name}: pydicom failed: ${!py.ok && py.error}`);
    assert.ok(!('error' in result), `${name}: ours failed: ${'error' in result && result.error}`);
    assert.equal(result.ours.length, py.frames, `${name}: frames`);
    result.ours.forEach((frame, f) => {
      assert.equal(compareImages(frame.png8, py.pixels8[f]).maxDiff, 0, `${name} frame ${f}: 8-bit PNG vs pydicom (${py.mode})`);
      assert.equal(compareImages(frame.png16, py.pixels16[f]).maxDiff, 0, `${name} frame ${f}: 16-bit PNG vs pydicom (${py.mode})`);
    });
    if (py.stored) {
      // The stored values themselves (before any LUT): a min-max rendering would hide an offset or a scale.
      const parsed = parseDicom(await readFile(paths[i]));
      for (const [f, expected] of py.stored.entries()) {
        const values = frameValues(await decodeFrame(parsed, f));
        const at = values.findIndex((v, k) => v !== expected[k]);
        assert.equal(at, -1, `${name} frame ${f}: stored value ${at} is ${values[at]}, pydicom's ${expected[at]}`);
      }
      storedEqual++;
    }
    if (!deviation) assert.notEqual(py.gdcm, false, `${name}: GDCM's own decoder disagrees with pydicom's stored values`);
    if (py.notes.includes('pydicom-unmasked')) unmasked.push(name);
    exact++;
  }
  t.diagnostic(`${dir}: ${images} images, ${exact} equal to pydicom to 0 grey levels (8- and 16-bit PNG, all frames), ${storedEqual} grey ones also in every stored value; deviations: ${deviations.length ? deviations.join('; ') : 'none'}`);
  // Against pydicom's array as it is (no mask, no sign extension), these would differ: the reason is pydicom's.
  t.diagnostic(`of those, ${unmasked.length} only after masking/sign-extending pydicom's values to Bits Stored (pydicom 2.3 does neither): ${unmasked.join(', ') || 'none'}`);
  return { exact, images, deviations, storedEqual };
}

test('conformance corpus: every file equals pydicom + GDCM to 0 grey levels, or deviates for its stated reason', { skip: needs('pydicom', 'gdcm', 'numpy') }, async (t) => {
  const { exact, images, deviations, storedEqual } = await conformance(CORPUS, t);
  assert.ok(images >= 150, `the corpus holds ${images} images`);
  assert.ok(storedEqual >= 150, `${storedEqual} grey images compared value by value`);
  assert.equal(exact + deviations.filter((d) => !DEVIATIONS[d.split(':')[0]].gdcmOnly).length, images);
  // Rounding: the corpus must hold grey levels where half up and half to even differ (and they matched).
  const ties = (await pydicomRender([join(CORPUS, 'rounding-ties-minmax.dcm')], await mkdtemp(join(tmpdir(), 'ties-'))))[0];
  assert.ok(ties.ok && ties.ties > 100, `rounding-ties-minmax.dcm has ${ties.ok && ties.ties} half-to-even ties`);
});

test("pydicom's own test files: every image equals pydicom + GDCM to 0 grey levels, or deviates for its stated reason", { skip: needs('pydicom', 'gdcm', 'numpy') || (existsSync(PYDICOM_FILES) ? false : `${PYDICOM_FILES} not found (Debian python3-pydicom ships it)`) }, async (t) => {
  const { exact, images, deviations } = await conformance(PYDICOM_FILES, t);
  assert.equal(exact + deviations.filter((d) => !DEVIATIONS[d.split(':')[0]].gdcmOnly).length, images);
  assert.ok(exact >= 40, `${exact} exact`);
});

test("pydicom 3.0.2's newer test files: every image equals pydicom 2.3 + GDCM to 0 grey levels, or deviates for its stated reason", { skip: needs('pydicom', 'gdcm', 'numpy') }, async (t) => {
  const { exact, images, deviations } = await conformance(PYDICOM3_FILES, t);
  assert.equal(images, 10);
  assert.equal(exact, 9);
  assert.deepEqual(deviations.map((d) => d.split(':')[0]), ['SC_rgb_small_odd_big_endian.dcm']);
});

test('8-bit samples stored as OW in Explicit VR Big Endian are read in swapped 16-bit words, as pydicom 3.0.2 and GDCM read them', async () => {
  const parsed = parseDicom(await readFile(join(PYDICOM3_FILES, 'SC_rgb_small_odd_big_endian.dcm')));
  assert.equal(parsed.header.transferSyntax.littleEndian, false);
  // pydicom 3.0.2's pixel_array (and GDCM 3.0.21's buffer) of this 3x3 RGB file; its bytes as stored start 141, 166, 166, 52.
  const expected = [166, 141, 52, 166, 141, 52, 166, 141, 52, 63, 87, 176, 63, 87, 176, 63, 87, 176, 158, 158, 158, 158, 158, 158, 158, 158, 158];
  assert.deepEqual([...frameValues(await decodeFrame(parsed, 0))], expected);
});
