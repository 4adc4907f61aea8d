#!/usr/bin/env bash
# The effect of the CNN stem on small inputs (docs/training.md, "Stems"): ResNet-18 (width 1) trained
# with `stem: small` and `stem: imagenet` on
#   - nih: 1000 real NIH chest X-rays (experiments/nih-stems.yaml; NIH1000=folder of nih1000_64px with
#     its labels.csv), normal vs abnormal, the uploader's 600/200/200 split, resized to SIZE px;
#   - demo: the synthetic demo (experiments/demo.yaml: 200 patients, 4 findings, kfold with 25 % test),
#     with model resnet18 and the demo's augmentation, FOLDS folds ensembled.
# `stem: auto` resolves to small below 64 px and to imagenet from 64 px on (meta.stem of the model),
# so its rows are those rows. Prints per run the held-out test macro AUC with its bootstrap CI per stem,
# the stage table (train wall times) and the run's wall and CPU time (GNU time) with the load average.
# usage: bench/stems.sh nih|demo SIZE [SEED=1] [EPOCHS=10] [BATCH=32] [FOLDS=2]
# STEMS_STORE=dir reuses a store (default: a fresh one), STEMS_LOG=file keeps the whole output.
#   e.g. NIH1000=path/to/nih1000_64px bash bench/stems.sh nih 28 1 10
set -euo pipefail
cd "$(dirname "$0")/.."
set_name=$1 size=$2 seed=${3:-1} epochs=${4:-10} batch=${5:-32} folds=${6:-2}
store=${STEMS_STORE:-$(mktemp -d)}
step=$(( epochs / 2 > 0 ? epochs / 2 : 1 ))   # lr x0.1 at half time, as MedMNIST's first decay
case $set_name in
  nih)
    [[ -n ${NIH1000:-} ]] || { echo "set NIH1000 to the nih1000_64px folder" >&2; exit 2; }
    cmd=(node bin/pipeline.js run experiments/nih-stems.yaml -S "params.size=$size" -S "params.epochs=$epochs" -S "params.seed=$seed"
         -S "stages.train.with.batch=$batch" -S "stages.train.with.schedule.step_size=$step") ;;
  demo)
    cmd=(node bin/pipeline.js run experiments/demo.yaml --only evaluate -S params.model=resnet18 -S stages.train.with.width=1
         -S "params.size=$size" -S "params.epochs=$epochs" -S "params.seed=$seed" -S "params.folds=$folds" -S "params.batch=$batch"
         -S "stages.train.with.schedule={type: step, step_size: $step, gamma: 0.1}" -S stages.train.with.lr=0.001
         --sweep stages.train.with.stem=small,imagenet --sweep-metric auc_macro) ;;
  *) echo "usage: bench/stems.sh nih|demo SIZE [SEED] [EPOCHS] [BATCH] [FOLDS]" >&2; exit 2 ;;
esac
echo "# $set_name ${size} px, resnet18, seed $seed, $epochs epochs (lr x0.1 after $step), batch $batch$([[ $set_name == demo ]] && echo ", $folds folds") — start $(date -u +%H:%M) UTC, load $(cut -d' ' -f1-3 /proc/loadavg)"
/usr/bin/time -f "wall %e s, CPU %U s user + %S s system" "${cmd[@]}" --store "$store" --no-lock --plain --concurrency 2 2>&1 | tee "${STEMS_LOG:-/dev/null}" |
  grep -E 'auc_macro|^train|^stage|^variant|^v[0-9]|wall .* CPU|stem=' | grep -vE ': (running|tfjs backend|[0-9]+/[0-9]+,)' || true
echo "# end $(date -u +%H:%M) UTC, load $(cut -d' ' -f1-3 /proc/loadavg)"
