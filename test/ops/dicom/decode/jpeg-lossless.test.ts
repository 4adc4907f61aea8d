import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJpegLossless } from '../../../../src/ops/dicom/decode/jpeg-lossless.ts';
import { decodeFrame, frameValues } from '../../../../src/ops/dicom/decode/index.ts';
import { parseDicom } from '../../../../src/ops/dicom/parse.ts';
import { writeDicom } from '../../../../src/ops/dicom/write.ts';
import { encodeLosslessJpeg, type LosslessOptions } from '../lossless-jpeg-encoder.ts';
import { runPythonJson } from '../python.ts';
import { needs } from '../../../support/reference-tools.ts';

const W = 33;
const H = 17;

/**
 * Stream variants of JPEG Lossless that encoders in the field write. The decoder used before (jpeg-lossless-
 * decoder-js) got the last five wrong: restart intervals longer than a line, the point transform, a DNL
 * height, 0xFF fill bytes before markers (an all-zero frame) and one scan per component.
 */
const VARIANTS: Array<[string, Partial<LosslessOptions>, number]> = [
  ...[1, 2, 3, 4, 5, 6, 7].map((p): [string, Partial<LosslessOptions>, number] => [`predictor ${p}`, { predictor: p }, 12]),
  ['16-bit, differences of 32768 (category 16)', { predictor: 1 }, 16],
  ['16-bit, predictor 6', { predictor: 6 }, 16],
  ['8-bit', { predictor: 1 }, 8],
  ['restart every line', { predictor: 1, restartInterval: W }, 12],
  ['restart every 2 lines, predictor 4', { predictor: 4, restartInterval: 2 * W }, 12],
  ['point transform 2', { predictor: 1, pointTransform: 2 }, 12],
  ['fill bytes before markers', { predictor: 1, fillBytes: 3, restartInterval: W }, 12],
  ['3 components, one scan', { predictor: 1, components: 3 }, 8],
  ['3 components, a scan each', { predictor: 1, components: 3, separateScans: true }, 8],
  // GDCM refuses these two; the stream is still well defined.
  ['height from a DNL marker', { predictor: 1, dnl: true }, 12],
  ['restart interval not a multiple of the line', { predictor: 1, restartInterval: 7 }, 12],
];
const GDCM_REFUSES = new Set(['height from a DNL marker', 'restart interval not a multiple of the line']);

function samples(bits: number, components: number, pointTransform: number): number[] {
  return Array.from({ length: W * H * components }, (_, i) => {
    if (bits === 16 && i % 5 === 0) return i % 2 ? 65535 : 0; // jumps of +-32768 and more
    const v = Math.floor(((Math.sin(i * 0.7) + 1) / 2) * (2 ** bits - 1));
    return (v >> pointTransform) << pointTransform;
  });
}

test('JPEG Lossless stream variants decode exactly, and as GDCM decodes them', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'jpeg-lossless-'));
  const originals: number[][] = [];
  for (const [i, [name, options, bits]] of VARIANTS.entries()) {
    const o: LosslessOptions = { width: W, height: H, precision: bits, components: 1, predictor: 1, ...options };
    const values = samples(bits, o.components, o.pointTransform ?? 0);
    originals.push(values);
    const stream = encodeLosslessJpeg(values, o);
    const image = decodeJpegLossless(stream);
    assert.deepEqual([image.width, image.height, image.components], [W, H, o.components], name);
    assert.deepEqual([...image.samples], values, name);
    const file = writeDicom({
      rows: H,
      columns: W,
      pixels: bits <= 8 ? Uint8Array.from(values) : Uint16Array.from(values),
      samplesPerPixel: o.components as 1 | 3,
      bitsStored: bits,
      encapsulated: { transferSyntaxUid: o.predictor === 1 ? '1.2.840.10008.1.2.4.70' : '1.2.840.10008.1.2.4.57', frames: [stream] },
    });
    assert.deepEqual([...frameValues(await decodeFrame(parseDicom(file), 0))], values, `${name}: through the DICOM decoder`);
    await writeFile(join(dir, `${i}.dcm`), file);
  }
  const missing = needs('pydicom', 'gdcm', 'numpy');
  if (missing) return t.skip(`GDCM comparison: ${missing}`);
  const gdcm = runPythonJson<Array<string | null>>(
    `
import sys, os, pydicom, json, warnings
warnings.simplefilter('ignore')
out = []
for p in sys.argv[1:]:
    try:
        pydicom.dcmread(p).pixel_array.astype('<i4').tofile(p + '.raw'); out.append(None)
    except Exception as e:
        out.append(str(e))
print(json.dumps(out))`,
    VARIANTS.map((_, i) => join(dir, `${i}.dcm`)),
  );
  for (const [i, [name]] of VARIANTS.entries()) {
    if (GDCM_REFUSES.has(name)) continue;
    assert.equal(gdcm[i], null, `${name}: pydicom/GDCM failed: ${gdcm[i]}`);
    const raw = await readFile(join(dir, `${i}.dcm.raw`));
    assert.deepEqual([...new Int32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4)], originals[i], `${name}: GDCM`);
  }
});

test('JPEG Lossless errors say what is wrong', () => {
  assert.throws(() => decodeJpegLossless(Uint8Array.from([0, 1, 2])), /no SOI marker/);
  const baseline = Uint8Array.from([0xff, 0xd8, 0xff, 0xc0, 0, 11, 8, 0, 1, 0, 1, 1, 1, 0x11, 0, 0xff, 0xd9]);
  assert.throws(() => decodeJpegLossless(baseline), /not a lossless JPEG stream \(SOF marker 0xc0\)/);
  const arithmetic = Uint8Array.from([0xff, 0xd8, 0xff, 0xcb, 0, 11, 8, 0, 1, 0, 1, 1, 1, 0x11, 0, 0xff, 0xd9]);
  assert.throws(() => decodeJpegLossless(arithmetic), /arithmetic coding\) is not supported/);
});
