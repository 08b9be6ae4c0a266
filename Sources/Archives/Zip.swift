// Zip archives read through their central directory with positioned reads, one member at a time.
// Every offset and size the directory names is checked against the archive; an end record that
// undercounts the directory is reported, and every member the directory lists is read. A name not ending
// in '/' is a file, except a member a Unix zip marks as a symbolic link, which the expander takes as one
// where the archive's unpacker makes links (`Expander.zipLinksAreFiles`).
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// One central directory record, in directory order.
struct ZipMember {
    var name: String
    var method: UInt16
    var flags: UInt16
    /// The CRC-32 the directory gives (only ever a hint: see `ZipHeads`).
    var crc: UInt32
    var compressedSize: Int
    var uncompressedSize: Int
    var localOffset: Int
    /// The Unix mode in the external attributes, when a Unix (or macOS) zip wrote the member; nil otherwise.
    var unixMode: UInt32?
    var isDirectory: Bool { name.utf8.last == UInt8(ascii: "/") }
    /// A symbolic link (S_IFLNK): its data is the link's target, as Info-ZIP's zip -y writes it.
    var isSymlink: Bool { unixMode.map { $0 & 0o170000 == 0o120000 } ?? false }
    var encrypted: Bool { flags & 1 != 0 }
}

/// Where each member's record is in the central directory, in directory order; the records are read
/// again, through a window of the file, as the members are: a jar of 160,000 members held its whole
/// directory (5 MB) and a decoded record each while it was read.
struct ZipListing {
    let directory: ReadWindow
    /// Where the directory starts in the file, and its size.
    let start: Int, size: Int
    var offsets: [Int]
    /// Bytes before the archive (a self-extracting stub), added to every offset.
    var concat: Int
    /// What is wrong with the directory without stopping its reading.
    var problems: [String]

    var count: Int { offsets.count }

    /// The member at `index` (its record was checked when the directory was read).
    func member(_ index: Int) throws -> ZipMember {
        guard index >= 0, index < offsets.count,
            case .member(let m, _) = try ZipDirectory.record(
                directory, start: start, size: size, at: offsets[index], concat: concat, index: index)
        else {
            throw ArchiveError("zip: central directory entry \(index) is damaged")
        }
        return m
    }
}

enum ZipDirectory {
    static func u16(_ b: [UInt8], _ at: Int) -> Int? {
        at >= 0 && at + 2 <= b.count ? Int(b[at]) | Int(b[at + 1]) << 8 : nil
    }
    static func u32(_ b: [UInt8], _ at: Int) -> Int? {
        guard at >= 0, at + 4 <= b.count else { return nil }
        return Int(b[at]) | Int(b[at + 1]) << 8 | Int(b[at + 2]) << 16 | Int(b[at + 3]) << 24
    }
    /// The same, at `at` bytes into a slice (a record in a `ReadWindow`'s block, read without a copy).
    static func u16(_ b: ArraySlice<UInt8>, _ at: Int) -> Int? {
        guard at >= 0, at + 2 <= b.count else { return nil }
        let i = b.startIndex + at
        return Int(b[i]) | Int(b[i + 1]) << 8
    }
    static func u32(_ b: ArraySlice<UInt8>, _ at: Int) -> Int? {
        guard at >= 0, at + 4 <= b.count else { return nil }
        let i = b.startIndex + at
        return Int(b[i]) | Int(b[i + 1]) << 8 | Int(b[i + 2]) << 16 | Int(b[i + 3]) << 24
    }
    static func u64(_ b: ArraySlice<UInt8>, _ at: Int) -> Int? {
        guard let lo = u32(b, at), let hi = u32(b, at + 4), hi < 1 << 30 else { return nil }
        return lo | hi << 32
    }
    static func u64(_ b: [UInt8], _ at: Int) -> Int? {
        guard let lo = u32(b, at), let hi = u32(b, at + 4), hi < 1 << 30 else { return nil }
        return lo | hi << 32
    }

