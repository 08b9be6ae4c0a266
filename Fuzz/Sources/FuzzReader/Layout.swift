// The `layout` target: an OCI image layout directory (in /dev/shm, rewritten for every input) whose files are
// a small fixed image, one of them replaced by the input. The image: two layers, the second with links (to a
// file of the first, to a directory, a loop, one out of the root), a hard link to the first layer's program
// and a whiteout; index, manifest and config as a registry writes them. Blob names are digests in form only
// (the reader never hashes blobs), so the fixed files keep pointing at each other whatever the input is.
import Archives
import Assessment
import ELF
import Foundation
import Scanning
#if canImport(Glibc)
import Glibc
#endif

enum LayoutFiles {
    static let manifestDigest = String(repeating: "a", count: 64)
    static let configDigest = String(repeating: "c", count: 64)
    static let layerDigests = [String(repeating: "1", count: 64), String(repeating: "2", count: 64)]

    /// The files an input may replace, by its first byte modulo their count: (path in the layout, bytes).
    static let files: [(path: String, bytes: [UInt8])] = {
        let index = #"{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:\#(manifestDigest)","size":1,"platform":{"os":"linux","architecture":"amd64"},"annotations":{"org.opencontainers.image.ref.name":"fuzz:1"}}]}"#
        let layers = layerDigests.map { #"{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:\#($0)","size":1}"# }
        let manifest = #"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:\#(configDigest)","size":1},"layers":[\#(layers.joined(separator: ","))]}"#
        let config = #"{"architecture":"amd64","os":"linux","config":{"Entrypoint":["/usr/bin/app"],"Env":["PATH=/usr/bin:/bin"]},"rootfs":{"type":"layers","diff_ids":[]}}"#
        let program = fixture("fixtures-bin/bin/app-runpath")
        let library = fixture("fixtures-bin/bin/lib/libgreet.so.1")
        var first = TarBuilder()
        first.entry("usr/", type: "5")
        first.entry("usr/bin/", type: "5")
        first.entry("usr/lib/", type: "5")
        first.entry("usr/bin/app", data: program)
        first.entry("usr/lib/libgreet.so.1.2.3", data: library)
        first.entry("usr/lib/libgone.so.1", data: library)
        var second = TarBuilder()
        second.entry("usr/lib/libgreet.so.1", type: "2", link: "libgreet.so.1.2.3")
        second.entry("lib", type: "2", link: "usr/lib")
        second.entry("usr/bin/lib", type: "2", link: "/lib")
        second.entry("usr/lib/loop.so.1", type: "2", link: "loop.so.1")
        second.entry("usr/lib/libout.so.1", type: "2", link: "../../../../../etc/passwd")
        second.entry("usr/bin/app2", type: "1", link: "usr/bin/app")
        second.entry("usr/lib/.wh.libgone.so.1", data: [])
        return [
            ("index.json", Array(index.utf8)), ("blobs/sha256/" + manifestDigest, Array(manifest.utf8)),
            ("blobs/sha256/" + configDigest, Array(config.utf8)),
            ("blobs/sha256/" + layerDigests[0], first.finished()), ("blobs/sha256/" + layerDigests[1], second.finished()),
        ]
    }()

    /// A fixture of the repository (the fuzzer runs from its root), or a few bytes that are no ELF file.
    static func fixture(_ path: String) -> [UInt8] {
        FileManager.default.contents(atPath: path).map { [UInt8]($0) } ?? Array("not found\n".utf8)
    }

    static let directory: String = {
        let dir = "/dev/shm/muslcheck-fuzz-layout-\(getpid())"
        mkdir(dir, 0o700)
        mkdir(dir + "/blobs", 0o700)
        mkdir(dir + "/blobs/sha256", 0o700)
        LayoutFiles.write(dir + "/oci-layout", Array(#"{"imageLayoutVersion":"1.0.0"}"#.utf8))
        atexit { LayoutFiles.removeDirectory() }
        return dir
    }()

    static func removeDirectory() {
        let dir = "/dev/shm/muslcheck-fuzz-layout-\(getpid())"
        for (path, _) in files { unlink(dir + "/" + path) }
        unlink(dir + "/oci-layout")
        rmdir(dir + "/blobs/sha256")
        rmdir(dir + "/blobs")
        rmdir(dir)
    }

    @discardableResult
    static func write(_ path: String, _ bytes: [UInt8]) -> Bool {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        let n = bytes.withUnsafeBytes { raw in raw.baseAddress.map { Glibc.write(fd, $0, raw.count) } ?? 0 }
        return n == bytes.count
    }

    /// The fixed layout with file `which` replaced by `bytes`.
    static func lay(replacing which: Int, with bytes: [UInt8]) -> String {
        let dir = directory
        for (i, file) in files.enumerated() { write(dir + "/" + file.path, i == which ? bytes : file.bytes) }
        return dir
    }

    /// Seeds: each fixed file, behind the byte that chooses it.
    static func writeSeeds(to dir: String) -> Bool {
        files.enumerated().allSatisfy { i, file in write(dir + "/layout-\(i)", [UInt8(i)] + file.bytes) }
    }
}

/// A tar written header by header (ustar, checksums right), for the fixed layers.
struct TarBuilder {
    var bytes: [UInt8] = []

    mutating func entry(_ name: String, data: [UInt8] = [], type: Character = "0", link: String = "") {
        var h = [UInt8](repeating: 0, count: 512)
        func put(_ at: Int, _ field: [UInt8]) { for (i, b) in field.enumerated() { h[at + i] = b } }
        func octal(_ value: Int, _ width: Int) -> [UInt8] {
            let digits = Array(String(value, radix: 8).utf8)
            return [UInt8](repeating: UInt8(ascii: "0"), count: max(0, width - 1 - digits.count)) + digits + [0]
        }
        put(0, Array(name.utf8.prefix(100)))
        put(100, octal(type == "5" ? 0o755 : 0o644, 8))
        put(108, octal(0, 8))
        put(116, octal(0, 8))
        put(124, octal(data.count, 12))
        put(136, octal(0, 12))
        h[156] = type.asciiValue ?? UInt8(ascii: "0")
        put(157, Array(link.utf8.prefix(100)))
        put(257, Array("ustar\u{0}00".utf8))
        put(148, [UInt8](repeating: 32, count: 8))
        put(148, octal(h.reduce(0) { $0 + Int($1) }, 7) + [32])
        bytes += h + data + [UInt8](repeating: 0, count: (512 - data.count % 512) % 512)
    }

    func finished() -> [UInt8] { bytes + [UInt8](repeating: 0, count: 1024) }
}

/// Every library lookup goes through the image's links (Sources/Scanning/ArchiveDependencies.swift).
let layoutResolver = DependencyResolver(skip: { _ in false })

func fuzzLayout(_ input: [UInt8]) {
    guard let first = input.first else { return }
    let which = Int(first) % LayoutFiles.files.count
    var bytes = Array(input.dropFirst())
    if which >= 3 { repairTarChecksums(&bytes) }  // a layer: mutations reach past its headers
    let dir = LayoutFiles.lay(replacing: which, with: bytes)
    _ = Archives.isImageLayout(directory: dir)
    let e = Archives.expandImageLayout(directory: dir, limits: limits)
    var headers: [String: Header] = [:]
    var others: [String: UnmappableMember] = [:]
    for file in e.files {
        switch file.result {
        case .elf(let facts): headers[file.path] = Header(facts)
        case .failed: others[file.path] = .unreadable
        case .notELF: others[file.path] = .notELF
        }
    }
    for problem in e.problems { others[problem.path] = .unreadable }
    for name in e.notELF { others[name] = .notELF }
    for file in e.files {
        guard case .elf(let facts) = file.result else { continue }
        let dependencies = layoutResolver.locate(
            facts, path: file.path, among: headers, links: e.links, others: others)
        _ = assessor?.assess(facts, path: file.path, dependencies: dependencies)
    }
}
