#!/usr/bin/env bash
# Benchmark: reading one paginated stream from the kit's mock API, Switchyard against
# Airbyte's declarative CDK, side by side in one session (same mock, same machine).
#
#   AIRBYTE_VENV=$HOME/peers/airbyte/venv KIT=../shared/bench/airbyte bench/read.sh
#
# Uses the kit's bench.sh for both engines (N = 10,000 and 100,000 by default; REPS, NS,
# QUIET_MAX_S are passed through). Raw rows and summaries land in $OUT (default a fresh
# folder under /tmp), one sub-folder per engine.
set -euo pipefail
cd "$(dirname "$0")/.."
KIT=${KIT:-../shared/bench/airbyte}
KIT=$(cd "$KIT" && pwd)
OUT=${OUT:-$(mktemp -d /tmp/switchyard-read.XXXXXX)}
export NS=${NS:-"10000 100000"} REPS=${REPS:-3} QUIET_MAX_S=${QUIET_MAX_S:-60}
cargo build --release --quiet
ROOT=$(pwd)

echo "== switchyard"
WORK="$OUT/switchyard" ENGINE_NAME="switchyard-$(git rev-parse --short HEAD)" \
  ENGINE_CMD="'$ROOT/target/release/switchyard' call '$ROOT/examples/bench/mock-issues.yaml' list_open_issues --config \"\$CONFIG\" --format jsonl" \
  "$KIT/bench.sh"

if [ -n "${AIRBYTE_VENV:-}" ]; then
  echo "== airbyte"
  WORK="$OUT/airbyte" CEILING=0 AIRBYTE_VENV="$AIRBYTE_VENV" "$KIT/bench.sh"
else
  echo "AIRBYTE_VENV not set: peer not measured" >&2
fi
echo "results: $OUT"
