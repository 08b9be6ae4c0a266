// Archives that standard tools extract but a careless reader passes over: every member is read, or
// reported as an error, never taken for "not an ELF file".
import Foundation
import MuslcheckCLI
import TestSupport
import Testing

@testable import Archives

/// A zip written by hand with the fields a test needs to forge: flags, Unix mode, the end record's count.
struct ZipWriter {
    struct Member {
        var name: String
        var data: [UInt8]
        var flags = 0
        var unixMode = 0o100644
    }

    static func le(_ v: Int, _ n: Int) -> [UInt8] { (0..<n).map { UInt8((v >> (8 * $0)) & 0xFF) } }

    /// Stored members; `countedEntries` overrides the end record's entry count.
    static func make(_ members: [Member], countedEntries: Int? = nil) -> [UInt8] {
        var out: [UInt8] = []
        var directory: [UInt8] = []
        for m in members {
            let name = Array(m.name.utf8)
            let offset = out.count
            let crc = Int(crc32(m.data))
            let common =
                le(20, 2) + le(m.flags, 2) + le(0, 2) + le(0, 4) + le(crc, 4) + le(m.data.count, 4)
                + le(m.data.count, 4) + le(name.count, 2) + le(0, 2)
            out += le(0x0403_4B50, 4) + common + name + m.data
            directory +=
                le(0x0201_4B50, 4) + le(3 << 8 | 20, 2) + common + le(0, 2) + le(0, 2) + le(0, 2)
                + le(m.unixMode << 16, 4) + le(offset, 4) + name
        }
        let start = out.count
        let count = countedEntries ?? members.count
        out += directory
        out +=
            le(0x0605_4B50, 4) + le(0, 4) + le(count, 2) + le(count, 2) + le(directory.count, 4) + le(start, 4)
            + le(0, 2)
        return out
    }

    static func crc32(_ data: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in data {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }
}

/// The result for the path ending in `suffix` (not the compressed file's own "not an ELF file" line).
func listed(_ out: CommandOutput, _ suffix: String) throws -> [String: Any]? {
    try results(out).first {
        ($0["path"] as? String)?.hasSuffix(suffix) == true && $0["status"] as? String != "skipped"
    }
}

@Suite(.serialized) struct HostileArchives {
    /// Issue 19, item 5: an encrypted member is reported and the members after it still read; a member
    /// whose Unix mode says directory, or link while its data is no link target (an ELF file), is a file (as
    /// Python's zipfile extracts it); an end record
    /// that counts fewer entries than the directory holds is reported, and all of them read.
    @Test func zipMembersAreNeverDropped() throws {
        let dir = try scratch("zip-hostile")
        defer { try? FileManager.default.removeItem(at: dir) }
        let elf = [UInt8](try fixture("recent"))
        let cases: [(String, [UInt8], [String], String?)] = [
            (
                "encrypted.zip",
                ZipWriter.make([
                    .init(name: "secret", data: [1, 2, 3], flags: 1), .init(name: "bin/recent", data: elf),
                ]),
                ["!/bin/recent"], "encrypted member"
            ),
            (
                "modes.zip",
                ZipWriter.make([
                    .init(name: "bin/link", data: elf, unixMode: 0o120777),
                    .init(name: "bin/dir", data: elf, unixMode: 0o040755),
                ]),
                ["!/bin/link", "!/bin/dir"], nil
            ),
            (
                "undercount.zip",
                ZipWriter.make(
                    [.init(name: "a.txt", data: Array("text".utf8)), .init(name: "bin/recent", data: elf)],
                    countedEntries: 1),
                ["!/bin/recent"], "counts 1 entries"
            ),
        ]
        for (name, bytes, members, error) in cases {
            let url = dir.appendingPathComponent(name)
            try Data(bytes).write(to: url)
            let out = muslcheck("check", "--format", "json", url.path)
            for m in members {
                #expect(try listed(out, name + m)?["verdict"] as? String == "needs-rebuild", "\(name)\(m)")
            }
            if let error {
                #expect(try results(out).contains { ($0["error"] as? String)?.contains(error) == true }, "\(name)")
            }
            #expect(out.exitCode == 1, "\(name)")
        }
    }

