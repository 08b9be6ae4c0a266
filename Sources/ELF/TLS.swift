// Initial-exec TLS and the exports that say what kind of file this is. musl refuses to dlopen a library
// whose TPOFF-kind relocations resolve into its own TLS ("initial-exec TLS resolves to dynamic definition",
// ldso/dynlink.c do_relocs, since musl 1.1.20); whether a file is dlopen'ed shows in its entry points.

extension FactsDecoder {
    /// Sorts the TPOFF-kind relocations into those that resolve into the file itself (symbol index 0, a local
    /// symbol, a symbol it defines) and those naming another library's TLS.
    mutating func readInitialExecTLS(_ use: RelocationUse, tables: SymbolTables?) {
        guard use.tpoffCount > 0 else { return }
        var tls = InitialExecTLS(own: 0, ownSymbols: [], external: [])
        var ownIndexes = 0
        for index in use.tpoffSymbols.sorted() {
            guard index > 0 else {
                ownIndexes += 1
                continue
            }
            guard let tables, let symbol = symbolEntry(index, tables) else {
                ownIndexes += 1  // outside the table (a gap says so): cannot be shown to be another library's
                continue
            }
            let undefined = !symbol.isDefined && symbol.binding != SymbolBinding.local
            let name = symbolName(symbol.nameOffset, tables) ?? ""
            if undefined {
                if tls.external.count < InitialExecTLS.maxNames, !name.isEmpty { tls.external.append(name) }
            } else {
                ownIndexes += 1
                if tls.ownSymbols.count < InitialExecTLS.maxNames, !name.isEmpty { tls.ownSymbols.append(name) }
            }
        }
        tls.own = ownIndexes
        facts.initialExecTLS = tls
    }

    /// Prefixes of defined symbols that tell what a file is. Plugins: CPython extensions (PyInit_), Node
    /// addons (napi_register_module_v1, node_register_module_v*), JNI libraries (JNI_OnLoad, Java_*), Ruby
    /// extensions (Init_*), PAM modules (pam_sm_*), NSS modules (_nss_*). Go's cgo runtime in a c-shared
    /// library: x_cgo_init, _cgo_*.
    static let kindMarkerPrefixes = [
        "PyInit_", "napi_register_module_v", "node_register_module_v", "JNI_OnLoad", "Java_",
        "Init_", "pam_sm_", "_nss_", "x_cgo_init", "_cgo_",
    ]
    /// Names kept per prefix: which prefixes occur is what matters (a JNI library can export thousands).
    static let kindMarkersPerPrefix = 4

    /// Only files some rule asks about pay for a second pass over their symbols.
    var wantsKindMarkers: Bool {
        (facts.initialExecTLS?.own ?? 0) > 0 || (facts.isGo && facts.type == .dyn)
    }

    mutating func readKindMarkers(_ tables: SymbolTables) {
        let prefixes = Self.kindMarkerPrefixes.map { Array($0.utf8) }
        let firstBytes = Set(prefixes.compactMap(\.first))
        var perPrefix = [Int](repeating: 0, count: prefixes.count)
        guard let base = bytes.raw.baseAddress else { return }
        for index in 1..<Swift.max(tables.count, 1) {
            if timeUp(index) { return }
            guard let symbol = symbolEntry(index, tables) else { break }
            guard symbol.isDefined, symbol.binding != SymbolBinding.local else { continue }
            let start = tables.strings.offset + Int(symbol.nameOffset)
            guard Int(symbol.nameOffset) < tables.strings.size,
                firstBytes.contains(base.load(fromByteOffset: start, as: UInt8.self))
            else { continue }
            guard let name = symbolName(symbol.nameOffset, tables) else { continue }
            let utf8 = Array(name.utf8)
            for (i, prefix) in prefixes.enumerated()
            where perPrefix[i] < Self.kindMarkersPerPrefix && utf8.starts(with: prefix) {
                perPrefix[i] += 1
                facts.kindMarkers.append(name)
                break
            }
        }
    }
}
