import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { phantomImages } from '../../../src/ops/dicom/phantom.ts';
import { writeDicom } from '../../../src/ops/dicom/write.ts';
import { runPythonJson } from './python.ts';
import { needs } from '../../support/reference-tools.ts';

/**
 * The generator checked against its own intended pixels, for every configuration of the demo set
 * (experiments/demo.yaml: 200 patients, seed 7 -> 395 images; 32 px here, the encodings do not depend on
 * the size): pydicom reads back exactly the stored values the phantom drew, and its display rendering
 * (Modality LUT, then the file's VOI LUT Sequence or window, MONOCHROME1 inverted) increases with the
 * phantom's attenuation over a usable grey range. A LUT written with the wrong sign or byte order reads
 * back fine as numbers but gives flat or noisy images, which only this comparison catches.
 */
const READ = String.raw`
import sys, json, glob, os, warnings
import numpy as np, pydicom
from scipy.stats import spearmanr
from pydicom.pixel_data_handlers.util import apply_modality_lut, apply_voi_lut
warnings.simplefilter('ignore')
out = {}
for path in sorted(glob.glob(os.path.join(sys.argv[1], '*.dcm'))):
    ds = pydicom.dcmread(path)
    a = ds.pixel_array
    a.astype('<i4').tofile(path[:-4] + '.stored')
    y = apply_voi_lut(apply_modality_lut(a, ds), ds).astype(np.float64)
    seq = ds.get('VOILUTSequence')
    if seq:  # the VOI output range (pydicom's): the LUT's bit depth, the windowing range, or the image's own
        full = 2.0 ** int(seq[0].LUTDescriptor[2]) - 1
    elif 'WindowCenter' in ds:
        bits = int(ds.BitsStored)
        lo, hi = (0, 2 ** bits - 1) if ds.PixelRepresentation == 0 else (-2 ** (bits - 1), 2 ** (bits - 1) - 1)
        full = float(hi - lo) * (float(ds.RescaleSlope) if 'RescaleSlope' in ds else 1.0)
    else:
        full = float(np.ptp(y))
    # the display: bright = dense; MONOCHROME1 stores dense as low values
    shown = -a if ds.PhotometricInterpretation == 'MONOCHROME1' else a
    display = -y if ds.PhotometricInterpretation == 'MONOCHROME1' else y
    rho = spearmanr(display.ravel(), shown.ravel()).correlation if np.ptp(display) > 0 else 0.0
    spread = float(np.percentile(y, 99) - np.percentile(y, 1))
    out[os.path.basename(path)[:-4]] = dict(rho=float(rho), spread=spread, full=full,
        voi='lut' if seq else 'window' if 'WindowCenter' in ds else 'none', ts=str(ds.file_meta.TransferSyntaxUID),
        descriptor=[int(x) for x in seq[0].LUTDescriptor] if seq else None)
print(json.dumps(out))
`;

test('the 395 demo images read back in pydicom as the phantom drew them, and display as intended', { skip: needs('pydicom', 'numpy', 'sklearn') }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'demo-pixels-'));
  const specs = new Map<string, ReturnType<typeof phantomImages> extends Generator<infer I> ? I : never>();
  for (const image of phantomImages({ patients: 200, seed: 7, size: 32 })) {
    specs.set(image.imageId, image);
    await writeFile(join(dir, `${image.imageId}.dcm`), writeDicom(image.spec));
  }
  assert.equal(specs.size, 395);
  const seen = runPythonJson<Record<string, { rho: number; spread: number; full: number; voi: string; ts: string; descriptor: number[] | null }>>(READ, [dir]);
  assert.equal(Object.keys(seen).length, 395);
  const kinds = new Map<string, number>();
  for (const [id, image] of specs) {
    const r = seen[id];
    const kind = `${image.spec.transferSyntax} ${r.voi}`;
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
    const stored = await readFile(join(dir, `${id}.stored`));
    assert.deepEqual([...new Int32Array(stored.buffer, stored.byteOffset, stored.byteLength / 4)], [...image.spec.pixels], `${id} (${kind}): stored values`);
    if (image.spec.voiLut) assert.equal(r.descriptor![1], image.spec.voiLut.firstMapped, `${id} (${kind}): VOI LUT first mapped value`);
    assert.ok(r.rho > 0.95, `${id} (${kind}): display vs phantom rank correlation ${r.rho}`);
    // Between its 1st and 99th percentile the display spans a good part of what the file's VOI can show.
    assert.ok(r.spread > 0.3 * r.full && r.full > 0, `${id} (${kind}): display spread ${r.spread} of ${r.full}`);
  }
  t.diagnostic(`configurations: ${[...kinds].map(([k, n]) => `${k} ${n}`).join(', ')}`);
  // The two encodings that once broke (issue 11) must stay in the set, or this test stops guarding them.
  assert.ok((kinds.get('explicit-be lut') ?? 0) > 0, 'the demo set has a VOI LUT in an Explicit VR Big Endian file');
  const negative = [...specs.values()].filter((image) => (image.spec.voiLut?.firstMapped ?? 0) < 0).length;
  assert.ok(negative > 0, 'the demo set has a VOI LUT whose first mapped value is negative');
  t.diagnostic(`VOI LUTs with a negative first mapped value: ${negative}`);
});