    /// The end-of-central-directory record (or the zip64 one it points to): how many entries the
    /// directory holds, its size and offset, and where the record is in the file.
    static func endRecord(_ file: RandomAccess) throws -> (entries: Int, cdSize: Int, cdOffset: Int, recordAt: Int) {
        // The end-of-central-directory record, within the last 64 KiB + 22 bytes.
        let tailStart = max(0, file.size - 22 - 65_535)
        let tail = try file.bytes(at: tailStart, count: file.size - tailStart)
        var eocd: Int?
        var at = tail.count - 22
        while at >= 0 {
            if u32(tail, at) == 0x0605_4B50 {
                eocd = at
                break
            }
            at -= 1
        }
        guard let end = eocd, var entries = u16(tail, end + 10), var cdSize = u32(tail, end + 12),
            var cdOffset = u32(tail, end + 16)
        else {
            throw ArchiveError("zip: no end-of-central-directory record")
        }
        var recordAt = tailStart + end  // where the directory's end is in the file
        if entries == 0xFFFF || cdSize == 0xFFFF_FFFF || cdOffset == 0xFFFF_FFFF {
            // Zip64: the locator just before the record names the zip64 end record.
            let locator = try file.bytes(at: recordAt - 20, count: 20)
            guard u32(locator, 0) == 0x0706_4B50, let z = u64(locator, 8), z >= 0, z <= file.size - 56 else {
                throw ArchiveError("zip: damaged zip64 end record")
            }
            let record = try file.bytes(at: z, count: 56)
            guard u32(record, 0) == 0x0606_4B50, let e = u64(record, 32), let s = u64(record, 40),
                let o = u64(record, 48)
            else {
                throw ArchiveError("zip: damaged zip64 end record")
            }
            entries = e
            cdSize = s
            cdOffset = o
            recordAt = z
        }
        return (entries, cdSize, cdOffset, recordAt)
    }

    /// The members the central directory lists, and what is wrong with the directory without stopping
    /// its reading (an end record that counts fewer entries than there are).
    static func read(_ file: RandomAccess, maxEntries: Int, maxBytes: Int) throws -> ZipListing {
        let (entries, cdSize, cdOffset, recordAt) = try endRecord(file)
        // Data before the archive (a self-extracting stub) moves every offset, as Python's zipfile allows.
        let shift = recordAt - cdSize - cdOffset
        let concat = shift > 0 ? shift : 0
        guard cdOffset >= 0, cdSize >= 0, cdOffset + concat <= recordAt, cdSize <= recordAt - cdOffset - concat else {
            throw ArchiveError(
                "zip: central directory (\(cdSize) bytes at offset \(cdOffset)) lies outside the \(file.size)-byte archive"
            )
        }
        guard cdSize <= maxBytes else {
            throw ArchiveError(
                "zip: central directory of \(cdSize) bytes is over the \(maxBytes)-byte limit (--max-member-bytes); not opened"
            )
        }
        let directory = ReadWindow(file)
        let start = cdOffset + concat
        guard start + cdSize <= file.size else { throw ArchiveError("zip: archive ends inside its central directory") }
        var problems: [String] = []
        // Only where each record starts is kept; a member is decoded again when it is read.
        var offsets: [Int] = []
        offsets.reserveCapacity(min(entries, cdSize / 46))  // each record takes 46 bytes at least
        var p = 0
        // The directory's size, not the record's count, says where it ends (as Python reads it).
        while p < cdSize {
            let index = offsets.count
            switch try Self.record(
                directory, start: start, size: cdSize, at: p, concat: concat, index: index, maxEntries: maxEntries,
                withName: false)
            {
            case .damaged:
                if index == 0 { throw ArchiveError("zip: central directory entry 0 is damaged") }
                problems.append(
                    "zip: central directory damaged after entry \(index) (at byte \(p) of \(cdSize)); the rest not read"
                )
            case .runsPast:
                problems.append("zip: central directory entry \(index) runs past the directory; the rest not read")
            case .member(_, let next):
                offsets.append(p)
                p = next
                continue
            }
            break
        }
        if offsets.count != entries {
            problems.append(
                "zip: the end record counts \(entries) entries but the central directory holds \(offsets.count); all of them read"
            )
        }
        return ZipListing(
            directory: directory, start: start, size: cdSize, offsets: offsets, concat: concat, problems: problems)
    }

    enum Record {
        case damaged, runsPast
        case member(ZipMember, next: Int)
    }

