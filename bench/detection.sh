#!/usr/bin/env bash
# Detection on BCCD (real blood-smear images, VOC boxes; ../shared/data/det/bccd or $PIPELINE_SHARED_DATA/det/bccd):
# our detector (ResNet-18 + FPN, anchor-free FCOS-style head, ONNX Runtime train step and inference) against
# torchvision's FCOS with a ResNet-18 FPN backbone (Debian python3-torchvision), both from scratch, same train
# images (train.txt), input size, batch, epochs, optimizer and threads. Prints val mAP@0.5 of both (same metric
# code), and training / inference images per second, ours / torchvision.
# usage: bench/detection.sh [SIZE=256] [EPOCHS=8] [THREADS=2] [BATCH=8] [LR=0.001]
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE=${1:-256}; EPOCHS=${2:-8}; THREADS=${3:-2}; BATCH=${4:-8}; LR=${5:-0.001}
DATA=${PIPELINE_SHARED_DATA:-../shared/data}/det/bccd
[ -d "$DATA" ] || { echo "BCCD not found at $DATA (set PIPELINE_SHARED_DATA)" >&2; exit 1; }
PY=/usr/bin/python3
$PY -c 'import torchvision' || { echo "python3-torchvision missing: apt-get install python3-torchvision" >&2; exit 1; }
OUT=$(mktemp --suffix=.json)
echo "load before: $(uptime)"
$PY bench/detection.py "$DATA" "$SIZE" "$EPOCHS" "$BATCH" "$LR" "$THREADS" "$OUT"
node --import tsx bench/detection.ts "$DATA" "$SIZE" "$EPOCHS" "$BATCH" "$LR" "$THREADS" "$OUT"
echo "load after: $(uptime)"
rm -f "$OUT"
