#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
// Go build info (the header Go's linker writes, read as Go's debug/buildinfo reads it) and the Go packages
// a program uses, from the names in .gopclntab.

/// The build info header: 14 bytes of magic, the pointer size, flags, then (Go 1.18+) the two strings
/// inline after 32 bytes, or (older) two pointers to Go string headers at 16.
enum GoBuildInfoLayout {
    static let magic: [UInt8] = [0xFF] + Array(" Go buildinf:".utf8)
    static let pointerSize = 14
    static let flags = 15
    static let pointers = 16
    static let headerSize = 32
    /// The header is aligned to this in its segment.
    static let alignment = 16
    /// flags: the pointers are big-endian (older layout).
    static let flagBigEndian: UInt8 = 0x1
    /// flags: the strings follow the header (Go 1.18+).
    static let flagInlineStrings: UInt8 = 0x2
    /// The module info is framed by 16 bytes on each side, the last of the opening ones a newline.
    static let modinfoFrame = 16
    /// Longest string read from it.
    static let maxString: UInt64 = 1 << 20
    /// A uvarint is at most this many bytes.
    static let maxVarintBytes = 10
}

extension FactsDecoder {
    /// Bytes searched for Go's build info header in all, when no section names it.
    static let maxGoBuildInfoSearch = 16 << 20
    /// Bytes of one writable segment searched for it.
    static let maxGoBuildInfoSegmentSearch: UInt64 = 1 << 20

    /// Go keeps function names in .gopclntab even when stripped, so a package's use shows as its name.
    mutating func findGoUses() {
        let table = section(named: ".gopclntab").flatMap { region(offset: $0.offset, size: $0.size) }
        for (marker, use) in [
            ("crypto/tls.", "crypto/tls"), ("time.LoadLocation", "time.LoadLocation"), ("os/user.", "os/user"),
        ]
        where contains(marker, within: table) {
            facts.goUses.append(use)
        }
    }

    mutating func readGoBuildInfo() {
        guard let at = findGoBuildInfo(), matchesGoMagic(at),
            let pointerSize = bytes.u8(at + GoBuildInfoLayout.pointerSize),
            let flags = bytes.u8(at + GoBuildInfoLayout.flags)
        else { return }
        let version: String?
        let modinfo: String?
        if flags & GoBuildInfoLayout.flagInlineStrings != 0 {
            var cursor = at + GoBuildInfoLayout.headerSize
            version = varString(&cursor)
            modinfo = varString(&cursor)
        } else {
            let big = flags & GoBuildInfoLayout.flagBigEndian != 0
            version = goString(pointerAt: at + GoBuildInfoLayout.pointers, pointerSize: Int(pointerSize), big: big)
            modinfo = goString(
                pointerAt: at + GoBuildInfoLayout.pointers + Int(pointerSize), pointerSize: Int(pointerSize), big: big)
        }
        guard let version, !version.isEmpty else {
            facts.gaps.append(Gap(.buildInfo, "Go build info header at offset \(at) could not be decoded"))
            return
        }
        var info = GoBuildInfo(goVersion: version, path: nil, cgoEnabled: nil, tags: [], settings: [])
        if let modinfo { Self.readModuleInfo(modinfo, into: &info) }
        facts.goBuildInfo = info
    }

    /// Where the header is: the .go.buildinfo section, else (no section headers, or a Go build ID note)
    /// searched for, 16-byte aligned, in the writable loaded segments. Each stretch of the file is searched
    /// once (segments may overlap, thousands of times in a hostile file).
    private mutating func findGoBuildInfo() -> Int? {
        if let s = section(named: ".go.buildinfo"), let r = region(offset: s.offset, size: s.size),
            r.size >= GoBuildInfoLayout.headerSize
        {
            return r.offset
        }
        guard layout.sections.isEmpty || facts.goBuildID != nil else { return nil }
        var searched = Set<Int>()
        var budget = Self.maxGoBuildInfoSearch
        for ph in layout.programHeaders where ph.type == SegmentType.load && ph.flags & SegmentFlag.write != 0 {
            guard let r = region(offset: ph.offset, size: Swift.min(ph.filesz, Self.maxGoBuildInfoSegmentSearch)),
                searched.insert(r.identity).inserted
            else { continue }
            guard budget > 0, !stopped else { break }
            budget -= r.size
            if let found = findGoMagic(in: r) { return found }
        }
        return nil
    }

