// Container images: layers applied (deletions, opaque directories, replacements), every image of a
// multi-image tar or index read, what is not an image read as an ordinary tar or directory, layouts
// read without leaving their directory, and images larger than the member limit under default limits.
import Foundation
import MuslcheckCLI
import Synchronization
import TestSupport
import Testing

@testable import Archives

/// A tar written by hand, header by header: for inputs tar(1) does not make (forged fields, holes).
struct TarWriter {
    var bytes: [UInt8] = []

    static func octal(_ value: Int, _ width: Int) -> [UInt8] {
        let digits = Array(String(value, radix: 8).utf8)
        return [UInt8](repeating: UInt8(ascii: "0"), count: max(0, width - 1 - digits.count)) + digits + [0]
    }

    /// A 512-byte ustar header (checksum right unless `checksum` is given).
    static func header(
        _ name: String, size: Int, type: UInt8 = UInt8(ascii: "0"), checksum: Int? = nil, link: String = ""
    ) -> [UInt8] {
        var h = [UInt8](repeating: 0, count: 512)
        func put(_ at: Int, _ field: [UInt8]) { for (i, b) in field.enumerated() { h[at + i] = b } }
        put(0, Array(name.utf8.prefix(100)))
        put(100, octal(0o755, 8))
        put(108, octal(0, 8))
        put(116, octal(0, 8))
        put(124, octal(size, 12))
        put(136, octal(0, 12))
        h[156] = type
        put(157, Array(link.utf8.prefix(100)))
        put(257, Array("ustar\u{0}00".utf8))
        put(148, [UInt8](repeating: 32, count: 8))
        let sum = checksum ?? h.reduce(0) { $0 + Int($1) }
        put(148, octal(sum, 7) + [32])
        return h
    }

    static func pad(_ n: Int) -> [UInt8] { [UInt8](repeating: 0, count: (512 - n % 512) % 512) }

    mutating func add(_ name: String, _ data: [UInt8], type: UInt8 = UInt8(ascii: "0")) {
        bytes += Self.header(name, size: data.count, type: type) + data + Self.pad(data.count)
    }

    mutating func pax(_ records: [String: String], name: String = "PaxHeaders/x") {
        var data: [UInt8] = []
        for (k, v) in records.sorted(by: { $0.key < $1.key }) {
            let body = " \(k)=\(v)\n"
            var length = body.utf8.count + 1
            while String(length).count + body.utf8.count > length { length += 1 }
            data += Array("\(length)\(body)".utf8)
        }
        add(name, data, type: UInt8(ascii: "x"))
    }

    func finished() -> [UInt8] { bytes + [UInt8](repeating: 0, count: 1024) }

