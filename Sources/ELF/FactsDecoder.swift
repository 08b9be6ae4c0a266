#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
// Decodes the dynamic segment, dynamic symbols, symbol versions, notes, relocations and Go build info
// from the raw file image. Section headers are used when present and sane; otherwise everything is
// found through the program headers and the dynamic segment, as the loader itself does.
// Every offset is checked against the image, every chain has a cap and stops on repeats.

/// Bounds-checked, byte-order-aware reads from the mapped file.
struct Bytes {
    let raw: UnsafeRawBufferPointer
    let big: Bool
    var count: Int { raw.count }

    func u8(_ at: Int) -> UInt8? {
        guard at >= 0, at < raw.count else { return nil }
        return raw[at]
    }
    func u16(_ at: Int) -> UInt16? {
        guard at >= 0, at <= raw.count - 2 else { return nil }
        let v = raw.loadUnaligned(fromByteOffset: at, as: UInt16.self)
        return big ? UInt16(bigEndian: v) : UInt16(littleEndian: v)
    }
    func u32(_ at: Int) -> UInt32? {
        guard at >= 0, at <= raw.count - 4 else { return nil }
        let v = raw.loadUnaligned(fromByteOffset: at, as: UInt32.self)
        return big ? UInt32(bigEndian: v) : UInt32(littleEndian: v)
    }
    func u64(_ at: Int) -> UInt64? {
        guard at >= 0, at <= raw.count - 8 else { return nil }
        let v = raw.loadUnaligned(fromByteOffset: at, as: UInt64.self)
        return big ? UInt64(bigEndian: v) : UInt64(littleEndian: v)
    }
    /// An address-sized word.
    func word(_ at: Int, is64: Bool) -> UInt64? { is64 ? u64(at) : u32(at).map(UInt64.init) }

    /// The NUL-terminated string at `at`, which must end before `end`; nil when it does not.
    func cString(_ at: Int, end: Int) -> String? {
        let limit = Swift.min(end, raw.count)
        guard at >= 0, at < limit, let base = raw.baseAddress else { return nil }
        guard let nul = memchr(base + at, 0, limit - at) else { return nil }
        let length = UnsafeRawPointer(nul) - (base + at)
        return String(decoding: UnsafeRawBufferPointer(start: base + at, count: length), as: UTF8.self)
    }
}

/// A stretch of the file: where a table starts and how many bytes of it the file really holds.
struct Region {
    var offset: Int
    var size: Int
    var end: Int { offset + size }
}

struct FactsDecoder {
    let layout: ELFLayout
    let bytes: Bytes
    let options: ReadOptions
    var facts: BinaryFacts

    // Caps on counts that come from the file.
    static let maxDynamicEntries = 1 << 16
    static let maxSymbols = 1 << 22
    /// Real programs import a few thousand symbols; past this a file is pathological, and keeping every
    /// name (4 million took 1.5 GB in one run) is refused rather than truncated.
    static let maxImports = 1 << 18
    static let maxVersionEntries = 1 << 12
    static let maxNotes = 1 << 10

    /// The image is a private mapping of the file: pages a long search has passed can be given back.
    let fileMapped: Bool

    init(layout: ELFLayout, raw: UnsafeRawBufferPointer, options: ReadOptions, fileMapped: Bool = false) {
        self.fileMapped = fileMapped
        self.layout = layout
        self.bytes = Bytes(raw: raw, big: layout.bigEndian)
        self.options = options
        facts = BinaryFacts(is64: layout.is64, bigEndian: layout.bigEndian, machine: Machine(rawValue: layout.machine),
                            type: FileType(rawValue: layout.type), osABI: layout.osABI, entry: layout.entry)
        facts.gaps = layout.gaps
        facts.hasSectionHeaders = !layout.sections.isEmpty
    }

    func decode() -> ReadResult {
        var decoder = self
        decoder.run()
        if decoder.stopped, let deadline = options.deadline { return .failed(deadline.message) }
        if decoder.tooManyImports {
            return .failed("more than \(Self.maxImports) undefined dynamic symbols (a cap against pathological files); not judged")
        }
        return .elf(decoder.facts)
    }

    /// Set when the deadline passed inside a loop: the facts are then incomplete and must not be used.
    var stopped = false
    /// Set when a file imports more than `maxImports` symbols: refused, never judged on a partial list.
    var tooManyImports = false

    /// Asked every 4096 rounds of a loop over file-controlled counts.
    mutating func timeUp(_ round: Int) -> Bool {
        if stopped { return true }
        guard round & 0xFFF == 0, let deadline = options.deadline, deadline.passed else { return false }
        stopped = true
        return true
    }

