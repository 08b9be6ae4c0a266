// An image's layers read side by side (one expander each, on several cores) give what reading them one
// after the other gives: the same files, problems and links, what later layers hide dropped; and members
// held at once stay within the one-expander bound.
import ELF
import Foundation
import MuslcheckCLI
import TestSupport
import Testing

@testable import Archives

@Suite(.serialized) struct LayersAside {
    /// Three layers; the second hides a program (whiteout), a directory holding a program, a jar, a bzip2
    /// file and a link (opaque), and replaces a program; the third adds one.
    func image(in dir: URL) throws -> URL {
        let fm = FileManager.default
        func put(_ path: String, _ data: Data) throws {
            let url = dir.appendingPathComponent(path)
            try fm.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try data.write(to: url)
        }
        try put("l1/usr/bin/app", try fixture("recent"))
        try put("l1/usr/bin/kept", try fixture("hello-glibc"))
        try put("l1/usr/bin/replaced", try fixture("recent"))
        try put("l1/opt/lib/gone1", try fixture("recent"))
        try put("l1/opt/lib/sub/gone2", try fixture("glibconly"))
        // A damaged compressed program: a problem, had it been judged.
        try put("l1/opt/lib/sub/prog", try fixture("recent"))
        try run("/usr/bin/gzip", ["l1/opt/lib/sub/prog"], in: dir)
        let gz = dir.appendingPathComponent("l1/opt/lib/sub/prog.gz")
        try Data(try Data(contentsOf: gz).prefix(600)).write(to: gz)
        try put("l3/usr/share/visible.gz", try Data(contentsOf: gz))
        try zip(dir.appendingPathComponent("l1/opt/lib/sub/app.jar"), [("native/libx.so", try fixture("recent"))])
        try fm.createSymbolicLink(
            atPath: dir.appendingPathComponent("l1/opt/lib/link").path, withDestinationPath: "gone1")
        try fm.createDirectory(at: dir.appendingPathComponent("l1/usr/lib"), withIntermediateDirectories: true)
        try fm.createSymbolicLink(
            atPath: dir.appendingPathComponent("l1/usr/lib/libkept.so").path, withDestinationPath: "../bin/kept")
        try put("l2/usr/bin/.wh.app", Data())
        try put("l2/opt/lib/.wh..wh..opq", Data())
        try put("l2/opt/lib/new", try fixture("hello-musl"))
        try put("l2/usr/bin/replaced", try fixture("hello-musl"))
        try put("l3/usr/local/bin/tool", try fixture("hello-glibc"))
        try put("l3/usr/local/bin/script", Data("#!/bin/bash\necho hi\n".utf8))
        try run("/usr/bin/tar", ["-cf", "save/layer1.tar", "-C", "l1", "."], in: dir.creatingDirectory("save"))
        try run("/usr/bin/tar", ["-czf", "save/layer2.tar.gz", "-C", "l2", "."], in: dir)
        try run("/usr/bin/tar", ["--zstd", "-cf", "save/layer3.tar.zst", "-C", "l3", "."], in: dir)
        try Data(
            #"[{"Config":"c.json","RepoTags":["x:1"],"Layers":["layer1.tar","layer2.tar.gz","layer3.tar.zst"]}]"#.utf8
        ).write(to: dir.appendingPathComponent("save/manifest.json"))
        try Data(#"{"architecture":"amd64","os":"linux","config":{}}"#.utf8).write(
            to: dir.appendingPathComponent("save/c.json"))
        try run("/usr/bin/tar", ["-cf", "docker.tar", "-C", "save", "."], in: dir)
        return dir.appendingPathComponent("docker.tar")
    }

