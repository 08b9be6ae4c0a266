#!/usr/bin/env bash
# Runs a libFuzzer target over the readers, seeded with every fixture and with archives made from them by
# the standard tools (tar, gzip, xz, zstd, Python's zipfile, dpkg-deb, a docker-save and an OCI layout tar).
# Usage: [TARGET=all|tar|tgz|txz|tzst|zip|deb|image|layout] [JOBS=N] [MAX_TIME=SECONDS] scripts/fuzz.sh [RUNS]
#   TARGET (default all): what each input is made into (Fuzz/Sources/FuzzReader/Harness.swift says how).
#   RUNS (default 10000000 per job), or MAX_TIME: stop after that many seconds instead.
#   FUZZ_BIN: a FuzzReader built already (nothing is built then).
# Crashing inputs land in Fuzz/artifacts/; prepare each with
#   FUZZ_TARGET=T FUZZ_PREPARE=fixtures-bin/fuzz-regressions/T-what "$bin" Fuzz/artifacts/crash-…
# so that the tests replay it forever (archive targets: their prepared bytes, read by ArchiveRegressions).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-10000000}
target=${TARGET:-all}
mkdir -p Fuzz/.deps Fuzz/artifacts
ln -sfn ../.. Fuzz/.deps/muslcheck
if [ -n "${FUZZ_BIN:-}" ]; then
    bin=$FUZZ_BIN  # a FuzzReader built already
else
    swift build --package-path Fuzz -c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library
    bin=$(swift build --package-path Fuzz -c release -Xswiftc -sanitize=fuzzer,address --show-bin-path)/FuzzReader
fi
corpus=Fuzz/corpus/$target
mkdir -p "$corpus"

