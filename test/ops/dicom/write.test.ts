import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeDicom, type DicomImageSpec, type TransferSyntaxName } from '../../../src/ops/dicom/write.ts';
import { runPythonJson } from './python.ts';
import { needs } from '../../support/reference-tools.ts';

const ROWS = 7;
const COLS = 5; // odd sizes exercise the even-length padding of 8-bit pixel data

function pattern(n: number, lo: number, hi: number): number[] {
  // Runs of equal values and ramps, so the RLE encoder sees both replicate and literal runs.
  return Array.from({ length: n }, (_, i) => (i % 11 < 4 ? lo : lo + ((i * 2654435761) % (hi - lo + 1))));
}

interface Variant {
  name: string;
  spec: DicomImageSpec;
  values: number[];
}

function variants(): Variant[] {
  const out: Variant[] = [];
  const syntaxes: TransferSyntaxName[] = ['implicit-le', 'explicit-le', 'explicit-be', 'deflate', 'rle'];
  const depths: Array<{ bitsAllocated: 8 | 16; bitsStored: number; pixelRepresentation: 0 | 1 }> = [
    { bitsAllocated: 8, bitsStored: 8, pixelRepresentation: 0 },
    { bitsAllocated: 16, bitsStored: 10, pixelRepresentation: 0 },
    { bitsAllocated: 16, bitsStored: 12, pixelRepresentation: 0 },
    { bitsAllocated: 16, bitsStored: 12, pixelRepresentation: 1 },
    { bitsAllocated: 16, bitsStored: 16, pixelRepresentation: 0 },
    { bitsAllocated: 16, bitsStored: 16, pixelRepresentation: 1 },
  ];
  let k = 0;
  for (const ts of syntaxes) {
    for (const d of depths) {
      const signed = d.pixelRepresentation === 1;
      const lo = signed ? -(2 ** (d.bitsStored - 1)) : 0;
      const hi = signed ? 2 ** (d.bitsStored - 1) - 1 : 2 ** d.bitsStored - 1;
      const values = pattern(ROWS * COLS, lo, hi);
      values[1] = hi;
      const pixels = d.bitsAllocated === 8 ? Uint8Array.from(values) : signed ? Int16Array.from(values) : Uint16Array.from(values);
      const photometric = k % 2 ? 'MONOCHROME1' : 'MONOCHROME2';
      out.push({
        name: `${ts}-${d.bitsAllocated}-${d.bitsStored}-${d.pixelRepresentation}-${photometric}`,
        values,
        spec: {
          rows: ROWS,
          columns: COLS,
          pixels,
          ...d,
          photometric,
          transferSyntax: ts,
          rescale: k % 3 ? { slope: 1, intercept: -1024 } : undefined,
          window: k % 4 === 0 ? undefined : { center: 40 + k, width: 400 },
          voiLutFunction: k % 4 === 1 ? 'SIGMOID' : undefined,
          voiLut: k % 5 === 2 ? { firstMapped: lo, bits: 16, data: [0, 1000, 2000, 65535], explanation: 'TEST' } : undefined,
          patient: { id: `PID${k}`, name: `Doe^Jane${k}`, birthDate: '19610203' },
          viewPosition: 'PA',
          pixelSpacing: [0.139, 0.14],
        },
      });
      k++;
    }
  }
  return out;
}

const READ = `
import sys, json, glob, os, struct, pydicom
def lut_data(d, v):
    # OW LUT Data is raw bytes in the file's byte order (pydicom's own apply_voi_lut unpacks it the same way).
    e = '<' if d.is_little_endian else '>'
    return list(struct.unpack('%s%dH' % (e, len(v) // 2), v)) if isinstance(v, (bytes, bytearray)) else [int(x) for x in v]
out = {}
for path in sorted(glob.glob(os.path.join(sys.argv[1], '*.dcm'))):
    d = pydicom.dcmread(path)
    assert d.preamble == b'\\0' * 128
    a = d.pixel_array
    r = dict(ts=str(d.file_meta.TransferSyntaxUID), pixels=a.astype('int64').ravel().tolist(), shape=list(a.shape),
             photometric=d.PhotometricInterpretation, bitsStored=int(d.BitsStored), pr=int(d.PixelRepresentation),
             patientId=str(d.PatientID), patientName=str(d.PatientName), birth=str(d.PatientBirthDate), view=d.ViewPosition,
             spacing=[float(x) for x in d.PixelSpacing],
             window=[float(d.WindowCenter), float(d.WindowWidth)] if 'WindowCenter' in d else None,
             rescale=[float(d.RescaleSlope), float(d.RescaleIntercept)] if 'RescaleSlope' in d else None,
             voiFunction=d.get('VOILUTFunction'),
             lut=[int(x) for x in d.VOILUTSequence[0].LUTDescriptor] + lut_data(d, d.VOILUTSequence[0].LUTData) if 'VOILUTSequence' in d else None)
    out[os.path.basename(path)[:-4]] = r
print(json.dumps(out))
`;

