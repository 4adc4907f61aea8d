#!/usr/bin/env bash
# DICOM conversion throughput (decode + modality LUT + VOI window + resize to 512 + 8-bit PNG level 6):
# the convert stage's ops (src/ops/dicom, worker-thread pool for all cores) vs pydicom + OpenCV
# (bench/convert.py, a process pool whose workers hold the files, for all cores), same synthetic 2048x2048 12-bit explicit-LE files.
# usage: bench/convert.sh [N_FILES=24] [SIZE=2048]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-24}
SIZE=${2:-2048}
PY=/usr/bin/python3
CORES=$(nproc)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
node --import tsx bench/convert-fixtures.ts "$work/in" "$N" "$SIZE"
best() { echo "$1 $2" | awk '{print ($1>$2)?$1:$2}'; }
# One core: both sides pinned to CPU 0 with one libvips / OpenCV thread. All cores: a worker per core.
ours1=0; py1=0; oursN=0; pyN=0
for round in 1 2 3; do
  o=$(UV_THREADPOOL_SIZE=1 VIPS_CONCURRENCY=1 taskset -c 0 node --import tsx bench/convert.ts "$work/in" "$work/ours" 0)
  p=$(OMP_NUM_THREADS=1 taskset -c 0 $PY bench/convert.py "$work/in" "$work/py" 0)
  oN=$(VIPS_CONCURRENCY=1 node --import tsx bench/convert.ts "$work/in" "$work/ours" "$CORES")
  pN=$(OMP_NUM_THREADS=1 $PY bench/convert.py "$work/in" "$work/py" "$CORES")
  echo "round $round: one core ours $o img/s, pydicom+opencv $p img/s; $CORES cores ours $oN img/s, pydicom+opencv $pN img/s"
  ours1=$(best "$o" "$ours1"); py1=$(best "$p" "$py1"); oursN=$(best "$oN" "$oursN"); pyN=$(best "$pN" "$pyN")
done
maxdiff=$($PY - "$work/ours" "$work/py" <<'PY'
import os, sys, cv2, numpy as np
a, b = sys.argv[1], sys.argv[2]
print(max(int(np.abs(cv2.imread(os.path.join(a, f), 0).astype(int) - cv2.imread(os.path.join(b, f), 0).astype(int)).max()) for f in os.listdir(a)))
PY
)
echo "files: $N x ${SIZE}x${SIZE} 12-bit explicit VR LE; output 512x512 8-bit PNG level 6; best of 3 rounds"
echo "pydicom $($PY -c 'import pydicom; print(pydicom.__version__)'), OpenCV $($PY -c 'import cv2; print(cv2.__version__)'), node $(node --version)"
echo "one core: ours $ours1 img/s, pydicom+opencv $py1 img/s, ratio $(echo "$ours1 $py1" | awk '{printf "%.2f", $1/$2}')x"
echo "$CORES cores: ours $oursN img/s, pydicom+opencv $pyN img/s, ratio $(echo "$oursN $pyN" | awk '{printf "%.2f", $1/$2}')x"
echo "scaling from 1 to $CORES cores: ours $(echo "$oursN $ours1" | awk '{printf "%.2f", $1/$2}')x, pydicom+opencv $(echo "$pyN $py1" | awk '{printf "%.2f", $1/$2}')x; load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "max abs pixel difference of the outputs (resize kernels differ: sharp lanczos3 vs cv2 INTER_AREA): $maxdiff"
