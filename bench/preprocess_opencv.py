"""The OpenCV script a user would write for crop + CLAHE + resize, on one core.
usage: preprocess_opencv.py IN_DIR OUT_DIR PNG_LEVEL; prints images per CPU-second and per wall second."""
import math
import os
import sys
import time

import cv2

cv2.setNumThreads(1)
src, out, level = sys.argv[1], sys.argv[2], int(sys.argv[3])
os.makedirs(out, exist_ok=True)
names = sorted(f for f in os.listdir(src) if f.endswith(".png"))
clahe = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8))
r = lambda v: int(math.floor(v + 0.5))


def one(f):
    im = cv2.imread(os.path.join(src, f), cv2.IMREAD_UNCHANGED)
    h, w = im.shape
    im = im[r(0.2 * h): h - r(0.12 * h), r(0.06 * w): w - r(0.06 * w)]
    im = clahe.apply(im)
    im = cv2.resize(im, (512, 512), interpolation=cv2.INTER_AREA)
    cv2.imwrite(os.path.join(out, f), im, [cv2.IMWRITE_PNG_COMPRESSION, level])


for f in names[:2]:  # warm-up, untimed, as ours
    one(f)
start = time.perf_counter()
cpu0 = time.process_time()
for f in names:
    one(f)
cpu = time.process_time() - cpu0
elapsed = time.perf_counter() - start
print("%.3f %.3f" % (len(names) / cpu, len(names) / elapsed))
