#!/usr/bin/env bash
# Rebuilds the fixture binaries from src/ and writes MANIFEST.json (command, sha256, facts readelf reports).
# Needs: gcc g++ musl-tools gcc-{aarch64,i686,s390x}-linux-gnu golang-go binutils python3.
# The outputs are committed, so tests never need a compiler.
set -euo pipefail
cd "$(dirname "$0")"
out=bin
rm -rf "$out" malformed && mkdir -p "$out/lib" malformed
: > commands.tsv
# run NAME COMMAND...: build one fixture and record its command
run() { local name=$1; shift; "$@"; printf '%s\t%s\n' "$name" "$*" >> commands.tsv; }
S=src
CF="-Os -fno-asynchronous-unwind-tables -Wl,--build-id=sha1"

run hello-glibc          gcc $CF -o $out/hello-glibc $S/hello.c
run hello-musl           musl-gcc $CF -o $out/hello-musl $S/hello.c
run hello-static-glibc   gcc $CF -static -s -o $out/hello-static-glibc $S/hello.c
run hello-static-pie-glibc gcc $CF -static-pie -s -o $out/hello-static-pie-glibc $S/hello.c
run hello-static-musl    musl-gcc $CF -static -s -o $out/hello-static-musl $S/hello.c
run hello-aarch64        aarch64-linux-gnu-gcc $CF -o $out/hello-aarch64 $S/hello.c
run hello-i686           i686-linux-gnu-gcc $CF -o $out/hello-i686 $S/hello.c
run hello-s390x          s390x-linux-gnu-gcc $CF -o $out/hello-s390x $S/hello.c
run libgreet.so.1        gcc $CF -shared -fPIC -Wl,-soname,libgreet.so.1 -Wl,--version-script=$S/greet.map -o $out/lib/libgreet.so.1 $S/greet.c
ln -sf libgreet.so.1 $out/lib/libgreet.so
run app-runpath          gcc $CF -o $out/app-runpath $S/app.c -L$out/lib -lgreet -Wl,--enable-new-dtags -Wl,-rpath,'$ORIGIN/lib:/opt/greet/lib'
run app-rpath            gcc $CF -o $out/app-rpath $S/app.c -L$out/lib -lgreet -Wl,--disable-new-dtags -Wl,-rpath,'$ORIGIN/lib'
run glibconly            gcc -O2 -D_FORTIFY_SOURCE=2 -fno-asynchronous-unwind-tables -o $out/glibconly $S/glibconly.c
run recent               gcc $CF -D_FILE_OFFSET_BITS=64 -o $out/recent $S/recent.c
run lfs64                gcc $CF -o $out/lfs64 $S/lfs64.c
run resinit              gcc $CF -o $out/resinit $S/resinit.c
run weak                 gcc $CF -o $out/weak $S/weak.c
run ifunc                gcc $CF -fPIE -pie -o $out/ifunc $S/ifunc.c
run crypt                gcc $CF -o $out/crypt $S/crypt.c -lcrypt
run ldso                 gcc $CF -o $out/ldso $S/ldso.c -Wl,--no-as-needed /lib64/ld-linux-x86-64.so.2
run ctor                 gcc $CF -o $out/ctor $S/ctor.c
run behaviour            gcc $CF -o $out/behaviour $S/behaviour.c
# A bundle: bin/ and lib/ side by side; the program is fine, one of its libraries is not.
mkdir -p $out/bundle/bin $out/bundle/lib
run libbad.so.1          gcc $CF -shared -fPIC -Wl,-soname,libbad.so.1 -o $out/bundle/lib/libbad.so.1 $S/bad.c
cp $out/lib/libgreet.so.1 $out/bundle/lib/libgreet.so.1
run bundled              gcc $CF -o $out/bundle/bin/bundled $S/bundled.c $out/bundle/lib/libgreet.so.1 $out/bundle/lib/libbad.so.1 -Wl,-rpath,'$ORIGIN/../lib'
# Resolution cases (not in the manifest: tests lay them out as their cases need).
mkdir -p $out/resolve/lib $out/resolve/aarch64 $out/resolve/pkg $out/resolve/pkg.libs
# A wheel laid out: pkg/mod.so loads pkg.libs/libchain.so.1, which loads pkg.libs/libbad.so.1.
cp $out/bundle/lib/libbad.so.1 $out/resolve/pkg.libs/libbad.so.1
run libchain.so.1        gcc $CF -shared -fPIC -Wl,-soname,libchain.so.1 -o $out/resolve/pkg.libs/libchain.so.1 $S/chain.c $out/resolve/pkg.libs/libbad.so.1 -Wl,--enable-new-dtags -Wl,-rpath,'$ORIGIN'
run mod.so               gcc $CF -shared -fPIC -o $out/resolve/pkg/mod.so $S/mod.c $out/resolve/pkg.libs/libchain.so.1 -Wl,--enable-new-dtags -Wl,-rpath,'$ORIGIN/../pkg.libs'
run libargpprov.so.1     gcc $CF -shared -fPIC -Wl,-soname,libargpprov.so.1 -o $out/resolve/lib/libargpprov.so.1 $S/argpprov.c
run argpapp              gcc $CF -o $out/resolve/argpapp $S/argpapp.c $out/resolve/lib/libargpprov.so.1 -Wl,--enable-new-dtags -Wl,-rpath,'$ORIGIN/lib'
run libgreet-aarch64     aarch64-linux-gnu-gcc $CF -shared -fPIC -Wl,-soname,libgreet.so.1 -Wl,--version-script=$S/greet.map -o $out/resolve/aarch64/libgreet.so.1 $S/greet.c
# A chain: bin/relayapp (RUNPATH $ORIGIN/../lib) loads lib/librelay.so.1 (no search path of its own), which
# loads lib/libgreet.so.1: musl searches librelay's NEEDED with relayapp's RUNPATH (ldso/dynlink.c, needed_by).
mkdir -p $out/resolve/inherit/bin $out/resolve/inherit/lib
cp $out/lib/libgreet.so.1 $out/resolve/inherit/lib/libgreet.so.1
run librelay.so.1        gcc $CF -shared -fPIC -Wl,-soname,librelay.so.1 -o $out/resolve/inherit/lib/librelay.so.1 $S/relay.c $out/resolve/inherit/lib/libgreet.so.1
run relayapp             gcc $CF -o $out/resolve/inherit/bin/relayapp $S/relayapp.c $out/resolve/inherit/lib/librelay.so.1 -Wl,-rpath-link,$out/resolve/inherit/lib -Wl,--enable-new-dtags -Wl,-rpath,'$ORIGIN/../lib'
run hello-cxx            g++ -Os -o $out/hello-cxx $S/hello.cpp
export GOFLAGS=-trimpath GOCACHE=${GOCACHE:-/tmp/muslcheck-gocache} GO111MODULE=off
run hello-go-static      env CGO_ENABLED=0 go build -ldflags=-s\ -w -o $out/hello-go-static $S/hello.go
run hello-go-cgo         env CGO_ENABLED=1 go build -ldflags=-s\ -w -o $out/hello-go-cgo $S/hellocgo.go
# An import no relocation names (linkers leave such symbols; LLVM tools in Debian 12 list mallinfo2 so):
# musl never looks it up.
run unreferenced         gcc $CF -o $out/unreferenced $S/hello.c -Wl,--undefined=mallinfo2 -Wl,--undefined=__longjmp_chk
# A separate debug file, as dh_strip puts under /usr/lib/debug/.build-id: never loaded.
mkdir -p $out/debug
run hello-glibc.debug    objcopy --only-keep-debug $out/hello-glibc $out/debug/hello-glibc.debug
# Thread-local storage: a library with initial-exec TLS resolving into itself (musl refuses to dlopen it),
# the same with the default general-dynamic model (loads), and a plugin host that dlopens what it is given.
mkdir -p $out/tls
run libtlsie.so          musl-gcc $CF -shared -fPIC -Wl,-soname,libtlsie.so -o $out/tls/libtlsie.so $S/tlsie.c
run libtlsgd.so          musl-gcc $CF -shared -fPIC -Wl,-soname,libtlsgd.so -o $out/tls/libtlsgd.so $S/tlsgd.c
run dlopen-driver        musl-gcc $CF -o $out/tls/dlopen-driver $S/dlopen.c
# A copy without section headers, like sstrip makes: only program headers and the dynamic segment remain.
run hello-nosections     python3 tools/strip-sections.py $out/hello-glibc $out/hello-nosections
run glibconly-nosections python3 tools/strip-sections.py $out/glibconly $out/glibconly-nosections
python3 tools/make-malformed.py $out/hello-glibc malformed
python3 tools/manifest.py commands.tsv $out malformed > MANIFEST.json
rm commands.tsv
