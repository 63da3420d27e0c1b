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
OUT="$OUT" KIT="$KIT" bench/n8n/ab.sh switchyard "$ROOT/target/release/switchyard"

echo "== n8n"
WORK_DIR="$OUT/n8n" "$KIT/bench.sh" | tee "$OUT/n8n.txt"
echo "results: $OUT"
