#!/usr/bin/env bash
# Detection on BCCD (real blood-smear images, Pascal VOC boxes; BCCD_DIR = the folder holding Annotations/,
# JPEGImages/ and ImageSets/Main/{train,val}.txt):
# our detector (ResNet-18 + FPN, anchor-free FCOS-style head, ONNX Runtime train step and inference) against
# torchvision's FCOS with a ResNet-18 FPN backbone (Debian python3-torchvision), both from scratch, same train
# images (train.txt), input size, batch, epochs, optimizer, learning-rate schedule, augmentation (hflip) and
# threads. Prints val mAP@0.5 of both (same metric code), and training / inference images per second, ours /
# torchvision. The two sides train at the same time (side by side: the same machine load for both), then
# infer at the same time once both have trained.
# INPUT=square letterboxes ours into SIZE x SIZE (default rect: SIZE x 3/4 SIZE, the tensor torchvision batches BCCD into).
# SEED (default 1) seeds both sides (weights, order, flips).
# usage: BCCD_DIR=... [INPUT=rect] [SEED=1] bench/detection.sh [SIZE=256] [EPOCHS=8] [THREADS=1] [BATCH=8] [LR=0.001] [SCHEDULE=cosine]
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE=${1:-256}; EPOCHS=${2:-8}; THREADS=${3:-1}; BATCH=${4:-8}; LR=${5:-0.001}; SCHEDULE=${6:-cosine}
DATA=${BCCD_DIR:?set BCCD_DIR to the BCCD folder (Annotations/, JPEGImages/, ImageSets/)}
[ -d "$DATA/Annotations" ] || { echo "no Annotations/ in $DATA" >&2; exit 1; }
PY=/usr/bin/python3
$PY -c 'import torchvision' || { echo "python3-torchvision missing: apt-get install python3-torchvision" >&2; exit 1; }
OUT=$(mktemp --suffix=.json)
rm -f "$OUT"
trap 'rm -f "$OUT" "$OUT.failed" "$OUT.torch-trained" "$OUT.ours-trained"' EXIT
echo "load before: $(uptime)"
$PY bench/detection.py "$DATA" "$SIZE" "$EPOCHS" "$BATCH" "$LR" "$THREADS" "$OUT.tmp" "$SCHEDULE" "${SEED:-1}" && mv "$OUT.tmp" "$OUT" || touch "$OUT.failed" &
TORCH=$!
node --import tsx bench/detection.ts "$DATA" "$SIZE" "$EPOCHS" "$BATCH" "$LR" "$THREADS" "$OUT" "$SCHEDULE" "${INPUT:-rect}" "${SEED:-1}"
wait $TORCH
echo "load after: $(uptime)"
