#!/usr/bin/env bash
# Benchmark: muslcheck on container images made from this machine's /usr, timed in the same run as the
# streaming floor for each (the least work any reader of the image must do: decompress and list the
# layer), with peak memory.
#   docker-save tarball, one uncompressed layer       floor: tar -xOf image layer | tar -t
#   docker-save tarball, the same layer gzip'd        floor: tar -xOf image layer | gzip -dc | tar -t
#   OCI layout directory, the same layer zstd'd       floor: zstd -dc blob | tar -t
# With BIG=1, also 4 GB images of four distinct 1 GB layers (the same files under l1/ .. l4/):
#   docker-save tarball, four uncompressed layers     floor: tar -xOf image layers | tar -ti
#   docker-save tarball, the four layers gzip'd       floor: tar -xOf image layers | gzip -dc | tar -ti
# The layer holds DIRS (default /usr/bin /usr/lib/x86_64-linux-gnu: about 1 GB on Debian 12). Images are
# made once and kept in BENCH_DIR (default /tmp/muslcheck-bench-images) for later runs.
# Prints each command's median wall time and peak RSS over RUNS rounds (default 3), and muslcheck's ratio
# to its floor. Measures the release build the README makes (--static-swift-stdlib).
# Usage: scripts/bench-images.sh [DIR ...]
# Needs: GNU tar, gzip, zstd, sha256sum, /usr/bin/time.
set -euo pipefail
cd "$(dirname "$0")/.."
dirs=("$@"); [ ${#dirs[@]} -gt 0 ] || dirs=(/usr/bin /usr/lib/x86_64-linux-gnu)
runs=${RUNS:-3}
work=${BENCH_DIR:-/tmp/muslcheck-bench-images}
bin=.build/release/muslcheck
[ -x "$bin" ] || swift build -c release --static-swift-stdlib >/dev/null
mkdir -p "$work"

# The layer: the directories as tar(1) stores them (relative paths, as in an image).
if [ ! -f "$work/layer.tar" ]; then
  rel=(); for d in "${dirs[@]}"; do rel+=("${d#/}"); done
  tar -cf "$work/layer.tar" -C / "${rel[@]}" 2>/dev/null || true
fi
manifest() { printf '[{"Config":"config.json","RepoTags":["bench:1"],"Layers":["%s"]}]' "$1"; }
if [ ! -f "$work/plain.tar" ]; then
  rm -rf "$work/s" && mkdir -p "$work/s"
  ln "$work/layer.tar" "$work/s/layer.tar"
  echo '{}' > "$work/s/config.json"; manifest layer.tar > "$work/s/manifest.json"
  tar -cf "$work/plain.tar" -C "$work/s" manifest.json config.json layer.tar
  rm -rf "$work/s"
fi
if [ ! -f "$work/gzip.tar" ]; then
  rm -rf "$work/s" && mkdir -p "$work/s"
  gzip -c "$work/layer.tar" > "$work/s/layer.tar.gz"
  echo '{}' > "$work/s/config.json"; manifest layer.tar.gz > "$work/s/manifest.json"
  tar -cf "$work/gzip.tar" -C "$work/s" manifest.json config.json layer.tar.gz
  rm -rf "$work/s"
fi
if [ ! -f "$work/oci/index.json" ]; then
  rm -rf "$work/oci" && mkdir -p "$work/oci/blobs/sha256"
  zstd -q -T0 -3 -c "$work/layer.tar" > "$work/oci/layer"
  layer=$(sha256sum "$work/oci/layer" | cut -c1-64); mv "$work/oci/layer" "$work/oci/blobs/sha256/$layer"
  echo "$layer" > "$work/oci-layer-digest"
  printf '{"schemaVersion":2,"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+zstd","digest":"sha256:%s"}]}' "$layer" > "$work/oci/m"
  m=$(sha256sum "$work/oci/m" | cut -c1-64); mv "$work/oci/m" "$work/oci/blobs/sha256/$m"
  printf '{"schemaVersion":2,"manifests":[{"digest":"sha256:%s"}]}' "$m" > "$work/oci/index.json"
  echo '{"imageLayoutVersion":"1.0.0"}' > "$work/oci/oci-layout"
fi
zblob=$(cat "$work/oci-layer-digest")
big_layers=(layer1.tar layer2.tar layer3.tar layer4.tar)
if [ "${BIG:-0}" = 1 ]; then
  manifest4() { printf '[{"Config":"config.json","RepoTags":["bench:4"],"Layers":["%s","%s","%s","%s"]}]' "$@"; }
  if [ ! -f "$work/plain4.tar" ] || [ ! -f "$work/gzip4.tar" ]; then
    rm -rf "$work/s" && mkdir -p "$work/s"
    rel=(); for d in "${dirs[@]}"; do rel+=("${d#/}"); done
    for k in 1 2 3 4; do
      tar -cf "$work/s/layer$k.tar" --transform "s,^,l$k/," -C / "${rel[@]}" 2>/dev/null || true
    done
    echo '{}' > "$work/s/config.json"
    manifest4 "${big_layers[@]}" > "$work/s/manifest.json"
    tar -cf "$work/plain4.tar" -C "$work/s" manifest.json config.json "${big_layers[@]}"
    for k in 1 2 3 4; do gzip "$work/s/layer$k.tar"; done
    manifest4 layer1.tar.gz layer2.tar.gz layer3.tar.gz layer4.tar.gz > "$work/s/manifest.json"
    tar -cf "$work/gzip4.tar" -C "$work/s" manifest.json config.json layer{1,2,3,4}.tar.gz
    rm -rf "$work/s"
  fi
fi

names=(plain-muslcheck plain-floor gzip-muslcheck gzip-floor zstd-muslcheck zstd-floor)
[ "${BIG:-0}" = 1 ] && names+=(plain4-muslcheck plain4-floor gzip4-muslcheck gzip4-floor)
command_of() {
  case $1 in
    plain-muslcheck) cmd=("$bin" check --format json --fail-on never "$work/plain.tar") ;;
    plain-floor) cmd=(sh -c "tar -xOf '$work/plain.tar' layer.tar | tar -t > /dev/null") ;;
    gzip-muslcheck) cmd=("$bin" check --format json --fail-on never "$work/gzip.tar") ;;
    gzip-floor) cmd=(sh -c "tar -xOf '$work/gzip.tar' layer.tar.gz | gzip -dc | tar -t > /dev/null") ;;
    zstd-muslcheck) cmd=("$bin" check --format json --fail-on never "$work/oci") ;;
    zstd-floor) cmd=(sh -c "zstd -dc '$work/oci/blobs/sha256/$zblob' | tar -t > /dev/null") ;;
    plain4-muslcheck) cmd=("$bin" check --format json --fail-on never "$work/plain4.tar") ;;
    # -i: the four layers, one after the other, are four archives each with its end marker.
    plain4-floor) cmd=(sh -c "tar -xOf '$work/plain4.tar' ${big_layers[*]} | tar -ti > /dev/null") ;;
    gzip4-muslcheck) cmd=("$bin" check --format json --fail-on never "$work/gzip4.tar") ;;
    gzip4-floor) cmd=(sh -c "tar -xOf '$work/gzip4.tar' layer1.tar.gz layer2.tar.gz layer3.tar.gz layer4.tar.gz | gzip -dc | tar -ti > /dev/null") ;;
  esac
}

