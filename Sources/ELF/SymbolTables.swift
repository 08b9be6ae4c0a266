// Where the dynamic symbols, their names and their versions are: found as the loader finds them, through
// the dynamic segment (DT_SYMTAB, DT_STRTAB, DT_HASH/DT_GNU_HASH for the count, DT_VERSYM, DT_VERNEED,
// DT_VERDEF). Section headers are not loaded and the loader never reads them: they are used only when the
// dynamic segment does not say, and where they say something else, that is recorded as a gap, because a
// decoy .dynsym or .dynstr is how a file would hide its imports from a tool that trusts sections.

struct SymbolTables {
    var symbols: Region
    var entrySize: Int
    var count: Int
    var strings: Region
    var versym: Region?
    var verneed: (Region, Int)?
    var verdef: (Region, Int)?
    /// How many symbols fit in the file from `symbols.offset` on: relocations may name symbols up to here.
    var capacity: Int
    /// The section headers' count of the same table, when they describe one at the same place.
    var sectionCount: Int?
    /// For the section headers' view: whether the whole table they describe is in the file.
    var whole = true
}

extension FactsDecoder {
    mutating func symbolTables(dynamic: Dynamic?) -> SymbolTables? {
        let gapsBefore = facts.gaps.count
        let fromSections = sectionSymbolTables()
        guard let dynamic, dynamic[DynamicTag.symtab] != nil, dynamic.strtab != nil else {
            return fromSections
        }
        // Read through the dynamic segment: damage in the section headers' tables no longer decides anything
        // (a gap in the sections, not in the symbols or versions).
        let sectionGaps = facts.gaps[gapsBefore...].map { Gap(.sections, "section headers: " + $0.message) }
        facts.gaps.removeSubrange(gapsBefore...)
        facts.gaps += sectionGaps
        guard var loaded = dynamicSymbolTables(dynamic, sections: fromSections) else { return nil }
        if let fromSections {
            compare(loaded: loaded, sections: fromSections, strSize: dynamic[DynamicTag.strSize])
            if fromSections.symbols.offset == loaded.symbols.offset {
                loaded.sectionCount = fromSections.count
                // A GNU hash table counts only as far as its last hashed symbol; undefined symbols after it
                // (which aarch64 linkers leave unhashed) are in .dynsym all the same.
                if fromSections.whole, fromSections.count > loaded.count {
                    loaded.count = Swift.min(fromSections.count, loaded.capacity)
                }
            }
        }
        return loaded
    }

    /// The loader's view. A table the dynamic segment names but no loaded segment holds is a gap in the
    /// symbols: the file cannot be judged (the loader itself would fail or crash on it).
    private mutating func dynamicSymbolTables(_ dynamic: Dynamic, sections: SymbolTables?) -> SymbolTables? {
        guard let symtab = dynamic[DynamicTag.symtab], let strings = dynamic.strtab else { return nil }
        let entrySize = symbolEntrySize
        guard let symbols = region(address: symtab) else {
            facts.gaps.append(Gap(.symbols, "DT_SYMTAB \(hex(symtab)) is not in any loaded segment"))
            return nil
        }
        let capacity = Swift.min(symbols.size / entrySize, Self.maxSymbols)
        var count: Int
        if let counted = symbolCount(dynamic: dynamic) {
            count = Swift.min(counted, Self.maxSymbols)
            if count > capacity {
                facts.gaps.append(
                    Gap(
                        .symbols,
                        "the hash table counts \(counted) dynamic symbols but only \(symbols.size / entrySize) fit in the file"
                    ))
                count = capacity
            }
        } else if let sections, sections.symbols.offset == symbols.offset {
            // No hash table (the loader then binds by relocation alone): the section says how many there are.
            count = Swift.min(sections.count, capacity)
        } else {
            facts.gaps.append(Gap(.symbols, "no usable DT_HASH or DT_GNU_HASH to count the dynamic symbols"))
            return nil
        }
        var tables = SymbolTables(
            symbols: symbols, entrySize: entrySize, count: count, strings: strings, capacity: capacity)
        if let a = dynamic[DynamicTag.versym] {
            tables.versym = region(address: a, size: UInt64(capacity * VersionSymbol.size))
            if tables.versym == nil {
                facts.gaps.append(Gap(.versions, "DT_VERSYM \(hex(a)) is not in any loaded segment"))
            }
        }
        if let a = dynamic[DynamicTag.verneed] {
            if let r = region(address: a) {
                tables.verneed = (r, Int(clamping: dynamic[DynamicTag.verneedNum] ?? 0))
            } else {
                facts.gaps.append(Gap(.versions, "DT_VERNEED \(hex(a)) is not in any loaded segment"))
            }
        }
        if let a = dynamic[DynamicTag.verdef] {
            if let r = region(address: a) {
                tables.verdef = (r, Int(clamping: dynamic[DynamicTag.verdefNum] ?? 0))
            } else {
                facts.gaps.append(Gap(.versions, "DT_VERDEF \(hex(a)) is not in any loaded segment"))
            }
        }
        return tables
    }