    var is64: Bool { layout.is64 }

    /// The file region holding the bytes at a virtual address, clipped to the file and its segment.
    func region(address: UInt64, size: UInt64? = nil) -> Region? {
        for ph in layout.programHeaders where ph.type == 1 /* PT_LOAD */ {
            guard address >= ph.vaddr, address - ph.vaddr < ph.filesz else { continue }
            let delta = address - ph.vaddr
            guard let o = Int(exactly: ph.offset), let d = Int(exactly: delta) else { return nil }
            let (start, overflow) = o.addingReportingOverflow(d)
            guard !overflow, start <= bytes.count else { return nil }
            var available = Swift.min(UInt64(bytes.count - start), ph.filesz - delta)
            if let size { available = Swift.min(available, size) }
            return Region(offset: start, size: Int(available))
        }
        return nil
    }

    /// A region given by a file offset and size, clipped to the file; nil when it starts outside.
    func region(offset: UInt64, size: UInt64) -> Region? {
        guard let start = Int(exactly: offset), start <= bytes.count else { return nil }
        return Region(offset: start, size: Int(Swift.min(size, UInt64(bytes.count - start))))
    }

    func section(type: UInt32) -> SectionHeader? { layout.sections.first { $0.type == type } }
    func section(named name: String) -> SectionHeader? { layout.sections.first { $0.name == name } }

    // MARK: - The steps

    private mutating func run() {
        var dynamicHeader: ProgramHeader?
        var notes: [(Region, Int)] = []
        if isSeparateDebugFile {
            // Only its notes (the build ID it belongs to) are real: the rest of its headers describe bytes
            // that are not in the file.
            facts.isSeparateDebugFile = true
            readNotes(layout.programHeaders.filter { $0.type == SegmentType.note && $0.filesz > 0 }
                .compactMap { region(offset: $0.offset, size: $0.filesz) })
            return
        }
        for ph in layout.programHeaders {
            switch ph.type {
            case SegmentType.interp:
                if let r = region(offset: ph.offset, size: ph.filesz) {
                    facts.interpreter = bytes.cString(r.offset, end: r.end)
                        ?? String(decoding: UnsafeRawBufferPointer(rebasing: bytes.raw[r.offset..<r.end]), as: UTF8.self)
                } else {
                    facts.gaps.append(Gap(.dynamic, "PT_INTERP at offset \(ph.offset) is past the end of the file"))
                }
            case SegmentType.dynamic: dynamicHeader = ph
            case SegmentType.note: if let r = region(offset: ph.offset, size: ph.filesz) { notes.append((r, 4)) }
            case SegmentType.tls: facts.hasTLS = true
            case SegmentType.gnuStack: facts.stackFlags = ph.flags; facts.stackSize = ph.memsz
            default: break
            }
        }
        let dynamic = readDynamic(header: dynamicHeader)
        var tables = symbolTables(dynamic: dynamic)
        let relocations = readRelocations(dynamic: dynamic, capacity: tables?.capacity)
        if var t = tables {
            // The loader reads every symbol a relocation names, wherever the hash table says the table ends.
            if relocations.referenced.count > t.count { t.count = Swift.min(relocations.referenced.count, t.capacity) }
            compareCount(t)
            tables = t
            readSymbols(t, relocations: relocations)
        }
        readInitialExecTLS(relocations, tables: tables)
        facts.linkage = linkage(hasDynamic: dynamic != nil)
        if notes.isEmpty {
            notes = layout.sections.filter { $0.type == SectionType.note }
                .compactMap { s in region(offset: s.offset, size: s.size).map { ($0, 4) } }
        }
        readNotes(notes.map(\.0))
        readComments()
        readGoBuildInfo()
        if facts.isGo { findGoUses() }
        // Rust programs for *-linux-gnu link libgcc_s without libstdc++ and often carry no .comment;
        // their panic runtime always names RUST_BACKTRACE. Only such files are searched.
        facts.hasRustRuntime = facts.comments.contains { $0.hasPrefix("rustc version") }
            || (facts.needed.contains("libgcc_s.so.1") && !facts.needed.contains("libstdc++.so.6") && contains("RUST_BACKTRACE"))
        if let tables, wantsKindMarkers { readKindMarkers(tables) }
    }

