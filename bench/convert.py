"""The alternative a user would write: pydicom + OpenCV, same rendering rule as the convert stage
(apply_modality_lut, apply_voi_lut with the file's first window scaled over pydicom's output range,
else min-max; MONOCHROME1 inverted; INTER_AREA resize to longest side 512; 8-bit PNG).
usage: /usr/bin/python3 bench/convert.py IN_DIR OUT_DIR PROCESSES   (0 = this process, one at a time)
Prints images per second (files are read before the clock starts; with
PROCESSES > 0 each worker process reads them all in its initializer, so only a file name travels to a
worker per task: the pool scales instead of serialising 8 MB pickles through the parent)."""
import os, sys, time
from io import BytesIO
from multiprocessing import Pool
import cv2
import numpy as np
import pydicom
from pydicom.pixel_data_handlers.util import apply_modality_lut, apply_voi_lut

cv2.setNumThreads(1)


FILES = {}
OUT_DIR = ''


def load(in_dir, out_dir):
    global OUT_DIR
    OUT_DIR = out_dir
    for name in sorted(f for f in os.listdir(in_dir) if f.endswith('.dcm')):
        with open(os.path.join(in_dir, name), 'rb') as f:
            FILES[name] = f.read()


def ready(_):
    return os.getpid()


def convert(name):
    ds = pydicom.dcmread(BytesIO(FILES[name]))
    x = apply_modality_lut(ds.pixel_array, ds)
    if 'WindowCenter' in ds and 'WindowWidth' in ds:
        y = apply_voi_lut(x, ds, index=0)
        lo, hi = (0, 2 ** ds.BitsStored - 1) if ds.PixelRepresentation == 0 else (-2 ** (ds.BitsStored - 1), 2 ** (ds.BitsStored - 1) - 1)
        if 'RescaleSlope' in ds and 'RescaleIntercept' in ds:
            lo, hi = lo * float(ds.RescaleSlope) + float(ds.RescaleIntercept), hi * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
    else:
        y, lo, hi = x, x.min(), x.max()
    v = np.clip(np.round((y - lo) / (hi - lo) * 255), 0, 255).astype(np.uint8)
    if ds.PhotometricInterpretation == 'MONOCHROME1':
        v = 255 - v
    h, w = v.shape
    s = 512 / max(h, w)
    v = cv2.resize(v, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)
    ok, png = cv2.imencode('.png', v, [cv2.IMWRITE_PNG_COMPRESSION, 6])
    with open(os.path.join(OUT_DIR, name.replace('.dcm', '.png')), 'wb') as f:
        f.write(png.tobytes())


def main():
    in_dir, out_dir, processes = sys.argv[1], sys.argv[2], int(sys.argv[3])
    os.makedirs(out_dir, exist_ok=True)
    names = sorted(f for f in os.listdir(in_dir) if f.endswith('.dcm'))
    if processes == 0:
        load(in_dir, out_dir)
        convert(names[0])  # warm up
        start = time.perf_counter()
        for name in names:
            convert(name)
    else:
        with Pool(processes, initializer=load, initargs=(in_dir, out_dir)) as pool:
            # Every worker has started and loaded the files, and one file per worker is converted
            # (warm-up), before the clock starts.
            seen = set()
            while len(seen) < processes:
                seen.update(pool.map(ready, range(processes * 4), chunksize=1))
            pool.map(convert, names[:processes], chunksize=1)
            start = time.perf_counter()
            pool.map(convert, names, chunksize=1)
    print(f'{len(names) / (time.perf_counter() - start):.2f}')


if __name__ == '__main__':
    main()
