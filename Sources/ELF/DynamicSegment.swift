// The dynamic segment (PT_DYNAMIC, else the .dynamic section): its tags, the string table the loader reads
// names from, and the names it gives (NEEDED, SONAME, RPATH, RUNPATH).

extension FactsDecoder {
    struct Dynamic {
        var values: [Int64: UInt64] = [:]
        var needed: [UInt64] = []
        var rpath: [UInt64] = []
        var runpath: [UInt64] = []
        var strtab: Region?
        subscript(tag: Int64) -> UInt64? { values[tag] }
    }

    mutating func readDynamic(header: ProgramHeader?) -> Dynamic? {
        guard let (found, label) = dynamicRegion(header: header) else { return nil }
        guard let r = found, r.size > 0 else {
            facts.gaps.append(Gap(.dynamic, "\(label) is past the end of the file"))
            return nil
        }
        let (entries, sawNull) = dynamicEntries(in: r)
        var dyn = entries
        if !sawNull && r.size < (header.map { Int(clamping: $0.filesz) } ?? r.size) {
            facts.gaps.append(Gap(.dynamic, "\(label) is cut off by the end of the file"))
        }
        facts.flags = dyn[DynamicTag.flags] ?? 0
        facts.flags1 = dyn[DynamicTag.flags1] ?? 0
        dyn.strtab = dynamicStringTable(dyn)
        guard let strtab = dyn.strtab else {
            if dyn.values[DynamicTag.strtab] != nil || !dyn.needed.isEmpty {
                facts.gaps.append(
                    Gap(
                        .dynamic,
                        "dynamic string table (DT_STRTAB \(hex(dyn[DynamicTag.strtab] ?? 0))) is not in any loaded segment"
                    ))
            }
            return dyn
        }
        readDynamicNames(dyn, strtab: strtab)
        return dyn
    }

    /// Where the dynamic entries are, and how a gap names them; nil when the file has none.
    private func dynamicRegion(header: ProgramHeader?) -> (Region?, String)? {
        if let header {
            return (region(offset: header.offset, size: header.filesz), "PT_DYNAMIC at offset \(header.offset)")
        }
        if let s = section(type: SectionType.dynamic) {
            return (region(offset: s.offset, size: s.size), ".dynamic at offset \(s.offset)")
        }
        return nil
    }

    /// The entries up to DT_NULL (at most `maxDynamicEntries`); the first value of a tag counts, as in the
    /// loader, except the tags that may repeat.
    private func dynamicEntries(in r: Region) -> (Dynamic, sawNull: Bool) {
        var dyn = Dynamic()
        let entry = DynamicEntry.size(is64: is64)
        let count = Swift.min(r.size / entry, Self.maxDynamicEntries)
        for i in 0..<count {
            let at = r.offset + i * entry
            guard let rawTag = bytes.word(at, is64: is64), let value = bytes.word(at + entry / 2, is64: is64) else {
                break
            }
            let tag = is64 ? Int64(bitPattern: rawTag) : Int64(Int32(bitPattern: UInt32(truncatingIfNeeded: rawTag)))
            switch tag {
            case DynamicTag.null: return (dyn, true)
            case DynamicTag.needed: dyn.needed.append(value)
            case DynamicTag.rpath: dyn.rpath.append(value)
            case DynamicTag.runpath: dyn.runpath.append(value)
            default: if dyn.values[tag] == nil { dyn.values[tag] = value }
            }
        }
        return (dyn, false)
    }

    /// The string table as the loader finds it: DT_STRTAB (DT_STRSZ bounds the names, as readelf reads
    /// them: a name not ended within it is damage). The section .dynamic links to only when the dynamic
    /// segment names none.
    private func dynamicStringTable(_ dyn: Dynamic) -> Region? {
        if let address = dyn[DynamicTag.strtab] {
            return region(address: address, size: dyn[DynamicTag.strSize])
        }
        // sh_link counts the null section, which `layout.sections` leaves out.
        guard let s = section(type: SectionType.dynamic), s.link != 0,
            layout.sections.indices.contains(Int(s.link) - 1)
        else { return nil }
        let linked = layout.sections[Int(s.link) - 1]
        guard linked.type == SectionType.strtab else { return nil }
        return region(offset: linked.offset, size: linked.size)
    }

    private mutating func readDynamicNames(_ dyn: Dynamic, strtab: Region) {
        func string(_ offset: UInt64, _ what: String) -> String? {
            guard let o = Int(exactly: offset), o < strtab.size,
                let s = bytes.cString(strtab.offset + o, end: strtab.end)
            else {
                facts.gaps.append(
                    Gap(
                        .dynamic,
                        "\(what) name at string offset \(offset) is outside the dynamic string table (\(strtab.size) bytes at \(strtab.offset))"
                    ))
                return nil
            }
            return s
        }
        func searchPath(_ offsets: [UInt64], _ what: String) -> [String] {
            offsets.compactMap { string($0, what) }.flatMap {
                $0.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            }
        }
        facts.needed = dyn.needed.compactMap { string($0, "DT_NEEDED") }
        if let so = dyn[DynamicTag.soname] { facts.soname = string(so, "DT_SONAME") }
        facts.rpath = searchPath(dyn.rpath, "DT_RPATH")
        facts.runpath = searchPath(dyn.runpath, "DT_RUNPATH")
    }
}
