#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
// The dynamic symbols: imports (undefined) with the version and library each needs, the defined ones the
// loader must still find (COPY-relocated data, versions needed from a library), referenced IFUNCs, and the
// exports when asked for.

extension FactsDecoder {
    /// One dynamic symbol table entry, the fields the reader uses.
    struct SymbolEntry {
        var nameOffset: UInt32
        var info: UInt8
        var shndx: UInt16
        var binding: UInt8 { SymbolLayout.binding(info) }
        var kind: UInt8 { SymbolLayout.kind(info) }
        var isDefined: Bool { shndx != SectionIndex.undefined }
    }

    var symbolEntrySize: Int { SymbolLayout.of(is64: is64).size }

    func symbolEntry(_ index: Int, _ tables: SymbolTables) -> SymbolEntry? {
        guard index < tables.capacity else { return nil }
        let fields = SymbolLayout.of(is64: is64)
        let at = tables.symbols.offset + index * tables.entrySize
        guard let name = bytes.u32(at), let info = bytes.u8(at + fields.info), let shndx = bytes.u16(at + fields.shndx)
        else { return nil }
        return SymbolEntry(nameOffset: name, info: info, shndx: shndx)
    }

    func symbolName(_ offset: UInt32, _ tables: SymbolTables) -> String? {
        guard Int(offset) < tables.strings.size else { return nil }
        return bytes.cString(tables.strings.offset + Int(offset), end: tables.strings.end)
    }

    /// The version index of symbol `index` (`VersionIndex.global` without .gnu.version) and whether it is hidden.
    private func version(of index: Int, _ tables: SymbolTables) -> (index: Int, hidden: Bool) {
        guard let v = tables.versym, let raw = bytes.u16(v.offset + VersionSymbol.size * index),
            VersionSymbol.size * (index + 1) <= v.size
        else { return (VersionIndex.global, false) }
        return (Int(raw & VersionSymbol.indexMask), raw & VersionSymbol.hidden != 0)
    }

    mutating func readSymbols(_ tables: SymbolTables, relocations: RelocationUse) {
        let versions = readVersions(tables)
        var exports: [ExportedSymbol] = []
        var exportCount = 0
        var badNames = 0
        for index in 1..<Swift.max(tables.count, 1) {
            if timeUp(index) { break }
            guard let symbol = symbolEntry(index, tables) else { break }
            let version = version(of: index, tables)
            if !symbol.isDefined {
                guard let name = symbolName(symbol.nameOffset, tables) else {
                    badNames += 1
                    continue
                }
                if name.isEmpty { continue }
                guard facts.imports.count < Self.maxImports else {
                    tooManyImports = true
                    break
                }
                facts.imports.append(
                    importedSymbol(name, symbol, index: index, version: version.index, versions, relocations))
            } else if symbol.binding != SymbolBinding.local {
                exportCount += 1
                readDefinedSymbol(
                    symbol, index: index, version: version, versions, relocations, tables, exports: &exports)
            }
        }
        if badNames > 0 {
            facts.gaps.append(
                Gap(
                    .symbols,
                    "\(badNames) dynamic symbol names lie outside the string table (\(tables.strings.size) bytes at \(tables.strings.offset))"
                ))
        }
        facts.exportCount = exportCount
        if options.exportNames { facts.exports = exports }
    }

    private func importedSymbol(
        _ name: String, _ symbol: SymbolEntry, index: Int, version: Int,
        _ versions: SymbolVersions, _ relocations: RelocationUse
    ) -> ImportedSymbol {
        var imported = ImportedSymbol(
            name: name, weak: symbol.binding == SymbolBinding.weak, type: SymbolType(stType: symbol.kind),
            referenced: relocations.references(index))
        if version > VersionIndex.global, let v = versions.needed(version) {
            imported.version = v.name
            imported.library = v.library
        } else if version > VersionIndex.global, let d = versions.defined[version] {
            imported.version = d
        }
        return imported
    }

    /// A defined global or weak symbol: an import all the same when a COPY relocation fills it or it carries
    /// a version needed from a library; an IFUNC some relocation names; an export.
    private mutating func readDefinedSymbol(
        _ symbol: SymbolEntry, index: Int, version: (index: Int, hidden: Bool),
        _ versions: SymbolVersions, _ relocations: RelocationUse,
        _ tables: SymbolTables, exports: inout [ExportedSymbol]
    ) {
        let needed = version.index > VersionIndex.global ? versions.needed(version.index) : nil
        // An executable's data imports are defined in its own .bss and filled by a COPY relocation
        // (or carry a version it needs from a library): the loader must still find them.
        if (!relocations.copied.isEmpty && relocations.copied.contains(index)) || needed != nil,
            let name = symbolName(symbol.nameOffset, tables), !name.isEmpty
        {
            let v = versions.needed(version.index)
            facts.copyImports.append(
                ImportedSymbol(
                    name: name, version: v?.name, library: v?.library,
                    weak: symbol.binding == SymbolBinding.weak, type: SymbolType(stType: symbol.kind)))
        }
        let ifunc = symbol.kind == SymbolKind.gnuIFunc
        // musl never resolves STT_GNU_IFUNC symbols, so a reference to one of its own fails to load.
        if ifunc, index < relocations.referenced.count, relocations.referenced[index],
            let name = symbolName(symbol.nameOffset, tables)
        {
            facts.referencedIFuncs.append(name)
        }
        if options.exportNames, passesFilter(symbol.nameOffset, tables.strings),
            let name = symbolName(symbol.nameOffset, tables), !name.isEmpty
        {
            let definedVersion = version.index > VersionIndex.global ? versions.defined[version.index] : nil
            exports.append(ExportedSymbol(name: name, version: definedVersion, hidden: version.hidden, ifunc: ifunc))
        }
    }

    /// Whether an export name passes `options.exportFilter`, judged on its bytes before any String exists.
    private func passesFilter(_ nameOffset: UInt32, _ strings: Region) -> Bool {
        guard let filter = options.exportFilter else { return true }
        let start = strings.offset + Int(nameOffset)
        guard Int(nameOffset) < strings.size, let base = bytes.raw.baseAddress else { return false }
        let first = base.load(fromByteOffset: start, as: UInt8.self)
        let second = first != 0 && start + 1 < strings.end ? base.load(fromByteOffset: start + 1, as: UInt8.self) : 0
        guard filter.mightStart(first, second), let nul = memchr(base + start, 0, strings.end - start) else {
            return false
        }
        return filter.mightContain(
            UnsafeRawBufferPointer(start: base + start, count: UnsafeRawPointer(nul) - (base + start)))
    }
}
