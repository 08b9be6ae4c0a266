import ELF
// Archives and images read as streams in bounded memory: members handed over one at a time, zips read
// in place, images of any size under the default limits, layers applied.
import Foundation
import TestSupport
import Testing

@testable import Archives
@testable import Scanning

/// Opens `url` and expands it as the scanner does.
func expandFile(
    _ url: URL, limits: ArchiveLimits = ArchiveLimits(), read: @escaping MemberReader = Archives.defaultReader
) throws -> Expansion {
    let fd = open(url.path, O_RDONLY)
    #expect(fd >= 0)
    defer { close(fd) }
    let size = try #require(try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int)
    return Archives.expand(fd: fd, size: size, name: url.path, limits: limits, read: read)
}

/// Bytes that do not compress (a stand-in for a large data member).
func noise(_ count: Int) -> Data {
    var rng = SystemRandomNumberGenerator()
    return Data((0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) })
}

@Suite(.serialized) struct StreamedArchives {
    /// Each ELF member is read as soon as it is extracted and its bytes dropped: never more than one held,
    /// none left after the reading (the old expander held every member until the end).
    @Test func membersAreReadOneAtATimeAndDropped() throws {
        let dir = try scratch("one-at-a-time")
        defer { try? FileManager.default.removeItem(at: dir) }
        let tree = dir.appendingPathComponent("t/usr/bin")
        try FileManager.default.createDirectory(at: tree, withIntermediateDirectories: true)
        for name in ["hello-musl", "hello-glibc", "recent"] {
            try fixture(name).write(to: tree.appendingPathComponent(name))
        }
        try run("/usr/bin/tar", ["-czf", "bundle.tar.gz", "-C", "t", "."], in: dir)
        try zip(
            dir.appendingPathComponent("bundle.zip"),
            try ["hello-musl", "hello-glibc", "recent"].map { ("bin/\($0)", try fixture($0)) })
        // Read on this thread: one member at a time. Read on the decoding thread beside the archive's: the
        // same results in the same order, and none left behind.
        for name in ["bundle.tar.gz", "bundle.zip"] {
            var serial = ArchiveLimits()
            serial.decodeAside = false
            let e = try expandFile(dir.appendingPathComponent(name), limits: serial)
            #expect(e.files.count == 3, "\(name)")
            #expect(e.files.allSatisfy { if case .elf = $0.result { return true } else { return false } }, "\(name)")
            #expect(e.liveMemberBuffers == 0, "\(name)")
            #expect(e.peakMemberBuffers == 1, "\(name)")
            let aside = try expandFile(dir.appendingPathComponent(name))
            #expect(aside.files.map(\.path) == e.files.map(\.path), "\(name)")
            #expect(aside.files.map { "\($0.result)" } == e.files.map { "\($0.result)" }, "\(name)")
            #expect(aside.liveMemberBuffers == 0, "\(name)")
        }
    }

    /// A zip is read through its central directory with positioned reads: one larger than the member limit
    /// whose members are small is read whole (it used to be refused as over the limit).
    @Test func aZipLargerThanTheMemberLimitWithSmallMembers() throws {
        let dir = try scratch("big-zip")
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("big.jar")
        try zip(
            url,
            [
                ("native/hello", try fixture("hello-musl")), ("data/blob.bin", noise(3 << 20)),
                ("native/recent", try fixture("recent")),
            ])
        let size = try #require(try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int)
        #expect(size > 3 << 20)
        let out = muslcheck(
            "check", "--format", "json", "--fail-on", "never", "--max-member-bytes", "1000000", url.path)
        #expect(out.exitCode == 0)
        let list = try results(out)
        #expect(
            list.contains {
                ($0["path"] as? String) == url.path + "!/native/hello" && $0["verdict"] as? String == "runs"
            })
        #expect(
            list.contains {
                ($0["path"] as? String) == url.path + "!/native/recent" && $0["verdict"] as? String == "needs-rebuild"
            })
        #expect(!list.contains { $0["status"] as? String == "error" })
    }

    /// A tar.gz inside a tar is streamed (no buffer for the inner archive), and a member over the member
    /// limit is reported while the rest is read.
    @Test func aNestedTarGzInsideATar() throws {
        let dir = try scratch("nested-tgz")
        defer { try? FileManager.default.removeItem(at: dir) }
        let fm = FileManager.default
        try fm.createDirectory(at: dir.appendingPathComponent("inner/opt/app"), withIntermediateDirectories: true)
        try fixture("hello-glibc").write(to: dir.appendingPathComponent("inner/opt/app/tool"))
        try fm.createDirectory(at: dir.appendingPathComponent("outer/pkg"), withIntermediateDirectories: true)
        try run("/usr/bin/tar", ["-czf", "outer/pkg/payload.tar.gz", "-C", "inner", "."], in: dir)
        try fixture("recent").write(to: dir.appendingPathComponent("outer/pkg/recent"))
        try run("/usr/bin/tar", ["-cf", "release.tar", "-C", "outer", "."], in: dir)
        let list = try results(
            muslcheck("check", "--format", "json", "--fail-on", "never", dir.appendingPathComponent("release.tar").path)
        )
        let prefix = dir.appendingPathComponent("release.tar").path
        #expect(
            list.contains {
                ($0["path"] as? String) == prefix + "!/pkg/payload.tar.gz!/opt/app/tool"
                    && $0["verdict"] as? String == "needs-gcompat"
            })
        #expect(list.contains { ($0["path"] as? String) == prefix + "!/pkg/recent" })
        var serial = ArchiveLimits()
        serial.decodeAside = false
        let e = try expandFile(dir.appendingPathComponent("release.tar"), limits: serial)
        #expect(e.peakMemberBuffers == 1)  // the inner tar.gz was never buffered
    }

    /// A member is read straight into its buffer when its size is known; a declared size that lies (a zip
    /// directory's) neither cuts the member short nor lets it pass the cap.
    @Test func readingAWholeMemberTrustsNoDeclaredSize() throws {
        let data = [UInt8]((0..<5000).map { UInt8($0 % 251) })
        #expect(try MemorySource(data).readAll(cap: 10_000, sizeHint: 5000) == data)
        #expect(try MemorySource(data).readAll(cap: 10_000, sizeHint: 100) == data)  // more than declared
        #expect(try MemorySource(data).readAll(cap: 10_000, sizeHint: 9000) == data)  // less than declared
        #expect(try MemorySource(data).readAll(cap: 4999, sizeHint: 100) == nil)
        #expect(try MemorySource(data).readAll(cap: 4999) == nil)
        #expect(try MemorySource(data).readAll(cap: 5000) == data)
    }
}
