// Dynamic relocations as musl's loader processes them (ldso/dynlink.c, do_relocs): which symbols they name
// (musl looks a symbol up only for a relocation that names it), whether an IRELATIVE one exists, which
// symbols COPY relocations fill, and the initial-exec TLS ones (TPOFF kind).

/// The relocation numbers that decide loading on musl, for one machine: musl's arch/*/reloc.h maps its
/// REL_TPOFF, REL_TPOFF_NEG, REL_COPY and unsupported IRELATIVE to these (numbers from musl's include/elf.h,
/// https://git.musl-libc.org/cgit/musl/tree/include/elf.h?id=0784374d561435f7c787a555aeab8ede699ed298 (v1.2.5)).
struct RelocationKinds {
    var irelative: UInt32
    var copy: UInt32
    /// TPOFF kind: the offset of a variable from the thread pointer, valid only in static TLS.
    var tpoff: [UInt32]

    /// Relocations carry no type 0 work on any machine (R_*_NONE): musl skips them before any lookup.
    static let none: UInt32 = 0

    /// Nil for machines not listed, and for MIPS, whose imports are bound through the GOT
    /// (DT_MIPS_GOTSYM) rather than by relocations.
    static func of(_ machine: Machine, is64: Bool) -> RelocationKinds? {
        switch machine {
        case .x86_64: return RelocationKinds(irelative: 37, copy: 5, tpoff: [18])  // R_X86_64_TPOFF64
        // R_386_TLS_TPOFF, R_386_TLS_TPOFF32
        case .i386: return RelocationKinds(irelative: 42, copy: 5, tpoff: [14, 37])
        case .aarch64: return RelocationKinds(irelative: 1032, copy: 1024, tpoff: [1030])  // R_AARCH64_TLS_TPREL64
        case .arm: return RelocationKinds(irelative: 160, copy: 20, tpoff: [19])  // R_ARM_TLS_TPOFF32
        case .s390: return RelocationKinds(irelative: 61, copy: 9, tpoff: [56])  // R_390_TLS_TPOFF
        // R_PPC64_TPREL64, R_PPC_TPREL32
        case .ppc64, .ppc: return RelocationKinds(irelative: 248, copy: 19, tpoff: [73])
        case .riscv: return RelocationKinds(irelative: 58, copy: 4, tpoff: [is64 ? 11 : 10])  // R_RISCV_TLS_TPREL64/32
        // R_LARCH_TLS_TPREL64/32
        case .loongarch: return RelocationKinds(irelative: 12, copy: 4, tpoff: [is64 ? 11 : 10])
        default: return nil
        }
    }
}

/// What the dynamic relocations say about the symbols.
struct RelocationUse {
    /// Symbols COPY relocations fill from a library at load time.
    var copied = Set<Int>()
    /// Symbols some dynamic relocation (other than R_*_NONE) names, by index.
    var referenced: [Bool] = []
    /// False when it is not known which symbols relocations name (a machine not listed, a table cut off):
    /// every import then counts as looked up.
    var complete = true
    /// Symbol indexes of TPOFF-kind relocations; 0 stands for the file's own TLS block.
    var tpoffSymbols = Set<Int>()
    var tpoffCount = 0

    func references(_ index: Int) -> Bool { !complete || (index < referenced.count && referenced[index]) }
}

extension FactsDecoder {
    /// A table of relocations: where its entries are, whether they carry addends, what to call it in a gap.
    struct RelocationTable {
        var region: Region
        var rela: Bool
        var what: String
    }

