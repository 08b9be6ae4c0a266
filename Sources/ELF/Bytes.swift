#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

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

    /// The bytes of `r` as text, NUL or not (callers have checked `r` lies in the file).
    func text(_ r: Region) -> String {
        String(decoding: UnsafeRawBufferPointer(rebasing: raw[r.offset..<r.end]), as: UTF8.self)
    }

    /// The string at `at` ended by a NUL before `end`, else every byte up to `end`.
    func cStringOrRest(_ at: Int, end: Int) -> String {
        cString(at, end: end) ?? text(Region(offset: at, size: end - at))
    }
}

/// A stretch of the file: where a table starts and how many bytes of it the file really holds.
struct Region {
    var offset: Int
    var size: Int
    var end: Int { offset + size }

    /// A key that tells regions apart, for reading each one once.
    var identity: Int { offset &* 31 &+ size }
}

/// A chain of entries linked by byte distances, as the GNU version tables (and the auxiliary entries
/// under each) link theirs: each entry's `next` field says how far on the following one starts, 0 ends
/// the chain. At most `limit` entries; the chain breaks off where an entry leaves the region or comes back
/// to one already read (`brokenAt`), which a hostile file uses to loop a reader forever.
struct EntryChain: IteratorProtocol {
    struct Link {
        /// How many entries came before this one.
        let index: Int
        let offset: Int
    }

    let bytes: Bytes
    let region: Region
    let entrySize: Int
    let nextField: Int
    let limit: Int
    private var at: Int?
    private var index = 0
    private var seen = Set<Int>()
    /// The entry that left the region or repeated; nil while the chain holds.
    private(set) var brokenAt: Link?

    init(_ bytes: Bytes, region: Region, start: Int, entrySize: Int, nextField: Int, limit: Int) {
        self.bytes = bytes
        self.region = region
        self.entrySize = entrySize
        self.nextField = nextField
        self.limit = limit
        at = start
    }

    mutating func next() -> Link? {
        guard let position = at, index < limit else { return nil }
        guard position >= region.offset, position + entrySize <= region.end, seen.insert(position).inserted,
            let step = bytes.u32(position + nextField)
        else {
            brokenAt = Link(index: index, offset: position)
            at = nil
            return nil
        }
        defer { index += 1 }
        at = step == 0 ? nil : position + Int(step)
        return Link(index: index, offset: position)
    }
}

func hex(_ value: UInt64) -> String { "0x" + String(value, radix: 16) }

extension UInt64 {
    var clampedInt: Int { Int(clamping: self) }
}
