"""The reference rendering the convert stage is compared with (pydicom 2.3 + GDCM, Debian's python3).

usage: /usr/bin/python3 pydicom_render.py OUT_DIR [--all-frames] FILE...
With pydicom 3 first on PYTHONPATH it renders as pydicom 3 does (pydicom3.test.ts): stored values are its
pixel_array as returned (it keeps the low Bits Stored bits itself; "pydicom3-stored-differs" notes where that
is not rule 1's value), YBR_FULL/YBR_FULL_422 come back as RGB and are rendered as RGB.
Writes OUT_DIR/<i>.<frame>.<8|16>.raw (grey, row-major) and prints one JSON list entry per file:
{ok, mode, rows, columns, frames, notes: [...], gdcm: true|false|null, ties: n, stored: bool} or {ok: false, error}.
For grey integer images also OUT_DIR/<i>.<frame>.stored.raw: the stored values of rule 1 as float64.

The rule (docs/convert.md, "Windowing rules"):
1. Stored values: pydicom's pixel_array, masked to Bits Stored (shifted down when High Bit != Bits Stored - 1)
   and sign-extended from Bits Stored. pydicom 2.3 does neither (PS3.5 8.1.1 asks for it); when that
   changes a value, the entry's notes say so ("pydicom-unmasked").
2. Monochrome: apply_modality_lut, then a valid VOI LUT Sequence (scaled by its bit depth) or the first
   window (apply_voi_lut over pydicom's windowing output range) or min-max.
   Colour: Y of YBR_FULL/YBR_FULL_422 samples as pydicom returns them; Rec. 601 luma of RGB and of
   PALETTE COLOR (apply_color_lut), both rounded half to even; mapped over 0 .. 2^BitsStored - 1
   (palette: 2^bits per entry - 1).
3. Round half to even (numpy), clip, MONOCHROME1 inverted.
`gdcm`: whether GDCM's own decoder (gdcm.ImageReader) gives the same stored values for frame 0 (null when
GDCM cannot read the file). `ties`: pixels where rounding half up would give another value.
"""
import json
import os
import sys
import warnings

import numpy as np
import pydicom

# pydicom 3 (e.g. PYTHONPATH=/path/to/pydicom-3 /usr/bin/python3) renders as pydicom 3 does: its pixel_array
# already corrects unused bits (keeping the low Bits Stored bits) and returns YBR_FULL/YBR_FULL_422 as RGB.
PYDICOM3 = int(pydicom.__version__.split('.')[0]) >= 3
if PYDICOM3:
    from pydicom.pixels import apply_color_lut, apply_modality_lut, apply_voi_lut
else:
    from pydicom.pixel_data_handlers.util import apply_color_lut, apply_modality_lut, apply_voi_lut

try:
    import gdcm
    gdcm.Trace.WarningOff()
    gdcm.Trace.ErrorOff()
except ImportError:  # the GDCM cross-check is then reported as null
    gdcm = None

warnings.simplefilter('ignore')


def corrected(arr, ds):
    """Stored values: masked to Bits Stored and sign-extended (what pydicom 2.3 leaves undone)."""
    bits_allocated = int(ds.BitsAllocated)
    bits_stored = int(ds.get('BitsStored', bits_allocated))
    high_bit = int(ds.get('HighBit', bits_stored - 1))
    words = arr.astype(np.int64) & ((1 << bits_allocated) - 1)
    shift = max(0, min(high_bit + 1 - bits_stored, bits_allocated - bits_stored))
    v = (words >> shift) & ((1 << bits_stored) - 1)
    if int(ds.get('PixelRepresentation', 0)) == 1:
        v = np.where(v >= (1 << (bits_stored - 1)), v - (1 << bits_stored), v)
    return v


def luma(rgb):
    rgb = rgb.astype(np.float64)
    return np.round(0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2])


def palette_bits(ds):
    entries = int(ds.RedPaletteColorLookupTableDescriptor[0]) or 65536
    data = ds.get('RedPaletteColorLookupTableData')
    if data is not None and len(data) == entries:
        return 8
    return 8 if int(ds.RedPaletteColorLookupTableDescriptor[2]) <= 8 else 16


