// Checks a zip's directory structures against the bytes before ZIPFoundation reads it: the fuzzer found
// that an end-of-central-directory record pointing past the data makes the in-memory reader trap. Every
// offset and size the directory names must lie inside the archive. The checked directory also says where
// each member's data starts, so a member's first bytes can be looked at without extracting it.
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// One central directory record, in directory order: where the member's data lies and how it is stored.
struct ZipMember {
    var method: Int
    /// The CRC-32 the directory gives (only ever a hint: see `ZipHeads`).
    var crc: UInt32
    var dataOffset: Int
    var compressedSize: Int
    var isDirectory: Bool
}

enum ZipCheck {
    static func u16(_ b: [UInt8], _ at: Int) -> Int? { at >= 0 && at + 2 <= b.count ? Int(b[at]) | Int(b[at + 1]) << 8 : nil }
    static func u32(_ b: [UInt8], _ at: Int) -> Int? {
        guard at >= 0, at + 4 <= b.count else { return nil }
        return Int(b[at]) | Int(b[at + 1]) << 8 | Int(b[at + 2]) << 16 | Int(b[at + 3]) << 24
    }
    static func u64(_ b: [UInt8], _ at: Int) -> Int? {
        guard let lo = u32(b, at), let hi = u32(b, at + 4), hi < 1 << 30 else { return nil }
        return lo | hi << 32
    }

    @discardableResult
    static func validate(_ b: [UInt8], maxEntries: Int) throws -> [ZipMember] {
        // The end-of-central-directory record, within the last 64 KiB + 22 bytes.
        var eocd: Int?
        var at = b.count - 22
        while at >= max(0, b.count - 22 - 65_535) {
            if u32(b, at) == 0x0605_4B50 { eocd = at; break }
            at -= 1
        }
        guard let end = eocd, var entries = u16(b, end + 10), var cdSize = u32(b, end + 12), var cdOffset = u32(b, end + 16) else {
            throw ArchiveError("zip: no end-of-central-directory record")
        }
        var cdLimit = end
        if entries == 0xFFFF || cdSize == 0xFFFF_FFFF || cdOffset == 0xFFFF_FFFF {
            // Zip64: the locator just before the record names the zip64 end record.
            guard u32(b, end - 20) == 0x0706_4B50, let z = u64(b, end - 12), z >= 0, z + 56 <= end, u32(b, z) == 0x0606_4B50,
                  let e = u64(b, z + 32), let s = u64(b, z + 40), let o = u64(b, z + 48) else {
                throw ArchiveError("zip: damaged zip64 end record")
            }
            entries = e; cdSize = s; cdOffset = o; cdLimit = z
        }
        guard entries <= maxEntries else { throw ArchiveError("zip: \(entries) entries is over the limit of \(maxEntries)") }
        guard cdOffset >= 0, cdSize >= 0, cdOffset <= cdLimit, cdSize <= cdLimit - cdOffset else {
            throw ArchiveError("zip: central directory (\(cdSize) bytes at offset \(cdOffset)) lies outside the \(b.count)-byte archive")
        }
        var p = cdOffset
        var members: [ZipMember] = []
        members.reserveCapacity(entries)
        for index in 0..<entries {
            guard p + 46 <= cdOffset + cdSize, u32(b, p) == 0x0201_4B50,
                  let nameLength = u16(b, p + 28), let extraLength = u16(b, p + 30), let commentLength = u16(b, p + 32),
                  var compressed = u32(b, p + 20), var local = u32(b, p + 42) else {
                throw ArchiveError("zip: central directory entry \(index) at offset \(p) is damaged")
            }
            let next = p + 46 + nameLength + extraLength + commentLength
            guard next <= cdOffset + cdSize else { throw ArchiveError("zip: central directory entry \(index) runs past the directory") }
            if compressed == 0xFFFF_FFFF || local == 0xFFFF_FFFF {
                // Zip64 extended information in the extra field, in the order of the fields that overflowed.
                var e = p + 46 + nameLength
                let extraEnd = e + extraLength
                var found = false
                while e + 4 <= extraEnd, let id = u16(b, e), let size = u16(b, e + 2) {
                    if id == 1 {
                        var q = e + 4
                        if u32(b, p + 24) == 0xFFFF_FFFF { q += 8 }
                        if compressed == 0xFFFF_FFFF { guard let v = u64(b, q) else { break }; compressed = v; q += 8 }
                        if local == 0xFFFF_FFFF { guard let v = u64(b, q) else { break }; local = v }
                        found = true
                        break
                    }
                    e += 4 + size
                }
                guard found else { throw ArchiveError("zip: entry \(index) lacks its zip64 sizes") }
            }
            guard local >= 0, local + 30 <= b.count, u32(b, local) == 0x0403_4B50,
                  let ln = u16(b, local + 26), let le = u16(b, local + 28), compressed >= 0,
                  local + 30 + ln + le <= b.count, compressed <= b.count - (local + 30 + ln + le) else {
                throw ArchiveError("zip: entry \(index)'s data (\(compressed) bytes at offset \(local)) lies outside the archive")
            }
            members.append(ZipMember(method: u16(b, p + 10) ?? -1, crc: UInt32(truncatingIfNeeded: u32(b, p + 16) ?? 0),
                                     dataOffset: local + 30 + ln + le, compressedSize: compressed, isDirectory: nameLength > 0 && b[p + 46 + nameLength - 1] == UInt8(ascii: "/")))
            p = next
        }
        return members
    }
}

