#!/usr/bin/env bash
# The demo at the end-to-end test's size (24 patients, 2 epochs) for several seeds: the spread of its
# macro AUC, from which the test's floor is taken (test/e2e/demo.test.ts). Each seed is a fresh store.
# usage: bench/demo-seeds.sh [SEEDS="1 2 3 4 5 6 7 8"] [PATIENTS=24] [EPOCHS=2]
set -euo pipefail
cd "$(dirname "$0")/.."
SEEDS=${1:-"1 2 3 4 5 6 7 8"}
export DEMO_PATIENTS=${2:-24} DEMO_EPOCHS=${3:-2}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for seed in $SEEDS; do
  out=$(DEMO_SEED=$seed node bin/pipeline.js run experiments/demo.yaml --no-lock --store "$work/$seed" --plain 2>/dev/null)
  auc=$(grep -oE 'evaluate: auc_macro [0-9.]+ \[[0-9.]+, [0-9.]+\]' <<<"$out" || echo 'evaluate: failed')
  echo "seed $seed (patients $DEMO_PATIENTS, epochs $DEMO_EPOCHS): ${auc#evaluate: }"
done
