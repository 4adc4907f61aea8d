#!/usr/bin/env bash
# The anomaly detectors of `train` with `task: anomaly` against PyTorch CPU (Debian python3-torch): the same
# networks (64 px, width 0.5, 4x4x16 code or z), batch 32, the same steps and images on both sides, at 1 and 2
# threads; ratios ours / PyTorch per wall-clock and per CPU second (bench/anomaly-ratio.ts, which fails when
# the two sides' parameter counts or settings differ). METHODS:
#   - autoencoder: reconstruction MSE, Adam; training and scoring (bench/anomaly.ts: the ONNX Runtime train
#     graph, the exported score model; bench/anomaly_torch.py);
#   - f-anogan: the WGAN phase (critic steps with the default spectral projection, a generator step after
#     every 5th, RMSProp), the izi_f encoder phase (Adam) and scoring (bench/fanogan.ts; bench/fanogan_torch.py);
#   - f-anogan-gp (not by default): ours as f-anogan against the paper's WGAN-GP recipe in PyTorch (gradient
#     penalty, Adam; LIPSCHITZ=gp): what a PyTorch user of f-AnoGAN trains; only the WGAN phase differs.
# Images: NIH1000=path/to/nih1000_64px: its normal training images (bench/anomaly_images.py), else uniform noise.
# LIPSCHITZ=clip: f-AnoGAN's weight clipping on both sides instead of the spectral projection.
# usage: [NIH1000=path/to/nih1000_64px] [LIPSCHITZ=clip] bench/anomaly.sh [STEPS=10] [METHODS="autoencoder f-anogan"]
set -euo pipefail
cd "$(dirname "$0")/.."
STEPS=${1:-10}
METHODS=${2:-autoencoder f-anogan}
PY=/usr/bin/python3
$PY -c 'import torch' || { echo "python3-torch missing: apt-get install python3-torch" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export IMAGES=$tmp/images.f32
$PY bench/anomaly_images.py "$IMAGES" 64 ${NIH1000:+"$NIH1000"}
uptime
for method in $METHODS; do
  different='' torch_lipschitz=${LIPSCHITZ:-spectral}
  case $method in
    autoencoder) ours=bench/anomaly.ts theirs=bench/anomaly_torch.py ;;
    f-anogan) ours=bench/fanogan.ts theirs=bench/fanogan_torch.py ;;
    f-anogan-gp) ours=bench/fanogan.ts theirs=bench/fanogan_torch.py different=lipschitz torch_lipschitz=gp ;;
    *) echo "METHODS: autoencoder, f-anogan and/or f-anogan-gp, got $method" >&2; exit 2 ;;
  esac
  echo "$method, ours / PyTorch:"
  for threads in 1 2; do
    a=$(ORT_THREADS=$threads node --import tsx "$ours" 64 32 "$STEPS")
    b=$(TORCH_THREADS=$threads LIPSCHITZ=$torch_lipschitz $PY "$theirs" 64 32 "$STEPS")
    printf '%s\n%s\n' "$a" "$b"
    node --import tsx bench/anomaly-ratio.ts "$a" "$b" "$different"
  done
done
uptime
