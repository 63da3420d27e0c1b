#!/usr/bin/env bash
# Moves a file of SIZE_MB (default 200) from one fake storage provider to another through
# the move-file workflow (`switchyard run`, the same run engine as `serve`), and reports
# the peak RSS of the switchyard process (GNU time's maximum resident set size), the wall
# time, and whether the target received the same bytes (size and SHA-256).
#
#   bash bench/files/run.sh [SIZE_MB]      (after cargo build --release)
set -euo pipefail
cd "$(dirname "$0")/../.."
SIZE_MB=${1:-200}
SIZE=$((SIZE_MB * 1024 * 1024))
BIN=target/release/switchyard
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$WORK"' EXIT
python3 bench/files/fake_storage.py 18801 "$SIZE" & 
python3 bench/files/fake_storage.py 18802 "$SIZE" &
for port in 18801 18802; do
  for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/expected" >/dev/null && break; sleep 0.1; done
done
cat > "$WORK/connections.json" <<JSON
{"source": {"connector": "fake-storage", "config": {"base_url": "http://127.0.0.1:18801", "token": "t1"}},
 "target": {"connector": "fake-storage", "config": {"base_url": "http://127.0.0.1:18802", "token": "t2"}}}
JSON
echo '{"id": "big.bin"}' > "$WORK/event.json"
/usr/bin/time -f "%M %e" -o "$WORK/time" "$BIN" run move-file --specs bench/files/specs \
  --event "$WORK/event.json" --connections "$WORK/connections.json" > "$WORK/out.json"
read -r RSS_KB SECONDS_WALL < "$WORK/time"
EXPECTED=$(curl -s http://127.0.0.1:18801/expected)
RECEIVED=$(curl -s http://127.0.0.1:18802/received)
echo "file: $SIZE_MB MiB; peak RSS: $((RSS_KB / 1024)) MiB ($RSS_KB KiB); wall: ${SECONDS_WALL}s"
echo "expected: $EXPECTED"
echo "received: $RECEIVED"
python3 - "$EXPECTED" "$RECEIVED" <<'PY'
import json, sys
e, r = (json.loads(a) for a in sys.argv[1:])
ok = e["size"] == r.get("size") and e["sha256"] == r.get("sha256")
print("same bytes:", ok)
sys.exit(0 if ok else 1)
PY