def render_frame(ds, frame, notes):
    """Unit-range float image of one frame and the mode used."""
    pi = ds.PhotometricInterpretation
    if 'FloatPixelData' in ds or 'DoubleFloatPixelData' in ds:
        stored = frame
    elif PYDICOM3:
        stored = frame.astype(np.int64)
        if not np.array_equal(stored, corrected(frame, ds)) and 'pydicom3-stored-differs' not in notes:
            notes.append('pydicom3-stored-differs')
    else:
        stored = corrected(frame, ds)
        if not np.array_equal(stored, frame.astype(np.int64)) and 'pydicom-unmasked' not in notes:
            notes.append('pydicom-unmasked')
    if pi in ('MONOCHROME1', 'MONOCHROME2'):
        x = apply_modality_lut(stored, ds)
        seq = ds.get('VOILUTSequence')
        valid_voi = bool(seq) and seq[0].get('LUTDescriptor') is not None and seq[0].get('LUTData') is not None
        wc, ww = ds.get('WindowCenter'), ds.get('WindowWidth')
        fn = str(ds.get('VOILUTFunction', 'LINEAR')).upper()
        first = lambda v: float(v[0]) if isinstance(v, pydicom.multival.MultiValue) else float(v)
        valid_window = wc is not None and ww is not None and (first(ww) >= 1 if fn == 'LINEAR' else first(ww) > 0)
        if valid_voi:
            desc = seq[0].LUTDescriptor
            if int(desc[2]) <= 8 and np.max(x) - int(desc[1]) > 255:
                notes.append('pydicom-voi-lut-index-wraps')
            y = apply_voi_lut(x, ds, index=0)
            return y.astype(np.float64) / (2 ** int(desc[2]) - 1), 'voi_lut'
        if valid_window:
            y = apply_voi_lut(x, ds, index=0)
            if ds.get('ModalityLUTSequence'):
                y_min, y_max = 0, 2 ** int(ds.ModalityLUTSequence[0].LUTDescriptor[2]) - 1
            elif int(ds.get('PixelRepresentation', 0)) == 0:
                y_min, y_max = 0, 2 ** int(ds.BitsStored) - 1
            else:
                y_min, y_max = -2 ** (int(ds.BitsStored) - 1), 2 ** (int(ds.BitsStored) - 1) - 1
            if 'RescaleSlope' in ds and 'RescaleIntercept' in ds:
                y_min = y_min * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
                y_max = y_max * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
            return (y - y_min) / (y_max - y_min), 'window'
        x = x.astype(np.float64)
        lo, hi = x.min(), x.max()
        return ((x - lo) / (hi - lo) if hi > lo else np.zeros_like(x)), 'minmax'
    if pi == 'PALETTE COLOR':
        return luma(apply_color_lut(stored, ds)) / (2 ** palette_bits(ds) - 1), 'palette'
    top = 2 ** int(ds.BitsStored) - 1
    if pi in ('YBR_FULL', 'YBR_FULL_422') and not PYDICOM3:
        return stored[..., 0].astype(np.float64) / top, 'ybr'
    if pi in ('RGB', 'YBR_RCT', 'YBR_ICT') or (PYDICOM3 and pi in ('YBR_FULL', 'YBR_FULL_422')):  # GDCM undoes the JPEG 2000 component transform
        return luma(stored) / top, 'rgb'
    raise ValueError(f'no reference rule for photometric {pi}')


def ybr_clipping(path, frames, notes):
    """pydicom 3 returns YBR_FULL/YBR_FULL_422 as RGB clipped to 0..255 (PS3.3 C.7.6.3.1.2 inverted): notes
    'ybr-rgb-clipped' when the luma of that RGB differs from the stored Y only where the conversion clipped,
    'ybr-rgb-differs' when it differs anywhere else."""
    from pydicom.pixels import pixel_array
    ybr = pixel_array(path, as_rgb=False)
    ybr = ybr[np.newaxis] if ybr.ndim == 3 else ybr
    for rgb, f in zip(frames, ybr):
        y, cb, cr = (f[..., k].astype(np.float64) for k in range(3))
        cb, cr = cb - 128, cr - 128
        channels = (y + 1.402 * cr, y - 0.114 * 1.772 / 0.587 * cb - 0.299 * 1.402 / 0.587 * cr, y + 1.772 * cb)
        clipped = np.any([(np.floor(c + 0.5) < 0) | (np.floor(c + 0.5) > 255) for c in channels], axis=0)
        differs = luma(rgb) != y
        for note, hit in (('ybr-rgb-clipped', differs & clipped), ('ybr-rgb-differs', differs & ~clipped)):
            if hit.any() and note not in notes:
                notes.append(note)


def gdcm_frame0(path, ds, frame):
    """GDCM's own decode of frame 0, as candidate arrays (its raw buffer is in the file's byte order for some
    syntaxes and may be planar): a list to compare, or None when GDCM cannot read the file."""
    if gdcm is None:
        return None
    reader = gdcm.ImageReader()
    reader.SetFileName(path)
    if not reader.Read():
        return None
    image = reader.GetImage()
    buf = image.GetBuffer()
    if buf is None:
        return None
    data = buf.encode('utf-8', 'surrogateescape')
    pf = image.GetPixelFormat()
    bits = pf.GetBitsAllocated()
    kind = 'i' if pf.GetPixelRepresentation() == 1 else 'u'
    if bits not in (8, 16, 32):
        return None
    candidates = []
    for order in ('<', '>'):
        arr = np.frombuffer(data, dtype=f'{order}{kind}{bits // 8}')
        if arr.size < frame.size:
            return None
        arr = arr[:frame.size]
        candidates.append(arr.reshape(frame.shape))
        if frame.ndim == 3:  # colour: GDCM may keep planar configuration 1
            candidates.append(arr.reshape(frame.shape[2], frame.shape[0], frame.shape[1]).transpose(1, 2, 0))
    return candidates


