#!/usr/bin/env bash
# Runs the reader's libFuzzer target for a fixed number of executions, seeded with every fixture.
# Usage: [JOBS=N] scripts/fuzz.sh [RUNS] (default 10000000 per job). Crashing inputs land in Fuzz/artifacts/; copy each to
# fixtures-bin/fuzz-regressions/ so that the tests replay it forever.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-10000000}
mkdir -p Fuzz/.deps Fuzz/corpus Fuzz/artifacts
ln -sfn ../.. Fuzz/.deps/muslcheck
swift build --package-path Fuzz -c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library
find fixtures-bin/bin fixtures-bin/malformed fixtures-bin/fuzz-regressions -type f -size -2M -exec cp {} Fuzz/corpus/ \; 2>/dev/null || true
bin=$(swift build --package-path Fuzz -c release -Xswiftc -sanitize=fuzzer,address --show-bin-path)/FuzzReader
ASAN_OPTIONS=detect_leaks=0 "$bin" -runs="$runs" -max_len=262144 -timeout=10 -rss_limit_mb=2048 \
  -artifact_prefix=Fuzz/artifacts/ -print_final_stats=1 -jobs="${JOBS:-1}" -workers="${JOBS:-1}" Fuzz/corpus
