"""The NIH 1000 set (nih1000_64px: 64 px PNGs, labels.csv with image, label, split, label_name) as a
MedMNIST-layout .npz, to run experiments/medmnist.yaml on real images: grey (OpenCV luminance), resized
to SIZE px with INTER_AREA, labels N x 1 uint8 from the `label` column (0 normal, 1 abnormal), the
uploader's train / valid / test split, or with --resplit SEED a random split of all images stratified by
label with the uploader's part sizes (600 / 200 / 200). --sizes TRAIN VAL TEST then draws each part to
that many images with replacement (seeded by --resplit, default 0): an archive of a MedMNIST set's size
for timing (PneumoniaMNIST: --sizes 4708 524 624), with repeated images, so not for accuracy. NIH 1000
is not a MedMNIST set: its numbers are not MedMNIST's.

  /usr/bin/python3 bench/nih-to-npz.py path/to/nih1000_64px out/nih1000.npz [SIZE=28] [--resplit SEED] [--sizes TRAIN VAL TEST]
"""
import argparse
import csv
import os
import sys

import cv2
import numpy as np

ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
ap.add_argument('src')
ap.add_argument('out')
ap.add_argument('size', nargs='?', type=int, default=28)
ap.add_argument('--resplit', type=int, metavar='SEED', help='random stratified re-split instead of the uploader\'s')
ap.add_argument('--sizes', type=int, nargs=3, metavar=('TRAIN', 'VAL', 'TEST'), help='draw each part to this many images with replacement (timing only)')
args = ap.parse_args()
SPLITS = {'train': 'train', 'valid': 'val', 'val': 'val', 'test': 'test'}
images, labels, splits = [], [], []
with open(os.path.join(args.src, 'labels.csv'), newline='') as f:
    for line, row in enumerate(csv.DictReader(f), start=2):
        image = cv2.imread(os.path.join(args.src, row['image']), cv2.IMREAD_GRAYSCALE)
        if image is None:
            sys.exit(f"labels.csv line {line}: {row['image']} not readable")
        if row['split'] not in SPLITS or row['label'] not in ('0', '1'):
            sys.exit(f"labels.csv line {line}: split {row['split']!r} / label {row['label']!r} not understood")
        images.append(cv2.resize(image, (args.size, args.size), interpolation=cv2.INTER_AREA))
        labels.append(int(row['label']))
        splits.append(SPLITS[row['split']])
images, labels, splits = np.stack(images).astype(np.uint8), np.array(labels, dtype=np.uint8), np.array(splits)
if args.resplit is not None:
    # Same part sizes per class as the uploader's split, images drawn at random within each class.
    rng = np.random.default_rng(args.resplit)
    new = np.empty_like(splits)
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        new[rng.permutation(members)] = np.sort(splits[members])  # 'test' < 'train' < 'val': counts kept
    splits = new
arrays = {}
draw = np.random.default_rng(args.resplit or 0)
for split, count in zip(('train', 'val', 'test'), args.sizes or (None, None, None)):
    keep = np.flatnonzero(splits == split)
    if count is not None:
        if count < 1:
            sys.exit(f'--sizes: {split} needs at least 1 image, got {count}')
        keep = draw.choice(keep, size=count, replace=True)
    arrays[f'{split}_images'] = images[keep]
    arrays[f'{split}_labels'] = labels[keep][:, None]
np.savez_compressed(args.out, **arrays)
print(args.out, {k: v.shape for k, v in arrays.items()},
      {s: np.bincount(arrays[f'{s}_labels'][:, 0]).tolist() for s in ('train', 'val', 'test')})