extension ZipCheck {
    /// A member's compressed bytes, when the directory's offset and size lie inside the archive.
    static func data(_ b: [UInt8], _ m: ZipMember) -> ArraySlice<UInt8>? {
        guard m.dataOffset >= 0, m.compressedSize >= 0, m.dataOffset <= b.count, m.compressedSize <= b.count - m.dataOffset else { return nil }
        return b[m.dataOffset..<(m.dataOffset + m.compressedSize)]
    }
}

/// What the first bytes of deflated zip members said, shared by all archives of a run: the same library
/// is bundled in many jars (a quarter of the 184,000 members of the jars under /usr repeat one seen
/// before), and decoding a member's first bytes is most of the time spent on a jar.
/// Exact, not a guess from the directory: an answer is reused only for a member whose compressed bytes
/// begin with every byte zlib consumed to give it (and whose compressed size is the same, so that running
/// out of input happens alike). The CRC only picks the one earlier member to compare with, so a forged
/// CRC can cost a decoding but never change an answer. Only "nothing of interest" answers are kept: they
/// are the many, and an answer to read a member in full is always safe to recompute.
final class ZipHeads: Sendable {
    struct Key: Hashable { var crc: UInt32, compressedSize: Int }

    static let shared = ZipHeads()
    /// At most this many members (each keeps up to `longest` bytes): about 20 MB at most.
    static let capacity = 65_536
    static let longest = 1024

    /// The compressed bytes zlib consumed for each member found to hold nothing of interest.
    private let consumed = Mutex<[Key: [UInt8]]>([:])

    /// Whether an earlier member with the same start was found to hold nothing of interest.
    func knownUninteresting(crc: UInt32, data: UnsafeRawBufferPointer) -> Bool {
        guard let known = consumed.withLock({ $0[Key(crc: crc, compressedSize: data.count)] }), known.count <= data.count else { return false }
        return known.withUnsafeBytes { prefix in
            guard let a = prefix.baseAddress, let b = data.baseAddress else { return prefix.isEmpty }
            return memcmp(a, b, prefix.count) == 0
        }
    }

    /// Remembers a member whose first `count` compressed bytes said it holds nothing of interest.
    func rememberUninteresting(crc: UInt32, data: UnsafeRawBufferPointer, consumed count: Int) {
        guard count >= 0, count <= min(data.count, Self.longest) else { return }
        let prefix = [UInt8](data[0..<count])
        consumed.withLock { list in
            guard list.count < Self.capacity else { return }
            list[Key(crc: crc, compressedSize: data.count)] = prefix
        }
    }
}
