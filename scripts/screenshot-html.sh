#!/usr/bin/env bash
# Renders the HTML report of the fixtures in headless Chromium and saves a screenshot, for a person to look
# at (the HTML is self-contained: no network, no external files).
# Usage: scripts/screenshot-html.sh [OUT.png]   Needs: chromium (apt-get install chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-/tmp/muslcheck-report.png}
html=$(mktemp --suffix=.html)
trap 'rm -f "$html"' EXIT
swift run -c release muslcheck check --target alpine:3.20 --fail-on never --format html --output "$html" fixtures-bin/bin >/dev/null
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1400,1000 --screenshot="$out" "file://$html" 2>/dev/null
echo "$out"
