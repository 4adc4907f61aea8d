#!/usr/bin/env bash
# Training and inference images/s of the pipeline's model zoo against PyTorch CPU (bench/train.py,
# Debian python3-torch), same architecture, input size, batch, loss (BCE on sigmoid outputs) and
# optimizer (Adam), side by side on this machine: small CNN at 64 px and ResNet-18 at 128 px, batch 32,
# single-channel input. Ours:
#   - default engines (bench/train-ort.ts): the train step compiled to one ONNX Runtime graph, inference
#     of the exported model on ONNX Runtime; at 1 thread and at 2 threads;
#   - the TensorFlow.js fallback (bench/train.ts): wasm backend with our gradient kernels, 2 threads.
# PyTorch at its default thread count (1 on this machine) and at 2 (TORCH_THREADS=2).
# Ratios ours / PyTorch at equal threads, per wall-clock second and per CPU second of the process
# (steadier when other jobs share the cores).
# Rows (CONFIGS, one "ARCH SIZE BATCH [RECIPE]" per line): by default the two above plus DenseNet-121 and
# EfficientNet-B0 at 128 px and the vinbig-cls recipe on ResNet-18 at 128 px (RECIPE=vinbig-cls: ASL,
# mixup, label smoothing; bench/train.py). TFJS=0 skips the tfjs wasm fallback (slow on the big models).
# usage: [CONFIGS="..."] [TFJS=0] bench/train.sh [STEPS=5]
set -euo pipefail
cd "$(dirname "$0")/.."
STEPS=${1:-5}
PY=/usr/bin/python3
$PY -c 'import torch' || { echo "python3-torch missing: apt-get install python3-torch" >&2; exit 1; }
CONFIGS=${CONFIGS:-"small-cnn 64 32
resnet18 128 32
densenet121 128 32
efficientnet-b0 128 32
resnet18 128 32 vinbig-cls"}
while read -r arch size batch recipe <&3; do
  [ -n "$arch" ] || continue
  set -- "$arch" "$size" "$batch"
  export RECIPE=${recipe:-}
  ort1=$(ORT_THREADS=1 node --import tsx bench/train-ort.ts "$1" "$2" "$3" "$STEPS")
  torch1=$($PY bench/train.py "$1" "$2" "$3" "$STEPS")
  ort2=$(ORT_THREADS=2 node --import tsx bench/train-ort.ts "$1" "$2" "$3" "$STEPS")
  torch2=$(TORCH_THREADS=2 $PY bench/train.py "$1" "$2" "$3" "$STEPS")
  tfjs=null
  if [ "${TFJS:-1}" != 0 ] && [ -z "$RECIPE" ]; then tfjs=$(PIPELINE_WASM_THREADS=2 node --import tsx bench/train.ts "$1" "$2" "$3" "$STEPS"); fi
  printf '%s\n' "$ort1" "$torch1" "$ort2" "$torch2" "$tfjs"
  node -e '
    const [o1, p1, o2, p2, t] = process.argv.slice(1).map((s) => JSON.parse(s));
    const r = (x, y) => (x / y).toFixed(2) + "x";
    const line = (label, a, b) => console.log(`  ${label}: train ${a.train} vs ${b.train} img/s = ${r(a.train, b.train)} (per CPU s ${r(a.train_cpu, b.train_cpu)}), inference ${a.infer} vs ${b.infer} = ${r(a.infer, b.infer)} (per CPU s ${r(a.infer_cpu, b.infer_cpu)})`);
    console.log(`${o1.arch} ${o1.size}px batch ${o1.batch}, ours / PyTorch:`);
    line("1 thread each (ONNX Runtime engines vs PyTorch default)", o1, p1);
    line("2 threads each (ONNX Runtime engines vs PyTorch set_num_threads(2))", o2, p2);
    if (t) line("tfjs wasm fallback, 2 threads, vs PyTorch 2 threads", t, p2);
  ' "$ort1" "$torch1" "$ort2" "$torch2" "$tfjs"
done 3<<< "$CONFIGS"
