#!/usr/bin/env bash
# Renders HTML reports in headless Chromium and saves screenshots for a person to look at (the HTML is
# self-contained: no network, no external files): the fixtures (small), and a tree of 1,000+ ELF files
# (this machine's /usr/bin and /usr/lib, all glibc), plain and grouped by cause.
# Usage: scripts/screenshot-html.sh [OUTDIR]   (default docs/). Needs: chromium (apt-get install chromium)
# and a built muslcheck (MUSLCHECK=path, default .build/debug/muslcheck).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-docs}
bin=${MUSLCHECK:-.build/debug/muslcheck}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
shot() {  # html, url suffix, png, height
    chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1400,"$4" \
        --screenshot="$3" "file://$1$2" >/dev/null 2>&1
    echo "$3"
}
"$bin" check --target alpine:3.20 --format html --output "$work/small.html" fixtures-bin/bin >/dev/null 2>&1 || true
# The page's script runs in the browser: grouping by fix makes group rows, a verdict filter hides the rest.
dom() { chromium --headless --no-sandbox --disable-gpu --dump-dom "file://$1" 2>/dev/null; }
groups=$(dom "$work/small.html#group=fix" | grep -c '<tr class="group">' || true)
shown=$(dom "$work/small.html#verdict=needs-rebuild" | grep -o 'id="shown">[^<]*' | cut -d'>' -f2)
echo "in Chromium: $groups groups by fix; needs-rebuild filter shows $shown"
[ "$groups" -gt 1 ] && [ -n "$shown" ] || { echo "the report's script did not run as expected" >&2; exit 1; }
shot "$work/small.html" "" "$out/report-small.png" 1100
shot "$work/small.html" "#expand&verdict=needs-rebuild" "$out/report-small-expanded.png" 1400
"$bin" check --target alpine:3.20 --allow-empty --format html --output "$work/large.html" /usr/bin /usr/lib/x86_64-linux-gnu >/dev/null 2>&1 || true
shot "$work/large.html" "" "$out/report-large.png" 1100
shot "$work/large.html" "#group=cause" "$out/report-large-by-cause.png" 1100
