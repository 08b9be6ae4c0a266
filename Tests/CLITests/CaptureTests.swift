// Files kept from an image (`ArchiveLimits.capture`): as the merged image holds them — the last layer that
// has a path wins, whiteouts and opaque directories respected — in every form an image comes in, within
// their limits, with what was left out said.
import Foundation
import TestSupport
import Testing

@testable import Archives

@Suite(.serialized) struct Capture {
    /// Three layers: the second replaces os-release, deletes one file (whiteout), empties a directory
    /// (opaque) and adds a file there; the third adds the dpkg status. The first has a program (its head is
    /// kept), a file over the size limit and a link.
    func image(in dir: URL) throws -> [URL] {
        let fm = FileManager.default
        func put(_ layer: String, _ path: String, _ text: String, mode: Int = 0o644) throws {
            let url = dir.appendingPathComponent("\(layer)/\(path)")
            try fm.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: url)
            try fm.setAttributes([.posixPermissions: mode], ofItemAtPath: url.path)
        }
        try put("l1", "etc/os-release", "ID=old\n")
        try put("l1", "etc/gone", "deleted above\n")
        try put("l1", "etc/opq/a", "hidden by an opaque directory\n")
        try put("l1", "etc/big", String(repeating: "x", count: 100))
        try put("l1", "usr/bin/tool", "#!/bin/sh\necho hello\n", mode: 0o755)
        try put("l1", "usr/share/doc/unwanted", "not asked for\n")
        try fm.createSymbolicLink(
            atPath: dir.appendingPathComponent("l1/etc/link").path, withDestinationPath: "os-release")
        try put("l2", "etc/os-release", "ID=new\n")
        try put("l2", "etc/.wh.gone", "")
        try put("l2", "etc/opq/.wh..wh..opq", "")
        try put("l2", "etc/opq/b", "added\n")
        try put("l3", "var/lib/dpkg/status", "Package: x\n")
        try run("/usr/bin/tar", ["-cf", "layer1.tar", "-C", "l1", "."], in: dir)
        try run("/usr/bin/tar", ["-czf", "layer2.tar.gz", "-C", "l2", "."], in: dir)
        try run("/usr/bin/tar", ["--zstd", "-cf", "layer3.tar.zst", "-C", "l3", "."], in: dir)
        return ["layer1.tar", "layer2.tar.gz", "layer3.tar.zst"].map { dir.appendingPathComponent($0) }
    }

    static let limits: ArchiveLimits = {
        var limits = ArchiveLimits()
        limits.capture = FileCapture(maxFileBytes: 64) { c in
            if c.isLink || c.path.hasPrefix("etc/") || c.path.hasPrefix("var/lib/dpkg/") { return .whole }
            return c.executable ? .head(4) : nil
        }
        return limits
    }()

    func expectMerged(_ e: Expansion, _ what: String) {
        #expect(e.images.count == 1, "\(what)")
        guard let image = e.images.first else { return }
        func text(_ path: String) -> String? { image.files[path].map { String(decoding: $0.bytes, as: UTF8.self) } }
        #expect(text("etc/os-release") == "ID=new\n", "\(what): the upper layer's file")
        #expect(text("var/lib/dpkg/status") == "Package: x\n", "\(what)")
        #expect(text("etc/opq/b") == "added\n", "\(what)")
        for gone in ["etc/gone", "etc/opq/a", "etc/.wh.gone", "etc/opq/.wh..wh..opq"] {
            #expect(image.files[gone] == nil, "\(what): \(gone)")
        }
        #expect(image.files["usr/share/doc/unwanted"] == nil, "\(what)")
        let tool = image.files["usr/bin/tool"]
        #expect(
            text("usr/bin/tool") == "#!/b" && tool?.size == 21 && tool?.isComplete == false && tool?.executable == true,
            "\(what): the head only")
        #expect(image.files["etc/link"]?.linkTarget == "os-release", "\(what)")
        #expect(image.files["etc/big"] == nil, "\(what)")
        #expect(image.notCaptured["etc/big"]?.contains("over the 64-byte limit") == true, "\(what)")
        #expect(image.notCaptured.count == 1, "\(what)")
        // Kept files are still read as members: the program's head was handed on, not lost.
        #expect(e.otherFiles > 0, "\(what)")
    }

    @Test func keptFilesAreTheMergedImagesInEveryForm() throws {
        let dir = try scratch("capture")
        defer { try? FileManager.default.removeItem(at: dir) }
        let fm = FileManager.default
        let layers = try image(in: dir)
        try fm.createDirectory(at: dir.appendingPathComponent("save"), withIntermediateDirectories: true)
        for l in layers { try fm.copyItem(at: l, to: dir.appendingPathComponent("save/" + l.lastPathComponent)) }
        try Data(
            #"[{"Config":"c.json","RepoTags":["x:1"],"Layers":["layer1.tar","layer2.tar.gz","layer3.tar.zst"]}]"#.utf8
        )
        .write(to: dir.appendingPathComponent("save/manifest.json"))
        try Data(#"{"architecture":"amd64","os":"linux","config":{"Cmd":["/usr/bin/tool"]}}"#.utf8).write(
            to: dir.appendingPathComponent("save/c.json"))
        try run("/usr/bin/tar", ["-cf", "docker.tar", "-C", "save", "."], in: dir)
        try run("/usr/bin/gzip", ["-k", "docker.tar"], in: dir)
        let heard = Counter()
        var limits = Self.limits
        limits.capture?.received = { image in if image.config?.cmd == ["/usr/bin/tool"] { heard.add() } }
        expectMerged(try expandFile(dir.appendingPathComponent("docker.tar"), limits: limits), "docker save, by offset")
        expectMerged(
            try expandFile(dir.appendingPathComponent("docker.tar.gz"), limits: limits), "docker save, gzip, streamed")
        let layout = dir.appendingPathComponent("layout")
        _ = try Images().ociLayout(layout, layers: layers)
        expectMerged(Archives.expandImageLayout(directory: layout.path, limits: limits), "OCI layout")
        try run("/usr/bin/tar", ["-cf", "oci.tar", "-C", "layout", "."], in: dir)
        expectMerged(try expandFile(dir.appendingPathComponent("oci.tar"), limits: limits), "OCI in a tar")
        // Each image was handed to the caller as it was read (the two docker-save forms carry the config).
        #expect(heard.value == 2)
        // Nothing kept unless asked.
        #expect(try expandFile(dir.appendingPathComponent("docker.tar")).images.first?.files.isEmpty == true)
        // Past the total limit, the rest is left out and said.
        var small = Self.limits
        small.capture?.maxTotalBytes = 10
        let e = try expandFile(dir.appendingPathComponent("docker.tar.gz"), limits: small)
        let image = try #require(e.images.first)
        #expect(image.files["var/lib/dpkg/status"] == nil)
        #expect(image.notCaptured.values.contains { $0.contains("10-byte limit of files kept from one input") })
    }
}
