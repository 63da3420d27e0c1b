#!/usr/bin/env bash
# Time to first byte of dashboard pages with RUNS (default 100,000) runs in SQLite.
# Seeds the runs table directly (the sqlite3 CLI, a recursive CTE) after `serve` created and
# migrated the database, logs in, then times each page REPS (default 30) times with curl's
# time_starttransfer and prints the median and the 95th percentile.
#
#   cargo build --release && bash bench/dashboard/ttfb.sh [RUNS] [REPS]
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS=${1:-100000}
REPS=${2:-30}
BIN=target/release/switchyard
DATA=$(mktemp -d)
PORT=18095
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$DATA"' EXIT
echo "correct horse battery staple" | "$BIN" users create bench --password-stdin --data-dir "$DATA" 2>/dev/null
"$BIN" serve --data-dir "$DATA" --listen "127.0.0.1:$PORT" >"$DATA/serve.log" 2>&1 &
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.1; done
NOW=$(date +%s%3N)
sqlite3 "$DATA/switchyard.db" <<SQL
PRAGMA busy_timeout = 5000;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $RUNS)
INSERT INTO runs (id, workflow, spec_hash, status, trigger, created_at, started_at, finished_at, error, tenant)
SELECT printf('r%08d', i),
       CASE i % 3 WHEN 0 THEN 'github-issue-to-slack' WHEN 1 THEN 'new-issues-digest' ELSE 'notify-failure' END,
       'seed', CASE WHEN i % 10 = 0 THEN 'failed' ELSE 'succeeded' END,
       '{"payload":{"issue":{"number":1}}}',
       $NOW - i * 1000, $NOW - i * 1000 + 5, $NOW - i * 1000 + 60,
       CASE WHEN i % 10 = 0 THEN 'step post failed: HTTP 500' END, 'default'
FROM n;
SQL
COOKIE=$(curl -s -i -H "cookie: sy_login=t" --data "csrf=t&username=bench&password=correct+horse+battery+staple" \
  "http://127.0.0.1:$PORT/login" | grep -o 'sy_session=[^;]*')
MID=$(printf 'r%08d' $((RUNS / 2)))
MID_AT=$((NOW - RUNS / 2 * 1000))
echo "runs in the store: $(sqlite3 "$DATA/switchyard.db" 'SELECT COUNT(*) FROM runs')"
printf "%-48s %10s %10s\n" page "median ms" "p95 ms"
for page in "/runs" "/runs?status=failed" "/runs?workflow=notify-failure" \
            "/runs?workflow=jira-daily-digest" "/runs?before=$MID_AT.$MID" "/runs/$MID" "/" "/workflows" "/events" "/connections"; do
  for _ in $(seq "$REPS"); do
    curl -s -o /dev/null -w '%{http_code} %{time_starttransfer}\n' -H "cookie: $COOKIE" "http://127.0.0.1:$PORT$page"
  done | python3 -c '
import sys
rows = [l.split() for l in sys.stdin if l.strip()]
bad = [r[0] for r in rows if r[0] != "200"]
ms = sorted(float(r[1]) * 1000 for r in rows)
p95 = ms[min(len(ms) - 1, int(len(ms) * 0.95))]
print(f"{sys.argv[1]:<48} {ms[len(ms) // 2]:10.1f} {p95:10.1f}" + (f"  (non-200: {bad[:3]})" if bad else ""))
' "$page"
done
