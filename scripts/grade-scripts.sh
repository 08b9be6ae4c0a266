#!/usr/bin/env bash
# Grades the script parser on every sh/bash script of this machine: /usr/bin, /usr/sbin, /usr/lib, /usr/share,
# /etc and the dpkg maintainer scripts. Prints: how many scripts, parse errors and how many of those `bash -n`
# and `busybox ash -n` also reject, ash -n agreement on the #!/bin/sh scripts, and the CPU time of parsing and
# judging them all (an optimised build of Knowledge + Scripts, made here with swiftc: no package release build).
# Usage: [GRADE_WORK=DIR] scripts/grade-scripts.sh [ROOT ...]   (needs a prior `swift build`, for the embedded data
# files; with GRADE_WORK the built Knowledge library is kept there and reused: rebuild it after a data change)
set -euo pipefail
cd "$(dirname "$0")/.."
work=${GRADE_WORK:-$(mktemp -d)}
[ -n "${GRADE_WORK:-}" ] || trap 'rm -rf "$work"' EXIT
resources=.build/debug/Knowledge.build/DerivedSources/embedded_resources.swift
[ -f "$resources" ] || { echo "run swift build first ($resources is missing)" >&2; exit 2; }

# Knowledge at -Onone: its embedded data makes the optimiser take minutes, and loading is not what is timed.
[ -f "$work/libKnowledge.a" ] || swiftc -Onone -parse-as-library -module-name Knowledge -emit-module -emit-module-path "$work/Knowledge.swiftmodule" \
  -emit-library -static -o "$work/libKnowledge.a" Sources/Knowledge/*.swift "$resources"
swiftc -O -module-name grade -I "$work" -L "$work" -lKnowledge Sources/Scripts/*.swift scripts/grade-scripts/main.swift \
  -o "$work/grade"
roots=("$@")
[ ${#roots[@]} -gt 0 ] || roots=(/usr/bin /usr/sbin /usr/lib /usr/share /etc)

# Every regular file whose first line is a #! line naming sh, bash, dash or ash, plus the maintainer scripts.
python3 - "${roots[@]}" > "$work/list" <<'PY'
import os, re, sys, glob
shell = re.compile(rb'^#!\s*(\S*/)?(env\s+(-\S+\s+)*)?(sh|bash|dash|ash)(\s|$)')
seen = set()
def consider(p):
    try:
        if not os.path.isfile(p) or os.path.islink(p) or os.path.getsize(p) > 4 << 20: return
        with open(p, 'rb') as f: head = f.readline(256)
    except OSError: return
    if shell.match(head):
        real = os.path.realpath(p)
        if real not in seen:
            seen.add(real); print(p)
for root in sys.argv[1:]:
    for d, _, files in os.walk(root):
        for name in files: consider(os.path.join(d, name))
for p in sorted(glob.glob('/var/lib/dpkg/info/*')):
    if re.search(r'\.(preinst|postinst|prerm|postrm|config)$', p): consider(p)
PY

"$work/grade" < "$work/list" > "$work/out"
grep -v -e '^error' -e '^ash-flagged' "$work/out"
total_errors=$(grep -c '^error' "$work/out" || true)
bash_agrees=0; ash_agrees=0
while IFS=$'\t' read -r _ path line col message; do
  b=ok; a=ok
  bash -n "$path" >/dev/null 2>&1 || { b=rejects; bash_agrees=$((bash_agrees+1)); }
  if command -v busybox >/dev/null; then busybox ash -n "$path" >/dev/null 2>&1 || { a=rejects; ash_agrees=$((ash_agrees+1)); }; fi
  printf 'parse-error\t%s:%s:%s\t%s\tbash -n %s\tash -n %s\n' "$path" "$line" "$col" "$message" "$b" "$a"
done < <(grep '^error' "$work/out")
echo "parse-errors-bash-n-also-rejects	$bash_agrees/$total_errors"
# The other way round: scripts bash -n rejects that parse here (each would be a parser too lenient).
bash_only=0
while read -r p; do
  bash -n "$p" >/dev/null 2>&1 || grep -qF "	$p	" "$work/out" || { bash_only=$((bash_only+1)); printf 'bash-n-only\t%s\n' "$p"; }
done < "$work/list"
echo "bash-n-rejects-that-parse-here	$bash_only"
echo "parse-errors-ash-n-also-rejects	$ash_agrees/$total_errors"

# ash -n agreement on the #!/bin/sh scripts: of those BusyBox ash -n rejects, how many muslcheck flags (a parse
# error or an ash-syntax-error finding), and how many it flags that ash -n accepts (ash-syntax-error also covers
# what fails only at run time, such as declare or x+=1, so the second figure is not a count of mistakes).
if command -v busybox >/dev/null; then
  grep '^ash-flagged' "$work/out" | cut -f2 | sort -u > "$work/ours"
  : > "$work/sh"; : > "$work/ash"
  while read -r p; do
    head -c 64 "$p" | head -1 | grep -Eq '^#! *(/usr)?/bin/sh( |$)' || continue
    echo "$p" >> "$work/sh"
    busybox ash -n "$p" >/dev/null 2>&1 || echo "$p" >> "$work/ash"
  done < "$work/list"
  sort -u -o "$work/sh" "$work/sh"; sort -u -o "$work/ash" "$work/ash"
  comm -12 "$work/ours" "$work/sh" > "$work/ours-sh"
  echo "bin-sh-scripts	$(wc -l < "$work/sh")"
  echo "bin-sh-ash-n-rejects	$(wc -l < "$work/ash")"
  echo "bin-sh-ash-n-rejects-and-flagged	$(comm -12 "$work/ash" "$work/ours-sh" | wc -l)"
  echo "bin-sh-flagged-but-ash-n-accepts	$(comm -13 "$work/ash" "$work/ours-sh" | wc -l)"
  comm -23 "$work/ash" "$work/ours-sh" | sed 's/^/ash-n-rejects-not-flagged\t/'
fi
