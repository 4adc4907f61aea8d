#!/usr/bin/env bash
# Peak RSS and wall time of ingest-dicom over N small synthetic DICOMs (64 px, all transfer syntaxes
# the phantom writes), against pydicom (Debian python3-pydicom) reading headers with
# stop_before_pixels and copying originals into a content-addressed folder, same files, side by side.
# Target: ingest-dicom peak RSS < 400 MB at N=10000.
# usage: bench/ingest-rss.sh [N=10000]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-10000}
PY=/usr/bin/python3
$PY -c 'import pydicom' || { echo "python3-pydicom missing: apt-get install python3-pydicom" >&2; exit 1; }
DIR=$(mktemp -d /tmp/ingest-rss-XXXXXX)
trap 'rm -rf "$DIR"' EXIT
node --import tsx bench/ingest-rss.ts generate "$DIR/files" "$N" >/dev/null
ours=$(node --import tsx bench/ingest-rss.ts ingest "$DIR/files" "$DIR/store")
rerun=$(node --import tsx bench/ingest-rss.ts ingest "$DIR/files" "$DIR/store")
theirs=$($PY bench/ingest-rss.py "$DIR/files")
echo "$ours"
echo "$rerun"
echo "$theirs"
node -e '
  const [a, re, b] = process.argv.slice(1).map((s) => JSON.parse(s));
  const r = (x, y) => (x / y).toFixed(2) + "x";
  console.log(`${a.files} files: ingest-dicom ${a.seconds}s (no-op rerun ${re.seconds}s, ${re.cached} cached, same artifact: ${re.digest === a.digest}), peak RSS ${a.peak_rss_mb} MB ${a.peak_rss_mb < 400 ? "< 400 MB target" : "OVER the 400 MB target"}; pydicom ${b.seconds}s, ${b.peak_rss_mb} MB; time ratio ours/pydicom ${r(a.seconds, b.seconds)}, RSS ratio ${r(a.peak_rss_mb, b.peak_rss_mb)}`);
' "$ours" "$rerun" "$theirs"
