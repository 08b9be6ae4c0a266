#!/usr/bin/env bash
# Benchmark: muslcheck against scanelf (pax-utils), readelf (binutils) and a minimal C program on libelf
# (bench/floor.c: the least work our reader must do, on one core) on the same tree, warm cache. The floor
# runs three ways: walking the tree itself, on ELF files only (c-floor); given the files found beforehand
# by find (c-floor-list: what it was before it walked, without the walk's cost); and walking, with -a,
# also decoding the first bytes of every zip member and gzip file (c-floor-archives: the least work the
# archives of a tree ask for).
# Each round runs every command once, in turn, so that a machine whose speed drifts (shared hosts do)
# weighs on all of them alike; prints each command's median wall time and peak memory over RUNS rounds,
# and muslcheck's ratios.
# Usage: scripts/bench.sh [DIR ...]   (default: /usr/bin /usr/lib/x86_64-linux-gnu; RUNS=5)
#        scripts/bench.sh /usr        (the whole tree: the figure the README quotes for `check`)
# Needs: pax-utils binutils gcc libelf-dev zlib1g-dev. Measures the release build the README makes
# (--static-swift-stdlib: the Swift runtime linked in, as the binary is shipped).
set -euo pipefail
cd "$(dirname "$0")/.."
dirs=("$@"); [ ${#dirs[@]} -gt 0 ] || dirs=(/usr/bin /usr/lib/x86_64-linux-gnu)
runs=${RUNS:-5}
bin=.build/release/muslcheck
swift build -c release --static-swift-stdlib >/dev/null
command -v scanelf >/dev/null || { echo "scanelf missing: apt-get install pax-utils" >&2; exit 2; }
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
find "${dirs[@]}" -type f -print0 > "$work/files"
tr '\0' '\n' < "$work/files" > "$work/list"
cc -O2 bench/floor.c -lelf -lz -o "$work/floor"

names=(muslcheck-check-json muslcheck-inspect-json muslcheck-check-1core scanelf c-floor c-floor-list c-floor-archives readelf)
# command NAME: sets cmd to the command line of NAME.
command_of() {
  case $1 in
    muslcheck-check-json) cmd=("$bin" check --format json --fail-on never "${dirs[@]}") ;;
    muslcheck-inspect-json) cmd=("$bin" inspect --format json "${dirs[@]}") ;;
    muslcheck-check-1core) cmd=("$bin" check --format json --fail-on never --jobs 1 "${dirs[@]}") ;;
    scanelf) cmd=(scanelf -q -R -n -i -r "${dirs[@]}") ;;
    c-floor) cmd=("$work/floor" "${dirs[@]}") ;;
    c-floor-list) cmd=(sh -c "'$work/floor' < '$work/list'") ;;
    c-floor-archives) cmd=("$work/floor" -a "${dirs[@]}") ;;
    readelf) cmd=(sh -c "xargs -0 -P $(nproc) -n 200 readelf -d -V --dyn-syms -W < '$work/files'") ;;
  esac
}

for n in "${names[@]}"; do command_of "$n"; "${cmd[@]}" >/dev/null 2>&1 || true; done  # warm the cache once
for _ in $(seq "$runs"); do
  for n in "${names[@]}"; do
    command_of "$n"
    # Wall time from the shell's microsecond clock (time's %e has 10 ms steps: too coarse for 0.07 s).
    start=$EPOCHREALTIME
    /usr/bin/time -o "$work/t" -f "%M" "${cmd[@]}" >/dev/null 2>&1 || true
    end=$EPOCHREALTIME
    echo "$n $(awk -v a="$start" -v b="$end" 'BEGIN {printf "%.3f", b - a}') $(tail -1 "$work/t")" >> "$work/samples"
  done
done

echo "tree: ${dirs[*]} ($(tr -cd '\0' < "$work/files" | wc -c) files), $runs rounds, $(nproc) cores"
printf '%-24s %10s %12s\n' command "median s" "peak KiB"
results=$(for n in "${names[@]}"; do
  awk -v n="$n" '$1 == n {print $2, $3}' "$work/samples" | sort -n |
    awk -v n="$n" '{t[NR]=$1; if ($2 > m) m = $2} END {print n, t[int((NR+1)/2)], m}'
done)
echo "$results" | while read -r n t m; do printf '%-24s %10s %12s\n' "$n" "$t" "$m"; done
get() { echo "$results" | awk -v n="$1" '$1 == n {print $2}'; }
scan=$(get scanelf); cfloor=$(get c-floor); lfloor=$(get c-floor-list); afloor=$(get c-floor-archives); readelf=$(get readelf)
echo "$results" | awk -v s="$scan" -v r="$readelf" -v f="$cfloor" -v l="$lfloor" -v a="$afloor" '$1 ~ /^muslcheck/ {
  printf "%s: %.2fx scanelf, %.2fx the C floor (%.2fx given the list), %.2fx the C floor with archives, %.2fx readelf\n",
    $1, $2/s, $2/f, $2/l, $2/a, $2/r }'
# The same ratios taken within each round (the commands of a round ran back to back), then the median:
# steadier than a ratio of medians when the host's speed drifts between rounds.
awk '{ round[$1]++; t[$1, round[$1]] = $2 } END {
  n = round["scanelf"]
  split("muslcheck-check-json muslcheck-inspect-json muslcheck-check-1core", cmds, " ")
  split("scanelf c-floor c-floor-list c-floor-archives", peers, " ")
  for (c = 1; c <= 3; c++) for (peer = 1; peer <= 4; peer++) {
    p = peers[peer]
    for (i = 1; i <= n; i++) v[i] = t[cmds[c], i] / t[p, i]
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] < v[i]) { x = v[i]; v[i] = v[j]; v[j] = x }
    printf "%s per round: median %.2fx %s (range %.2f-%.2f)\n", cmds[c], v[int((n + 1) / 2)], p, v[1], v[n]
  }
}' "$work/samples"