def gdcm_agrees(path, ds, frame, notes):
    """Compares GDCM's decode with pydicom's in a forked child: GDCM aborts the process on some files."""
    if gdcm is None:
        return None
    pid = os.fork()
    if pid == 0:
        code = 2
        try:
            candidates = gdcm_frame0(path, ds, frame)
            if candidates is not None:
                ours = corrected(frame, ds)
                # GDCM may already have shifted and masked the values (High Bit above Bits Stored - 1)
                code = 0 if any(np.array_equal(corrected(c, ds), ours) or np.array_equal(c.astype(np.int64), ours) for c in candidates) else 1
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        notes.append('gdcm-crashed')
        return None
    code = os.WEXITSTATUS(status)
    return None if code == 2 else code == 0


def main():
    out_dir = sys.argv[1]
    args = sys.argv[2:]
    all_frames = '--all-frames' in args
    paths = [a for a in args if a != '--all-frames']
    results = []
    for i, path in enumerate(paths):
        try:
            ds = pydicom.dcmread(path, force=True)
            if 'TransferSyntaxUID' not in ds.file_meta:  # a bare data set: the encoding it was read in
                implicit, little = ds.original_encoding if PYDICOM3 else (ds.is_implicit_VR, ds.is_little_endian)
                ds.file_meta.TransferSyntaxUID = pydicom.uid.ImplicitVRLittleEndian if implicit else pydicom.uid.ExplicitVRLittleEndian if little else pydicom.uid.ExplicitVRBigEndian
            # pydicom 2.3's J2K correction rewrites Pixel Representation in the data set it decodes: keep the file's.
            pixel_module = {k: ds[k].value for k in ('PixelRepresentation', 'BitsStored', 'HighBit') if k in ds}
            arr = ds.pixel_array
            for k, v in pixel_module.items():
                setattr(ds, k, v)
            n_frames = int(ds.get('NumberOfFrames', 1) or 1)
            samples = int(ds.get('SamplesPerPixel', 1))
            frames = [arr] if n_frames == 1 else list(arr)
            if samples > 1 and n_frames == 1 and arr.ndim != 3:
                raise ValueError(f'unexpected array shape {arr.shape}')
            notes = []
            modes = set()
            ties = 0
            grey_integers = samples == 1 and ds.PhotometricInterpretation != 'PALETTE COLOR' and 'FloatPixelData' not in ds and 'DoubleFloatPixelData' not in ds
            for f, frame in enumerate(frames if all_frames else frames[:1]):
                if grey_integers:
                    np.ascontiguousarray(frame if PYDICOM3 else corrected(frame, ds), dtype='<f8').tofile(f'{out_dir}/{i}.{f}.stored.raw')
                unit, mode = render_frame(ds, frame, notes)
                modes.add(mode)
                for bits in (8, 16):
                    top = 2 ** bits - 1
                    scaled = unit * top
                    inside = (scaled > 0) & (scaled < top)
                    ties += int(np.count_nonzero(inside & (scaled - np.floor(scaled) == 0.5) & (np.floor(scaled) % 2 == 0)))
                    v = np.clip(np.round(scaled), 0, top).astype(np.uint8 if bits == 8 else '<u2')
                    if ds.PhotometricInterpretation == 'MONOCHROME1':
                        v = top - v
                    np.ascontiguousarray(v).tofile(f'{out_dir}/{i}.{f}.{bits}.raw')
            if PYDICOM3 and ds.PhotometricInterpretation in ('YBR_FULL', 'YBR_FULL_422'):
                ybr_clipping(path, frames if all_frames else frames[:1], notes)
            agree = None
            if 'FloatPixelData' not in ds and 'DoubleFloatPixelData' not in ds:
                agree = gdcm_agrees(path, ds, frames[0], notes)
            results.append({'ok': True, 'mode': '+'.join(sorted(modes)), 'rows': int(frames[0].shape[0]), 'columns': int(frames[0].shape[1]),
                            'frames': n_frames, 'notes': notes, 'gdcm': agree, 'ties': ties, 'stored': grey_integers})
        except Exception as e:  # reported per file; the caller decides whether that is expected
            results.append({'ok': False, 'error': f'{type(e).__name__}: {e}'})
    print(json.dumps(results))


if __name__ == '__main__':
    main()
