"""Makes the preprocess bench inputs: real radiographs from the shared DICOM reference PNGs, resized to
1024x1024 8-bit grey PNGs (INTER_AREA), repeated up to N files (each made distinct by one corner pixel).
usage: preprocess_inputs.py SRC_DIR OUT_DIR N"""
import os
import sys

import cv2

src, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
names = [f for f in sorted(os.listdir(src)) if f.endswith(".png")]
images = []
for f in names:
    im = cv2.imread(os.path.join(src, f), cv2.IMREAD_GRAYSCALE)
    if im is not None and min(im.shape) >= 1024:  # the large real radiographs only
        images.append(cv2.resize(im, (1024, 1024), interpolation=cv2.INTER_AREA))
if not images:
    sys.exit("no radiograph of at least 1024 px in " + src)
os.makedirs(out, exist_ok=True)
for i in range(n):
    im = images[i % len(images)].copy()
    im[0, 0] = i % 256  # distinct bytes per file, so no cache can serve a repeat
    cv2.imwrite(os.path.join(out, "img%03d.png" % i), im, [cv2.IMWRITE_PNG_COMPRESSION, 6])
print("%d inputs from %d real radiographs" % (n, len(images)))
