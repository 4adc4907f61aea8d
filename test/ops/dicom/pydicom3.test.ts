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
import { DICOM_FIXTURES } from '../../support/fixtures.ts';

/**
 * Opt-in: our rendering against pydicom 3's (pydicom_render.py run with PYTHONPATH=$PYDICOM3_PATH, a directory
 * holding pydicom 3, e.g. `pip install --target DIR pydicom==3.0.2`; Debian's numpy and GDCM do the rest) on
 * the four sets the pydicom 2.3 tests use. Every image equals pydicom 3 to 0 grey levels (8 and 16 bits, all
 * frames, stored values) or differs for its stated reason, which the test checks is the actual one.
 * Findings: docs/convert.md, "Where we differ from pydicom".
 */
const PYDICOM3_PATH = process.env.PYDICOM3_PATH;
const SETS = [
  DICOM_FIXTURES,
  fileURLToPath(new URL('../../fixtures/dicom-conformance/files', import.meta.url)),
  '/usr/lib/python3/dist-packages/pydicom/data/test_files',
  fileURLToPath(new URL('../../fixtures/dicom-pydicom3', import.meta.url)),
];

interface Deviation {
  reason: string;
  holds(py: PydicomRender, ours: Outcome): boolean;
}

const pydicomFails = (pattern: RegExp) => (py: PydicomRender) => !py.ok && pattern.test(py.error);
const notes = (...wanted: string[]) => (py: PydicomRender) => py.ok && wanted.every((n) => py.notes.includes(n));

const JPEG12: Deviation = {
  reason: "pydicom 3's GDCM plugin does not decode 12-bit JPEG Extended (pylibjpeg-libjpeg would); pydicom 2.3's GDCM handler did",
  holds: pydicomFails(/GDCM does not support 'JPEG Extended'/),
};
const HIGH_BIT: Deviation = {
  reason: 'pydicom 3 keeps the low Bits Stored bits (as GDCM does) when High Bit > Bits Stored - 1; ours takes the bits below High Bit (PS3.5 8.1.1)',
  holds: notes('pydicom3-stored-differs'),
};
const YBR: Deviation = {
  reason: "pydicom 3 returns YBR_FULL(_422) as RGB clipped to 0..255; the luma of that RGB differs from Y (ours, and pydicom 2.3's samples) exactly where the conversion clipped",
  holds: (py) => notes('ybr-rgb-clipped')(py) && py.ok && !py.notes.includes('ybr-rgb-differs'),
};

const DEVIATIONS: Record<string, Deviation> = {
  'pylibjpeg-data__JPEGExtended__RG2_JPLY.dcm': JPEG12,
  'jpeg-dct16-q50-u12-gdcm.dcm': JPEG12,
  'jpeg-dct16-q90-u10-odd-2frames-gdcm.dcm': JPEG12,
  'jpeg-extended-u12.dcm': JPEG12,
  'JPEG-lossy.dcm': JPEG12,
  'JPGExtended.dcm': JPEG12,
  'native-u12-highbit15-big-endian.dcm': HIGH_BIT,
  'native-u12-highbit15-explicit-le.dcm': HIGH_BIT,
  'native-u12-highbit15-implicit.dcm': HIGH_BIT,
  'img2dcm-opencv-jpeg-420-restart.dcm': YBR,
  'odd-rgb8-jpeg-baseline-422.dcm': YBR,
  'rgb8-jpeg-baseline-3frames.dcm': YBR,
  'rgb8-jpeg-baseline-411.dcm': YBR,
  'rgb8-jpeg-baseline-ybr422.dcm': YBR,
  'rgb8-jpeg-baseline-ybr444.dcm': YBR,
  'ybr-full-422.dcm': YBR,
  'ybr-full.dcm': YBR,
  'SC_rgb_dcmtk_+eb+cy+n1.dcm': YBR,
  'SC_rgb_dcmtk_+eb+cy+n2.dcm': YBR,
  'SC_rgb_dcmtk_+eb+cy+np.dcm': YBR,
  'SC_rgb_dcmtk_+eb+cy+s2.dcm': YBR,
  'SC_rgb_dcmtk_+eb+cy+s4.dcm': YBR,
  'SC_rgb_jpeg_dcmtk.dcm': YBR,
  'SC_ybr_full_422_uncompressed.dcm': YBR,
  'examples_ybr_color.dcm': YBR,
  // As with pydicom 2.3 (conformance.test.ts):
  'modality-lut12.dcm': { reason: "pydicom 3 still cannot apply a Modality LUT of 12-bit entries (numpy has no 'uint12')", holds: pydicomFails(/uint12/) },
  'voi-lut8-4096-index-wraps-in-pydicom.dcm': {
    reason: "pydicom 3's apply_voi still computes LUT indices in the LUT's 8-bit dtype (wraps past 255); ours clamps (PS3.3 C.11.2.1.1)",
    holds: notes('pydicom-voi-lut-index-wraps'),
  },
  'badVR.dcm': { reason: 'pydicom 3 cannot read the element with an invalid VR either', holds: pydicomFails(/ValueError/) },
  'JPEG2000-embedded-sequence-delimiter.dcm': {
    reason: 'corrupt on purpose: codestream 512x512, header 256x1024; pydicom 3 reshapes, ours refuses',
    holds: (_, ours) => 'error' in ours && /JPEG 2000 stream is 512x512x1, the header says 256x1024x1/.test(ours.error),
  },
};

