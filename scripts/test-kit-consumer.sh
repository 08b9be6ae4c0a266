#!/usr/bin/env bash
# Builds Tests/KitConsumer, a package that depends on this one by path and uses the MuslcheckKit product,
# and runs it on two fixtures. Proves that the library builds as another package's dependency, that its
# public API reads, judges and checks files, and that no target uses unsafeFlags (which SwiftPM refuses in
# a dependency pinned by version).
set -euo pipefail
cd "$(dirname "$0")/.."
if swift package dump-package | grep -q '"unsafeFlags"'; then
  echo "test-kit-consumer: Package.swift uses unsafeFlags; MuslcheckKit could not be a versioned dependency" >&2
  exit 1
fi
consumer=Tests/KitConsumer
swift build --package-path "$consumer" --scratch-path "$consumer/.build"
out=$("$consumer/.build/debug/KitConsumer" fixtures-bin/bin/hello-musl fixtures-bin/bin/recent)
echo "$out"
grep -qx "fixtures-bin/bin/hello-musl alone: runs" <<<"$out"
grep -qx "fixtures-bin/bin/hello-musl: runs" <<<"$out"
grep -qx "fixtures-bin/bin/recent: needs-rebuild" <<<"$out"
echo "test-kit-consumer: ok"
