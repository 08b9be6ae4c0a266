#!/usr/bin/env bash
# Benchmark: muslcheck against scanelf (pax-utils), readelf (binutils) and a minimal C program on libelf
# (bench/floor.c: the least work our reader must do) on the same tree, warm cache.
# Prints each command's median wall time and peak memory over RUNS runs, and muslcheck's ratio to each.
# Usage: scripts/bench.sh [DIR ...]   (default: /usr/bin /usr/lib/x86_64-linux-gnu; RUNS=5)
# Needs: pax-utils binutils gcc libelf-dev, and a release build (swift build -c release).
set -euo pipefail
cd "$(dirname "$0")/.."
dirs=("$@"); [ ${#dirs[@]} -gt 0 ] || dirs=(/usr/bin /usr/lib/x86_64-linux-gnu)
runs=${RUNS:-5}
bin=.build/release/muslcheck
[ -x "$bin" ] || swift build -c release >/dev/null
command -v scanelf >/dev/null || { echo "scanelf missing: apt-get install pax-utils" >&2; exit 2; }
files=$(mktemp); trap 'rm -f "$files" "$files.time" "$files.list" "${floor:-}"' EXIT
find "${dirs[@]}" -type f -print0 > "$files"
tr '\0' '\n' < "$files" > "$files.list"
floor=$(mktemp); cc -O2 bench/floor.c -lelf -o "$floor"

# median_of NAME COMMAND...: runs the command RUNS times (after one warm-up), prints "name seconds kib"
measure() {
  local name=$1; shift
  "$@" >/dev/null 2>&1 || true
  local times=() mems=()
  for _ in $(seq "$runs"); do
    local out; /usr/bin/time -o "$files.time" -f "%e %M" "$@" >/dev/null 2>&1 || true; out=$(tail -1 "$files.time")
    times+=("${out% *}"); mems+=("${out#* }")
  done
  local t m
  t=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  m=$(printf '%s\n' "${mems[@]}" | sort -n | tail -1)
  printf '%s %s %s\n' "$name" "$t" "$m"
}

echo "tree: ${dirs[*]} ($(tr -cd '\0' < "$files" | wc -c) files), $runs runs, $(nproc) cores"
results=$(
  measure "muslcheck-inspect-json" "$bin" inspect --format json "${dirs[@]}"
  measure "muslcheck-check-json" "$bin" check --format json --fail-on never "${dirs[@]}"
  measure "muslcheck-inspect-1core" "$bin" inspect --format json --jobs 1 "${dirs[@]}"
  measure "scanelf" scanelf -q -R -n -i -r "${dirs[@]}"
  measure "c-floor" sh -c "'$floor' < '$files.list'"
  measure "readelf" sh -c "xargs -0 -P $(nproc) -n 200 readelf -d -V --dyn-syms -W < '$files'"
)
printf '%-24s %10s %12s\n' command "median s" "peak KiB"
echo "$results" | while read -r n t m; do printf '%-24s %10s %12s\n' "$n" "$t" "$m"; done
scan=$(echo "$results" | awk '$1=="scanelf"{print $2}')
readelf=$(echo "$results" | awk '$1=="readelf"{print $2}')
cfloor=$(echo "$results" | awk '$1=="c-floor"{print $2}')
echo "$results" | awk -v s="$scan" -v r="$readelf" -v f="$cfloor" '$1 ~ /^muslcheck/ {printf "%s: %.2fx scanelf, %.2fx readelf, %.2fx the C floor\n", $1, $2/s, $2/r, $2/f}'