/** Largest grey difference over all frames at 8 and 16 bits and over the stored values (null: not compared). */
async function differences(path: string, py: PydicomRender & { ok: true }, ours: Extract<Outcome, { ours: unknown }>): Promise<{ max8: number; max16: number; stored: number | null }> {
  let max8 = 0;
  let max16 = 0;
  ours.ours.forEach((frame, f) => {
    max8 = Math.max(max8, compareImages(frame.png8, py.pixels8[f]).maxDiff);
    max16 = Math.max(max16, compareImages(frame.png16, py.pixels16[f]).maxDiff);
  });
  if (!py.stored) return { max8, max16, stored: null };
  const parsed = parseDicom(await readFile(path));
  let stored = 0;
  for (const [f, expected] of py.stored.entries()) stored = Math.max(stored, compareImages(frameValues(await decodeFrame(parsed, f)), expected).maxDiff);
  return { max8, max16, stored };
}

test("ours vs pydicom 3's rendering (opt-in: PYDICOM3_PATH): equal to 0 grey levels, or deviates for its stated reason", { skip: PYDICOM3_PATH ? false : 'set PYDICOM3_PATH to a directory holding pydicom 3 (pip install --target DIR pydicom==3.0.2)' }, async (t) => {
  const seen = new Set<string>();
  for (const dir of SETS.filter(existsSync)) {
    const names = (await readdir(dir)).filter((f) => f.endsWith('.dcm')).sort();
    const paths = names.map((n) => join(dir, n));
    const reference = await pydicomRender(paths, await mkdtemp(join(tmpdir(), 'pydicom3-')), { allFrames: true, pythonPath: PYDICOM3_PATH });
    let images = 0;
    let exact = 0;
    for (const [i, name] of names.entries()) {
      const py = reference[i];
      const ours = await renderOurs(paths[i]);
      if (!py.ok && 'error' in ours) continue; // not an image to either
      images++;
      const deviation = DEVIATIONS[name];
      const diff = py.ok && !('error' in ours) && ours.ours.length === py.frames ? await differences(paths[i], py, ours) : null;
      if (deviation) {
        seen.add(name);
        assert.ok(deviation.holds(py, ours), `${name}: expected deviation does not show (${deviation.reason}); pydicom 3 ${py.ok ? `${py.mode} ${py.notes}` : py.error}`);
        t.diagnostic(`${name}: max grey diff ${diff ? `${diff.max8} (8-bit), ${diff.max16} (16-bit), stored ${diff.stored}` : 'n/a'}: ${deviation.reason}`);
        continue;
      }
      assert.ok(py.ok, `${name}: pydicom 3 failed: ${!py.ok && py.error}`);
      assert.ok(!('error' in ours), `${name}: ours failed: ${'error' in ours && ours.error}`);
      assert.ok(diff, `${name}: ${ours.ours.length} frames, pydicom 3 ${py.frames}`);
      assert.deepEqual(diff, { max8: 0, max16: 0, stored: diff.stored === null ? null : 0 }, `${name}: differs from pydicom 3 (${py.mode} ${py.notes})`);
      exact++;
    }
    t.diagnostic(`${dir}: ${images} images, ${exact} equal to pydicom 3 to 0 grey levels (8/16-bit, all frames, stored values)`);
    assert.ok(images > 0, `${dir}: no images`);
  }
  assert.deepEqual(Object.keys(DEVIATIONS).filter((n) => !seen.has(n)), [], 'listed deviations not met');
});
