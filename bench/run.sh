#!/usr/bin/env bash
# Run the benchmarks with the project's venv; writes bench/results/latest.md.
# Usage: bench/run.sh [--snapshot] [--quick] [--parts latency index throughput growth cold rebuild updates soak before-after profile browser relevance]
#   --snapshot  measure the committed HEAD (exported with `git archive` to /tmp), not the working tree
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ "${1:-}" == "--snapshot" ]]; then
    shift
    SEARCHAPP_BENCH_CODE="$(mktemp -d /tmp/searchapp-snapshot.XXXXXX)"
    SEARCHAPP_BENCH_REV="$(git rev-parse --short HEAD)"
    git archive "$SEARCHAPP_BENCH_REV" | tar -x -C "$SEARCHAPP_BENCH_CODE"
    export SEARCHAPP_BENCH_CODE SEARCHAPP_BENCH_REV
fi
exec .venv/bin/python -m bench "$@"