# Seeds: small fixtures, and archives of them as the standard tools write them.
seeds() {
    local work; work=$(mktemp -d)
    trap 'rm -rf "$work"' RETURN
    mkdir -p "$work/root/usr/bin" "$work/root/usr/lib"
    cp fixtures-bin/bin/hello-musl fixtures-bin/bin/app-runpath "$work/root/usr/bin/"
    cp fixtures-bin/bin/lib/libgreet.so.1 "$work/root/usr/lib/"
    ln -s libgreet.so.1 "$work/root/usr/lib/libgreet.so"
    ln "$work/root/usr/bin/hello-musl" "$work/root/usr/bin/hello-link"
    truncate -s 65536 "$work/root/usr/lib/sparse" && printf 'x' >> "$work/root/usr/lib/sparse"
    local t="$work/t"; mkdir -p "$t"
    tar -C "$work/root" --format=gnu -cf "$t/gnu.tar" usr
    tar -C "$work/root" --format=pax -cf "$t/pax.tar" usr
    tar -C "$work/root" --format=gnu --sparse -cf "$t/sparse-gnu.tar" usr/lib/sparse usr/bin/hello-musl
    tar -C "$work/root" --format=pax --sparse -cf "$t/sparse-pax.tar" usr/lib/sparse usr/bin/hello-musl
    case $target in
    all) find fixtures-bin/bin fixtures-bin/malformed fixtures-bin/fuzz-regressions -type f -size -2M -exec cp {} "$corpus/" \; ;;
    tar) cp "$t"/*.tar "$corpus/" ;;
    tgz|txz|tzst)
        cp "$t"/*.tar "$corpus/"
        local tool=gzip; [ "$target" = txz ] && tool=xz; [ "$target" = tzst ] && tool="zstd -q"
        for f in "$t"/*.tar; do $tool -c "$f" > "$corpus/$(basename "$f").z"; done ;;
    zip)
        python3 - "$work/root" "$corpus" <<'EOF'
import os, stat, sys, zipfile
root, out = sys.argv[1], sys.argv[2]
files = [("usr/bin/hello-musl", "bin/hello"), ("usr/lib/libgreet.so.1", "pkg.libs/libgreet.so.1")]
for name, method in (("stored.zip", zipfile.ZIP_STORED), ("deflated.whl", zipfile.ZIP_DEFLATED)):
    with zipfile.ZipFile(os.path.join(out, name), "w", method) as z:
        for src, arc in files: z.write(os.path.join(root, src), arc)
        info = zipfile.ZipInfo("pkg.libs/link.so"); info.external_attr = (stat.S_IFLNK | 0o777) << 16
        z.writestr(info, "libgreet.so.1")
        z.writestr("pkg/__init__.py", "")
EOF
        ;;
    deb)
        cp "$t/gnu.tar" "$t/pax.tar" "$corpus/"
        mkdir -p "$work/root/DEBIAN"
        printf 'Package: fuzz\nVersion: 1\nArchitecture: amd64\nMaintainer: x <x@example.org>\nDescription: x\n' > "$work/root/DEBIAN/control"
        rm -f "$work/root/usr/lib/sparse"
        for z in gzip xz zstd none; do dpkg-deb --root-owner-group -Z$z --build "$work/root" "$corpus/fuzz-$z.deb" >/dev/null; done ;;
    image)
        # docker save: manifest.json, a config, layer tars (the second hides a file of the first).
        local d="$work/docker"; mkdir -p "$d/l1" "$d/l2" "$work/l2/usr/bin"
        tar -C "$work/root" -cf "$d/l1/layer.tar" usr/bin/hello-musl usr/lib/libgreet.so.1
        : > "$work/l2/usr/bin/.wh.hello-musl"; cp fixtures-bin/bin/app-runpath "$work/l2/usr/bin/"
        tar -C "$work/l2" -cf "$d/l2/layer.tar" usr
        printf '{"architecture":"amd64","os":"linux","config":{"Entrypoint":["/usr/bin/app-runpath"]},"rootfs":{"type":"layers","diff_ids":[]}}' > "$d/cfg.json"
        printf '[{"Config":"cfg.json","RepoTags":["fuzz:1"],"Layers":["l1/layer.tar","l2/layer.tar"]}]' > "$d/manifest.json"
        tar -C "$d" -cf "$corpus/docker-save.tar" manifest.json cfg.json l1 l2
        # OCI layout: index → manifest → config and a gzip layer, every blob named by its digest.
        local o="$work/oci"; mkdir -p "$o/blobs/sha256"
        blob() { local h; h=$(sha256sum "$1" | cut -d' ' -f1); cp "$1" "$o/blobs/sha256/$h"; echo "$h $(stat -c %s "$1")"; }
        gzip -c "$d/l1/layer.tar" > "$work/layer.tgz"
        read -r lh ls < <(blob "$work/layer.tgz"); read -r ch cs < <(blob "$d/cfg.json")
        printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:%s","size":%s}]}' "$ch" "$cs" "$lh" "$ls" > "$work/manifest.json"
        read -r mh ms < <(blob "$work/manifest.json")
        printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s}]}' "$mh" "$ms" > "$o/index.json"
        printf '{"imageLayoutVersion":"1.0.0"}' > "$o/oci-layout"
        tar -C "$o" -cf "$corpus/oci.tar" oci-layout index.json blobs ;;
    layout)
        # The fixed layout's own files (Fuzz/Sources/FuzzReader/Layout.swift), each behind the byte choosing it.
        FUZZ_TARGET=layout FUZZ_SEEDS="$corpus" "$bin" ;;
    *) echo "unknown TARGET $target" >&2; exit 64 ;;
    esac
}
seeds

limit=(-runs="$runs")
[ -n "${MAX_TIME:-}" ] && limit=(-max_total_time="$MAX_TIME")
# One job runs in this process (its output here); more run as libFuzzer jobs, each logging to fuzz-N.log.
jobs=()
[ "${JOBS:-1}" -gt 1 ] && jobs=(-jobs="$JOBS" -workers="$JOBS")
FUZZ_TARGET=$target ASAN_OPTIONS=detect_leaks=0 "$bin" "${limit[@]}" -max_len=262144 -timeout=10 -rss_limit_mb=2048 \
  -artifact_prefix="Fuzz/artifacts/$target-" -print_final_stats=1 "${jobs[@]}" "$corpus"