    /// The loader's view of a separate debug file: code segments (PT_LOAD with PF_X) that take memory but
    /// have no bytes in the file, and a dynamic segment (if any) with none either. No loadable program
    /// looks like this: without its code bytes nothing could run.
    var isSeparateDebugFile: Bool {
        let code = layout.programHeaders.filter { $0.type == SegmentType.load && $0.flags & SegmentFlag.execute != 0 }
        guard code.contains(where: { $0.memsz > 0 }), code.allSatisfy({ $0.filesz == 0 }) else { return false }
        return layout.programHeaders.allSatisfy { $0.type != SegmentType.dynamic || $0.filesz == 0 }
    }

    /// The file bytes the loader maps (PT_LOAD), merged and in order; the whole file when none are named.
    /// Trailing bytes no segment covers (a sparse tail of gigabytes) are never searched.
    private var loadedRegions: [Region] {
        var ranges: [(Int, Int)] = []
        for ph in layout.programHeaders where ph.type == SegmentType.load && ph.filesz > 0 {
            if let r = region(offset: ph.offset, size: ph.filesz), r.size > 0 { ranges.append((r.offset, r.end)) }
        }
        guard !ranges.isEmpty else { return [Region(offset: 0, size: bytes.count)] }
        ranges.sort { $0.0 < $1.0 }
        var merged: [(Int, Int)] = []
        for (start, end) in ranges {
            if let last = merged.last, start <= last.1 { merged[merged.count - 1].1 = Swift.max(last.1, end) }
            else { merged.append((start, end)) }
        }
        return merged.map { Region(offset: $0.0, size: $0.1 - $0.0) }
    }

    /// Searched at a time; in a file mapping, the pages of a searched stretch are then given back, so that
    /// a search through a huge (or sparse) file does not keep it all resident.
    static let searchChunk = 4 << 20

    /// Whether `marker` occurs in `within` (default: the bytes the loader maps). The scan jumps between
    /// occurrences of the marker's rarest-looking byte ('/', '_', '.' or a capital), not its first letter:
    /// in the large Go files searched here a common first letter made this the costliest step of reading.
    private mutating func contains(_ marker: String, within: Region? = nil) -> Bool {
        let needle = Array(marker.utf8)
        guard !needle.isEmpty else { return false }
        for r in within.map({ [$0] }) ?? loadedRegions {
            guard r.offset >= 0, r.size >= 0, r.offset <= bytes.count, r.size <= bytes.count - r.offset else { continue }
            var chunkStart = r.offset
            while chunkStart < r.end {
                // Chunks overlap by the needle's length less one, so no occurrence falls between two.
                let chunkEnd = Swift.min(r.end, chunkStart + Self.searchChunk)
                if search(needle, in: Region(offset: chunkStart, size: chunkEnd - chunkStart)) { return true }
                if stopped { return false }
                if chunkEnd == r.end { break }
                release(from: chunkStart, to: chunkEnd - needle.count)
                chunkStart = chunkEnd - (needle.count - 1)
            }
        }
        return false
    }

    /// Gives back the resident pages of a mapped file's stretch (they are read again from the file if
    /// touched later: the mapping is private and this code never writes to it).
    private func release(from start: Int, to end: Int) {
        guard fileMapped, let base = bytes.raw.baseAddress else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        guard page > 0 else { return }
        let first = (start + page - 1) / page * page, last = end / page * page
        guard last > first, Int(bitPattern: base) % page == 0 else { return }
        _ = madvise(UnsafeMutableRawPointer(mutating: base + first), last - first, MADV_DONTNEED)
    }

