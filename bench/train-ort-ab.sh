#!/usr/bin/env bash
# A/B of two checkouts' ONNX Runtime train step (bench/train-ort.ts of each), runs alternating so that
# load from other jobs hits both alike; per side the median train img/s per wall-clock second and per
# CPU second over the rounds, and the load average at the start and end.
# usage: bench/train-ort-ab.sh BASE_DIR NEW_DIR [ARCH=resnet18] [SIZE=128] [BATCH=32] [STEPS=5] [ROUNDS=4] [THREADS=2]
set -euo pipefail
base=$1 new=$2 arch=${3:-resnet18} size=${4:-128} batch=${5:-32} steps=${6:-5} rounds=${7:-4} threads=${8:-2}
out=$(mktemp)
echo "start $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg), $arch $size px batch $batch, $threads thread(s), $rounds rounds"
for ((r = 0; r < rounds; r++)); do
  for side in base new; do
    dir=$base; [ "$side" = new ] && dir=$new
    line=$(cd "$dir" && ORT_THREADS=$threads node --import tsx bench/train-ort.ts "$arch" "$size" "$batch" "$steps" 2>/dev/null | tail -1)
    echo "$side $line" | tee -a "$out"
  done
done
echo "end $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)"
node -e '
  const rows = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map((l) => { const i = l.indexOf(" "); return { side: l.slice(0, i), ...JSON.parse(l.slice(i + 1)) }; });
  const median = (v) => { const s = [...v].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
  const stat = (side, key) => median(rows.filter((r) => r.side === side).map((r) => r[key]));
  for (const key of ["train", "train_cpu"]) console.log(`${key.padEnd(9)} median img/s: base ${stat("base", key).toFixed(2)}, new ${stat("new", key).toFixed(2)}, new/base ${(stat("new", key) / stat("base", key)).toFixed(3)}`);
' "$out"
rm -f "$out"
