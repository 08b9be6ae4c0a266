// Decodes the dynamic segment, dynamic symbols, symbol versions, notes, relocations and Go build info
// from the raw file image. Section headers are used when present and sane; otherwise everything is
// found through the program headers and the dynamic segment, as the loader itself does.
// Every offset is checked against the image, every chain has a cap and stops on repeats.
//
// One file per part of the format: Bytes.swift (bounded reads), DynamicSegment.swift, SymbolTables.swift
// (where the tables are), Versions.swift, Symbols.swift, Relocations.swift, TLS.swift, Notes.swift,
// ByteSearch.swift and GoBuildInfo.swift.

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
    /// Loops over file-controlled counts ask the clock once in this many rounds (a power of two).
    static let roundsPerDeadlineCheck = 4096

    /// The image is a private mapping of the file: pages a long search has passed can be given back.
    let fileMapped: Bool

    init(layout: ELFLayout, raw: UnsafeRawBufferPointer, options: ReadOptions, fileMapped: Bool = false) {
        self.fileMapped = fileMapped
        self.layout = layout
        self.bytes = Bytes(raw: raw, big: layout.bigEndian)
        self.options = options
        facts = BinaryFacts(
            is64: layout.is64, bigEndian: layout.bigEndian, machine: Machine(rawValue: layout.machine),
            type: FileType(rawValue: layout.type), osABI: layout.osABI, entry: layout.entry)
        facts.gaps = layout.gaps
        facts.hasSectionHeaders = !layout.sections.isEmpty
    }

    func decode() -> ReadResult {
        var decoder = self
        decoder.run()
        if decoder.stopped, let deadline = options.deadline { return .failed(deadline.message) }
        if decoder.tooManyImports {
            return .failed(
                "more than \(Self.maxImports) undefined dynamic symbols (a cap against pathological files); not judged")
        }
        return .elf(decoder.facts)
    }

    /// Set when the deadline passed inside a loop: the facts are then incomplete and must not be used.
    var stopped = false
    /// Set when a file imports more than `maxImports` symbols: refused, never judged on a partial list.
    var tooManyImports = false

    /// Asked every round of a loop over file-controlled counts; looks at the clock every
    /// `roundsPerDeadlineCheck` rounds.
    mutating func timeUp(_ round: Int) -> Bool {
        if stopped { return true }
        guard round & (Self.roundsPerDeadlineCheck - 1) == 0, let deadline = options.deadline, deadline.passed else {
            return false
        }
        stopped = true
        return true
    }

    var is64: Bool { layout.is64 }

    /// The file region holding the bytes at a virtual address, clipped to the file and its segment.
    func region(address: UInt64, size: UInt64? = nil) -> Region? {
        for ph in layout.programHeaders where ph.type == SegmentType.load {
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
        if isSeparateDebugFile {
            // Only its notes (the build ID it belongs to) are real: the rest of its headers describe bytes
            // that are not in the file.
            facts.isSeparateDebugFile = true
            readNotes(
                layout.programHeaders.filter { $0.type == SegmentType.note && $0.filesz > 0 }
                    .compactMap { region(offset: $0.offset, size: $0.filesz) })
            return
        }
        let (dynamicHeader, segmentNotes) = readProgramHeaders()
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
        let notes =
            segmentNotes.isEmpty
            ? layout.sections.filter { $0.type == SectionType.note }.compactMap {
                region(offset: $0.offset, size: $0.size)
            }
            : segmentNotes
        readNotes(notes)
        readComments()
        readGoBuildInfo()
        if facts.isGo { findGoUses() }
        // Rust programs for *-linux-gnu link libgcc_s without libstdc++ and often carry no .comment;
        // their panic runtime always names RUST_BACKTRACE. Only such files are searched.
        facts.hasRustRuntime =
            facts.comments.contains { $0.hasPrefix("rustc version") }
            || (facts.needed.contains("libgcc_s.so.1") && !facts.needed.contains("libstdc++.so.6")
                && contains("RUST_BACKTRACE"))
        if let tables, wantsKindMarkers { readKindMarkers(tables) }
    }

    /// The facts the program headers give directly (interpreter, TLS, stack), the dynamic segment's header
    /// and the note segments.
    private mutating func readProgramHeaders() -> (dynamic: ProgramHeader?, notes: [Region]) {
        var dynamicHeader: ProgramHeader?
        var notes: [Region] = []
        for ph in layout.programHeaders {
            switch ph.type {
            case SegmentType.interp:
                if let r = region(offset: ph.offset, size: ph.filesz) {
                    facts.interpreter = bytes.cStringOrRest(r.offset, end: r.end)
                } else {
                    facts.gaps.append(Gap(.dynamic, "PT_INTERP at offset \(ph.offset) is past the end of the file"))
                }
            case SegmentType.dynamic: dynamicHeader = ph
            case SegmentType.note: if let r = region(offset: ph.offset, size: ph.filesz) { notes.append(r) }
            case SegmentType.tls: facts.hasTLS = true
            case SegmentType.gnuStack:
                facts.stackFlags = ph.flags
                facts.stackSize = ph.memsz
            default: break
            }
        }
        return (dynamicHeader, notes)
    }

    /// The loader's view of a separate debug file: code segments (PT_LOAD with PF_X) that take memory but
    /// have no bytes in the file, and a dynamic segment (if any) with none either. No loadable program
    /// looks like this: without its code bytes nothing could run.
    var isSeparateDebugFile: Bool {
        let code = layout.programHeaders.filter { $0.type == SegmentType.load && $0.flags & SegmentFlag.execute != 0 }
        guard code.contains(where: { $0.memsz > 0 }), code.allSatisfy({ $0.filesz == 0 }) else { return false }
        return layout.programHeaders.allSatisfy { $0.type != SegmentType.dynamic || $0.filesz == 0 }
    }

    // MARK: Linkage

    private func linkage(hasDynamic: Bool) -> Linkage {
        if facts.interpreter != nil { return .dynamic }
        if !hasDynamic { return .static }
        if facts.type == .dyn && facts.pie { return .staticPIE }
        return facts.type == .dyn ? .dynamic : .static
    }
}
