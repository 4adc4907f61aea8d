#!/usr/bin/env bash
# Tracking overhead: pipeline tracker vs one MLflow request per metric/param, same data, same server double.
set -euo pipefail
cd "$(dirname "$0")/.."
exec node --import tsx bench/tracking.ts
