#!/usr/bin/env bash
# One Switchyard binary on the n8n kit's job (webhook -> map -> POST), as bench/n8n/run.sh
# runs it, without n8n: for comparing two builds back to back in one session.
#
#   OUT=bench/results/NAME KIT=../shared/bench/n8n bench/n8n/ab.sh LABEL path/to/switchyard
set -euo pipefail
cd "$(dirname "$0")/../.."
KIT=$(cd "${KIT:-../shared/bench/n8n}" && pwd)
OUT=${OUT:-$(mktemp -d /tmp/switchyard-ab.XXXXXX)}
mkdir -p "$OUT"
name=$1
bin=$2
DATA="$OUT/$name-data"
rm -rf "$DATA"
SWITCHYARD_LOG=warn "$bin" serve --listen 127.0.0.1:8080 --data-dir "$DATA" \
  --connections bench/n8n/connections.json bench/n8n/connectors bench/n8n/workflows 2> "$OUT/$name.log" &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -sf 127.0.0.1:8080/healthz > /dev/null && break; sleep 0.1; done
ENGINE_PID=$PID ENGINE_NAME=$name WORK_DIR="$OUT/$name" "$KIT/bench.sh" http://127.0.0.1:8080/hooks/bench | tee "$OUT/$name.txt"
kill $PID
wait $PID 2>/dev/null || true
rm -rf "$DATA"
