"""The NIH 1000 set (nih1000_64px: 64 px PNGs, labels.csv with image, label, split, label_name) as a
MedMNIST-layout .npz, to run experiments/medmnist.yaml on real images: grey (OpenCV luminance), resized
to SIZE px with INTER_AREA, labels N x 1 uint8 from the `label` column (0 normal, 1 abnormal), the
uploader's train / valid / test split. NIH 1000 is not a MedMNIST set: its numbers are not MedMNIST's.

  /usr/bin/python3 bench/nih-to-npz.py path/to/nih1000_64px out/nih1000.npz [SIZE=28]
"""
import csv
import os
import sys

import cv2
import numpy as np

src, out = sys.argv[1], sys.argv[2]
size = int(sys.argv[3]) if len(sys.argv) > 3 else 28
SPLITS = {'train': 'train', 'valid': 'val', 'val': 'val', 'test': 'test'}
parts = {s: ([], []) for s in ('train', 'val', 'test')}
with open(os.path.join(src, 'labels.csv'), newline='') as f:
    for row in csv.DictReader(f):
        image = cv2.imread(os.path.join(src, row['image']), cv2.IMREAD_GRAYSCALE)
        if image is None:
            sys.exit(f"{row['image']}: not readable")
        images, labels = parts[SPLITS[row['split']]]
        images.append(cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA))
        labels.append([int(row['label'])])
arrays = {}
for split, (images, labels) in parts.items():
    arrays[f'{split}_images'] = np.stack(images).astype(np.uint8)
    arrays[f'{split}_labels'] = np.array(labels, dtype=np.uint8)
np.savez_compressed(out, **arrays)
print(out, {k: v.shape for k, v in arrays.items()}, {s: np.bincount(arrays[f'{s}_labels'][:, 0]).tolist() for s in parts})
