// tar read as a stream: ustar, GNU (long names, old sparse files), pax (path, linkpath, size, sparse 1.0).
// Every header's checksum is verified and every size is checked against what really follows.

enum Tar {
    /// Whether the bytes start with a tar header (ustar magic, or a valid old-style checksum).
    static func looksLikeTar(_ b: [UInt8]) -> Bool {
        guard b.count >= 512 else { return false }
        if b[257..<262].elementsEqual("ustar".utf8) { return true }
        guard let stored = octal(b[148..<156]) else { return false }
        var sum = 0
        for i in 0..<512 { sum += (148..<156).contains(i) ? 32 : Int(b[i]) }
        return sum == stored && b[0] != 0
    }

    static func normalize(_ name: String) -> String {
        var n = Substring(name)
        while n.hasPrefix("./") { n = n.dropFirst(2) }
        while n.hasPrefix("/") || n.hasPrefix("./") { n = n.dropFirst(n.hasPrefix("/") ? 1 : 2) }
        while n.hasSuffix("/") { n = n.dropLast() }
        return n == "." ? "" : String(n)
    }

    static func cString(_ s: ArraySlice<UInt8>) -> String {
        String(decoding: s.prefix { $0 != 0 }, as: UTF8.self)
    }

    /// Whether the first 262 bytes of something (ustar's magic ends there) leave it possible that it is a
    /// tar header, so that the other 250 need decompressing: the magic is there, or the checksum field
    /// holds a value the 512-byte sum could still reach. Exact: never false for a header `looksLikeTar` takes.
    static func couldBeHeader(_ b: [UInt8]) -> Bool {
        guard b.count >= 262, b[0] != 0 else { return false }
        if b[257..<262].elementsEqual("ustar".utf8) { return true }
        guard let stored = octal(b[148..<156]) else { return false }
        var partial = 0
        for i in 0..<262 { partial += (148..<156).contains(i) ? 32 : Int(b[i]) }
        return stored >= partial && stored <= partial + 250 * 255
    }

    static func octal(_ s: ArraySlice<UInt8>) -> Int? {
        // Leading spaces, then octal digits up to a NUL or space (asked of every file's first block).
        var value = 0
        var digits = 0
        var started = false
        for byte in s {
            if byte == UInt8(ascii: " ") { if started { break } else { continue } }
            if byte == 0 { break }
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "7"), digits < 21 else { return nil }
            started = true
            value = value << 3 | Int(byte - UInt8(ascii: "0"))
            digits += 1
        }
        return value
    }

    /// Octal, or GNU base-256 (high bit set) for large sizes.
    static func number(_ s: ArraySlice<UInt8>) -> Int? {
        guard let first = s.first else { return nil }
        if first & 0x80 != 0 {
            var value = 0
            for (i, byte) in s.enumerated() {
                let b = i == 0 ? Int(byte & 0x7f) : Int(byte)
                guard value <= (Int.max >> 8) else { return nil }
                value = (value << 8) | b
            }
            return value
        }
        return octal(s.drop { $0 == UInt8(ascii: " ") })
    }

}

extension Tar {
    /// Whether the header's checksum is right: the sum of its bytes with the checksum field as spaces,
    /// unsigned (POSIX) or signed (some old tars).
    static func checksumMatches(_ b: UnsafeRawBufferPointer) -> Bool {
        guard b.count >= 512, let stored = octal(ArraySlice(b[148..<156])) else { return false }
        var unsigned = 0
        var signed = 0
        for i in 0..<512 {
            let byte = (148..<156).contains(i) ? 32 : b[i]
            unsigned += Int(byte)
            signed += Int(Int8(bitPattern: byte))
        }
        return stored == unsigned || stored == signed
    }

    /// pax extended header records ("length key=value\n"), parsed by their lengths (values may hold newlines).
    static func paxRecords(_ data: [UInt8]) throws -> [String: String] {
        var out: [String: String] = [:]
        var at = 0
        while at < data.count {
            guard let space = data[at...].firstIndex(of: UInt8(ascii: " ")), space - at <= 20,
                let length = Int(String(decoding: data[at..<space], as: UTF8.self)), length > space - at,
                length <= data.count - at,
                data[at + length - 1] == UInt8(ascii: "\n")
            else {
                if data[at...].allSatisfy({ $0 == 0 }) { break }
                throw ArchiveError("pax header record at byte \(at) is malformed")
            }
            let record = data[(space + 1)..<(at + length - 1)]
            if let equals = record.firstIndex(of: UInt8(ascii: "=")) {
                out[String(decoding: record[record.startIndex..<equals], as: UTF8.self)] = String(
                    decoding: record[(equals + 1)...], as: UTF8.self)
            }
            at += length
        }
        return out
    }
}