    /// The section headers' view: .dynsym and the string table it links to, .gnu.version, .gnu.version_r
    /// and .gnu.version_d. Nil when there is no usable .dynsym.
    private mutating func sectionSymbolTables() -> SymbolTables? {
        let entrySize = symbolEntrySize
        guard let sym = section(type: SectionType.dynsym) else { return nil }
        let linkIndex = Int(sym.link) - 1
        guard sym.entsize == UInt64(entrySize), layout.sections.indices.contains(linkIndex),
            let r = region(offset: sym.offset, size: sym.size),
            let strings = region(offset: layout.sections[linkIndex].offset, size: layout.sections[linkIndex].size)
        else {
            facts.gaps.append(
                Gap(
                    .sections,
                    ".dynsym section header is inconsistent (entsize \(sym.entsize), link \(sym.link)); read through the dynamic segment instead"
                ))
            return nil
        }
        if r.size < Int(clamping: sym.size) {
            facts.gaps.append(
                Gap(
                    .symbols,
                    ".dynsym (\(sym.size) bytes at offset \(sym.offset)) runs past the end of the file; \(r.size / entrySize) symbols read"
                ))
        }
        let count = Swift.min(r.size / entrySize, Self.maxSymbols)
        var tables = SymbolTables(symbols: r, entrySize: entrySize, count: count, strings: strings, capacity: count)
        tables.whole = r.size == Int(clamping: sym.size) && count == r.size / entrySize
        if let s = section(type: SectionType.gnuVersym) {
            if let v = region(offset: s.offset, size: s.size) {
                tables.versym = v
                if v.size < Int(clamping: s.size) {
                    facts.gaps.append(
                        Gap(
                            .versions,
                            ".gnu.version (\(s.size) bytes at offset \(s.offset)) runs past the end of the file"))
                }
            } else {
                facts.gaps.append(Gap(.versions, ".gnu.version at offset \(s.offset) is past the end of the file"))
            }
        }
        if let s = section(type: SectionType.gnuVerneed) {
            if let v = region(offset: s.offset, size: s.size) {
                tables.verneed = (v, Int(s.info))
            } else {
                facts.gaps.append(Gap(.versions, ".gnu.version_r at offset \(s.offset) is past the end of the file"))
            }
        }
        if let s = section(type: SectionType.gnuVerdef) {
            if let v = region(offset: s.offset, size: s.size) {
                tables.verdef = (v, Int(s.info))
            } else {
                facts.gaps.append(Gap(.versions, ".gnu.version_d at offset \(s.offset) is past the end of the file"))
            }
        }
        return tables
    }