samples=$(mktemp); trap 'rm -f "$samples" "$samples.t" "$samples.out"' EXIT
for n in "${names[@]}"; do command_of "$n"; "${cmd[@]}" >/dev/null 2>&1 || true; done  # warm the cache once
for _ in $(seq "$runs"); do
  for n in "${names[@]}"; do
    command_of "$n"
    start=$EPOCHREALTIME
    /usr/bin/time -o "$samples.t" -f "%M %U %S" "${cmd[@]}" > "$samples.out" 2>/dev/null || true
    end=$EPOCHREALTIME
    echo "$n $(awk -v a="$start" -v b="$end" 'BEGIN {printf "%.3f", b - a}') $(tail -1 "$samples.t" | awk '{printf "%s %.2f", $1, $2 + $3}')" >> "$samples"
  done
done

"$bin" check --format json --fail-on never "$work/plain.tar" > "$samples.out" || true
elfs=$(grep -c '"status": "assessed"' "$samples.out" || true)
largest=$(tar -tvf "$work/layer.tar" | awk '{print $3}' | sort -n | tail -1)
echo "layer: ${dirs[*]}: $(stat -c %s "$work/layer.tar") bytes; gzip $(stat -c %s "$work/gzip.tar"); zstd blob $(stat -c %s "$work/oci/blobs/sha256/$zblob")"
echo "$elfs files assessed; largest member $largest bytes; $runs rounds, $(nproc) cores"
# CPU seconds (user + system) beside the wall time: on a shared machine the wall time drifts with the load.
printf '%-18s %10s %10s %12s\n' command "median s" "median cpu" "peak KiB"
results=$(for n in "${names[@]}"; do
  awk -v n="$n" '$1 == n {print $2, $3, $4}' "$samples" | sort -n |
    awk -v n="$n" '{t[NR]=$1; c[NR]=$3; if ($2 > m) m = $2} END {print n, t[int((NR+1)/2)], c[int((NR+1)/2)], m}'
done)
echo "$results" | while read -r n t c m; do printf '%-18s %10s %10s %12s\n' "$n" "$t" "$c" "$m"; done
kinds=(plain gzip zstd); [ "${BIG:-0}" = 1 ] && kinds+=(plain4 gzip4)
for kind in "${kinds[@]}"; do
  echo "$results" | awk -v k="$kind" '$1 == k "-muslcheck" {a = $2; x = $3} $1 == k "-floor" {b = $2; y = $3} END {printf "%s: muslcheck %.2fx the floor (wall), %.2fx (cpu)\n", k, a / b, x / y}'
done