/// One tar member: its name, what it is, and how its bytes are stored.
struct TarEntry {
    enum Kind { case file, directory, symlink, hardlink, other }
    var path: String
    var kind: Kind
    /// Bytes the member holds once extracted (a sparse file's full size).
    var size: Int
    var linkTarget: String
    /// Permission bits from the header (0 when the field is unreadable).
    var mode = 0
    /// The header's offset in the tar, for messages.
    var offset: Int
    /// A sparse file: its data holes and all (`map` of (offset, size) data runs); `unreadable` names a
    /// sparse format that is not read.
    var sparseMap: [(offset: Int, size: Int)]?
    var unreadable: String?
}

/// Reads a tar from a stream, header by header; each member's bytes are a window on the stream that
/// the caller reads as far as it needs (the rest is skipped before the next header).
final class TarReader {
    let source: ByteSource
    let maxEntries: Int
    private(set) var count = 0
    private var offset = 0
    private var current: Window?
    private var padding = 0
    static let maxMetadataBytes = 1 << 20
    /// Larger than any archive can be (sizes past it would overflow the offsets).
    static let maxMemberSize = 1 << 60
    static let maxSparseRuns = 1 << 16

    init(_ source: ByteSource, maxEntries: Int) {
        self.source = source
        self.maxEntries = maxEntries
    }

    /// A metadata member's bytes (a long name, pax records), at most `maxMetadataBytes`.
    private func metadata(_ size: Int, at: Int) throws -> [UInt8] {
        guard size <= Self.maxMetadataBytes else {
            throw ArchiveError("tar metadata member at offset \(at) claims \(size) bytes")
        }
        let data = try source.read(upTo: size)
        guard data.count == size, try source.skip(Self.pad(size)) else {
            throw ArchiveError("tar ends inside the member at offset \(at)")
        }
        offset += size + Self.pad(size)
        return data
    }

    static func pad(_ size: Int) -> Int { (512 - size % 512) % 512 }

    /// The next member and a window on its stored bytes; nil at the end.
    func next() throws -> (TarEntry, ByteSource)? {
        if let window = current {
            try window.finish()
            guard try source.skip(padding) else { throw ArchiveError("tar ends inside the padding after a member") }
            current = nil
        }
        var longName: String?
        var longLink: String?
        var pax: [String: String] = [:]
        var header = [UInt8](repeating: 0, count: 512)
        while true {
            let at = offset
            let got = try readHeader(&header)
            if got == 0 { return nil }
            if header[0..<got].allSatisfy({ $0 == 0 }) {
                // Two zero blocks end an archive; Alpine's .apk concatenates several, so keep looking.
                if got < 512 { return nil }
                offset += 512
                continue
            }
            guard got == 512 else { throw ArchiveError("tar ends inside the header at offset \(at)") }
            offset += 512
            guard header.withUnsafeBytes({ Tar.checksumMatches($0) }) else {
                throw ArchiveError("tar header at offset \(at) has a bad checksum; the rest of the archive not read")
            }
            count += 1
            guard count <= maxEntries else { throw ArchiveError("more than \(maxEntries) tar entries") }
            guard var size = Tar.number(header[124..<136]), size >= 0, size <= Self.maxMemberSize else {
                throw ArchiveError("tar header at offset \(at) has a bad size field")
            }
            let type = header[156]
            switch type {
            case UInt8(ascii: "L"):
                longName = Tar.cString(ArraySlice(try metadata(size, at: at)))
                continue
            case UInt8(ascii: "K"):
                longLink = Tar.cString(ArraySlice(try metadata(size, at: at)))
                continue
            case UInt8(ascii: "x"):
                pax.merge(try Tar.paxRecords(metadata(size, at: at))) { $1 }
                continue
            case UInt8(ascii: "g"), UInt8(ascii: "V"):
                _ = try metadata(size, at: at)
                continue
            default: break
            }
            if let value = pax["size"] {
                guard let n = Int(value), n >= 0, n <= Self.maxMemberSize else {
                    throw ArchiveError("tar member at offset \(at) has a bad pax size '\(value)'")
                }
                size = n
            }
            var entry = try member(header, size: size, at: at, pax: pax, longName: longName, longLink: longLink)
            let window = Window(source, length: size)
            current = window
            padding = Self.pad(size)
            offset += size + padding
            if entry.sparseMap?.isEmpty == true, entry.unreadable == nil, entry.kind == .file {
                let (map, used) = try pax1SparseMap(window, at: at)
                try checkSparse(map, real: entry.size, stored: size - used, at: at)
                entry.sparseMap = map
            }
            return (entry, window)
        }
    }

