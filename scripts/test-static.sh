#!/usr/bin/env bash
# Proves that the shipped muslcheck is one static executable that needs nothing from the system it runs on:
#   1. it has no program interpreter and no NEEDED library, and it is no larger than MAX_SIZE_BYTES;
#   2. copied alone into an empty root (only /proc mounted, empty environment) it checks the shipped
#      fixtures and writes the same JSON report as outside;
#   3. without /proc it stops with one clear line and exit status 2 (not the runtime's abort);
#   4. it judges itself `runs` on the newest Alpine release, exit status 0, inside the empty root too;
#   5. no command it runs opens glibc's NSS configuration or databases, iconv modules or a shared object
#      (strace; skipped with a notice when strace is missing): the linker warns that FoundationEssentials
#      code can reach getpwnam_r, getpwuid_r, getgrnam_r and getgrgid_r, and the Swift runtime dlopen,
#      which in a static glibc load modules of another glibc.
#
# Usage: scripts/test-static.sh [BINARY]   (default: build it with scripts/release.sh)
# Needs root (chroot, mount) and util-linux's unshare; python3 compares the reports.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

# The size budget of the stripped executable (25 MB): FoundationEssentials only, no ICU (Package.swift).
MAX_SIZE_BYTES=25000000

fail() { echo "test-static: FAIL: $*" >&2; exit 1; }
pass() { echo "test-static: ok: $*"; }

if [ $# -ge 1 ]; then
  binary=$(readlink -f "$1")
else
  scripts/release.sh
  binary=$repo/dist/muslcheck
fi
[ -x "$binary" ] || fail "no executable at $binary"
[ "$(id -u)" = 0 ] || fail "needs root for chroot and mount"

work=$(mktemp -d /tmp/muslcheck-static.XXXXXX)
root=$work/root
cleanup() {
  # The /proc mounts live in private mount namespaces and end with them; only files remain.
  rm -rf "$work"
}
trap cleanup EXIT

# 1. Static: no interpreter, no dynamic section.
headers=$(readelf -lW "$binary")
grep -q "INTERP" <<<"$headers" && fail "$binary has a program interpreter"
grep -q "DYNAMIC" <<<"$headers" && fail "$binary has a dynamic section"
pass "no interpreter, no NEEDED libraries"
size=$(stat -c %s "$binary")
[ "$size" -le "$MAX_SIZE_BYTES" ] || fail "$binary is $size bytes, over the budget of $MAX_SIZE_BYTES (did full Foundation and ICU come back?)"
pass "$size bytes, within the budget of $MAX_SIZE_BYTES"

# The empty root: the executable, the fixtures it checks, and a directory to mount /proc on.
mkdir -p "$root/proc"
cp "$binary" "$root/muslcheck"
cp -a fixtures-bin/bin "$root/fixtures"

# Runs the executable in the empty root with an empty environment; $1 = yes mounts /proc first.
in_root() {
  local proc=$1; shift
  unshare --mount --pid --fork --kill-child -- /bin/sh -c '
    root=$1; proc=$2; shift 2
    if [ "$proc" = yes ]; then mount -t proc proc "$root/proc" || exit 90; fi
    exec chroot "$root" /muslcheck "$@"' sh "$root" "$proc" "$@"
}

# 2. The same report inside and outside (paths are relative to / inside and to $root outside).
status_in=0; in_root yes check --format json fixtures > "$work/inside.json" 2> "$work/inside.err" || status_in=$?
status_out=0; (cd "$root" && env -i ./muslcheck check --format json fixtures > "$work/outside.json" 2> "$work/outside.err") || status_out=$?
[ "$status_in" = 90 ] && fail "could not mount /proc in the empty root"
[ "$status_in" = "$status_out" ] || fail "exit status $status_in in the empty root, $status_out outside; stderr: $(cat "$work/inside.err")"
python3 - "$work/inside.json" "$work/outside.json" <<'EOF' || fail "the reports differ (inside vs outside the empty root)"
import json, sys
inside, outside = (json.load(open(p)) for p in sys.argv[1:3])
if not inside.get("results"):
    sys.exit("no results in the empty root's report")
if inside != outside:
    for a, b in zip(inside["results"], outside["results"]):
        if a != b: print("first difference:", a.get("path"), file=sys.stderr); break
    sys.exit(1)
EOF
cmp -s "$work/inside.json" "$work/outside.json" || fail "the reports are equal as JSON but not byte for byte"
pass "empty root: $(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["results"]))' "$work/inside.json") results, report identical to the one outside (exit status $status_in both)"

# 3. Without /proc: one line, exit status 2.
status=0; in_root no --version > "$work/noproc.out" 2> "$work/noproc.err" || status=$?
[ "$status" = 2 ] || fail "without /proc: exit status $status (want 2); stderr: $(cat "$work/noproc.err")"
[ "$(wc -l < "$work/noproc.err")" = 1 ] && grep -q "/proc" "$work/noproc.err" \
  || fail "without /proc: want one line naming /proc, got: $(cat "$work/noproc.err")"
pass "without /proc: $(cat "$work/noproc.err")"

# 4. It judges itself: runs, exit status 0, on the newest release the knowledge base knows.
newest=$("$binary" kb --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)["defaultTarget"])')
status=0; in_root yes check --target "$newest" --format json /muslcheck > "$work/self.json" || status=$?
verdict=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"]; print(r[0].get("verdict") if len(r) == 1 else "results: %d" % len(r))' "$work/self.json")
[ "$verdict" = runs ] && [ "$status" = 0 ] || fail "self-check on $newest: verdict $verdict, exit status $status"
pass "self-check on $newest: runs, exit status 0"