    private mutating func search(_ needle: [UInt8], in r: Region) -> Bool {
        guard let base = bytes.raw.baseAddress, needle.count <= r.size else { return false }
        let anchor = needle.firstIndex { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "_") }
            ?? needle.firstIndex { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }
            ?? needle.firstIndex(of: UInt8(ascii: ".")) ?? 0
        var found = false, gaveUp = false
        let deadline = options.deadline
        let last = r.offset + r.size - (needle.count - anchor)  // the last position the anchor byte can take
        needle.withUnsafeBytes { n in
            guard let nb = n.baseAddress else { return }
            var at = r.offset + anchor, round = 0
            while at <= last, let hit = memchr(base + at, Int32(needle[anchor]), last - at + 1) {
                let pos = UnsafeRawPointer(hit) - base
                if memcmp(base + (pos - anchor), nb, needle.count) == 0 { found = true; return }
                at = pos + 1
                round += 1
                if round & 0xFFF == 0, deadline?.passed == true { gaveUp = true; return }
            }
        }
        if gaveUp { stopped = true }
        return found
    }

    /// Go keeps function names in .gopclntab even when stripped, so a package's use shows as its name.
    private mutating func findGoUses() {
        let table = section(named: ".gopclntab").flatMap { region(offset: $0.offset, size: $0.size) }
        for (marker, use) in [("crypto/tls.", "crypto/tls"), ("time.LoadLocation", "time.LoadLocation"), ("os/user.", "os/user")]
        where contains(marker, within: table) {
            facts.goUses.append(use)
        }
    }

    // MARK: Dynamic segment

    struct Dynamic {
        var values: [Int64: UInt64] = [:]
        var needed: [UInt64] = []
        var rpath: [UInt64] = []
        var runpath: [UInt64] = []
        var strtab: Region?
        subscript(tag: Int64) -> UInt64? { values[tag] }
    }

    private mutating func readDynamic(header: ProgramHeader?) -> Dynamic? {
        var where_: Region?
        var label = ""
        if let header {
            where_ = region(offset: header.offset, size: header.filesz)
            label = "PT_DYNAMIC at offset \(header.offset)"
        } else if let s = section(type: 6 /* SHT_DYNAMIC */) {
            where_ = region(offset: s.offset, size: s.size)
            label = ".dynamic at offset \(s.offset)"
        } else {
            return nil
        }
        guard let r = where_, r.size > 0 else {
            facts.gaps.append(Gap(.dynamic, "\(label) is past the end of the file"))
            return nil
        }
        var dyn = Dynamic()
        let entry = is64 ? 16 : 8
        let count = Swift.min(r.size / entry, Self.maxDynamicEntries)
        var sawNull = false
        for i in 0..<count {
            let at = r.offset + i * entry
            guard let rawTag = bytes.word(at, is64: is64), let value = bytes.word(at + entry / 2, is64: is64) else { break }
            let tag = is64 ? Int64(bitPattern: rawTag) : Int64(Int32(bitPattern: UInt32(truncatingIfNeeded: rawTag)))
            if tag == 0 { sawNull = true; break }
            switch tag {
            case 1: dyn.needed.append(value)
            case 15: dyn.rpath.append(value)
            case 29: dyn.runpath.append(value)
            default: if dyn.values[tag] == nil { dyn.values[tag] = value }
            }
        }
        if !sawNull && r.size < (header.map { Int(clamping: $0.filesz) } ?? r.size) {
            facts.gaps.append(Gap(.dynamic, "\(label) is cut off by the end of the file"))
        }
        facts.flags = dyn[30] ?? 0
        facts.flags1 = dyn[0x6fff_fffb] ?? 0

        // The string table as the loader finds it: DT_STRTAB (DT_STRSZ bounds the names, as readelf reads
        // them: a name not ended within it is damage). The section .dynamic links to only when the dynamic
        // segment names none.
        if let address = dyn[DynamicTag.strtab] {
            dyn.strtab = region(address: address, size: dyn[DynamicTag.strSize])
        } else if let s = section(type: SectionType.dynamic), s.link != 0,
                  let linked = layout.sections.indices.contains(Int(s.link) - 1) ? layout.sections[Int(s.link) - 1] : nil,
                  linked.type == SectionType.strtab, let r = region(offset: linked.offset, size: linked.size) {
            dyn.strtab = r
        }
        guard let strtab = dyn.strtab else {
            if dyn.values[DynamicTag.strtab] != nil || !dyn.needed.isEmpty {
                facts.gaps.append(Gap(.dynamic, "dynamic string table (DT_STRTAB \(hex(dyn[DynamicTag.strtab] ?? 0))) is not in any loaded segment"))
            }
            return dyn
        }
        func string(_ offset: UInt64, _ what: String) -> String? {
            guard let o = Int(exactly: offset), o < strtab.size, let s = bytes.cString(strtab.offset + o, end: strtab.end) else {
                facts.gaps.append(Gap(.dynamic, "\(what) name at string offset \(offset) is outside the dynamic string table (\(strtab.size) bytes at \(strtab.offset))"))
                return nil
            }
            return s
        }
        facts.needed = dyn.needed.compactMap { string($0, "DT_NEEDED") }
        if let so = dyn[14] { facts.soname = string(so, "DT_SONAME") }
        facts.rpath = dyn.rpath.compactMap { string($0, "DT_RPATH") }.flatMap { $0.split(separator: ":", omittingEmptySubsequences: false).map(String.init) }
        facts.runpath = dyn.runpath.compactMap { string($0, "DT_RUNPATH") }.flatMap { $0.split(separator: ":", omittingEmptySubsequences: false).map(String.init) }
        return dyn
    }

    // MARK: Symbols and versions

    private struct NeededVersion { var name: String; var library: String }

    private mutating func readSymbols(_ tables: SymbolTables, relocations: RelocationUse) {
        let stringEnd = tables.strings.end
        func string(_ offset: UInt32) -> String? {
            let o = Int(offset)
            guard o < tables.strings.size else { return nil }
            return bytes.cString(tables.strings.offset + o, end: stringEnd)
        }

        // Version needs: index (vna_other) → version and library.
        var needed: [Int: NeededVersion] = [:]
        if let (r, declared) = tables.verneed {
            var at = r.offset
            var seen = Set<Int>()
            var entries = 0
            let limit = declared > 0 ? Swift.min(declared, Self.maxVersionEntries) : Self.maxVersionEntries
            while entries < limit {
                guard at + 16 <= r.end, seen.insert(at).inserted,
                      let cnt = bytes.u16(at + 2), let file = bytes.u32(at + 4),
                      let aux = bytes.u32(at + 8), let next = bytes.u32(at + 12) else {
                    facts.gaps.append(Gap(.versions, "version need entry \(entries) at offset \(at) is outside .gnu.version_r (\(r.size) bytes at \(r.offset)) or repeats"))
                    break
                }
                guard let library = string(file) else {
                    facts.gaps.append(Gap(.versions, "version need entry at offset \(at) names a library at string offset \(file), outside the string table"))
                    break
                }
                var requirement = VersionRequirement(library: library, versions: [])
                var auxAt = at + Int(aux)
                var auxSeen = Set<Int>()
                for auxIndex in 0..<Swift.min(Int(cnt), Self.maxVersionEntries) {
                    guard auxAt + 16 <= r.end, auxAt >= r.offset, auxSeen.insert(auxAt).inserted,
                          let flags = bytes.u16(auxAt + 4), let other = bytes.u16(auxAt + 6),
                          let nameOffset = bytes.u32(auxAt + 8), let auxNext = bytes.u32(auxAt + 12) else {
                        facts.gaps.append(Gap(.versions, "version need aux \(auxIndex) of \(library) at offset \(auxAt) is outside .gnu.version_r or repeats"))
                        break
                    }
                    guard let name = string(nameOffset) else {
                        facts.gaps.append(Gap(.versions, "version name of \(library) at string offset \(nameOffset) is outside the string table"))
                        break
                    }
                    requirement.versions.append(VersionNeed(name: name, weak: flags & 0x2 != 0))
                    needed[Int(other & 0x7fff)] = NeededVersion(name: name, library: library)
                    if auxNext == 0 { break }
                    auxAt += Int(auxNext)
                }
                facts.versionRequirements.append(requirement)
                entries += 1
                if next == 0 { break }
                at += Int(next)
            }
        }

        // Version definitions: index → name (the base entry names the file itself).
        var defined: [Int: String] = [:]
        if let (r, declared) = tables.verdef {
            var at = r.offset
            var seen = Set<Int>()
            let limit = declared > 0 ? Swift.min(declared, Self.maxVersionEntries) : Self.maxVersionEntries
            for entry in 0..<limit {
                guard at + 20 <= r.end, seen.insert(at).inserted,
                      let flags = bytes.u16(at + 2), let index = bytes.u16(at + 4),
                      let aux = bytes.u32(at + 12), let next = bytes.u32(at + 16),
                      let nameOffset = bytes.u32(at + Int(aux)), at + Int(aux) + 8 <= r.end,
                      let name = string(nameOffset) else {
                    facts.gaps.append(Gap(.versions, "version definition \(entry) at offset \(at) is outside .gnu.version_d or repeats"))
                    break
                }
                defined[Int(index & 0x7fff)] = name
                if flags & 0x1 == 0 { facts.versionDefinitions.append(name) }
                if next == 0 { break }
                at += Int(next)
            }
        }

        // The symbols themselves. Version indexes looked up in arrays: a dictionary lookup per symbol showed
        // in profiles of large libraries.
        let maxNeeded = needed.keys.max() ?? 0
        var neededByIndex = [NeededVersion?](repeating: nil, count: maxNeeded + 1)
        for (k, v) in needed { neededByIndex[k] = v }
        func neededVersion(_ i: Int) -> NeededVersion? { i <= maxNeeded ? neededByIndex[i] : nil }
        let e = tables.entrySize
        var exports: [ExportedSymbol] = []
        var exportCount = 0
        var badNames = 0
        for index in 1..<Swift.max(tables.count, 1) {
            if timeUp(index) { break }
            let at = tables.symbols.offset + index * e
            let nameOffset: UInt32?, info: UInt8?, shndx: UInt16?
            if is64 {
                nameOffset = bytes.u32(at); info = bytes.u8(at + 4); shndx = bytes.u16(at + 6)
            } else {
                nameOffset = bytes.u32(at); info = bytes.u8(at + 12); shndx = bytes.u16(at + 14)
            }
            guard let nameOffset, let info, let shndx else { break }
            let binding = info >> 4
            var versionIndex = 1
            var hidden = false
            if let v = tables.versym, let raw = bytes.u16(v.offset + 2 * index), 2 * index + 2 <= v.size {
                versionIndex = Int(raw & 0x7fff)
                hidden = raw & 0x8000 != 0
            }
            if shndx == 0 {
                guard let name = string(nameOffset) else { badNames += 1; continue }
                if name.isEmpty { continue }
                guard facts.imports.count < Self.maxImports else { tooManyImports = true; break }
                var symbol = ImportedSymbol(name: name, weak: binding == SymbolBinding.weak, type: SymbolType(stType: info & 0xf),
                                            referenced: relocations.references(index))
                if versionIndex > 1, let v = neededVersion(versionIndex) {
                    symbol.version = v.name
                    symbol.library = v.library
                } else if versionIndex > 1, let d = defined[versionIndex] {
                    symbol.version = d
                }
                facts.imports.append(symbol)
            } else if binding != 0 {  // not STB_LOCAL
                // An executable's data imports are defined in its own .bss and filled by a COPY relocation
                // (or carry a version it needs from a library): the loader must still find them.
                if (!relocations.copied.isEmpty && relocations.copied.contains(index)) || (versionIndex > 1 && neededVersion(versionIndex) != nil),
                   let name = string(nameOffset), !name.isEmpty {
                    let v = neededVersion(versionIndex)
                    facts.copyImports.append(ImportedSymbol(name: name, version: v?.name, library: v?.library,
                                                            weak: binding == 2, type: SymbolType(stType: info & 0xf)))
                }
                exportCount += 1
                let ifunc = info & 0xf == 10
                // musl never resolves STT_GNU_IFUNC symbols, so a reference to one of its own fails to load.
                if ifunc, index < relocations.referenced.count, relocations.referenced[index], let name = string(nameOffset) {
                    facts.referencedIFuncs.append(name)
                }
                if options.exportNames, passesFilter(nameOffset, tables.strings), let name = string(nameOffset), !name.isEmpty {
                    let version = versionIndex > 1 ? defined[versionIndex] : nil
                    exports.append(ExportedSymbol(name: name, version: version, hidden: hidden, ifunc: ifunc))
                }
            }
        }
        if badNames > 0 {
            facts.gaps.append(Gap(.symbols, "\(badNames) dynamic symbol names lie outside the string table (\(tables.strings.size) bytes at \(tables.strings.offset))"))
        }
        facts.exportCount = exportCount
        if options.exportNames { facts.exports = exports }
    }

    /// Whether an export name passes `options.exportFilter`, judged on its bytes before any String exists.
    private func passesFilter(_ nameOffset: UInt32, _ strings: Region) -> Bool {
        guard let filter = options.exportFilter else { return true }
        let start = strings.offset + Int(nameOffset)
        guard Int(nameOffset) < strings.size, let base = bytes.raw.baseAddress else { return false }
        let first = base.load(fromByteOffset: start, as: UInt8.self)
        let second = first != 0 && start + 1 < strings.end ? base.load(fromByteOffset: start + 1, as: UInt8.self) : 0
        guard filter.mightStart(first, second), let nul = memchr(base + start, 0, strings.end - start) else { return false }
        return filter.mightContain(UnsafeRawBufferPointer(start: base + start, count: UnsafeRawPointer(nul) - (base + start)))
    }

    // MARK: Linkage

    private func linkage(hasDynamic: Bool) -> Linkage {
        if facts.interpreter != nil { return .dynamic }
        if !hasDynamic { return .static }
        if facts.type == .dyn && facts.pie { return .staticPIE }
        return facts.type == .dyn ? .dynamic : .static
    }

    // MARK: Notes

    /// Longest note name read: the owners that matter are "GNU" and "Go".
    static let maxNoteName = 16
    /// Longest Go build ID read (Go writes four hashes, about 90 bytes).
    static let maxGoBuildID = 1024

    /// Notes of every PT_NOTE (or SHT_NOTE) region, each region once: a file can point thousands of headers
    /// at one huge note. At most `maxNotes` notes in all, each read only as far as the facts need.
    private mutating func readNotes(_ regions: [Region]) {
        var seen = Set<Int>()
        var total = 0
        for r in regions where seen.insert(r.offset &* 31 &+ r.size).inserted {
            if total >= Self.maxNotes || stopped { break }
            readNotes(r, total: &total)
        }
        if total >= Self.maxNotes {
            facts.gaps.append(Gap(.notes, "more than \(Self.maxNotes) notes (a cap against pathological files); the rest were not read"))
        }
    }

    private mutating func readNotes(_ r: Region, total: inout Int) {
        var at = r.offset
        while at + 12 <= r.end, total < Self.maxNotes {
            total += 1
            if timeUp(total) { return }
            guard let namesz = bytes.u32(at), let descsz = bytes.u32(at + 4), let type = bytes.u32(at + 8) else { break }
            let nameAt = at + 12
            let descAt = nameAt + align(Int(namesz), 4)
            let descEnd = descAt + Int(descsz)
            guard descEnd <= r.end else {
                facts.gaps.append(Gap(.notes, "note at offset \(at) runs past its segment"))
                break
            }
            let name = bytes.cString(nameAt, end: nameAt + Swift.min(Int(namesz), Self.maxNoteName)) ?? ""
            if name == "GNU" && type == 1 && descsz >= 16,
               let os = bytes.u32(descAt), let a = bytes.u32(descAt + 4), let b = bytes.u32(descAt + 8), let c = bytes.u32(descAt + 12) {
                let osName = ["Linux", "GNU", "Solaris2", "FreeBSD"].indices.contains(Int(os)) ? ["Linux", "GNU", "Solaris2", "FreeBSD"][Int(os)] : "os-\(os)"
                facts.abiTag = ABITag(os: osName, version: "\(a).\(b).\(c)")
            } else if name == "GNU" && type == 3 {
                facts.buildID = hexString(descAt, Int(descsz))
            } else if name == "Go" && type == 4 {
                let end = descAt + Swift.min(Int(descsz), Self.maxGoBuildID)
                facts.goBuildID = bytes.cString(descAt, end: end)
                    ?? String(decoding: UnsafeRawBufferPointer(rebasing: bytes.raw[descAt..<end]), as: UTF8.self)
            }
            at = descAt + align(Int(descsz), 4)
        }
    }

    private func align(_ value: Int, _ to: Int) -> Int { (value + to - 1) & ~(to - 1) }

    private func hexString(_ at: Int, _ count: Int) -> String {
        let digits: [Character] = Array("0123456789abcdef")
        var out = ""
        out.reserveCapacity(count * 2)
        for i in 0..<Swift.min(count, 64) {
            guard let byte = bytes.u8(at + i) else { break }
            out.append(digits[Int(byte >> 4)]); out.append(digits[Int(byte & 0xf)])
        }
        return out
    }

    // MARK: .comment

    private mutating func readComments() {
        guard let s = section(named: ".comment"), s.type != 8, let r = region(offset: s.offset, size: Swift.min(s.size, 1 << 16)) else { return }
        var at = r.offset
        var seen = Set<String>()
        while at < r.end, facts.comments.count < 64 {
            let text = bytes.cString(at, end: r.end)
                ?? String(decoding: UnsafeRawBufferPointer(rebasing: bytes.raw[at..<r.end]), as: UTF8.self)
            if !text.isEmpty && seen.insert(text).inserted { facts.comments.append(text) }
            at += text.utf8.count + 1
        }
    }

    // MARK: Go build info

    private static let goMagic: [UInt8] = [0xFF] + Array(" Go buildinf:".utf8)

    private mutating func readGoBuildInfo() {
        var start: Int?
        if let s = section(named: ".go.buildinfo"), let r = region(offset: s.offset, size: s.size), r.size >= 32 {
            start = r.offset
        } else if layout.sections.isEmpty || facts.goBuildID != nil {
            // No section headers: the header sits 16-byte aligned in a writable loaded segment. Each stretch
            // of the file is searched once (segments may overlap, thousands of times in a hostile file).
            var searched = Set<Int>()
            var budget = Self.maxGoBuildInfoSearch
            for ph in layout.programHeaders where ph.type == SegmentType.load && ph.flags & SegmentFlag.write != 0 {
                guard let r = region(offset: ph.offset, size: Swift.min(ph.filesz, 1 << 20)),
                      searched.insert(r.offset &* 31 &+ r.size).inserted else { continue }
                guard budget > 0, !stopped else { break }
                budget -= r.size
                start = findGoMagic(in: r)
                if start != nil { break }
            }
        }
        guard let at = start, matchesGoMagic(at), let ptrSize = bytes.u8(at + 14), let flags = bytes.u8(at + 15) else { return }
        let version: String?, modinfo: String?
        if flags & 0x2 != 0 {
            // Go 1.18+: two varint-prefixed strings right after the 32-byte header.
            var cursor = at + 32
            version = varString(&cursor)
            modinfo = varString(&cursor)
        } else {
            // Older: two pointers to Go string headers {data, len}.
            let big = flags & 0x1 != 0
            let p64 = ptrSize == 8
            let goBytes = Bytes(raw: bytes.raw, big: big)
            func word(_ offset: Int) -> UInt64? { p64 ? goBytes.u64(offset) : goBytes.u32(offset).map(UInt64.init) }
            func goString(_ pointerAt: Int) -> String? {
                guard let header = word(pointerAt), let h = region(address: header),
                      let data = word(h.offset), let length = word(h.offset + Int(ptrSize)),
                      length < 1 << 20, let d = region(address: data, size: length), d.size == Int(length) else { return nil }
                return String(decoding: UnsafeRawBufferPointer(rebasing: bytes.raw[d.offset..<d.end]), as: UTF8.self)
            }
            version = goString(at + 16)
            modinfo = goString(at + 16 + Int(ptrSize))
        }
        guard let version, !version.isEmpty else {
            facts.gaps.append(Gap(.buildInfo, "Go build info header at offset \(at) could not be decoded"))
            return
        }
        var info = GoBuildInfo(goVersion: version, path: nil, cgoEnabled: nil, tags: [], settings: [])
        if var mod = modinfo {
            let utf8 = Array(mod.utf8)
            if utf8.count >= 33, utf8[utf8.count - 17] == 0x0A {
                mod = String(decoding: utf8[16..<(utf8.count - 16)], as: UTF8.self)
            }
            for line in mod.split(separator: "\n") {
                let fields = line.split(separator: "\t", maxSplits: 2, omittingEmptySubsequences: false)
                guard fields.count >= 2 else { continue }
                switch fields[0] {
                case "path": info.path = String(fields[1])
                case "build":
                    let setting = fields[1...].joined(separator: "\t")
                    guard let eq = setting.firstIndex(of: "=") else { continue }
                    let key = String(setting[..<eq]), value = String(setting[setting.index(after: eq)...])
                    info.settings.append(setting)
                    if key == "CGO_ENABLED" { info.cgoEnabled = value == "1" }
                    if key == "-tags" { info.tags = value.split(separator: ",").map(String.init) }
                default: break
                }
            }
        }
        facts.goBuildInfo = info
    }

    /// Bytes searched for Go's build info header in all, when no section names it.
    static let maxGoBuildInfoSearch = 16 << 20

    /// The first 16-byte-aligned Go build info header in `r`, jumping between 0xFF bytes.
    private mutating func findGoMagic(in r: Region) -> Int? {
        guard let base = bytes.raw.baseAddress else { return nil }
        var at = r.offset
        var round = 0
        while at + 32 <= r.end, let hit = memchr(base + at, 0xFF, r.end - 32 - at + 1) {
            let pos = UnsafeRawPointer(hit) - UnsafeRawPointer(base)
            if pos % 16 == 0 && matchesGoMagic(pos) { return pos }
            at = pos + 1
            round += 1
            if timeUp(round) { return nil }
        }
        return nil
    }

    private func matchesGoMagic(_ at: Int) -> Bool {
        guard at >= 0, at + Self.goMagic.count <= bytes.count else { return false }
        for (i, b) in Self.goMagic.enumerated() where bytes.raw[at + i] != b { return false }
        return true
    }

    /// A uvarint-length-prefixed string, as Go's linker writes build info.
    private func varString(_ cursor: inout Int) -> String? {
        var length: UInt64 = 0
        var shift: UInt64 = 0
        for _ in 0..<10 {
            guard let b = bytes.u8(cursor) else { return nil }
            cursor += 1
            length |= UInt64(b & 0x7f) << shift
            if b & 0x80 == 0 { break }
            shift += 7
        }
        guard length < 1 << 20, let n = Int(exactly: length), cursor + n <= bytes.count else { return nil }
        defer { cursor += n }
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes.raw[cursor..<(cursor + n)]), as: UTF8.self)
    }
}

func hex(_ value: UInt64) -> String { "0x" + String(value, radix: 16) }

extension UInt64 {
    var clampedInt: Int { Int(clamping: self) }
}
