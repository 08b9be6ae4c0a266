// The result cache's files on disk: plain reads and writes, the names' hash, and the list of items with
// nothing of interest (Cache.swift says what an entry holds and when it is used).
import FileIO

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
#if canImport(Glibc)
    import Glibc
#endif

/// Reading and writing cache files with plain system calls: a run asks for an entry per file it walks
/// and most are not there (Foundation's file reading built a URL and more for each).
enum CacheFile {
    /// An entry or list larger than this is not read (damage, or not ours).
    static let maxBytes = 1 << 30

    static func read(_ path: String) -> Data? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG, let size = Int(exactly: st.st_size), size <= maxBytes
        else { return nil }
        var data = Data(count: size)
        let complete = data.withUnsafeMutableBytes { raw -> Bool in
            let (done, error) = FileIO.readFully(fd, into: raw)
            return error == nil && done == size
        }
        return complete ? data : nil
    }

    /// Creates `path` (which must not exist) with `data`; false when anything fails (the file is removed).
    static func write(_ path: String, _ data: Data) -> Bool {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return false }
        let complete = data.withUnsafeBytes { FileIO.writeAll(fd, $0) }
        if close(fd) != 0 || !complete {
            unlink(path)
            return false
        }
        return true
    }
}

/// FNV-1a over 128 bits (two 64-bit lanes with different starts), for names of entries and of a run's
/// environment; every entry also holds what it was made for, compared in full before it is used.
struct Fingerprint {
    private var a: UInt64 = 0xcbf2_9ce4_8422_2325
    private var b: UInt64 = 0x6c62_272e_07bb_0142
    mutating func add(_ text: String) {
        for byte in text.utf8 {
            a = (a ^ UInt64(byte)) &* 0x100_0000_01b3
            b = (b ^ UInt64(byte)) &* 0x100_0000_01b3 ^ 0x9e37_79b9
        }
        a = (a ^ 0xff) &* 0x100_0000_01b3  // a separator no UTF-8 text contains
        b = (b ^ 0xff) &* 0x100_0000_01b3
    }
    var hex: String {
        let x = String(a, radix: 16)
        let y = String(b, radix: 16)
        return String(repeating: "0", count: 16 - x.count) + x + String(repeating: "0", count: 16 - y.count) + y
    }
}

/// The list of items with nothing of interest: records of the path, a NUL, the stamp's seven numbers in
/// decimal separated by spaces, and a NUL (paths hold any byte but NUL). Read as one buffer indexed by a
/// hash of each path; a record is compared with the path asked for, and its numbers parsed, only when
/// asked (a system tree lists a hundred thousand, and the list is read before anything else can start).
/// A record that does not parse is not used.
struct UninterestingList: Sendable {
    static let header = "muslcheck plain files 1\0"
    let bytes: [UInt8]
    /// FNV-1a of the path → where its record starts (on a clash the first record is kept: the other is read again).
    let records: [UInt64: Int]
    var count: Int { records.count }

    static func encode(_ records: [(path: String, stamp: Stamp)]) -> Data {
        var out = Data(header.utf8)
        for (path, s) in records {
            out.append(contentsOf: path.utf8)
            out.append(0)
            out.append(
                contentsOf:
                    "\(s.device) \(s.inode) \(s.size) \(s.modified) \(s.modifiedNanoseconds) \(s.changed) \(s.changedNanoseconds)"
                    .utf8)
            out.append(0)
        }
        return out
    }

    static func read(_ path: String) -> UninterestingList {
        UninterestingList(CacheFile.read(path) ?? Data())
    }

    init(_ data: Data) {
        let bytes = [UInt8](data)
        let head = Array(Self.header.utf8)
        var records: [UInt64: Int] = [:]
        if bytes.count >= head.count, bytes.prefix(head.count).elementsEqual(head) {
            records.reserveCapacity(bytes.count / 96)
            bytes.withUnsafeBufferPointer { b in
                var i = head.count
                while i < b.count {
                    let start = i
                    var h: UInt64 = 0xcbf2_9ce4_8422_2325  // as Shard.hash
                    while i < b.count, b[i] != 0 {
                        h = (h ^ UInt64(b[i])) &* 0x100_0000_01b3
                        i += 1
                    }
                    i += 1
                    while i < b.count, b[i] != 0 { i += 1 }  // the numbers
                    guard i < b.count else { break }
                    i += 1
                    if records[h] == nil { records[h] = start }
                }
            }
        }
        self.bytes = bytes
        self.records = records
    }

    /// The stamp listed for `path`, if it is listed and its record reads.
    func stamp(of path: String) -> Stamp? {
        guard let start = records[Shard.hash(path)] else { return nil }
        var path = path
        return bytes.withUnsafeBufferPointer { b -> Stamp? in
            var i = start
            let same = path.withUTF8 { name -> Bool in
                guard name.count <= b.count - i, let base = b.baseAddress, let nameBase = name.baseAddress else {
                    return name.isEmpty
                }
                return memcmp(base + i, nameBase, name.count) == 0
            }
            guard same else { return nil }
            i += path.utf8.count
            guard i < b.count, b[i] == 0 else { return nil }
            i += 1
            func number(_ end: UInt8) -> UInt64? {
                var value: UInt64 = 0
                var digits = 0
                while i < b.count, b[i] != end {
                    let d = b[i] &- 0x30
                    let (times, over) = value.multipliedReportingOverflow(by: 10)
                    let (sum, carry) = times.addingReportingOverflow(UInt64(d))
                    guard d < 10, !over, !carry else { return nil }
                    value = sum
                    digits += 1
                    i += 1
                }
                guard digits > 0, i < b.count else { return nil }
                i += 1  // the separator
                return value
            }
            let space = UInt8(ascii: " ")
            guard let dev = number(space), let ino = number(space), let size = number(space), let m = number(space),
                let mn = number(space), let c = number(space), let cn = number(0),
                let size = Int64(exactly: size), let m = Int64(exactly: m), let mn = Int64(exactly: mn),
                let c = Int64(exactly: c),
                let cn = Int64(exactly: cn)
            else { return nil }
            return Stamp(
                device: dev, inode: ino, size: size, modified: m, modifiedNanoseconds: mn, changed: c,
                changedNanoseconds: cn)
        }
    }
}
