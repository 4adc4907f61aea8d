#!/usr/bin/env bash
# Preprocess throughput (crop l=r=.06 t=.2 b=.12 + CLAHE clip 2 tiles 8 + area resize to 512x512 + PNG) on
# one core: the preprocess stage's per-image work (bench/preprocess.ts: our PNG decoder, src/ops/image kernels,
# our PNG encoder) vs an OpenCV Python script, same 1024x1024 PNGs made from the real radiographs in
# test/fixtures/dicom/ref.
# Throughput is images per CPU-second of the whole process (steadier than wall time on a shared machine);
# wall-clock throughput is printed too. The outputs' PNG sizes, the pixel difference and a per-step CPU
# breakdown of both sides (bench/preprocess_ops*) follow, with the ratio of the steps before PNG encoding.
#
# usage: bench/preprocess.sh [N_IMAGES=48] [OUR_PNG_LEVEL=1] [OPENCV_PNG_LEVEL=default]
# The default compares equal output: ours at the stage's default png_compression 1 (Paeth rows,
# run-length deflate), OpenCV as `cv2.imwrite(path, im)` writes (Sub rows, zlib level 1, run-length),
# OpenCV's fastest PNG setting; any explicit OpenCV level (IMWRITE_PNG_COMPRESSION) is slower, and the
# one of those whose files are not smaller than ours is level 1 (bench/results/preprocess.md). Both sizes are printed so
# that "ours not larger" can be checked, and the outputs' pixels are compared.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-48}
LEVEL=${2:-1}
CV_LEVEL=${3:-default}
PY=/usr/bin/python3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
$PY bench/preprocess_inputs.py test/fixtures/dicom/ref "$work/in" "$N"
export UV_THREADPOOL_SIZE=1 VIPS_CONCURRENCY=1 OMP_NUM_THREADS=1
# Each side warms up on two images (untimed); the timed runs alternate, three rounds, best kept.
best_ours=0; best_cv=0
for round in 1 2 3; do
  read -r ours ours_wall < <(taskset -c 0 node --import tsx bench/preprocess.ts "$work/in" "$work/ours" "$LEVEL")
  read -r cv cv_wall < <(taskset -c 0 $PY bench/preprocess_opencv.py "$work/in" "$work/cv" "$CV_LEVEL")
  echo "round $round: ours $ours img/cpu-s ($ours_wall img/s wall), opencv $cv img/cpu-s ($cv_wall img/s wall)"
  best_ours=$(echo "$ours $best_ours" | awk '{print ($1>$2)?$1:$2}')
  best_cv=$(echo "$cv $best_cv" | awk '{print ($1>$2)?$1:$2}')
done
maxdiff=$($PY bench/preprocess_compare.py "$work/ours" "$work/cv")
ours_kib=$(du -sb "$work/ours" | awk -v n="$N" '{printf "%.1f", $1/n/1024}')
cv_kib=$(du -sb "$work/cv" | awk -v n="$N" '{printf "%.1f", $1/n/1024}')
echo "images: $N x 1024x1024 8-bit; one core (taskset -c 0); load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "PNG: ours png_compression $LEVEL -> $ours_kib KiB/img; OpenCV PNG level $CV_LEVEL -> $cv_kib KiB/img"
echo "ours (best of 3): $best_ours img/cpu-s; OpenCV $($PY -c 'import cv2; print(cv2.__version__)') (best of 3): $best_cv img/cpu-s"
echo "ratio ours/opencv: $(echo "$best_ours $best_cv" | awk '{printf "%.2f", $1/$2}')x; max abs pixel difference of the outputs: $maxdiff"
ours_ops=$(taskset -c 0 node --import tsx bench/preprocess_ops.ts "$work/in" "$LEVEL")
cv_ops=$(taskset -c 0 $PY bench/preprocess_ops_opencv.py "$work/in" "$CV_LEVEL")
echo "$ours_ops"
echo "$cv_ops"
# Steps before PNG encoding (decode + crop + CLAHE + resize), ms CPU per image, from the two breakdowns.
pre() { echo "$1" | sed -E 's/.*decode ([0-9.]+), crop ([0-9.]+), clahe ([0-9.]+), resize ([0-9.]+), encode ([0-9.]+);.*/\1 \2 \3 \4 \5/' | awk '{printf "%.2f %.2f\n", $1+$2+$3+$4, $5}'; }
read -r ours_pre ours_enc < <(pre "$ours_ops")
read -r cv_pre cv_enc < <(pre "$cv_ops")
echo "before encoding: ours $ours_pre ms, OpenCV $cv_pre ms CPU/img, ratio $(echo "$cv_pre $ours_pre" | awk '{printf "%.2f", $1/$2}')x; PNG encode: ours $ours_enc ms, OpenCV $cv_enc ms"
