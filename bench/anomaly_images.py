"""The images of the anomaly benches (bench/anomaly.sh), written once so both sides train on the same pixels: the
normal training images of nih1000_64px (NIH ChestX-ray14, 64 px; rows of labels.csv with split train and label_name
normal), grey, pixel values / 255, resized to SIZE (INTER_AREA) if they are not SIZE px; without a folder, seeded
uniform noise in [0, 1] (COUNT images, default 96). Writes N x SIZE x SIZE float32 values (raw, little-endian).
usage: /usr/bin/python3 bench/anomaly_images.py OUT SIZE [path/to/nih1000_64px | --synthetic COUNT]"""
import csv, os, sys
import numpy as np

out, size = sys.argv[1], int(sys.argv[2])
source = sys.argv[3] if len(sys.argv) > 3 else '--synthetic'
if source == '--synthetic':
    images = np.random.default_rng(1).random((int(sys.argv[4]) if len(sys.argv) > 4 else 96, size, size), np.float32)
else:
    import cv2
    with open(os.path.join(source, 'labels.csv'), newline='') as f:
        rows = [r for r in csv.DictReader(f) if r['split'] == 'train' and r['label_name'] == 'normal']
    if not rows: sys.exit(f'{source}/labels.csv: no rows with split train and label_name normal')
    def read(line, name):
        g = cv2.imread(os.path.join(source, name), cv2.IMREAD_GRAYSCALE)
        if g is None: sys.exit(f'{source}/labels.csv row {line}: {name} not readable')
        return g if g.shape == (size, size) else cv2.resize(g, (size, size), interpolation=cv2.INTER_AREA)
    images = np.stack([read(i + 2, r['image']) for i, r in enumerate(rows)]).astype(np.float32) / 255
images.astype('<f4').tofile(out)
print(f'{len(images)} {"synthetic" if source == "--synthetic" else "NIH normal training"} images of {size} px -> {out}', file=sys.stderr)