    /// Issue 19, item 6: GNU sparse members (old GNU and pax 1.0) are read as the files they extract to;
    /// a .deb's data.tar.lzma is read and its data.tar.bz2 reported; zstd behind a skippable frame is read.
    @Test func legitimateFormatsAreReadOrReported() throws {
        let dir = try scratch("formats-hostile")
        defer { try? FileManager.default.removeItem(at: dir) }
        let fm = FileManager.default
        // A program with a hole after it: tar --sparse stores it as a sparse member.
        try fm.createDirectory(at: dir.appendingPathComponent("t"), withIntermediateDirectories: true)
        let sparse = dir.appendingPathComponent("t/hello")
        try fixture("hello-musl").write(to: sparse)
        #expect(truncate(sparse.path, 1 << 20) == 0)
        try run("/usr/bin/tar", ["--sparse", "--format=gnu", "-cf", "old-gnu.tar", "-C", "t", "hello"], in: dir)
        try run(
            "/usr/bin/tar",
            ["--sparse", "--format=pax", "--sparse-version=1.0", "-cf", "pax-sparse.tar", "-C", "t", "hello"], in: dir)
        for name in ["old-gnu.tar", "pax-sparse.tar"] {
            let out = muslcheck("check", "--format", "json", dir.appendingPathComponent(name).path)
            #expect(try listed(out, name + "!/hello")?["verdict"] as? String == "runs", "\(name)")
            #expect(out.exitCode == 0, "\(name)")
        }
        // Debian packages with an lzma and a bzip2 data member.
        try fm.createDirectory(at: dir.appendingPathComponent("d/usr/bin"), withIntermediateDirectories: true)
        try fixture("hello-glibc").write(to: dir.appendingPathComponent("d/usr/bin/hello"))
        try Data("2.0\n".utf8).write(to: dir.appendingPathComponent("debian-binary"))
        try run("/usr/bin/tar", ["-cf", "data.tar", "-C", "d", "."], in: dir)
        try run("/usr/bin/xz", ["-k", "--format=lzma", "data.tar"], in: dir)
        try run("/usr/bin/bzip2", ["-k", "data.tar"], in: dir)
        try run("/usr/bin/ar", ["rc", "lzma.deb", "debian-binary", "data.tar.lzma"], in: dir)
        try run("/usr/bin/ar", ["rc", "bzip2.deb", "debian-binary", "data.tar.bz2"], in: dir)
        let lzma = muslcheck(
            "check", "--format", "json", "--fail-on", "never", dir.appendingPathComponent("lzma.deb").path)
        #expect(try listed(lzma, "lzma.deb!/data.tar.lzma!/usr/bin/hello")?["verdict"] as? String == "needs-gcompat")
        let bzip2 = muslcheck(
            "check", "--format", "json", "--fail-on", "never", dir.appendingPathComponent("bzip2.deb").path)
        #expect(
            (try listed(bzip2, "bzip2.deb!/data.tar.bz2")?["error"] as? String)?.contains("format not read") == true)
        #expect(bzip2.exitCode == 2)
        // zstd after a skippable frame (as pzstd writes).
        try fixture("hello-musl").write(to: dir.appendingPathComponent("hello"))
        try run("/usr/bin/zstd", ["-q", "-k", "hello"], in: dir)
        let frame: [UInt8] = [0x50, 0x2A, 0x4D, 0x18, 4, 0, 0, 0, 1, 2, 3, 4]
        try Data(frame + [UInt8](try Data(contentsOf: dir.appendingPathComponent("hello.zst")))).write(
            to: dir.appendingPathComponent("skippable.zst"))
        let zst = muslcheck("check", "--format", "json", dir.appendingPathComponent("skippable.zst").path)
        #expect(try listed(zst, "skippable.zst")?["verdict"] as? String == "runs")
    }

