import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runPythonJson } from './python.ts';

/**
 * pydicom's rendering of frame 0 (the rule of test/fixtures/dicom/README.md): apply_modality_lut, then
 * a valid VOI LUT Sequence (scaled by its bit depth) or the first window (apply_voi_lut, scaled over
 * pydicom's windowing output range) or min-max, rounded (numpy, half to even), clipped, MONOCHROME1 inverted.
 */
const SCRIPT = String.raw`
import json, sys, warnings
import numpy as np
import pydicom
from pydicom.pixel_data_handlers.util import apply_modality_lut, apply_voi_lut
warnings.simplefilter('ignore')
out_dir, paths = sys.argv[1], sys.argv[2:]
results = []
for i, path in enumerate(paths):
    try:
        ds = pydicom.dcmread(path, force=True)
        if 'TransferSyntaxUID' not in ds.file_meta:
            ds.file_meta.TransferSyntaxUID = pydicom.uid.ImplicitVRLittleEndian
        arr = ds.pixel_array
        if int(ds.get('NumberOfFrames', 1) or 1) > 1:
            arr = arr[0]
        x = apply_modality_lut(arr, ds)
        seq = ds.get('VOILUTSequence')
        valid_voi = bool(seq) and seq[0].get('LUTDescriptor') is not None and seq[0].get('LUTData') is not None
        wc, ww = ds.get('WindowCenter'), ds.get('WindowWidth')
        fn = str(ds.get('VOILUTFunction', 'LINEAR')).upper()
        first = lambda v: float(v[0]) if isinstance(v, pydicom.multival.MultiValue) else float(v)
        valid_window = wc is not None and ww is not None and (first(ww) >= 1 if fn == 'LINEAR' else first(ww) > 0)
        if valid_voi:
            y = apply_voi_lut(x, ds, index=0)
            unit = y.astype(np.float64) / (2 ** int(seq[0].LUTDescriptor[2]) - 1)
            mode = 'voi_lut'
        elif valid_window:
            y = apply_voi_lut(x, ds, index=0)
            if ds.get('ModalityLUTSequence'):
                y_min, y_max = 0, 2 ** int(ds.ModalityLUTSequence[0].LUTDescriptor[2]) - 1
            elif ds.PixelRepresentation == 0:
                y_min, y_max = 0, 2 ** ds.BitsStored - 1
            else:
                y_min, y_max = -2 ** (ds.BitsStored - 1), 2 ** (ds.BitsStored - 1) - 1
            if 'RescaleSlope' in ds and 'RescaleIntercept' in ds:
                y_min = y_min * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
                y_max = y_max * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
            unit = (y - y_min) / (y_max - y_min)
            mode = 'window'
        else:
            x = x.astype(np.float64)
            lo, hi = x.min(), x.max()
            unit = (x - lo) / (hi - lo) if hi > lo else np.zeros_like(x)
            mode = 'minmax'
        for bits in (8, 16):
            top = 2 ** bits - 1
            v = np.clip(np.round(unit * top), 0, top).astype(np.uint8 if bits == 8 else '<u2')
            if ds.PhotometricInterpretation == 'MONOCHROME1':
                v = top - v
            np.ascontiguousarray(v).tofile(f'{out_dir}/{i}.{bits}.raw')
        results.append({'ok': True, 'mode': mode, 'rows': int(unit.shape[0]), 'columns': int(unit.shape[1])})
    except Exception as e:
        results.append({'ok': False, 'error': f'{type(e).__name__}: {e}'})
print(json.dumps(results))
`;

export type PydicomRender =
  | { ok: true; mode: string; rows: number; columns: number; pixels8: Uint8Array; pixels16: Uint16Array }
  | { ok: false; error: string };

/** Renders each file with pydicom (Debian's /usr/bin/python3) to 8- and 16-bit grey; `workDir` receives the raw outputs. */
export async function pydicomRender(paths: string[], workDir: string): Promise<PydicomRender[]> {
  const results = runPythonJson<Array<{ ok: true; mode: string; rows: number; columns: number } | { ok: false; error: string }>>(SCRIPT, [workDir, ...paths]);
  return Promise.all(
    results.map(async (r, i) => {
      if (!r.ok) return r;
      const raw8 = await readFile(join(workDir, `${i}.8.raw`));
      const raw16 = await readFile(join(workDir, `${i}.16.raw`));
      return { ...r, pixels8: new Uint8Array(raw8), pixels16: new Uint16Array(raw16.buffer, raw16.byteOffset, raw16.byteLength / 2) };
    }),
  );
}

/** Largest absolute difference between two images of the same size, and how many pixels differ by more than 1. */
export function compareImages(a: ArrayLike<number>, b: ArrayLike<number>): { maxDiff: number; over1: number } {
  if (a.length !== b.length) throw new Error(`image sizes differ: ${a.length} vs ${b.length} pixels`);
  let maxDiff = 0;
  let over1 = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (d > maxDiff) maxDiff = d;
    if (d > 1) over1++;
  }
  return { maxDiff, over1 };
}
