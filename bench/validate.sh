#!/usr/bin/env bash
# Benchmark: `switchyard validate` over N generated connector specs in one process.
# Prints N, files, wall seconds, specs/s and peak RSS for each N (median of REPS runs).
#   NS="250 1000 4000" REPS=5 bench/validate.sh
set -euo pipefail
cd "$(dirname "$0")/.."
NS=${NS:-"250 1000 4000"}
REPS=${REPS:-5}
cargo build --release --quiet
BIN=target/release/switchyard
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
printf "N\tfiles\twall_s\tspecs_per_s\tmax_rss_mib\n"
for n in $NS; do
    dir="$WORK/specs-$n"
    python3 bench/gen_connectors.py "$n" "$dir"
    files=$(ls "$dir" | wc -l)
    rows=()
    for _ in $(seq 1 "$REPS"); do
        /usr/bin/time -f "%e %M" -o "$WORK/t" "$BIN" validate --format json "$dir" > "$WORK/out.json"
        python3 -c "import json,sys; d=json.load(open('$WORK/out.json')); sys.exit(0 if d['valid'] else 1)"
        rows+=("$(cat "$WORK/t")")
    done
    printf '%s\n' "${rows[@]}" | sort -n | awk -v n="$n" -v f="$files" -v reps="$REPS" '
        { wall[NR]=$1; rss[NR]=$2 }
        END { m=int((reps+1)/2); printf "%d\t%d\t%.3f\t%.0f\t%.1f\n", n, f, wall[m], n/wall[m], rss[m]/1024 }'
done

# The peer, side by side: Airbyte's declarative CDK loading, schema-checking and building
# N manifests in one process (bench/airbyte_validate.py). Set AIRBYTE_VENV to a venv with
# airbyte-cdk installed (see ../shared/bench/airbyte/README.md).
if [ -n "${AIRBYTE_VENV:-}" ]; then
    KIT=${KIT:-../shared/bench/airbyte}
    printf "\npeer\tN\twall_s\tmanifests_per_s\tmax_rss_mib\n"
    for n in ${AIRBYTE_NS:-1000}; do
        /usr/bin/time -f "%e %M" -o "$WORK/t" "$AIRBYTE_VENV/bin/python" bench/airbyte_validate.py "$n" "$KIT/manifest.yaml" > "$WORK/airbyte.out"
        read -r wall rss < "$WORK/t"
        awk -v n="$n" -v w="$wall" -v r="$rss" 'BEGIN { printf "airbyte-cdk\t%d\t%.3f\t%.1f\t%.1f\n", n, w, n/w, r/1024 }'
    done
fi
