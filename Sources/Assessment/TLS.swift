// Thread-local storage and statically linked runtimes: musl refuses to dlopen a library whose initial-exec
// TLS relocations resolve into itself (ldso/dynlink.c, do_relocs: static TLS is fixed once the program and
// the libraries it needs at start are loaded, and musl keeps no spare). glibc keeps some spare static TLS,
// so such libraries work there. Executables never trigger it: their TLS is always static.
import ELF

extension Assessor {
    /// A shared library rather than a program: ET_DYN and not a PIE (a library may carry an interpreter, as
    /// libc.so.6 does, but then also a SONAME).
    static func isLibrary(_ f: BinaryFacts) -> Bool {
        f.type == .dyn && !f.pie && (f.interpreter == nil || f.soname != nil)
    }

    /// What kind of plugin a library clearly is (a host always opens these with dlopen), by its exports and
    /// its file name; nil when nothing says so.
    static func pluginKind(_ f: BinaryFacts, path: String) -> String? {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        func exports(_ prefix: String) -> Bool { f.kindMarkers.contains { $0.hasPrefix(prefix) } }
        if exports("PyInit_") || (name.contains(".cpython-") && name.hasSuffix(".so")) || name.hasSuffix(".abi3.so") {
            return "Python extension module"
        }
        if exports("napi_register_module_v") || exports("node_register_module_v") || name.hasSuffix(".node") {
            return "Node.js addon"
        }
        if exports("JNI_OnLoad") || exports("Java_") { return "JNI library" }
        // Ruby loads foo.so and calls Init_foo.
        let stem = name.prefix { $0 != "." }
        if !stem.isEmpty, f.kindMarkers.contains("Init_" + stem) { return "Ruby extension" }
        if exports("pam_sm_") || (name.hasPrefix("pam_") && name.hasSuffix(".so")) { return "PAM module" }
        // glibc's libc.so.6 exports _nss_* helpers too: an NSS module is also named for one (libnss_NAME.so.2).
        if name.hasPrefix("libnss_") && exports("_nss_") { return "NSS module" }
        return nil
    }

    /// A Go library built with -buildmode=c-shared: its cgo runtime's exports say so.
    static func isGoCShared(_ f: BinaryFacts) -> Bool {
        f.type == .dyn && f.kindMarkers.contains { $0 == "x_cgo_init" || $0.hasPrefix("_cgo_") }
    }

    func checkTLS(_ state: inout State) {
        let f = state.facts
        guard Self.isLibrary(f) else { return }
        let go = Self.isGoCShared(f)
        if go {
            state.find(
                .goCShared,
                "a Go c-shared library: musl calls DT_INIT_ARRAY functions without the argc, argv and envp that Go's runtime initialisation reads, so loading it may crash"
            )
        }
        guard let tls = f.initialExecTLS else { return }
        if tls.own > 0 && f.hasTLS {
            let names = tls.ownSymbols.isEmpty ? "" : " (\(tls.ownSymbols.joined(separator: ", ")))"
            let goNote = go ? "; Go has no general-dynamic TLS, so no rebuild of a Go c-shared library avoids it" : ""
            if let plugin = Self.pluginKind(f, path: state.path) {
                state.raise(.needsRebuild)
                state.find(
                    .initialExecTLSPlugin,
                    "\(plugin) with initial-exec TLS that resolves into itself\(names): hosts load it with dlopen, and musl refuses it ('initial-exec TLS resolves to dynamic definition')"
                        + goNote,
                    symbols: tls.ownSymbols)
            } else {
                state.find(
                    .initialExecTLS,
                    "initial-exec TLS that resolves into itself\(names): fails when loaded with dlopen or by a dlopen'ed library (musl keeps no spare static TLS); loads when a program needs it at start"
                        + goNote,
                    symbols: tls.ownSymbols)
            }
        }
        if !tls.external.isEmpty {
            state.find(
                .initialExecTLSExternal,
                "initial-exec TLS of another library (\(tls.external.joined(separator: ", "))): works only while that library is loaded at start, not with dlopen",
                symbols: tls.external)
        }
    }

    /// The GCC unwinder imports `_dl_find_object` (glibc 2.35+) when it is built for such a glibc; only
    /// libgcc_s itself or a copy linked into the file (-static-libgcc) does, and a static libstdc++ adds
    /// `arc4random` and `__libc_single_threaded`. Neither musl nor gcompat has `_dl_find_object`.
    func checkStaticRuntime(_ state: inout State) {
        let f = state.facts
        guard state.libc == .glibc, !(f.soname?.hasPrefix("libgcc_s.so") ?? false) else { return }
        var imported = Set<String>()
        for symbol in f.imports + f.copyImports
        where symbol.referenced && Self.staticRuntimeImports.contains(symbol.name) {
            imported.insert(symbol.name)
        }
        guard imported.contains("_dl_find_object"), !muslProvides("_dl_find_object") else { return }
        let cxx = imported.contains("arc4random") || imported.contains("__libc_single_threaded")
        state.raise(.needsRebuild)
        state.find(
            .staticRuntimeGlibc,
            "the GCC unwinder\(cxx ? " and libstdc++" : "") linked into the file (-static-libgcc\(cxx ? " -static-libstdc++" : "")) were built for glibc 2.35 or newer: they import \(Self.staticRuntimeImports.filter(imported.contains).joined(separator: ", ")), which musl and gcompat lack",
            symbols: Self.staticRuntimeImports.filter(imported.contains))
    }

    static let staticRuntimeImports = ["_dl_find_object", "arc4random", "__libc_single_threaded"]
}