    /// Issue 19, item 7: the pax size keyword gives the member's size (GNU tar, Go and Python honour it),
    /// and a header with a bad checksum is an error, not a member.
    @Test func paxSizesAndChecksums() throws {
        let dir = try scratch("tar-hostile")
        defer { try? FileManager.default.removeItem(at: dir) }
        let elf = [UInt8](try fixture("recent"))
        var pax = TarWriter()
        pax.pax(["size": String(elf.count)])
        pax.bytes += TarWriter.header("bin/recent", size: 0) + elf + TarWriter.pad(elf.count)
        try Data(pax.finished()).write(to: dir.appendingPathComponent("pax-size.tar"))
        let out = muslcheck("check", "--format", "json", dir.appendingPathComponent("pax-size.tar").path)
        #expect(try listed(out, "pax-size.tar!/bin/recent")?["verdict"] as? String == "needs-rebuild")
        #expect(out.exitCode == 1)
        var forged = TarWriter()
        forged.bytes += TarWriter.header("bin/hello", size: elf.count, checksum: 12345) + elf + TarWriter.pad(elf.count)
        try Data(forged.finished()).write(to: dir.appendingPathComponent("forged.tar"))
        let bad = muslcheck("check", "--format", "json", dir.appendingPathComponent("forged.tar").path)
        #expect(bad.exitCode == 2)
        #expect(try results(bad).contains { ($0["error"] as? String)?.contains("bad checksum") == true })
    }

    /// Issue 19, item 12: a gzip input of 4 GiB and more (a member, then a hole of zeros) is read as a
    /// stream: no trap, and no limit refuses it.
    @Test func gzipInputsOverFourGiB() throws {
        let dir = try scratch("gzip-4g")
        defer { try? FileManager.default.removeItem(at: dir) }
        try fixture("hello-musl").write(to: dir.appendingPathComponent("hello"))
        try run("/usr/bin/gzip", ["-k", "hello"], in: dir)
        let url = dir.appendingPathComponent("hello.gz")
        #expect(truncate(url.path, (4 << 30) + 4096) == 0)
        let out = muslcheck("check", "--format", "json", url.path)
        #expect(try listed(out, "hello.gz")?["verdict"] as? String == "runs")
        #expect(out.exitCode == 0)
    }

    /// Sizes no archive can have (a pax size near Int.max, a base-256 size field) are errors, not traps.
    @Test func impossibleSizesAreErrors() throws {
        for size in ["9223372036854775807", "99999999999999999999", "-5"] {
            var tar = TarWriter()
            tar.pax(["size": size])
            tar.add("bin/x", [1, 2, 3])
            let e = Archives.expand(name: "t.tar", bytes: tar.finished())
            #expect(e.problems.contains { $0.message.contains("size") }, "\(size): \(e.problems)")
        }
        var header = TarWriter.header("bin/x", size: 0)
        for i in 124..<136 { header[i] = 0xFF }
        for i in 148..<156 { header[i] = 32 }
        let sum = header.reduce(0) { $0 + Int($1) }
        let field = TarWriter.octal(sum, 7) + [32]
        for (i, b) in field.enumerated() { header[148 + i] = b }
        let e = Archives.expand(name: "t.tar", bytes: header + [UInt8](repeating: 0, count: 1024))
        #expect(e.problems.contains { $0.message.contains("bad size field") }, "\(e.problems)")
    }

    /// The time for an input grows with the bytes read from it: a large image read at full speed is never
    /// stopped by the per-file time, a small input still is.
    @Test func theTimeLimitGrowsWithTheInput() {
        var limits = ArchiveLimits()
        limits.maxSeconds = 10
        let meter = Meter(limits: limits, progress: nil)
        #expect(meter.allowedSeconds == 10)
        meter.read(ArchiveLimits.secondsScaleBytes * 4)
        #expect(meter.allowedSeconds == 50)
    }
}