    /// The record at `p` of the directory (`size` bytes at `start` of the file), and where the next one
    /// starts. Throws when it is past `maxEntries` or its sizes are in a zip64 field it lacks (`index`:
    /// its place in the directory). `withName`: decode the member's name too (not needed to check it).
    static func record(
        _ directory: ReadWindow, start: Int, size: Int, at p: Int, concat: Int, index: Int, maxEntries: Int = .max,
        withName: Bool = true
    ) throws -> Record {
        guard p >= 0, p + 46 <= size else { return .damaged }
        let fixed = try directory.slice(at: start + p, count: 46)
        guard fixed.count == 46, u32(fixed, 0) == 0x0201_4B50, let nameLength = u16(fixed, 28),
            let extraLength = u16(fixed, 30),
            let commentLength = u16(fixed, 32)
        else { return .damaged }
        let next = p + 46 + nameLength + extraLength + commentLength
        guard next <= size else { return .runsPast }
        let cd = try directory.slice(at: start + p, count: next - p)
        guard cd.count == next - p, let madeBy = u16(cd, 4), let flags = u16(cd, 8), let method = u16(cd, 10),
            let crc = u32(cd, 16), var compressed = u32(cd, 20), var uncompressed = u32(cd, 24),
            let external = u32(cd, 38), var local = u32(cd, 42)
        else { return .damaged }
        guard index < maxEntries else { throw ArchiveError("zip: more than \(maxEntries) entries") }
        if compressed == 0xFFFF_FFFF || uncompressed == 0xFFFF_FFFF || local == 0xFFFF_FFFF {
            // Zip64 extended information in the extra field, in the order of the fields that overflowed.
            var e = 46 + nameLength
            let extraEnd = e + extraLength
            var found = false
            while e + 4 <= extraEnd, let id = u16(cd, e), let fieldSize = u16(cd, e + 2) {
                if id == 1 {
                    var q = e + 4
                    if uncompressed == 0xFFFF_FFFF {
                        guard let v = u64(cd, q) else { break }
                        uncompressed = v
                        q += 8
                    }
                    if compressed == 0xFFFF_FFFF {
                        guard let v = u64(cd, q) else { break }
                        compressed = v
                        q += 8
                    }
                    if local == 0xFFFF_FFFF {
                        guard let v = u64(cd, q) else { break }
                        local = v
                    }
                    found = true
                    break
                }
                e += 4 + fieldSize
            }
            guard found else { throw ArchiveError("zip: entry \(index) lacks its zip64 sizes") }
        }
        let name =
            withName
            ? String(decoding: cd[(cd.startIndex + 46)..<(cd.startIndex + 46 + nameLength)], as: UTF8.self) : ""
        let member = ZipMember(
            name: name, method: UInt16(truncatingIfNeeded: method),
            flags: UInt16(truncatingIfNeeded: flags), crc: UInt32(truncatingIfNeeded: crc), compressedSize: compressed,
            uncompressedSize: uncompressed, localOffset: local + concat,
            unixMode: unixHosts.contains(madeBy >> 8) ? UInt32(truncatingIfNeeded: external >> 16) : nil)
        return .member(member, next: next)
    }

    /// The "version made by" hosts whose external attributes hold a Unix mode: Unix, and macOS (OS X).
    static let unixHosts: Set<Int> = [3, 19]

    /// Where a member's data starts, from its local header.
    static func dataOffset(_ m: ZipMember, in window: ReadWindow) throws -> Int {
        let h = try window.slice(at: m.localOffset, count: 30)
        guard h.count == 30, u32(h, 0) == 0x0403_4B50, let n = u16(h, 26), let e = u16(h, 28) else {
            throw ArchiveError("zip: member's local header at offset \(m.localOffset) is damaged")
        }
        let start = m.localOffset + 30 + n + e
        guard m.compressedSize >= 0, start <= window.file.size, m.compressedSize <= window.file.size - start else {
            throw ArchiveError(
                "zip: member's data (\(m.compressedSize) bytes at offset \(start)) lies outside the archive")
        }
        return start
    }
}

/// Positioned reads of a file through one block kept in memory: the members of a zip lie in order, so
/// most members' headers and first bytes are in the block already read.
final class ReadWindow {
    let file: RandomAccess
    private var start = 0
    /// The block, read again in place: a new array each time was zeroed by the program for every 256 KiB
    /// read (the jars under /usr are read through 1,500 of them). A slice still held when the block moves
    /// keeps its own bytes (the array is copied on write then).
    private var bytes: [UInt8] = []
    /// How many bytes of `bytes` the last read gave.
    private var valid = 0
    static let block = 1 << 18

    init(_ file: RandomAccess) { self.file = file }