    @Test func sideBySideGivesWhatOneAfterTheOtherGives() throws {
        let dir = try scratch("layers-aside")
        defer { try? FileManager.default.removeItem(at: dir) }
        let tar = try image(in: dir)
        var one = ArchiveLimits()
        one.layerJobs = 1
        let readsOne = Counter()
        let a = try expandFile(tar, limits: one) { bytes, deadline in
            readsOne.add()
            return Archives.defaultReader(&bytes, deadline)
        }
        // The image as the layers leave it: 4 programs, the script; nothing of the hidden directory.
        #expect(a.files.count == 5, "\(a.files.map(\.path))")  // the damaged one is a problem, not a file
        #expect(!a.problems.contains { $0.path.contains("prog.gz") }, "a hidden file is never reported")
        #expect(a.problems.contains { $0.path.hasSuffix("usr/share/visible.gz") }, "the same file, not hidden")
        #expect(a.links.keys.contains { $0.hasSuffix("usr/lib/libkept.so") })
        #expect(!a.links.keys.contains { $0.hasSuffix("opt/lib/link") })
        for jobs in [2, 3, 8] {
            var side = ArchiveLimits()
            side.layerJobs = jobs
            let readsSide = Counter()
            let b = try expandFile(tar, limits: side) { bytes, deadline in
                readsSide.add()
                return Archives.defaultReader(&bytes, deadline)
            }
            #expect(b.files.map(\.path) == a.files.map(\.path), "\(jobs) jobs")
            #expect(b.files.map { "\($0.result)" } == a.files.map { "\($0.result)" }, "\(jobs) jobs")
            #expect(b.files.map { $0.script != nil } == a.files.map { $0.script != nil }, "\(jobs) jobs")
            #expect(b.problems == a.problems, "\(jobs) jobs")
            #expect(b.links == a.links, "\(jobs) jobs")
            #expect(b.images.count == 1 && b.images.first?.name == a.images.first?.name, "\(jobs) jobs")
            #expect(b.liveMemberBuffers == 0, "\(jobs) jobs")
            // Side by side, what later layers hide was read (and dropped): proof this path ran.
            #expect(readsSide.value > readsOne.value, "\(jobs) jobs")
        }
        // Through the whole check: the same report on one core and on several.
        let path = tar.path
        let serial = muslcheck("check", "--format", "json", "--fail-on", "never", "--jobs", "1", path)
        let parallel = muslcheck("check", "--format", "json", "--fail-on", "never", "--jobs", "4", path)
        #expect(serial.exitCode == 2, "the damaged file is an input error")
        #expect(parallel.exitCode == serial.exitCode)
        #expect(parallel.stdout == serial.stdout)
        #expect(serial.stdout.contains("visible.gz") && !serial.stdout.contains("prog.gz"))
    }

    /// Two layers with two 20 MiB members each, each member read slowly: side by side, never two held at once.
    @Test func largeMembersAreHeldOneAtATime() throws {
        let dir = try scratch("layers-aside-gate")
        defer { try? FileManager.default.removeItem(at: dir) }
        let big = [0x7F, 0x45, 0x4C, 0x46] + [UInt8](repeating: 0, count: 20 << 20)
        var save = TarWriter()
        for layer in ["a.tar", "b.tar"] {
            var inner = TarWriter()
            for i in 0..<2 { inner.add("usr/lib/\(layer)-\(i)", big) }
            save.add(layer, inner.finished())
        }
        save.add("manifest.json", Array(#"[{"Config":"c.json","Layers":["a.tar","b.tar"]}]"#.utf8))
        save.add("c.json", Array(#"{"architecture":"amd64","os":"linux"}"#.utf8))
        let url = dir.appendingPathComponent("big.tar")
        try Data(save.finished()).write(to: url)
        var side = ArchiveLimits()
        side.layerJobs = 2
        let e = try expandFile(url, limits: side) { bytes, deadline in
            usleep(100_000)  // long enough that the two layers' members would overlap without the gate
            return Archives.defaultReader(&bytes, deadline)
        }
        #expect(e.files.count == 4)
        #expect(e.peakMemberBuffers == 1)
        #expect(e.liveMemberBuffers == 0)
    }
}

extension URL {
    /// This directory's subdirectory `name`, made if missing; returns this directory.
    fileprivate func creatingDirectory(_ name: String) throws -> URL {
        try FileManager.default.createDirectory(
            at: appendingPathComponent(name), withIntermediateDirectories: true)
        return self
    }
}
