#!/usr/bin/env bash
# experiments/medmnist.yaml (MedMNIST v2's ResNet-18 (28) recipe) next to MedMNIST's own PyTorch code
# (bench/medmnist_torch.py) on the same .npz, epochs and seed: any MedMNIST .npz given as MEDMNIST=file,
# or the NIH 1000 chest X-rays (NIH1000=folder of nih1000_64px with its labels.csv) made a MedMNIST-layout
# .npz by bench/nih-to-npz.py (grey, INTER_AREA to 28 px, normal 0 / abnormal 1, the uploader's
# 600/200/200, or with NIH_RESPLIT=K a random split stratified by label, seed K). NIH 1000 is not a
# MedMNIST set: its numbers are not MedMNIST's published ones. Prints each epoch's validation AUC of
# both, then side by side (ours / PyTorch): best epoch and its val AUC, test AUC / ACC, CPU and wall time,
# and the time ratio (PyTorch CPU s / ours CPU s: above 1, ours is faster), with the load average.
# usage: bench/medmnist.sh [EPOCHS=20] [SEED=1] [-S path=value ...]   MEDMNIST_STORE=dir reuses a store (default: a fresh one)
#   arguments after the seed go to `pipeline run` (ours only), e.g. -S stages.train.with.epsilon=1e-7
#   THREADS=n threads for each (default: every core); TORCH=0 runs only ours
#   e.g. NIH1000=path/to/nih1000_64px bash bench/medmnist.sh 20 1
set -euo pipefail
cd "$(dirname "$0")/.."
epochs=${1:-20} seed=${2:-1}
shift $(($# < 2 ? $# : 2))
threads=${THREADS:-$(nproc)}
store=${MEDMNIST_STORE:-$(mktemp -d)}
names=()
if [[ -z ${MEDMNIST:-} ]]; then
  [[ -n ${NIH1000:-} ]] || { echo "set NIH1000 to the nih1000_64px folder (or MEDMNIST to a MedMNIST .npz)" >&2; exit 2; }
  resplit=()
  [[ -z ${NIH_RESPLIT:-} ]] || resplit=(--resplit "$NIH_RESPLIT")
  export MEDMNIST=$store/nih1000${NIH_RESPLIT:+-resplit$NIH_RESPLIT}.npz
  [[ -f $MEDMNIST ]] || /usr/bin/python3 bench/nih-to-npz.py "$NIH1000" "$MEDMNIST" 28 "${resplit[@]}"
  names=(-S 'stages.ingest.with.labels={names: [normal, abnormal]}')
fi
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg); $threads thread(s) each"
ours=$(mktemp) torch=$(mktemp)
trap 'rm -f "$ours" "$torch"' EXIT
MEDMNIST_EPOCHS=$epochs MEDMNIST_SEED=$seed PIPELINE_WASM_THREADS=$threads /usr/bin/time -f 'wall %e s, user %U s, system %S s' \
  node bin/pipeline.js run experiments/medmnist.yaml --store "$store" --plain --no-lock "${names[@]}" "$@" 2>&1 | tee "$ours" | grep -E 'epoch [0-9]+/|ran in|^(stage|ingest|split|train|tta|evaluate) |evaluate: auc|wall '
[[ ${TORCH:-1} == 0 ]] && exit 0
echo "load between: $(cut -d' ' -f1-3 /proc/loadavg)"
/usr/bin/python3 bench/medmnist_torch.py "$MEDMNIST" --epochs "$epochs" --seed "$seed" --threads "$threads" | tee "$torch" | grep -v '^result '
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
/usr/bin/python3 - "$ours" "$torch" <<'EOF'
import json, re, sys
ours, torch = open(sys.argv[1]).read(), open(sys.argv[2]).read()
vals = [float(v) for v in re.findall(r'epoch \d+/\d+: .*?val_auc ([\d.]+)', ours)]
best = max(range(len(vals)), key=lambda i: (vals[i], -i))  # the first epoch with the highest val AUC
auc = re.search(r'evaluate: auc_macro ([\d.]+)', ours).group(1)
metrics = ours.split('evaluate: auc_macro')[-1]
acc = (re.search(r'accuracy_macro ([\d.]+)', metrics) or re.search(r'accuracy ([\d.]+)', metrics)).group(1)  # multi-label: _macro
wall, user, system = map(float, re.search(r'wall ([\d.]+) s, user ([\d.]+) s, system ([\d.]+) s', ours).groups())
ref = json.loads(next(l for l in torch.splitlines() if l.startswith('result '))[7:])
rows = [('best epoch (val AUC)', f'{best + 1} ({vals[best]:.3f})', f"{ref['best_epoch']} ({ref['best_val_auc']:.3f})"),
        ('test AUC', auc, f"{ref['test_auc']:.3f}"), ('test ACC', acc, f"{ref['test_acc']:.3f}"),
        ('CPU s (whole run / script)', f'{user + system:.0f}', f"{ref['cpu_s']:.0f}"), ('wall s', f'{wall:.0f}', f"{ref['wall_s']:.0f}")]
print(f"\n{'':28} {'ours':>14} {'PyTorch':>14}")
for name, a, b in rows:
    print(f'{name:28} {a:>14} {b:>14}')
print(f"time ratio (PyTorch / ours): CPU {ref['cpu_s'] / (user + system):.2f}x, wall {ref['wall_s'] / wall:.2f}x")
EOF
