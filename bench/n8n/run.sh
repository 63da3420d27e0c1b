#!/usr/bin/env bash
# Webhook -> map fields -> POST, Switchyard against n8n, side by side in one session, with the
# kit in ../shared/bench/n8n (its bench.sh, payload, wrk script and mock Slack).
#
#   KIT=../shared/bench/n8n PEERS_DIR=$HOME/peers bench/n8n/run.sh
#
# Switchyard runs in its durable default (SQLite file, WAL, synchronous=FULL, group commit) with the workflow in
# bench/n8n/workflows/bench.yaml; n8n with the kit's defaults. Results land in $OUT.
set -euo pipefail
cd "$(dirname "$0")/../.."
KIT=$(cd "${KIT:-../shared/bench/n8n}" && pwd)
OUT=${OUT:-$(mktemp -d /tmp/switchyard-n8n.XXXXXX)}
mkdir -p "$OUT"
export PEERS_DIR=${PEERS_DIR:-$HOME/peers}
cargo build --release --quiet
ROOT=$(pwd)

echo "== switchyard"
DATA="$OUT/switchyard-data"
rm -rf "$DATA"
SWITCHYARD_LOG=warn "$ROOT/target/release/switchyard" serve --listen 127.0.0.1:8080 \
  --data-dir "$DATA" --connections "$ROOT/bench/n8n/connections.json" \
  "$ROOT/bench/n8n/connectors" "$ROOT/bench/n8n/workflows" 2> "$OUT/switchyard.log" &
PID=$!
trap "kill $PID 2>/dev/null || true" EXIT
for _ in $(seq 1 100); do curl -sf 127.0.0.1:8080/healthz > /dev/null && break; sleep 0.1; done
ENGINE_PID=$PID ENGINE_NAME=switchyard WORK_DIR="$OUT/switchyard" "$KIT/bench.sh" \
  http://127.0.0.1:8080/hooks/bench | tee "$OUT/switchyard.txt"
kill $PID 2>/dev/null || true; wait $PID 2>/dev/null || true
trap - EXIT

echo "== n8n"
WORK_DIR="$OUT/n8n" "$KIT/bench.sh" | tee "$OUT/n8n.txt"
echo "results: $OUT"