test('every written variant reads back in pydicom with identical pixels and header values', { skip: needs('pydicom', 'numpy') }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'write-dicom-'));
  const list = variants();
  for (const v of list) await writeFile(join(dir, `${v.name}.dcm`), writeDicom(v.spec));
  const seen = runPythonJson<Record<string, any>>(READ, [dir]);
  assert.equal(Object.keys(seen).length, list.length);
  const uids: Record<string, string> = {
    'implicit-le': '1.2.840.10008.1.2',
    'explicit-le': '1.2.840.10008.1.2.1',
    'explicit-be': '1.2.840.10008.1.2.2',
    deflate: '1.2.840.10008.1.2.1.99',
    rle: '1.2.840.10008.1.2.5',
  };
  for (const v of list) {
    const r = seen[v.name];
    assert.ok(r, `pydicom did not read ${v.name}`);
    assert.equal(r.ts, uids[v.spec.transferSyntax!], v.name);
    assert.deepEqual(r.shape, [ROWS, COLS], v.name);
    assert.deepEqual(r.pixels, v.values, `pixels of ${v.name}`);
    assert.equal(r.photometric, v.spec.photometric);
    assert.equal(r.bitsStored, v.spec.bitsStored);
    assert.equal(r.pr, v.spec.pixelRepresentation);
    assert.equal(r.patientId, v.spec.patient!.id);
    assert.equal(r.patientName, v.spec.patient!.name);
    assert.equal(r.birth, '19610203');
    assert.equal(r.view, 'PA');
    assert.deepEqual(r.spacing, [0.139, 0.14]);
    assert.deepEqual(r.window, v.spec.window ? [v.spec.window.center, v.spec.window.width] : null, v.name);
    assert.deepEqual(r.rescale, v.spec.rescale ? [1, -1024] : null, v.name);
    assert.equal(r.voiFunction, v.spec.voiLutFunction ?? null);
    const lut = v.spec.voiLut;
    assert.deepEqual(r.lut, lut ? [4, lut.firstMapped, 16, 0, 1000, 2000, 65535] : null, v.name);
  }
});

test('a VOI LUT whose first mapped value is negative (unsigned pixels, negative rescale) reads back negative', { skip: needs('pydicom', 'numpy') }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'write-voi-'));
  const base: DicomImageSpec = { rows: 2, columns: 2, pixels: Uint16Array.from([0, 1, 2, 3]), bitsStored: 12, rescale: { slope: 1, intercept: -1024 } };
  const voiLut = { firstMapped: -1024, bits: 12, data: [0, 1000, 2000, 4095] };
  for (const ts of ['explicit-le', 'explicit-be', 'deflate'] as const) await writeFile(join(dir, `${ts}.dcm`), writeDicom({ ...base, transferSyntax: ts, voiLut }));
  const seen = runPythonJson<Record<string, number[]>>(
    `
import sys, json, glob, os, struct, pydicom
out = {}
for path in sorted(glob.glob(os.path.join(sys.argv[1], '*.dcm'))):
    d = pydicom.dcmread(path)
    item = d.VOILUTSequence[0]
    e = '<' if d.is_little_endian else '>'
    out[os.path.basename(path)[:-4]] = [int(x) for x in item.LUTDescriptor] + list(struct.unpack('%s4H' % e, item.LUTData))
print(json.dumps(out))
`,
    [dir],
  );
  for (const ts of ['explicit-le', 'explicit-be', 'deflate']) assert.deepEqual(seen[ts], [4, -1024, 12, 0, 1000, 2000, 4095], ts);
  // Implicit VR readers take the descriptor as US for unsigned pixels: the writer refuses instead of writing 64512.
  assert.throws(() => writeDicom({ ...base, transferSyntax: 'implicit-le', voiLut }), /first mapped value -1024 is negative in an implicit VR file of an unsigned image/);
});

test('writeDicom rejects values that do not fit BitsStored and wrong pixel counts', () => {
  assert.throws(() => writeDicom({ rows: 1, columns: 2, pixels: Uint16Array.from([0, 4096]), bitsStored: 12 }), /pixel 1 = 4096 outside \[0, 4095\]/);
  assert.throws(() => writeDicom({ rows: 2, columns: 2, pixels: new Uint16Array(3) }), /3 pixels given for 2x2/);
});

test('writeDicom is deterministic: same spec, same bytes', () => {
  const spec: DicomImageSpec = { rows: 2, columns: 2, pixels: Uint16Array.from([1, 2, 3, 4]), transferSyntax: 'rle' };
  assert.deepEqual(writeDicom(spec), writeDicom(spec));
});