    /// A `docker save` tarball of `layers` (name, layer tar), first to last, with `config` when given.
    static func dockerSave(_ layers: [(name: String, bytes: [UInt8])], config: String? = nil) -> [UInt8] {
        var save = TarWriter()
        for layer in layers { save.add(layer.name, layer.bytes) }
        let list = layers.map { "\"\($0.name)\"" }.joined(separator: ",")
        let configField = config == nil ? "" : #""Config":"c.json","#
        save.add("manifest.json", Array(#"[{\#(configField)"RepoTags":["x:1"],"Layers":[\#(list)]}]"#.utf8))
        if let config { save.add("c.json", Array(config.utf8)) }
        return save.finished()
    }
}

final class Counter: Sendable {
    private let count = Mutex(0)
    func add() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}

func sha256(_ url: URL) throws -> String {
    let out = try #require(runProgram("/usr/bin/sha256sum", [url.path]))
    return String(out.stdout.prefix(64))
}

@Suite(.serialized) struct Images {
    /// Three layers: the second deletes a file (whiteout), empties a directory (opaque whiteout) and
    /// replaces a program; the third, compressed otherwise, adds one. Every needs-rebuild program of the
    /// first layer is gone, so the gate at needs-rebuild passes; before, the deleted ones were judged in
    /// an OCI layout read by the first manifest only, and a tar image was refused over 256 MiB.
    func layers(in dir: URL) throws -> [URL] {
        let fm = FileManager.default
        func put(_ layer: String, _ path: String, _ data: Data) throws {
            let url = dir.appendingPathComponent("\(layer)/\(path)")
            try fm.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try data.write(to: url)
        }
        try put("l1", "usr/bin/app", try fixture("recent"))
        try put("l1", "usr/bin/kept", try fixture("hello-glibc"))
        try put("l1", "usr/bin/replaced", try fixture("recent"))
        try put("l1", "opt/lib/gone1", try fixture("recent"))
        try put("l1", "opt/lib/sub/gone2", try fixture("recent"))
        try put("l2", "usr/bin/.wh.app", Data())
        try put("l2", "opt/lib/.wh..wh..opq", Data())
        try put("l2", "opt/lib/new", try fixture("hello-musl"))
        try put("l2", "usr/bin/replaced", try fixture("hello-musl"))
        try put("l3", "usr/local/bin/tool", try fixture("hello-glibc"))
        try run("/usr/bin/tar", ["-cf", "layer1.tar", "-C", "l1", "."], in: dir)
        try run("/usr/bin/tar", ["-czf", "layer2.tar.gz", "-C", "l2", "."], in: dir)
        try run("/usr/bin/tar", ["--zstd", "-cf", "layer3.tar.zst", "-C", "l3", "."], in: dir)
        return ["layer1.tar", "layer2.tar.gz", "layer3.tar.zst"].map { dir.appendingPathComponent($0) }
    }

    func expectMerged(_ out: CommandOutput, _ prefix: String, _ what: String) throws {
        let list = try results(out)
        func verdict(_ path: String) -> String? {
            list.first { ($0["path"] as? String) == prefix + path }?["verdict"] as? String
        }
        #expect(verdict("/usr/bin/kept") == "needs-gcompat", "\(what)")
        #expect(verdict("/usr/bin/replaced") == "runs", "\(what): the upper layer's program, not the lower one")
        #expect(verdict("/opt/lib/new") == "runs", "\(what)")
        #expect(verdict("/usr/local/bin/tool") == "needs-gcompat", "\(what)")
        for gone in ["/usr/bin/app", "/opt/lib/gone1", "/opt/lib/sub/gone2"] {
            #expect(verdict(gone) == nil, "\(what): \(gone)")
        }
        #expect(!list.contains { $0["verdict"] as? String == "needs-rebuild" }, "\(what)")
        #expect(!list.contains { $0["status"] as? String == "error" }, "\(what)")
        #expect(out.exitCode == 0, "\(what)")
    }

    /// An OCI layout of the layers (blobs named by their digests), with `extra` manifests in its index.
    func ociLayout(_ layout: URL, layers: [URL], extra: [String] = [], config: String? = nil) throws -> String {
        let fm = FileManager.default
        let blobs = layout.appendingPathComponent("blobs/sha256")
        try fm.createDirectory(at: blobs, withIntermediateDirectories: true)
        var digests: [String] = []
        for layer in layers {
            let d = try sha256(layer)
            try fm.copyItem(at: layer, to: blobs.appendingPathComponent(d))
            digests.append("sha256:" + d)
        }
        var configField = ""
        if let config {
            let c = blobs.appendingPathComponent("config")
            try Data(config.utf8).write(to: c)
            let cd = try sha256(c)
            try fm.moveItem(at: c, to: blobs.appendingPathComponent(cd))
            configField = #""config":{"digest":"sha256:\#(cd)"},"#
        }
        let manifest = Data(
            #"{"schemaVersion":2,\#(configField)"layers":[\#(digests.map { #"{"digest":"\#($0)"}"# }.joined(separator: ","))]}"#
                .utf8)
        let m = blobs.appendingPathComponent("manifest")
        try manifest.write(to: m)
        let md = try sha256(m)
        try fm.moveItem(at: m, to: blobs.appendingPathComponent(md))
        let entries = ([#"{"digest":"sha256:\#(md)","platform":{"os":"linux","architecture":"amd64"}}"#] + extra)
            .joined(separator: ",")
        try Data(#"{"schemaVersion":2,"manifests":[\#(entries)]}"#.utf8).write(
            to: layout.appendingPathComponent("index.json"))
        try Data(#"{"imageLayoutVersion":"1.0.0"}"#.utf8).write(to: layout.appendingPathComponent("oci-layout"))
        return "sha256:" + md
    }

    @Test func laterLayersDeleteAndReplaceFiles() throws {
        let dir = try scratch("image-layers")
        defer { try? FileManager.default.removeItem(at: dir) }
        let fm = FileManager.default
        let layers = try layers(in: dir)
        // docker save (manifest.json naming the layer tarballs).
        try fm.createDirectory(at: dir.appendingPathComponent("save"), withIntermediateDirectories: true)
        for l in layers { try fm.copyItem(at: l, to: dir.appendingPathComponent("save/" + l.lastPathComponent)) }
        try Data(
            #"[{"Config":"c.json","RepoTags":["x:1"],"Layers":["layer1.tar","layer2.tar.gz","layer3.tar.zst"]}]"#.utf8
        )
        .write(to: dir.appendingPathComponent("save/manifest.json"))
        try Data(#"{"architecture":"amd64","os":"linux","config":{}}"#.utf8).write(
            to: dir.appendingPathComponent("save/c.json"))
        try run("/usr/bin/tar", ["-cf", "docker.tar", "-C", "save", "."], in: dir)
        try expectMerged(
            muslcheck(
                "check", "--format", "json", "--fail-on", "needs-rebuild", dir.appendingPathComponent("docker.tar").path
            ),
            dir.appendingPathComponent("docker.tar").path + "!", "docker save")
        // Read by offset from the last layer to the first: what a later layer hides is never read (four
        // programs of eight), and no member's bytes outlive their reading.
        let reads = Counter()
        let e = try expandFile(dir.appendingPathComponent("docker.tar")) { bytes, deadline in
            reads.add()
            return Archives.defaultReader(&bytes, deadline)
        }
        #expect(e.files.count == 4 && reads.value == 4)
        #expect(e.liveMemberBuffers == 0)
        // The same image gzip-compressed as a whole (docker save | gzip): read in one pass.
        try run("/usr/bin/gzip", ["-k", "docker.tar"], in: dir)
        try expectMerged(
            muslcheck(
                "check", "--format", "json", "--fail-on", "needs-rebuild",
                dir.appendingPathComponent("docker.tar.gz").path),
            dir.appendingPathComponent("docker.tar.gz").path + "!", "docker save, gzip")
        // An OCI layout directory, and the same layout in a tar (newer docker save).
        let layout = dir.appendingPathComponent("layout")
        _ = try ociLayout(layout, layers: layers)
        try expectMerged(
            muslcheck("check", "--format", "json", "--fail-on", "needs-rebuild", layout.path), layout.path + "!",
            "OCI layout")
        try run("/usr/bin/tar", ["-cf", "oci.tar", "-C", "layout", "."], in: dir)
        try expectMerged(
            muslcheck(
                "check", "--format", "json", "--fail-on", "needs-rebuild", dir.appendingPathComponent("oci.tar").path),
            dir.appendingPathComponent("oci.tar").path + "!", "OCI in a tar")
    }

    /// Each image's configuration is read from the blob its manifest names (docker-save `Config`, OCI
    /// `config.digest`), in all three forms: by offset, streamed through gzip, and a layout directory.
    @Test func imageConfigurationsAreRead() throws {
        let dir = try scratch("image-config")
        defer { try? FileManager.default.removeItem(at: dir) }
        let fm = FileManager.default
        let layers = try layers(in: dir)
        let config =
            #"{"architecture":"amd64","os":"linux","config":{"Entrypoint":["/docker-entrypoint.sh"],"Cmd":["serve","--port","80"],"#
            + #""User":"app","Env":["PATH=/usr/bin:/bin","LANG=C.UTF-8","LANG=en_US.UTF-8"],"WorkingDir":"/srv","Shell":["/bin/bash","-c"]}}"#
        try fm.createDirectory(at: dir.appendingPathComponent("save"), withIntermediateDirectories: true)
        for l in layers { try fm.copyItem(at: l, to: dir.appendingPathComponent("save/" + l.lastPathComponent)) }
        let hex = String(repeating: "ab", count: 32)
        try Data(config.utf8).write(to: dir.appendingPathComponent("save/\(hex).json"))
        try Data(
            (#"[{"Config":"\#(hex).json","RepoTags":["x:1"],"Layers":["layer1.tar","layer2.tar.gz","layer3.tar.zst"]},"#
                + #"{"Config":"missing.json","RepoTags":["y:1"],"Layers":["layer1.tar"]}]"#).utf8
        )
        .write(to: dir.appendingPathComponent("save/manifest.json"))
        try run("/usr/bin/tar", ["-cf", "docker.tar", "-C", "save", "."], in: dir)
        try run("/usr/bin/gzip", ["-k", "docker.tar"], in: dir)
        let expected = ImageConfig(
            architecture: "amd64", os: "linux", entrypoint: ["/docker-entrypoint.sh"], cmd: ["serve", "--port", "80"],
            shell: ["/bin/bash", "-c"], user: "app", env: ["PATH=/usr/bin:/bin", "LANG=C.UTF-8", "LANG=en_US.UTF-8"],
            workingDir: "/srv")
        #expect(expected.environment("LANG") == "en_US.UTF-8")
        for name in ["docker.tar", "docker.tar.gz"] {
            let url = dir.appendingPathComponent(name)
            let e = try expandFile(url)
            #expect(e.images.map(\.name) == [url.path + "!/x:1", url.path + "!/y:1"], "\(name)")
            #expect(e.images.first?.config == expected, "\(name)")
            // A configuration the manifest names but the tar lacks: no config, and said.
            #expect(e.images.last.map { $0.config == nil } == true, "\(name)")
            #expect(
                e.problems.contains { $0.path.hasSuffix("y:1!/missing.json") && $0.message.contains("configuration") },
                "\(name)")
        }
        let layout = dir.appendingPathComponent("layout")
        _ = try ociLayout(layout, layers: layers, config: config)
        let e = Archives.expandImageLayout(directory: layout.path)
        #expect(e.images.map(\.name) == [layout.path] && e.images.first?.config == expected)
        // Not an image: no images.
        #expect(try expandFile(dir.appendingPathComponent("save/layer1.tar")).images.isEmpty)
    }

    /// Every image is read: each entry of a multi-image manifest.json and each manifest of an OCI index,
    /// named apart.
    @Test func everyImageOfAMultiImageInputIsRead() throws {
        let dir = try scratch("image-multi")
        defer { try? FileManager.default.removeItem(at: dir) }
        let fm = FileManager.default
        for (layer, file) in [("a", "hello-musl"), ("b", "recent")] {
            try fm.createDirectory(at: dir.appendingPathComponent("\(layer)/bin"), withIntermediateDirectories: true)
            try fixture(file).write(to: dir.appendingPathComponent("\(layer)/bin/\(file)"))
            try run("/usr/bin/tar", ["-cf", "\(layer).tar", "-C", layer, "."], in: dir)
        }
        try fm.createDirectory(at: dir.appendingPathComponent("save"), withIntermediateDirectories: true)
        for l in ["a.tar", "b.tar"] {
            try fm.copyItem(at: dir.appendingPathComponent(l), to: dir.appendingPathComponent("save/" + l))
        }
        try Data(#"[{"RepoTags":["one:1"],"Layers":["a.tar"]},{"RepoTags":["two:2"],"Layers":["a.tar","b.tar"]}]"#.utf8)
            .write(to: dir.appendingPathComponent("save/manifest.json"))
        try run("/usr/bin/tar", ["-cf", "two.tar", "-C", "save", "."], in: dir)
        let saved = dir.appendingPathComponent("two.tar").path
        let out = muslcheck("check", "--format", "json", saved)
        let paths = try results(out).compactMap { $0["path"] as? String }
        #expect(paths.contains(saved + "!/one:1!/bin/hello-musl"))
        #expect(paths.contains(saved + "!/two:2!/bin/hello-musl"))
        #expect(paths.contains(saved + "!/two:2!/bin/recent"))
        #expect(out.exitCode == 1)  // the second image's program needs a rebuild
        // An OCI index with two manifests: the second image (recent) is read too.
        let layout = dir.appendingPathComponent("layout")
        let second = try ociLayout(dir.appendingPathComponent("second"), layers: [dir.appendingPathComponent("b.tar")])
        let blob = second.dropFirst(7)
        _ = try ociLayout(
            layout, layers: [dir.appendingPathComponent("a.tar")],
            extra: [#"{"digest":"\#(second)","platform":{"os":"linux","architecture":"arm64"}}"#])
        for d in try fm.contentsOfDirectory(atPath: dir.appendingPathComponent("second/blobs/sha256").path)
        where !fm.fileExists(atPath: layout.appendingPathComponent("blobs/sha256/" + d).path) {
            try fm.copyItem(
                at: dir.appendingPathComponent("second/blobs/sha256/" + d),
                to: layout.appendingPathComponent("blobs/sha256/" + d))
        }
        #expect(fm.fileExists(atPath: layout.appendingPathComponent("blobs/sha256/" + blob).path))
        let oci = try results(muslcheck("check", "--format", "json", "--fail-on", "never", layout.path)).compactMap {
            $0["path"] as? String
        }
        #expect(oci.contains(layout.path + "!/linux/amd64!/bin/hello-musl"))
        #expect(oci.contains(layout.path + "!/linux/arm64!/bin/recent"))
    }

    /// What only looks like an image is read as what it is: a tar whose manifest.json names no layer it
    /// holds is an ordinary tar, and a directory whose index names nothing is walked.
    @Test func notAnImageIsReadAsWhatItIs() throws {
        let dir = try scratch("image-not")
        defer { try? FileManager.default.removeItem(at: dir) }
        let fm = FileManager.default
        for manifest in [#"[{"Layers":[]}]"#, #"[{"Layers":["missing.tar"]}]"#, "not json"] {
            var tar = TarWriter()
            tar.add("manifest.json", Array(manifest.utf8))
            tar.add("bin/recent", [UInt8](try fixture("recent")))
            try Data(tar.finished()).write(to: dir.appendingPathComponent("fake.tar"))
            let out = muslcheck("check", "--format", "json", dir.appendingPathComponent("fake.tar").path)
            #expect(
                try results(out).contains { ($0["path"] as? String)?.hasSuffix("fake.tar!/bin/recent") == true },
                "\(manifest)")
            #expect(out.exitCode == 1, "\(manifest)")
        }
        // A directory with oci-layout and an index that names no manifest: walked like any other.
        for index in [#"{"manifests":[]}"#, "{}", #"{"manifests":[{"digest":"sha256:../../../etc/passwd"}]}"#] {
            let d = dir.appendingPathComponent("d")
            try? fm.removeItem(at: d)
            try fm.createDirectory(at: d.appendingPathComponent("bin"), withIntermediateDirectories: true)
            try fixture("recent").write(to: d.appendingPathComponent("bin/recent"))
            try Data("{}".utf8).write(to: d.appendingPathComponent("oci-layout"))
            try Data(index.utf8).write(to: d.appendingPathComponent("index.json"))
            for arg in [d.path, dir.path] {
                let out = muslcheck("check", "--format", "json", arg)
                #expect(
                    try results(out).contains { ($0["path"] as? String) == d.path + "/bin/recent" }, "\(index) \(arg)")
                #expect(out.exitCode == 1, "\(index)")
            }
        }
    }

    /// Blob paths come from validated digests, and no link is followed out of the layout: a layer that is
    /// a link to a tar outside is reported, never read.
    @Test func layoutsAreReadWithoutLeavingTheirDirectory() throws {
        let dir = try scratch("image-links")
        defer { try? FileManager.default.removeItem(at: dir) }
        let fm = FileManager.default
        try fm.createDirectory(at: dir.appendingPathComponent("l/bin"), withIntermediateDirectories: true)
        try fixture("hello-musl").write(to: dir.appendingPathComponent("l/bin/hello"))
        try run("/usr/bin/tar", ["-cf", "layer.tar", "-C", "l", "."], in: dir)
        let layout = dir.appendingPathComponent("layout")
        _ = try ociLayout(layout, layers: [dir.appendingPathComponent("layer.tar")])
        let blob = layout.appendingPathComponent(
            "blobs/sha256/" + (try sha256(dir.appendingPathComponent("layer.tar"))))
        try fm.removeItem(at: blob)
        try fm.createSymbolicLink(at: blob, withDestinationURL: dir.appendingPathComponent("layer.tar"))
        let out = muslcheck("check", "--format", "json", layout.path)
        let list = try results(out)
        #expect(!list.contains { ($0["path"] as? String)?.hasSuffix("/bin/hello") == true })
        #expect(list.contains { ($0["error"] as? String)?.contains("reached through a link") == true })
        #expect(out.exitCode == 2)
        #expect(ImageIndex.blobPath("sha256:../../etc/passwd") == nil)
        #expect(ImageIndex.blobPath("sha256:" + String(repeating: "A", count: 64)) == nil)
        #expect(
            ImageIndex.blobPath("sha256:" + String(repeating: "a", count: 64)) == "blobs/sha256/"
                + String(repeating: "a", count: 64))
    }

    /// A docker-save tarball of 300 MB (a zero-filled member, written as a hole) passes with the default
    /// limits; the old reader refused any archive over 256 MiB.
    @Test func anImageLargerThanTheMemberLimitPassesWithDefaults() throws {
        let dir = try scratch("image-big")
        defer { try? FileManager.default.removeItem(at: dir) }
        let big = 300 << 20
        let elf = [UInt8](try fixture("hello-musl"))
        // The layer: big.bin (zeros), then usr/bin/hello.
        let layerSize = 512 + big + 512 + elf.count + TarWriter.pad(elf.count).count + 1024
        let url = dir.appendingPathComponent("big-image.tar")
        #expect(FileManager.default.createFile(atPath: url.path, contents: nil))
        let handle = try FileHandle(forWritingTo: url)
        try handle.write(contentsOf: TarWriter.header("layer.tar", size: layerSize))
        try handle.write(contentsOf: TarWriter.header("big.bin", size: big))
        try handle.seek(toOffset: try handle.offset() + UInt64(big))  // a hole: zeros on reading
        var rest = TarWriter()
        rest.add("usr/bin/hello", elf)
        try handle.write(contentsOf: rest.finished() + TarWriter.pad(layerSize))
        var outer = TarWriter()
        outer.add("manifest.json", Array(#"[{"RepoTags":["big:1"],"Layers":["layer.tar"]}]"#.utf8))
        try handle.write(contentsOf: outer.finished())
        try handle.close()
        let size = try #require(try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int)
        #expect(size > ArchiveLimits().maxMemberBytes)
        let out = muslcheck("check", "--format", "json", url.path)
        #expect(out.exitCode == 0)
        #expect(
            try results(out).contains {
                ($0["path"] as? String) == url.path + "!/usr/bin/hello" && $0["verdict"] as? String == "runs"
            })
    }

    /// Layer tarballs stored as hard links to one another (tar(1) does so for files with several links)
    /// are layers all the same, whether the image is read by offset or as a compressed stream.
    @Test func layersStoredAsHardLinks() throws {
        let dir = try scratch("image-hardlinks")
        defer { try? FileManager.default.removeItem(at: dir) }
        let fm = FileManager.default
        try fm.createDirectory(at: dir.appendingPathComponent("l/bin"), withIntermediateDirectories: true)
        try fixture("recent").write(to: dir.appendingPathComponent("l/bin/recent"))
        try fm.createDirectory(at: dir.appendingPathComponent("save"), withIntermediateDirectories: true)
        try run("/usr/bin/tar", ["-cf", "save/a.tar", "-C", "l", "."], in: dir)
        #expect(link(dir.appendingPathComponent("save/a.tar").path, dir.appendingPathComponent("save/b.tar").path) == 0)
        try Data(#"[{"RepoTags":["x:1"],"Layers":["a.tar","b.tar"]}]"#.utf8).write(
            to: dir.appendingPathComponent("save/manifest.json"))
        try run("/usr/bin/tar", ["-cf", "linked.tar", "-C", "save", "a.tar", "b.tar", "manifest.json"], in: dir)
        try run("/usr/bin/gzip", ["-k", "linked.tar"], in: dir)
        for name in ["linked.tar", "linked.tar.gz"] {
            let path = dir.appendingPathComponent(name).path
            let paths = try results(muslcheck("check", "--format", "json", "--fail-on", "never", path)).compactMap {
                $0["path"] as? String
            }
            #expect(paths.filter { $0.hasSuffix("/bin/recent") } == [path + "!/bin/recent"], "\(name): \(paths)")
        }
    }
}