# 5. No NSS, iconv module or shared object along the paths muslcheck takes. Paths start with "~" on
# purpose: Foundation's path APIs would expand them through the user database; muslcheck takes them literally.
if ! command -v strace > /dev/null; then
  echo "test-static: SKIPPED: the NSS/dlopen trace (no strace; .ci/run installs it)"
  exit 0
fi
cases=$work/cases
mkdir -p "$cases/~"
cp fixtures-bin/bin/hello-glibc fixtures-bin/bin/recent "$cases/"
printf 'target: alpine:3.20\nfail-on: needs-rebuild\ninstalled: [gcompat]\nignore:\n  paths:\n    - path: "**/recent"\n      reason: checked by hand\n  rules:\n    - rule: nss-lookups\n      reason: files only\n' > "$cases/~/policy.yml"
python3 - "$cases" <<'EOF'
# A wheel (zip), tarballs in every compression muslcheck reads, and an OCI image layout.
import gzip, hashlib, io, json, lzma, os, sys, tarfile, zipfile
d = sys.argv[1]; elf = open(os.path.join(d, "hello-glibc"), "rb").read()
with zipfile.ZipFile(os.path.join(d, "pkg.whl"), "w", zipfile.ZIP_DEFLATED) as z: z.writestr("pkg/mod.so", elf)
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w") as t:
    info = tarfile.TarInfo("usr/bin/hello"); info.size = len(elf); info.mode = 0o755; t.addfile(info, io.BytesIO(elf))
layer = buf.getvalue()
open(os.path.join(d, "app.tar.gz"), "wb").write(gzip.compress(layer))
open(os.path.join(d, "app.tar.xz"), "wb").write(lzma.compress(layer))
img = os.path.join(d, "image"); os.makedirs(os.path.join(img, "blobs", "sha256"))
def put(b):
    h = hashlib.sha256(b).hexdigest(); open(os.path.join(img, "blobs", "sha256", h), "wb").write(b); return {"digest": "sha256:" + h, "size": len(b)}
config = put(json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}).encode())
layer_desc = put(gzip.compress(layer))
manifest = put(json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": dict(config, mediaType="application/vnd.oci.image.config.v1+json"),
    "layers": [dict(layer_desc, mediaType="application/vnd.oci.image.layer.v1.tar+gzip")]}).encode())
json.dump({"schemaVersion": 2, "manifests": [dict(manifest, mediaType="application/vnd.oci.image.manifest.v1+json")]}, open(os.path.join(img, "index.json"), "w"))
json.dump({"imageLayoutVersion": "1.0.0"}, open(os.path.join(img, "oci-layout"), "w"))
EOF
if command -v zstd > /dev/null; then (cd "$cases" && tar -cf - hello-glibc | zstd -q -o app.tar.zst); fi
runs=0
traced() {
  local status=0
  runs=$((runs + 1))
  (cd "$cases" && strace -f -qq -e trace=open,openat,connect,execve -o "$work/trace.txt" "$binary" "$@" > "$work/trace.out" 2> "$work/trace.err") || status=$?
  [ "$status" -le 2 ] || fail "muslcheck $* exited $status: $(cat "$work/trace.err")"
  # execve of the binary itself is the first line; anything else executed, and every lookup below, fails.
  if grep -E 'nsswitch|/etc/passwd|/etc/group|/etc/shadow|/etc/hosts|resolv\.conf|nscd|gconv|\.so(\.[0-9]+)*"|execve\(' "$work/trace.txt" \
      | grep -v "execve(\"$binary\"" > "$work/bad.txt"; then
    fail "muslcheck $* reached NSS, iconv, dlopen or exec: $(head -3 "$work/bad.txt")"
  fi
}
traced check .
traced check --config '~/policy.yml' --format json --output '~/report.json' --format sarif --output '~/report.sarif' \
  --format html --output '~/report.html' --format junit --output '~/report.xml' --format markdown --output '~/report.md' .
traced check --write-baseline '~/baseline.json' .
traced check --baseline '~/baseline.json' .
traced check image
# An image layout in a directory named "~image": read from there (a static glibc crashed looking up user "image").
cp -a "$cases/image" "$cases/~image"
traced check --format json '~image'
python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"]; sys.exit(not (r and all(x["path"].startswith("~image!") and x["status"] == "assessed" for x in r)))' "$work/trace.out" \
  || fail "'~image' was not read as the directory ~image: $(head -c 300 "$work/trace.out")"
traced inspect --format json --exports recent
traced explain symbol-missing
traced kb --format json
traced --help
for f in report.json report.sarif report.html report.xml report.md baseline.json; do
  [ -s "$cases/~/$f" ] || fail "'~/$f' was not written literally (under ./~)"
done
pass "no NSS, iconv module, shared object or exec in $runs traced runs; '~' paths taken literally"
