#!/usr/bin/env bash
# Detection on BCCD (real blood-smear images, Pascal VOC boxes; BCCD_DIR = the folder holding Annotations/,
# JPEGImages/ and ImageSets/Main/{train,val}.txt):
# our detector (ResNet-18 + FPN, anchor-free FCOS-style head, ONNX Runtime train step and inference) against
# torchvision's FCOS with a ResNet-18 FPN backbone (Debian python3-torchvision), both from scratch, same train
# images (train.txt), input size, batch, epochs, optimizer and threads. Prints val mAP@0.5 of both (same metric
# code), and training / inference images per second, ours / torchvision.
# usage: BCCD_DIR=... bench/detection.sh [SIZE=256] [EPOCHS=8] [THREADS=2] [BATCH=8] [LR=0.001]
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE=${1:-256}; EPOCHS=${2:-8}; THREADS=${3:-2}; BATCH=${4:-8}; LR=${5:-0.001}
DATA=${BCCD_DIR:?set BCCD_DIR to the BCCD folder (Annotations/, JPEGImages/, ImageSets/)}
[ -d "$DATA/Annotations" ] || { echo "no Annotations/ in $DATA" >&2; exit 1; }
PY=/usr/bin/python3
$PY -c 'import torchvision' || { echo "python3-torchvision missing: apt-get install python3-torchvision" >&2; exit 1; }
OUT=$(mktemp --suffix=.json)
echo "load before: $(uptime)"
$PY bench/detection.py "$DATA" "$SIZE" "$EPOCHS" "$BATCH" "$LR" "$THREADS" "$OUT"
node --import tsx bench/detection.ts "$DATA" "$SIZE" "$EPOCHS" "$BATCH" "$LR" "$THREADS" "$OUT"
echo "load after: $(uptime)"
rm -f "$OUT"
