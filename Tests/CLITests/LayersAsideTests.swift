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

/// Side by side against one after the other, input by input: what a second reading found.
extension LayersAside {
    func save(_ layers: [(String, [UInt8])]) -> [UInt8] {
        TarWriter.dockerSave(layers.map { ($0.0, $0.1) }, config: #"{"architecture":"amd64","os":"linux"}"#)
    }

    /// Two layers (a, b), each holding a jar with one 20 MiB ELF-looking member; `gzip`: the layers compressed;
    /// `lyingSize`: the jars' directories say the member is 100 bytes.
    func jarLayers(in dir: URL, gzip: Bool, lyingSize: Bool) throws -> [(String, [UInt8])] {
        let big = Data([0x7F, 0x45, 0x4C, 0x46] + [UInt8](repeating: 0, count: 20 << 20))
        var layers: [(String, [UInt8])] = []
        for l in ["a", "b"] {
            let jar = dir.appendingPathComponent("\(l).jar")
            try zip(jar, [("native/lib\(l).so", big)])
            if lyingSize {
                let patch = """
                    import struct, sys
                    p = sys.argv[1]; b = bytearray(open(p, 'rb').read())
                    i = b.find(b'PK\\x03\\x04'); struct.pack_into('<I', b, i + 22, 100)
                    j = b.find(b'PK\\x01\\x02'); struct.pack_into('<I', b, j + 24, 100)
                    open(p, 'wb').write(b)
                    """
                let out = try #require(runProgram("/usr/bin/env", ["python3", "-c", patch, jar.path]))
                #expect(out.status == 0, "\(out.stderr)")
            }
            var t = TarWriter()
            t.add("opt/\(l).jar", Array(try Data(contentsOf: jar)))
            guard gzip else {
                layers.append(("\(l).tar", t.finished()))
                continue
            }
            try Data(t.finished()).write(to: dir.appendingPathComponent("\(l).tar"))
            try run("/usr/bin/gzip", ["-f", "\(l).tar"], in: dir)
            layers.append(("\(l).tar.gz", Array(try Data(contentsOf: dir.appendingPathComponent("\(l).tar.gz")))))
        }
        return layers
    }

    /// The image read one after the other, and side by side (2 jobs).
    func both(
        _ bytes: [UInt8], _ name: String, tweak: (inout ArchiveLimits) -> Void = { _ in },
        read: @escaping MemberReader = Archives.defaultReader
    ) throws -> (Expansion, Expansion) {
        let dir = try scratch("aside-" + name)
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("img.tar")
        try Data(bytes).write(to: url)
        var one = ArchiveLimits()
        one.layerJobs = 1
        tweak(&one)
        var two = one
        two.layerJobs = 2
        return (try expandFile(url, limits: one, read: read), try expandFile(url, limits: two, read: read))
    }

    /// An image inside a layer (an image tar among its files) is read, with its configuration, both ways.
    @Test func anImageInsideALayerIsKept() throws {
        let elf = Array(try fixture("recent"))
        var x = TarWriter()
        x.add("usr/bin/app", elf)
        var inner = TarWriter()
        inner.add("x.tar", x.finished())
        inner.add("manifest.json", Array(#"[{"Config":"c.json","Layers":["x.tar"]}]"#.utf8))
        inner.add(
            "c.json", Array(#"{"architecture":"amd64","os":"linux","config":{"Entrypoint":["/usr/bin/app"]}}"#.utf8))
        var a = TarWriter()
        a.add("img/app.tar", inner.finished())
        var b = TarWriter()
        b.add("usr/bin/other", elf)
        let (one, two) = try both(save([("a.tar", a.finished()), ("b.tar", b.finished())]), "nested")
        #expect(one.images.count == 2)
        #expect(two.images.map(\.name).sorted() == one.images.map(\.name).sorted())
        #expect(two.files.map(\.path) == one.files.map(\.path))
    }

    /// The entries limit is the image's, not each layer's.
    @Test func theEntriesLimitHoldsForTheWholeImage() throws {
        var a = TarWriter()
        var b = TarWriter()
        for i in 0..<4 {
            a.add("etc/a\(i)", [1])
            b.add("etc/b\(i)", [1])
        }
        let (one, two) = try both(save([("a.tar", a.finished()), ("b.tar", b.finished())]), "entries") {
            $0.maxEntries = 10
        }
        #expect(one.problems.contains { $0.message.contains("more than") })
        #expect(two.problems.contains { $0.message.contains("more than") }, "\(two.problems)")
    }

    /// When the time runs out, what was read is kept, as one after the other keeps it.
    @Test func aTimeOutKeepsWhatWasRead() throws {
        let elf = Array(try fixture("recent"))
        var a = TarWriter()
        var b = TarWriter()
        // Each layer takes longer than the limit alone: side by side, both run out.
        for i in 0..<3 {
            a.add("usr/bin/a\(i)", elf)
            b.add("usr/bin/b\(i)", elf)
        }
        let (one, two) = try both(
            save([("a.tar", a.finished()), ("b.tar", b.finished())]), "time",
            tweak: {
                $0.maxSeconds = 0.3
                $0.decodeAside = false
            },
            read: { bytes, deadline in
                usleep(200_000)
                return Archives.defaultReader(&bytes, deadline)
            })
        #expect(!one.files.isEmpty)
        #expect(two.files.map(\.path) == one.files.map(\.path))
        #expect(two.problems.filter { $0.message.contains("stopped after") }.count == 1, "\(two.problems)")
    }

    /// Two layers failing alike are two problems, as one after the other reports them.
    @Test func alikeProblemsOfTwoLayersAreBothReported() throws {
        let dir = try scratch("aside-gz")
        defer { try? FileManager.default.removeItem(at: dir) }
        var inner = TarWriter()
        inner.add("usr/bin/app", Array(try fixture("recent")))
        try Data(inner.finished()).write(to: dir.appendingPathComponent("l.tar"))
        try run("/usr/bin/gzip", ["-f", "l.tar"], in: dir)
        let gz = Array(try Data(contentsOf: dir.appendingPathComponent("l.tar.gz")).prefix(600))
        let (one, two) = try both(save([("a.tar.gz", gz), ("b.tar.gz", gz)]), "dedup")
        #expect(one.problems.count >= 2)
        #expect(two.problems == one.problems)
    }

    /// Files a later layer hides are not counted among the image's other files.
    @Test func hiddenFilesAreNotCounted() throws {
        var a = TarWriter()
        a.add("etc/x.txt", Array("hello\n".utf8))
        a.add("etc/y.txt", Array("kept\n".utf8))
        var b = TarWriter()
        b.add("etc/.wh.x.txt", [])
        let (one, two) = try both(save([("a.tar", a.finished()), ("b.tar", b.finished())]), "other")
        #expect(one.otherFiles == 1)
        #expect(two.otherFiles == one.otherFiles)
    }

    /// A hard link to a file a later layer replaced: side by side it is judged (the replaced bytes were read);
    /// one after the other they were not, and it is reported, never taken for the new file.
    @Test func aHardLinkToAReplacedFileIsNeverTheNewFile() throws {
        var a = TarWriter()
        a.add("usr/bin/a", Array(try fixture("recent")))
        a.bytes += TarWriter.header("usr/bin/b", size: 0, type: UInt8(ascii: "1"), link: "usr/bin/a")
        var b = TarWriter()
        b.add("usr/bin/a", Array(try fixture("hello-musl")))
        let (one, two) = try both(save([("a.tar", a.finished()), ("b.tar", b.finished())]), "hardlink")
        #expect(!one.links.keys.contains { $0.hasSuffix("usr/bin/b") })
        #expect(one.problems.contains { $0.path.hasSuffix("usr/bin/b") && $0.message.contains("replaced") })
        #expect(two.files.map { String($0.path.split(separator: "/").last ?? "") } == ["a", "b"])
        #expect(!two.links.keys.contains { $0.hasSuffix("usr/bin/b") })
    }

    /// A jar in a compressed layer is held in memory: beside other layers, alone, with its members.
    @Test func bufferedZipsAreHeldOneAtATime() throws {
        let dir = try scratch("aside-zip")
        defer { try? FileManager.default.removeItem(at: dir) }
        let layers = try jarLayers(in: dir, gzip: true, lyingSize: false)
        let (one, two) = try both(
            save(layers), "zip", tweak: { _ in },
            read: { bytes, deadline in
                usleep(300_000)
                return Archives.defaultReader(&bytes, deadline)
            })
        #expect(one.files.count == 2 && two.files.count == 2)
        #expect(two.peakMemberBuffers <= one.peakMemberBuffers)
    }

    /// A zip member whose declared size lies (100 bytes for 20 MiB) is held as one of unknown size.
    @Test func aZipMembersDeclaredSizeIsNotTrusted() throws {
        let dir = try scratch("aside-lie")
        defer { try? FileManager.default.removeItem(at: dir) }
        let layers = try jarLayers(in: dir, gzip: false, lyingSize: true)
        let (one, two) = try both(
            save(layers), "lie", tweak: { _ in },
            read: { bytes, deadline in
                usleep(300_000)
                return Archives.defaultReader(&bytes, deadline)
            })
        #expect(two.files.count == 2)
        // Each jar is buffered (a zip inside a stream) and holds its member: two, never more, as one after the other.
        #expect(two.peakMemberBuffers <= one.peakMemberBuffers)
    }
}

extension LayersAside {
    /// An OCI layout whose layers are all missing (found by the `layout` fuzz target: side by side, no layer
    /// opened made an empty range of threads trap): each is reported, nothing read, both ways.
    @Test func aLayoutWhoseLayersAreAllMissing() throws {
        let dir = try scratch("aside-missing")
        defer { try? FileManager.default.removeItem(at: dir) }
        let blobs = dir.appendingPathComponent("blobs/sha256")
        try FileManager.default.createDirectory(at: blobs, withIntermediateDirectories: true)
        let (manifest, one, two) = (
            String(repeating: "a", count: 64), String(repeating: "1", count: 64),
            String(repeating: "2", count: 64)
        )
        try Data(#"{"schemaVersion":2,"layers":[{"digest":"sha256:\#(one)"},{"digest":"sha256:\#(two)"}]}"#.utf8)
            .write(to: blobs.appendingPathComponent(manifest))
        try Data(#"{"schemaVersion":2,"manifests":[{"digest":"sha256:\#(manifest)"}]}"#.utf8).write(
            to: dir.appendingPathComponent("index.json"))
        try Data(#"{"imageLayoutVersion":"1.0.0"}"#.utf8).write(to: dir.appendingPathComponent("oci-layout"))
        for jobs in [1, 2] {
            var limits = ArchiveLimits()
            limits.layerJobs = jobs
            let e = Archives.expandImageLayout(directory: dir.path, limits: limits)
            #expect(e.files.isEmpty, "\(jobs) jobs")
            #expect(e.problems.filter { $0.message.contains("layer missing") }.count == 2, "\(jobs) jobs")
        }
    }
}