    /// Records where the section headers describe other tables than the dynamic segment does. The facts
    /// stay the loader's; the gap tells the reader of the report that the file's two views differ.
    private mutating func compare(loaded: SymbolTables, sections: SymbolTables, strSize: UInt64?) {
        var differences: [String] = []
        if loaded.symbols.offset != sections.symbols.offset {
            differences.append(".dynsym at offset \(sections.symbols.offset), DT_SYMTAB at \(loaded.symbols.offset)")
        }
        if loaded.strings.offset != sections.strings.offset {
            differences.append(".dynstr at offset \(sections.strings.offset), DT_STRTAB at \(loaded.strings.offset)")
        } else if let strSize, UInt64(sections.strings.size) != strSize {
            differences.append(".dynstr is \(sections.strings.size) bytes, DT_STRSZ \(strSize)")
        }
        if let a = loaded.versym, let b = sections.versym, a.offset != b.offset {
            differences.append(".gnu.version at offset \(b.offset), DT_VERSYM at \(a.offset)")
        } else if (loaded.versym == nil) != (sections.versym == nil) {
            differences.append(
                loaded.versym == nil ? ".gnu.version without DT_VERSYM" : "DT_VERSYM without .gnu.version")
        }
        if let (a, _) = loaded.verneed, let (b, _) = sections.verneed, a.offset != b.offset {
            differences.append(".gnu.version_r at offset \(b.offset), DT_VERNEED at \(a.offset)")
        } else if (loaded.verneed == nil) != (sections.verneed == nil) {
            differences.append(
                loaded.verneed == nil ? ".gnu.version_r without DT_VERNEED" : "DT_VERNEED without .gnu.version_r")
        }
        recordDisagreement(differences)
    }

    /// The symbols the loader reads (`count`: the hash table's, or as far as relocations name them) against
    /// the section's count. A GNU hash table counts only up to its last hashed symbol, so a longer .dynsym is
    /// normal; a shorter one hides symbols the loader reads.
    mutating func compareCount(_ tables: SymbolTables) {
        guard let sectionCount = tables.sectionCount, sectionCount < tables.count else { return }
        recordDisagreement([".dynsym holds \(sectionCount) symbols, the loader reads \(tables.count)"])
    }

    private mutating func recordDisagreement(_ differences: [String]) {
        guard !differences.isEmpty else { return }
        facts.gaps.append(
            Gap(
                .sectionsDisagree,
                "section headers disagree with the dynamic segment (" + differences.joined(separator: "; ")
                    + "); read as the loader reads it, through the dynamic segment"))
    }

    /// The number of dynamic symbols: DT_HASH's nchain, else the highest index DT_GNU_HASH reaches.
    private func symbolCount(dynamic: Dynamic) -> Int? {
        if let a = dynamic[DynamicTag.hash], let r = region(address: a), r.size >= HashLayout.sysvHeaderSize,
            let nchain = bytes.u32(r.offset + HashLayout.sysvChainCount)
        {
            return Int(nchain)
        }
        guard let a = dynamic[DynamicTag.gnuHash], let r = region(address: a),
            let nbuckets = bytes.u32(r.offset), let symoffset = bytes.u32(r.offset + HashLayout.gnuSymbolOffset),
            let bloomSize = bytes.u32(r.offset + HashLayout.gnuBloomSize)
        else { return nil }
        // bloom words are address-sized
        let buckets = r.offset + HashLayout.gnuHeaderSize + Int(bloomSize) * (is64 ? 8 : 4)
        guard buckets <= r.end, Int(nbuckets) <= (r.end - buckets) / 4 else { return nil }
        var highest: UInt32 = 0
        for i in 0..<Int(nbuckets) {
            guard let b = bytes.u32(buckets + 4 * i) else { return nil }
            highest = Swift.max(highest, b)
        }
        if highest < symoffset { return Int(symoffset) }
        let chains = buckets + 4 * Int(nbuckets)
        var index = Int(highest)
        while index - Int(symoffset) < Self.maxSymbols {
            let at = chains + 4 * (index - Int(symoffset))
            guard at + 4 <= r.end, let value = bytes.u32(at) else { return nil }
            if value & 1 != 0 { return index + 1 }
            index += 1
        }
        return nil
    }
}
