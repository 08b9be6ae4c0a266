#!/usr/bin/env bash
# Builds the shipped muslcheck: one static executable (Swift runtime, FoundationEssentials, libelf, zlib, liblzma,
# libzstd and glibc linked in; no interpreter, no NEEDED library), stripped, in
#   dist/muslcheck-VERSION-ARCH-linux.tar.gz  and  dist/muslcheck-VERSION-ARCH-linux.tar.gz.sha256
# plus dist/muslcheck itself. VERSION comes from `git describe --tags --always --dirty` (a tag v1.2.3
# gives 1.2.3; without a tag, the abbreviated commit) and is what `muslcheck --version` prints.
#
# Needs (Debian 12): a Swift toolchain, libelf-dev zlib1g-dev liblzma-dev libzstd-dev (their .a files),
# binutils (strip). scripts/test-static.sh dist/muslcheck then proves the result in an empty root.
set -euo pipefail
cd "$(dirname "$0")/.."

version=$(git describe --tags --always --dirty 2>/dev/null || true)
version=${version#v}
[ -n "$version" ] || { echo "release: no git history to take a version from" >&2; exit 1; }
# The version is written into Swift source: allow only what a tag or commit name holds.
[[ "$version" =~ ^[A-Za-z0-9._+-]+$ ]] || { echo "release: unusable version '$version'" >&2; exit 1; }
arch=$(uname -m)
name=muslcheck-$version-$arch-linux
out=dist

# The version reaches the binary through a generated file and a compilation condition: without the
# condition (every other build) Sources/MuslcheckCLI/Version.swift's number is used and this file, if a
# run left it behind, is ignored. It is removed again when the script ends.
generated=Sources/MuslcheckCLI/ReleaseVersion.swift
trap 'rm -f "$generated"' EXIT
cat > "$generated" <<EOF
// Written by scripts/release.sh for one build; not committed.
#if MUSLCHECK_RELEASE_VERSION
let toolVersion = "$version"
#endif
EOF

flags=(-c release --static-swift-stdlib -Xswiftc -static-executable -Xswiftc -DMUSLCHECK_RELEASE_VERSION)
start=$(date +%s)
swift build "${flags[@]}"
echo "release: built in $(( $(date +%s) - start )) s"
built=$(swift build "${flags[@]}" --show-bin-path)/muslcheck

mkdir -p "$out"
strip -o "$out/muslcheck" "$built"
# --version prints "muslcheck VERSION (knowledge base …, default target …)".
reported=$("$out/muslcheck" --version)
case "$reported" in
  "muslcheck $version "*|"muslcheck $version") ;;
  *) echo "release: the binary says $reported, not muslcheck $version" >&2; exit 1 ;;
esac
if readelf -lW "$out/muslcheck" | grep -q INTERP; then echo "release: not a static executable" >&2; exit 1; fi

# A reproducible archive: fixed order, owner and time (the commit's).
mtime=$(git log -1 --format=%ct)
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$mtime" -C "$out" -cf - muslcheck | gzip -n -9 > "$out/$name.tar.gz"
(cd "$out" && sha256sum "$name.tar.gz" > "$name.tar.gz.sha256")
echo "release: $out/$name.tar.gz ($(stat -c %s "$out/muslcheck") bytes stripped)"
cat "$out/$name.tar.gz.sha256"