    /// Fills `header` from the stream; the bytes read (fewer than 512 only at the end of the stream).
    private func readHeader(_ header: inout [UInt8]) throws -> Int {
        try header.withUnsafeMutableBytes { raw -> Int in
            var done = 0
            while done < 512 {
                let n = try source.read(UnsafeMutableRawBufferPointer(rebasing: raw[done...]))
                if n == 0 { break }
                done += n
            }
            return done
        }
    }

    /// The member a header describes, with what the metadata members before it (pax records, GNU long
    /// names) set: its path, kind, mode, link target and sparse form. `size` is the stored size.
    private func member(
        _ header: [UInt8], size: Int, at: Int, pax: [String: String], longName: String?, longLink: String?
    ) throws -> TarEntry {
        let type = header[156]
        var name = Tar.cString(header[0..<100])
        // POSIX ustar ("ustar\0") has a name prefix; old GNU ("ustar  ") keeps other fields there.
        let prefix = Tar.cString(header[345..<500])
        if header[257..<263].elementsEqual("ustar\0".utf8), !prefix.isEmpty { name = prefix + "/" + name }
        if let p = pax["path"] ?? longName { name = p }
        var entry = TarEntry(
            path: Tar.normalize(name), kind: .file, size: size,
            linkTarget: pax["linkpath"] ?? longLink ?? Tar.cString(header[157..<257]), offset: at)
        entry.mode = Tar.number(header[100..<108]) ?? 0
        switch type {
        case 0, UInt8(ascii: "0"), UInt8(ascii: "7"), UInt8(ascii: "S"): entry.kind = .file
        case UInt8(ascii: "5"), UInt8(ascii: "D"): entry.kind = .directory
        case UInt8(ascii: "2"): entry.kind = .symlink
        case UInt8(ascii: "1"): entry.kind = .hardlink
        case UInt8(ascii: "3"), UInt8(ascii: "4"), UInt8(ascii: "6"): entry.kind = .other
        case UInt8(ascii: "M"): entry.unreadable = "a GNU multi-volume continuation"
        default: entry.kind = .file  // as POSIX says of unknown types: a regular file
        }
        if type == UInt8(ascii: "S") { try oldGNUSparse(&entry, header: header) }
        if pax["GNU.sparse.major"] != nil || pax["GNU.sparse.map"] != nil || pax["GNU.sparse.offset"] != nil
            || pax["GNU.sparse.size"] != nil
        {
            if let real = pax["GNU.sparse.name"] { entry.path = Tar.normalize(real) }
            if pax["GNU.sparse.major"] == "1", pax["GNU.sparse.minor"] == "0" {
                guard let real = (pax["GNU.sparse.realsize"] ?? pax["GNU.sparse.size"]).flatMap({ Int($0) }),
                    real >= 0
                else {
                    throw ArchiveError("tar member at offset \(at): pax sparse file without its size")
                }
                entry.sparseMap = []  // read from the start of the data, in next()
                entry.size = real
            } else {
                entry.unreadable = "a GNU sparse file in the pax 0.x form"
            }
        }
        return entry
    }

