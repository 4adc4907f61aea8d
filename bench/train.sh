#!/usr/bin/env bash
# Training and inference images/s: the pipeline's tfjs zoo (bench/train.ts, wasm backend with our
# gradient kernels) against PyTorch CPU (bench/train.py, Debian python3-torch, default threads), same
# architecture, input size, batch, loss and optimizer, side by side: small CNN at 64 px and ResNet-18
# at 128 px, batch 32, single-channel input. Also ours with data-parallel training over 2 threads
# (TRAIN_WORKERS=2, the train stage's `workers: 2`). Prints each tool's numbers and the ratios ours / PyTorch,
# per wall-clock second and per CPU second of the process (steadier when other jobs share the cores).
# usage: bench/train.sh [STEPS=5]
set -euo pipefail
cd "$(dirname "$0")/.."
STEPS=${1:-5}
PY=/usr/bin/python3
$PY -c 'import torch' || { echo "python3-torch missing: apt-get install python3-torch" >&2; exit 1; }
for cfg in "small-cnn 64 32" "resnet18 128 32"; do
  set -- $cfg
  ours=$(node --import tsx bench/train.ts "$1" "$2" "$3" "$STEPS")
  torch=$($PY bench/train.py "$1" "$2" "$3" "$STEPS")
  ours2=$(TRAIN_WORKERS=2 node --import tsx bench/train.ts "$1" "$2" "$3" "$STEPS")
  echo "$ours"
  echo "$ours2"
  echo "$torch"
  node -e '
    const [a, a2, b] = process.argv.slice(1).map((s) => JSON.parse(s));
    const r = (x, y) => (x / y).toFixed(2) + "x";
    console.log(`${a.arch} ${a.size}px batch ${a.batch}: train ${a.train} vs PyTorch ${b.train} img/s = ${r(a.train, b.train)} (2 threads ${a2.train} = ${r(a2.train, b.train)}), inference ${a.infer} vs ${b.infer} img/s = ${r(a.infer, b.infer)}`);
    console.log(`  per CPU second: train ${a.train_cpu} vs ${b.train_cpu} = ${r(a.train_cpu, b.train_cpu)}, inference ${a.infer_cpu} vs ${b.infer_cpu} = ${r(a.infer_cpu, b.infer_cpu)}`);
  ' "$ours" "$ours2" "$torch"
done
