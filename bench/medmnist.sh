#!/usr/bin/env bash
# experiments/medmnist.yaml (MedMNIST v2's ResNet-18 (28) recipe) on a real 28 px set: the NIH 1000
# chest X-rays (NIH1000=folder of nih1000_64px with its labels.csv) made a MedMNIST-layout .npz by
# bench/nih-to-npz.py (grey, INTER_AREA to 28 px, normal 0 / abnormal 1, the uploader's 600/200/200), or
# any MedMNIST .npz given as MEDMNIST=file. NIH 1000 is not a MedMNIST set: compare its numbers with the
# nih-stems rows, not with MedMNIST's published ones. Prints the test AUC / ACC with bootstrap CIs, the
# stage table, the best epoch, and the run's wall and CPU time (GNU time) with the load average.
# usage: bench/medmnist.sh [EPOCHS=20] [SEED=1]      MEDMNIST_STORE=dir reuses a store (default: a fresh one)
#   e.g. NIH1000=path/to/nih1000_64px bash bench/medmnist.sh 20 1
set -euo pipefail
cd "$(dirname "$0")/.."
epochs=${1:-20} seed=${2:-1}
store=${MEDMNIST_STORE:-$(mktemp -d)}
names=()
if [[ -z ${MEDMNIST:-} ]]; then
  [[ -n ${NIH1000:-} ]] || { echo "set NIH1000 to the nih1000_64px folder (or MEDMNIST to a MedMNIST .npz)" >&2; exit 2; }
  export MEDMNIST=$store/nih1000.npz
  [[ -f $MEDMNIST ]] || /usr/bin/python3 bench/nih-to-npz.py "$NIH1000" "$MEDMNIST" 28
  names=(-S 'stages.ingest.with.labels={names: [normal, abnormal]}')
fi
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
log=$(mktemp)
MEDMNIST_EPOCHS=$epochs MEDMNIST_SEED=$seed /usr/bin/time -f 'wall %e s, user %U s, system %S s' \
  node bin/pipeline.js run experiments/medmnist.yaml --store "$store" --plain --no-lock "${names[@]}" 2>&1 | tee "$log" | grep -E 'epoch [0-9]+/|best|ran in|^(stage|ingest|split|train|tta|evaluate) |evaluate: auc|wall '
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
rm -f "$log"
