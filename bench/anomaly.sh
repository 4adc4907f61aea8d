#!/usr/bin/env bash
# The anomaly autoencoder (task: anomaly) against PyTorch CPU (bench/anomaly_torch.py, Debian python3-torch):
# the same network (64 px, width 0.5, 4x4x16 code), batch 32, reconstruction MSE, Adam; training and scoring
# images/s at 1 and 2 threads, ours (ONNX Runtime train graph + exported score model, bench/anomaly.ts) / PyTorch.
# usage: bench/anomaly.sh [STEPS=10]
set -euo pipefail
cd "$(dirname "$0")/.."
STEPS=${1:-10}
PY=/usr/bin/python3
$PY -c 'import torch' || { echo "python3-torch missing: apt-get install python3-torch" >&2; exit 1; }
uptime
for threads in 1 2; do
  ours=$(ORT_THREADS=$threads node --import tsx bench/anomaly.ts 64 32 "$STEPS")
  torch=$(TORCH_THREADS=$threads $PY bench/anomaly_torch.py 64 32 "$STEPS")
  printf '%s\n%s\n' "$ours" "$torch"
  node -e '
    const [a, b] = process.argv.slice(1).map((s) => JSON.parse(s));
    const r = (x, y) => (x / y).toFixed(2) + "x";
    console.log(`  ${a.threads} thread(s): train ${a.train} vs ${b.train} img/s = ${r(a.train, b.train)} (per CPU s ${r(a.train_cpu, b.train_cpu)}), scoring ${a.infer} vs ${b.infer} = ${r(a.infer, b.infer)} (per CPU s ${r(a.infer_cpu, b.infer_cpu)})`);
  ' "$ours" "$torch"
done
uptime