    /// A Go string the older layout points at: a pointer to a {data, len} header, in the writer's byte order.
    private func goString(pointerAt: Int, pointerSize: Int, big: Bool) -> String? {
        let goBytes = Bytes(raw: bytes.raw, big: big)
        func word(_ offset: Int) -> UInt64? {
            pointerSize == 8 ? goBytes.u64(offset) : goBytes.u32(offset).map(UInt64.init)
        }
        guard let header = word(pointerAt), let h = region(address: header),
            let data = word(h.offset), let length = word(h.offset + pointerSize),
            length < GoBuildInfoLayout.maxString, let d = region(address: data, size: length), d.size == Int(length)
        else { return nil }
        return bytes.text(d)
    }

    /// The module info's `path` and `build` lines (Go's debug.BuildInfo text form).
    static func readModuleInfo(_ text: String, into info: inout GoBuildInfo) {
        var mod = text
        let utf8 = Array(mod.utf8)
        let frame = GoBuildInfoLayout.modinfoFrame
        if utf8.count >= 2 * frame + 1, utf8[utf8.count - frame - 1] == UInt8(ascii: "\n") {
            mod = String(decoding: utf8[frame..<(utf8.count - frame)], as: UTF8.self)
        }
        for line in mod.split(separator: "\n") {
            let fields = line.split(separator: "\t", maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count >= 2 else { continue }
            switch fields[0] {
            case "path": info.path = String(fields[1])
            case "build":
                let setting = fields[1...].joined(separator: "\t")
                guard let eq = setting.firstIndex(of: "=") else { continue }
                let key = String(setting[..<eq])
                let value = String(setting[setting.index(after: eq)...])
                info.settings.append(setting)
                if key == "CGO_ENABLED" { info.cgoEnabled = value == "1" }
                if key == "-tags" { info.tags = value.split(separator: ",").map(String.init) }
            default: break
            }
        }
    }

    /// The first aligned Go build info header in `r`, jumping between the magic's first byte.
    private mutating func findGoMagic(in r: Region) -> Int? {
        guard let base = bytes.raw.baseAddress, let first = GoBuildInfoLayout.magic.first else { return nil }
        let header = GoBuildInfoLayout.headerSize
        var at = r.offset
        var round = 0
        while at + header <= r.end, let hit = memchr(base + at, Int32(first), r.end - header - at + 1) {
            let pos = UnsafeRawPointer(hit) - UnsafeRawPointer(base)
            if pos % GoBuildInfoLayout.alignment == 0 && matchesGoMagic(pos) { return pos }
            at = pos + 1
            round += 1
            if timeUp(round) { return nil }
        }
        return nil
    }

    private func matchesGoMagic(_ at: Int) -> Bool {
        let magic = GoBuildInfoLayout.magic
        guard at >= 0, at + magic.count <= bytes.count else { return false }
        for (i, b) in magic.enumerated() where bytes.raw[at + i] != b { return false }
        return true
    }

    /// A uvarint-length-prefixed string, as Go's linker writes build info.
    private func varString(_ cursor: inout Int) -> String? {
        var length: UInt64 = 0
        var shift: UInt64 = 0
        for _ in 0..<GoBuildInfoLayout.maxVarintBytes {
            guard let b = bytes.u8(cursor) else { return nil }
            cursor += 1
            length |= UInt64(b & 0x7f) << shift
            if b & 0x80 == 0 { break }
            shift += 7
        }
        guard length < GoBuildInfoLayout.maxString, let n = Int(exactly: length), cursor + n <= bytes.count else {
            return nil
        }
        defer { cursor += n }
        return bytes.text(Region(offset: cursor, size: n))
    }
}
