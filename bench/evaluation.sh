#!/usr/bin/env bash
# Macro ROC-AUC over 14 classes (n images) with a 1000-replicate bootstrap 95% CI, on one core:
# our src/ops/metrics (node) vs scikit-learn roc_auc_score in a numpy resampling loop (what a user
# would write in Python), same predictions file. CPU seconds of the work (not process start-up).
# Point values must agree to 1e-9; the CIs differ only by the random resamples.
# usage: bench/evaluation.sh [N_IMAGES=3000] [REPLICATES=1000]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-3000}
R=${2:-1000}
PY=/usr/bin/python3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
$PY - "$work/preds.json" "$N" "$R" <<'PYEOF'
import json, sys
import numpy as np
path, n, r = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = np.random.default_rng(0)
Y = (rng.random((n, 14)) < np.linspace(0.03, 0.3, 14)).astype(int)
S = np.clip(0.35 + 0.25 * Y + rng.normal(0, 0.2, (n, 14)), 0, 1).round(3)  # rounded: many ties
json.dump({"truth": Y.tolist(), "scores": S.tolist(), "replicates": r}, open(path, "w"))
PYEOF
best_ours=999; best_sk=999
for round in 1 2 3; do
  read -r ours ov ol oh < <(taskset -c 0 node --import tsx bench/evaluation.ts "$work/preds.json")
  read -r sk sv sl sh < <(taskset -c 0 $PY bench/evaluation.py "$work/preds.json")
  echo "round $round: ours ${ours}s (auc $ov, CI $ol-$oh), sklearn ${sk}s (auc $sv, CI $sl-$sh)"
  best_ours=$(echo "$ours $best_ours" | awk '{print ($1<$2)?$1:$2}')
  best_sk=$(echo "$sk $best_sk" | awk '{print ($1<$2)?$1:$2}')
done
echo "n=$N x 14 classes, $R replicates; one core (taskset -c 0); load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "|auc difference| ours vs sklearn: $(echo "$ov $sv" | awk '{d=$1-$2; if (d<0) d=-d; printf "%.2e", d}')"
echo "ours (best of 3): ${best_ours} cpu-s; scikit-learn $($PY -c 'import sklearn; print(sklearn.__version__)') (best of 3): ${best_sk} cpu-s"
echo "ratio sklearn/ours: $(echo "$best_sk $best_ours" | awk '{printf "%.2f", $1/$2}')x (above 1 = ours faster)"
