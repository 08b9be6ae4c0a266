// Symbol versions: the needs (.gnu.version_r, DT_VERNEED: library → versions it must define) and the
// definitions (.gnu.version_d, DT_VERDEF), walked as linked chains with caps and repeat checks.

/// A version a symbol needs, by its index in .gnu.version: the name and the library that must define it.
struct NeededVersion {
    var name: String
    var library: String
}

/// The versions by index, as the symbols' .gnu.version entries name them.
struct SymbolVersions {
    /// Version needs by index; looked up in an array: a dictionary lookup per symbol showed in profiles of
    /// large libraries.
    private var needed: [NeededVersion?] = []
    /// Version definitions by index (the base entry names the file itself).
    var defined: [Int: String] = [:]

    init(needed byIndex: [Int: NeededVersion], defined: [Int: String]) {
        let highest = byIndex.keys.max() ?? 0
        needed = [NeededVersion?](repeating: nil, count: highest + 1)
        for (index, version) in byIndex { needed[index] = version }
        self.defined = defined
    }

    func needed(_ index: Int) -> NeededVersion? { index < needed.count ? needed[index] : nil }
}

extension FactsDecoder {
    /// Reads both version tables; the needs also go to `facts.versionRequirements`, the definitions that
    /// are not the file's own name to `facts.versionDefinitions`.
    mutating func readVersions(_ tables: SymbolTables) -> SymbolVersions {
        let needed = tables.verneed.map { readVersionNeeds($0.0, declared: $0.1, tables) } ?? [:]
        let defined = tables.verdef.map { readVersionDefinitions($0.0, declared: $0.1, tables) } ?? [:]
        return SymbolVersions(needed: needed, defined: defined)
    }

    /// How many entries a chain is read for: the count the file declares (DT_VERNEEDNUM, sh_info), capped.
    private func versionLimit(declared: Int) -> Int {
        declared > 0 ? Swift.min(declared, Self.maxVersionEntries) : Self.maxVersionEntries
    }

    /// Version needs: index (vna_other) → version and library.
    private mutating func readVersionNeeds(_ r: Region, declared: Int, _ tables: SymbolTables) -> [Int: NeededVersion] {
        var needed: [Int: NeededVersion] = [:]
        var chain = EntryChain(
            bytes, region: r, start: r.offset, entrySize: VerneedLayout.size,
            nextField: VerneedLayout.next, limit: versionLimit(declared: declared))
        while let entry = chain.next() {
            let at = entry.offset
            guard let count = bytes.u16(at + VerneedLayout.count), let file = bytes.u32(at + VerneedLayout.file),
                let aux = bytes.u32(at + VerneedLayout.aux)
            else { break }
            guard let library = symbolName(file, tables) else {
                facts.gaps.append(
                    Gap(
                        .versions,
                        "version need entry at offset \(at) names a library at string offset \(file), outside the string table"
                    ))
                return needed
            }
            var requirement = VersionRequirement(library: library, versions: [])
            var auxiliaries = EntryChain(
                bytes, region: r, start: at + Int(aux), entrySize: VernauxLayout.size,
                nextField: VernauxLayout.next, limit: Swift.min(Int(count), Self.maxVersionEntries))
            while let link = auxiliaries.next() {
                guard let flags = bytes.u16(link.offset + VernauxLayout.flags),
                    let other = bytes.u16(link.offset + VernauxLayout.other),
                    let nameOffset = bytes.u32(link.offset + VernauxLayout.name)
                else { break }
                guard let name = symbolName(nameOffset, tables) else {
                    facts.gaps.append(
                        Gap(
                            .versions,
                            "version name of \(library) at string offset \(nameOffset) is outside the string table"))
                    break
                }
                requirement.versions.append(VersionNeed(name: name, weak: flags & VersionFlag.weak != 0))
                needed[Int(other & VersionSymbol.indexMask)] = NeededVersion(name: name, library: library)
            }
            if let broken = auxiliaries.brokenAt {
                facts.gaps.append(
                    Gap(
                        .versions,
                        "version need aux \(broken.index) of \(library) at offset \(broken.offset) is outside .gnu.version_r or repeats"
                    ))
            }
            facts.versionRequirements.append(requirement)
        }
        if let broken = chain.brokenAt {
            facts.gaps.append(
                Gap(
                    .versions,
                    "version need entry \(broken.index) at offset \(broken.offset) is outside .gnu.version_r (\(r.size) bytes at \(r.offset)) or repeats"
                ))
        }
        return needed
    }

    /// Version definitions: index → name (the base entry names the file itself).
    private mutating func readVersionDefinitions(_ r: Region, declared: Int, _ tables: SymbolTables) -> [Int: String] {
        var defined: [Int: String] = [:]
        var chain = EntryChain(
            bytes, region: r, start: r.offset, entrySize: VerdefLayout.size,
            nextField: VerdefLayout.next, limit: versionLimit(declared: declared))
        while let entry = chain.next() {
            let at = entry.offset
            // The first Elf_Verdaux (vd_aux bytes on) names the version.
            guard let flags = bytes.u16(at + VerdefLayout.flags), let index = bytes.u16(at + VerdefLayout.index),
                let aux = bytes.u32(at + VerdefLayout.aux),
                let nameOffset = bytes.u32(at + Int(aux) + VerdauxLayout.name),
                at + Int(aux) + VerdauxLayout.size <= r.end,
                let name = symbolName(nameOffset, tables)
            else {
                facts.gaps.append(
                    Gap(
                        .versions,
                        "version definition \(entry.index) at offset \(at) is outside .gnu.version_d or repeats"))
                return defined
            }
            defined[Int(index & VersionSymbol.indexMask)] = name
            if flags & VersionFlag.base == 0 { facts.versionDefinitions.append(name) }
        }
        if let broken = chain.brokenAt {
            facts.gaps.append(
                Gap(
                    .versions,
                    "version definition \(broken.index) at offset \(broken.offset) is outside .gnu.version_d or repeats"
                ))
        }
        return defined
    }
}