    /// Old GNU sparse ('S'): four runs in the header, more in extension blocks, the full size at 483.
    private func oldGNUSparse(_ entry: inout TarEntry, header: [UInt8]) throws {
        var map: [(offset: Int, size: Int)] = []
        func runs(_ block: [UInt8], from start: Int, count: Int) throws {
            for i in 0..<count {
                let at = start + i * 24
                guard let o = Tar.number(block[at..<(at + 12)]), let s = Tar.number(block[(at + 12)..<(at + 24)]) else {
                    throw ArchiveError("tar member at offset \(entry.offset): bad old GNU sparse map")
                }
                if o == 0 && s == 0 && block[at] == 0 { return }
                guard map.count < Self.maxSparseRuns else {
                    throw ArchiveError(
                        "tar member at offset \(entry.offset): more than \(Self.maxSparseRuns) sparse runs")
                }
                map.append((o, s))
            }
        }
        try runs(header, from: 386, count: 4)
        var extended = header[482] != 0
        while extended {
            let block = try source.read(upTo: 512)
            guard block.count == 512 else {
                throw ArchiveError("tar ends inside the sparse map of the member at offset \(entry.offset)")
            }
            offset += 512
            try runs(block, from: 0, count: 21)
            extended = block[504] != 0
        }
        guard let real = Tar.number(header[483..<495]), real >= 0 else {
            throw ArchiveError("tar member at offset \(entry.offset): bad sparse size")
        }
        try checkSparse(map, real: real, stored: entry.size, at: entry.offset)
        entry.sparseMap = map
        entry.size = real
    }

    /// pax sparse 1.0: the data starts with the map as decimal lines (count, then offset and size per
    /// run), padded to a block.
    private func pax1SparseMap(_ window: Window, at: Int) throws -> ([(offset: Int, size: Int)], Int) {
        var used = 0
        var block: [UInt8] = []
        var position = 0
        func number() throws -> Int {
            var digits: [UInt8] = []
            while true {
                if position == block.count {
                    block = try window.read(upTo: 512)
                    guard block.count == 512 else {
                        throw ArchiveError("tar member at offset \(at): sparse map cut short")
                    }
                    used += 512
                    position = 0
                }
                let byte = block[position]
                position += 1
                if byte == UInt8(ascii: "\n") { break }
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9"), digits.count < 20 else {
                    throw ArchiveError("tar member at offset \(at): bad pax sparse map")
                }
                digits.append(byte)
            }
            guard let n = Int(String(decoding: digits, as: UTF8.self)) else {
                throw ArchiveError("tar member at offset \(at): bad pax sparse map")
            }
            return n
        }
        let runs = try number()
        guard runs <= Self.maxSparseRuns else {
            throw ArchiveError("tar member at offset \(at): more than \(Self.maxSparseRuns) sparse runs")
        }
        var map: [(offset: Int, size: Int)] = []
        for _ in 0..<runs { map.append((try number(), try number())) }
        return (map, used)
    }

    private func checkSparse(_ map: [(offset: Int, size: Int)], real: Int, stored: Int, at: Int) throws {
        var end = 0
        var total = 0
        for run in map {
            guard run.offset >= end, run.size >= 0, run.size <= real - run.offset else {
                throw ArchiveError("tar member at offset \(at): sparse runs overlap or pass the file's \(real) bytes")
            }
            end = run.offset + run.size
            total += run.size
        }
        guard total <= stored else {
            throw ArchiveError("tar member at offset \(at): sparse runs hold \(total) bytes, the archive \(stored)")
        }
    }
}

/// A sparse member as extracted: zeros in the holes, the stored runs in between.
final class SparseSource: ByteSource {
    let data: ByteSource
    let map: [(offset: Int, size: Int)]
    let size: Int
    private var position = 0
    private var run = 0

    init(_ data: ByteSource, map: [(offset: Int, size: Int)], size: Int) {
        self.data = data
        self.map = map
        self.size = size
    }

    override func read(_ out: UnsafeMutableRawBufferPointer) throws -> Int {
        while run < map.count, position >= map[run].offset + map[run].size { run += 1 }
        guard position < size, out.count > 0 else { return 0 }
        if run < map.count, position >= map[run].offset {
            let n = try data.read(
                UnsafeMutableRawBufferPointer(
                    rebasing: out[0..<min(out.count, map[run].offset + map[run].size - position)]))
            guard n > 0 else { throw ArchiveError("sparse member ends before its data") }
            position += n
            return n
        }
        let holeEnd = run < map.count ? map[run].offset : size
        let n = min(out.count, holeEnd - position)
        UnsafeMutableRawBufferPointer(rebasing: out[0..<n]).initializeMemory(as: UInt8.self, repeating: 0)
        position += n
        return n
    }
}