    /// Reads DT_RELA, DT_REL and DT_JMPREL (RELR holds only relative relocations, which name no symbol).
    /// `capacity`: how many symbols the dynamic symbol table can hold (nil: there is none); a relocation
    /// naming one past it makes the references unknown.
    mutating func readRelocations(dynamic: Dynamic?, capacity: Int?) -> RelocationUse {
        var use = RelocationUse()
        let kinds = RelocationKinds.of(facts.machine, is64: is64)
        if kinds == nil { use.complete = false }
        var tables: [RelocationTable] = []
        if let dynamic {
            let rela = dynamic[DynamicTag.pltRel] == UInt64(DynamicTag.rela)
            for (address, size, count, isRela, what) in [
                (DynamicTag.rela, DynamicTag.relaSize, DynamicTag.relaCount as Int64?, true, "DT_RELA"),
                (DynamicTag.rel, DynamicTag.relSize, DynamicTag.relCount, false, "DT_REL"),
                (DynamicTag.jmpRel, DynamicTag.pltRelSize, nil, rela, "DT_JMPREL"),
            ] {
                if let table = dynamicRelocationTable(
                    dynamic, address, size, count: count, rela: isRela, what, use: &use)
                {
                    tables.append(table)
                }
            }
        } else {
            // A static binary: its own IRELATIVE table (glibc's static startup resolves these itself).
            for s in layout.sections
            where (s.type == SectionType.rela || s.type == SectionType.rel) && s.flags & SectionFlag.alloc != 0 {
                if let r = region(offset: s.offset, size: s.size) {
                    tables.append(RelocationTable(region: r, rela: s.type == SectionType.rela, what: s.name))
                }
            }
        }
        var outside = 0
        for table in tables {
            readRelocationEntries(table, kinds: kinds, capacity: capacity, use: &use, outside: &outside)
        }
        if outside > 0 {
            facts.gaps.append(
                Gap(
                    .relocations,
                    "\(outside) dynamic relocations name symbols past the end of the dynamic symbol table (\(capacity ?? 0) entries)"
                ))
            use.complete = false
        }
        return use
    }

    /// One table as the loader sees it. DT_RELACOUNT/DT_RELCOUNT count the leading R_*_RELATIVE entries,
    /// which are most of a large library's relocations: they are skipped unread.
    private mutating func dynamicRelocationTable(
        _ dynamic: Dynamic, _ address: Int64, _ size: Int64, count: Int64?, rela: Bool,
        _ what: String, use: inout RelocationUse
    ) -> RelocationTable? {
        guard let a = dynamic[address] else { return nil }
        let declared = dynamic[size] ?? 0
        guard var r = region(address: a, size: declared) else {
            if declared > 0 {
                facts.gaps.append(Gap(.relocations, "\(what) \(hex(a)) is not in any loaded segment"))
                use.complete = false
            }
            return nil
        }
        if UInt64(r.size) < declared {
            facts.gaps.append(
                Gap(
                    .relocations,
                    "\(what) (\(declared) bytes) is cut off by the end of its segment or the file after \(r.size) bytes"
                ))
            use.complete = false
        }
        if let count {
            let entry = RelocationEntry.size(is64: is64, rela: rela)
            let skip = min(dynamic[count] ?? 0, UInt64(r.size / entry)).multipliedReportingOverflow(by: UInt64(entry))
                .partialValue.clampedInt
            r = Region(offset: r.offset + min(skip, r.size), size: r.size - min(skip, r.size))
        }
        return RelocationTable(region: r, rela: rela, what: what)
    }

    /// The symbols a table's relocations name and what their kinds say (IRELATIVE, COPY, TPOFF).
    private mutating func readRelocationEntries(
        _ table: RelocationTable, kinds: RelocationKinds?, capacity: Int?,
        use: inout RelocationUse, outside: inout Int
    ) {
        let infoOffset = RelocationEntry.infoOffset(is64: is64)
        let entry = RelocationEntry.size(is64: is64, rela: table.rela)
        let r = table.region
        var at = r.offset
        var round = 0
        while at + entry <= r.end {
            round += 1
            if timeUp(round) { break }
            guard let info = bytes.word(at + infoOffset, is64: is64) else { break }
            at += entry
            let type = RelocationEntry.type(info, is64: is64)
            if type == RelocationKinds.none { continue }
            let symbol = RelocationEntry.symbol(info, is64: is64)
            if let kinds {
                if type == kinds.irelative { facts.hasIRelative = true }
                if type == kinds.copy { use.copied.insert(symbol) }
                if kinds.tpoff.contains(type) {
                    use.tpoffSymbols.insert(symbol)
                    use.tpoffCount += 1
                }
            }
            guard symbol > 0, let capacity else { continue }
            guard symbol < capacity else {
                outside += 1
                continue
            }
            if symbol >= use.referenced.count {
                // Grown to the highest index seen: most files name most of their symbols.
                use.referenced += repeatElement(false, count: symbol + 1 - use.referenced.count)
            }
            use.referenced[symbol] = true
        }
    }
}
