"""Where the time goes on the OpenCV side of the preprocess bench: CPU ms per image for each step
(imdecode, crop, CLAHE, INTER_AREA resize, imencode), over the bench images (two passes, the second
reported). usage: preprocess_ops_opencv.py IN_DIR [PNG_LEVEL=default] (as in preprocess_opencv.py)"""
import math
import os
import sys
import time

import cv2
import numpy as np

cv2.setNumThreads(1)
src = sys.argv[1]
level = sys.argv[2] if len(sys.argv) > 2 else "default"
png_params = [] if level == "default" else [cv2.IMWRITE_PNG_COMPRESSION, int(level)]
files = [open(os.path.join(src, f), "rb").read() for f in sorted(os.listdir(src)) if f.endswith(".png")]
clahe = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8))
r = lambda v: int(math.floor(v + 0.5))
for _ in range(2):
    t = dict(decode=0.0, crop=0.0, clahe=0.0, resize=0.0, encode=0.0)
    size = 0
    for b in files:
        c = time.process_time()

        def lap(k):
            global c
            now = time.process_time()
            t[k] += now - c
            c = now

        im = cv2.imdecode(np.frombuffer(b, np.uint8), cv2.IMREAD_UNCHANGED); lap("decode")
        h, w = im.shape
        im = im[r(0.2 * h): h - r(0.12 * h), r(0.06 * w): w - r(0.06 * w)]; lap("crop")
        im = clahe.apply(im); lap("clahe")
        im = cv2.resize(im, (512, 512), interpolation=cv2.INTER_AREA); lap("resize")
        size += len(cv2.imencode(".png", im, png_params)[1]); lap("encode")
n = len(files)
print("opencv ms CPU/img: %s; total %.2f; PNG %.1f KiB/img" % (", ".join("%s %.2f" % (k, v * 1000 / n) for k, v in t.items()), sum(t.values()) * 1000 / n, size / n / 1024))