    /// Up to `count` bytes at `offset` (fewer only at the end of the file).
    func slice(at offset: Int, count: Int) throws -> ArraySlice<UInt8> {
        guard offset >= 0, offset <= file.size else { return [] }
        let want = min(count, file.size - offset)
        if offset < start || offset + want > start + valid {
            let size = min(max(want, Self.block), file.size - offset)
            if bytes.count < size { bytes = [UInt8](repeating: 0, count: size) }
            valid = 0
            valid = try bytes.withUnsafeMutableBytes { try file.read(.init(rebasing: $0[0..<size]), at: offset) }
            start = offset
        }
        let from = offset - start
        return bytes[from..<min(valid, from + want)]
    }
}

/// What the first bytes of deflated zip members said, shared by all archives of a run: the same library
/// is bundled in many jars (a quarter of the 184,000 members of the jars under /usr repeat one seen
/// before), and decoding a member's first bytes is most of the time spent on a jar.
/// Not a guess from the directory: an answer is reused only for a member with the same CRC and compressed
/// size (so that running out of input happens alike) whose compressed bytes give the same 48-bit hash over
/// every byte zlib consumed to give it. The hash is keyed with a number drawn at random for each run, so
/// a forged member cannot be made to match (it would need the key, which never leaves the process), and a
/// chance match of other bytes has odds of 2^-48. Only the hash is kept, not the bytes: 16 bytes a
/// member, so every member of /usr's jars is remembered in 4 MiB (keeping the bytes, 3 MiB held the
/// first 10,000 members of 136,000, and 44,000 more decodings were made). Only "nothing of interest"
/// answers are kept: they are the many, and an answer to read a member in full is always safe to recompute.
final class ZipHeads: Sendable {
    static let shared = ZipHeads()
    /// At most this many members are remembered: three quarters of 2^18, so that the table never grows
    /// past 2^18 buckets of 16 bytes (4 MiB).
    static let capacity = 3 << 16
    static let longest = 1024

    /// For each member found to hold nothing of interest (its CRC and compressed size, packed), how many
    /// bytes were consumed (top 16 bits) and their hash (low 48).
    private let places = Mutex([UInt64: UInt64]())
    private let key: (UInt64, UInt64)

    init() {
        var random = SystemRandomNumberGenerator()
        key = (random.next(), random.next())
    }

    private static func place(_ crc: UInt32, _ compressedSize: Int) -> UInt64 {
        UInt64(crc) << 32 | UInt64(UInt32(truncatingIfNeeded: compressedSize))
    }

    private func hash(_ crc: UInt32, _ compressedSize: Int, _ data: UnsafeRawBufferPointer, _ count: Int) -> UInt64 {
        var hasher = Hasher()
        hasher.combine(key.0)
        hasher.combine(key.1)
        hasher.combine(crc)
        hasher.combine(compressedSize)
        hasher.combine(bytes: UnsafeRawBufferPointer(rebasing: data[0..<count]))
        return UInt64(UInt(bitPattern: hasher.finalize())) & Self.hashBits
    }
    private static let hashBits: UInt64 = (1 << 48) - 1

    /// Whether an earlier member with the same start was found to hold nothing of interest. `data` is the
    /// start of the member's `compressedSize` compressed bytes (all of them by default).
    func knownUninteresting(crc: UInt32, compressedSize: Int? = nil, data: UnsafeRawBufferPointer) -> Bool {
        let size = compressedSize ?? data.count
        guard let known = places.withLock({ $0[Self.place(crc, size)] }) else { return false }
        let count = Int(known >> 48)
        return count <= data.count && hash(crc, size, data, count) == known & Self.hashBits
    }

    /// Remembers a member whose first `count` compressed bytes said it holds nothing of interest.
    func rememberUninteresting(
        crc: UInt32, compressedSize: Int? = nil, data: UnsafeRawBufferPointer, consumed count: Int
    ) {
        guard count >= 0, count <= min(data.count, Self.longest) else { return }
        let size = compressedSize ?? data.count
        let value = UInt64(count) << 48 | hash(crc, size, data, count)
        places.withLock { places in
            guard places.count < Self.capacity else { return }
            let place = Self.place(crc, size)
            if places[place] == nil { places[place] = value }
        }
    }

    /// Forgets every member: called once the files of a run are read (the answers only save time).
    func clear() {
        places.withLock { $0 = [:] }
    }
}

extension Archives {
    /// Lets go of what the zip members read so far taught (`ZipHeads`): a run calls it once its inputs
    /// are read, so that the memory serves the rest of the run. Answers never depend on it.
    public static func forgetMemberStarts() { ZipHeads.shared.clear() }
}
