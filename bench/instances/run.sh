#!/usr/bin/env bash
# The n8n kit's workload (webhook -> map fields -> POST) on 1, 2 and 3 Switchyard instances
# sharing one PostgreSQL database, behind haproxy (round robin, /readyz health checks), all
# on this machine; then the idle pickup latency (webhook answered -> run started) with 3
# instances.
#
#   KIT=../shared/bench/n8n PG=postgres://postgres@127.0.0.1:5432 bench/instances/run.sh
#
# Needs wrk, hey and haproxy (apt-get install -y wrk hey haproxy). Results land in $OUT.
set -euo pipefail
cd "$(dirname "$0")/../.."
KIT=$(cd "${KIT:-../shared/bench/n8n}" && pwd)
PG=${PG:-postgres://postgres@127.0.0.1:5432}
OUT=${OUT:-$(mktemp -d /tmp/switchyard-instances.XXXXXX)}
COUNTS=${COUNTS:-"1 2 3"}
mkdir -p "$OUT"
cargo build --release --quiet
ROOT=$(pwd)
BIN="$ROOT/target/release/switchyard"
DB="$PG/switchyard_bench"

fresh_database() {
  psql "$PG/postgres" -q -c "DROP DATABASE IF EXISTS switchyard_bench" -c "CREATE DATABASE switchyard_bench"
}

# Starts N instances (ports 8081..) under one shell, whose pid the kit samples (RSS and
# CPU of the whole tree), and haproxy on 8080 in front of them.
start() {
  local n=$1 cfg="$OUT/haproxy-$1.cfg" cmd=""
  {
    echo "global"; echo "  maxconn 4096"
    echo "defaults"; echo "  mode http"; echo "  timeout connect 2s"; echo "  timeout client 30s"; echo "  timeout server 30s"
    echo "frontend hooks"; echo "  bind 127.0.0.1:8080"; echo "  default_backend switchyard"
    echo "backend switchyard"; echo "  balance roundrobin"; echo "  option httpchk GET /readyz"
    for i in $(seq 1 "$n"); do echo "  server s$i 127.0.0.1:$((8080 + i)) check inter 1s"; done
  } > "$cfg"
  for i in $(seq 1 "$n"); do
    cmd+="SWITCHYARD_LOG=warn DATABASE_URL=$DB $BIN serve --listen 127.0.0.1:$((8080 + i)) \
      --data-dir $OUT/data-$n-$i --connections $ROOT/bench/n8n/connections.json \
      $ROOT/bench/n8n/connectors $ROOT/bench/n8n/workflows 2>> $OUT/switchyard-$n.log & "
  done
  bash -c "$cmd wait" &
  ENGINES=$!
  for i in $(seq 1 "$n"); do
    for _ in $(seq 1 100); do curl -sf "127.0.0.1:$((8080 + i))/readyz" > /dev/null && break; sleep 0.1; done
  done
  haproxy -f "$cfg" -db > "$OUT/haproxy-$n.log" 2>&1 &
  HAPROXY=$!
  for _ in $(seq 1 100); do curl -sf 127.0.0.1:8080/readyz > /dev/null && break; sleep 0.1; done
}

stop() {
  kill "$HAPROXY" 2>/dev/null || true
  pkill -TERM -P "$ENGINES" 2>/dev/null || true
  wait "$ENGINES" 2>/dev/null || true
  wait "$HAPROXY" 2>/dev/null || true
}

for n in $COUNTS; do
  echo "== $n instance(s) on PostgreSQL"
  fresh_database
  start "$n"
  ENGINE_PID=$ENGINES ENGINE_NAME="switchyard-pg-$n" WORK_DIR="$OUT/pg-$n" "$KIT/bench.sh" \
    http://127.0.0.1:8080/hooks/bench | tee "$OUT/pg-$n.txt"
  stop
done

echo "== pickup latency at idle, 3 instances"
fresh_database
start 3
node "$KIT/mock_slack.js" 9999 > "$OUT/mock-pickup.log" 2>&1 &
MOCK=$!
sleep 5
for i in $(seq 1 100); do
  curl -s -o /dev/null -X POST -H 'Content-Type: application/json' \
    --data-binary @"$KIT/payload.json" "http://127.0.0.1:$((8081 + i % 3))/hooks/bench"
  sleep 0.2
done
sleep 2
psql "$DB" -At -F $'\t' -c "
  SELECT COUNT(*),
         percentile_cont(0.5) WITHIN GROUP (ORDER BY started_at - created_at),
         percentile_cont(0.99) WITHIN GROUP (ORDER BY started_at - created_at),
         MAX(started_at - created_at)
  FROM runs WHERE status = 'succeeded'" | tee "$OUT/pickup.tsv"
kill "$MOCK" 2>/dev/null || true
stop
echo "results: $OUT"
