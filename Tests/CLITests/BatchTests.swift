import ELF
import Foundation
import MuslcheckCLI
import TestSupport
import Testing

@testable import Archives
@testable import Scanning

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// A scratch directory per test, removed afterwards.
func scratch(_ name: String) throws -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("muslcheck-\(name)-\(getpid())")
    try? FileManager.default.removeItem(at: dir)
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir
}

/// A deflated zip of `entries`, in order, written by Python's zipfile (the tests' zip writer; the product
/// only reads zips).
func zip(_ url: URL, _ entries: [(String, Data)]) throws {
    let staging = FileManager.default.temporaryDirectory.appendingPathComponent(
        "muslcheck-zip-\(getpid())-\(UInt64.random(in: 0...UInt64.max))")
    try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: staging) }
    var arguments = [
        "python3", "-c",
        """
        import sys, zipfile
        with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:
            for name, source in zip(sys.argv[2::2], sys.argv[3::2]):
                z.write(source, name)
        """, url.path,
    ]
    for (i, (path, data)) in entries.enumerated() {
        let file = staging.appendingPathComponent("\(i)")
        try data.write(to: file)
        arguments += [path, file.path]
    }
    let made = try #require(runProgram("/usr/bin/env", arguments))
    #expect(made.status == 0, "python3 zipfile: \(made.stderr)")
}

func fixture(_ name: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: Fixtures.path(name))) }

func results(_ out: CommandOutput) throws -> [[String: Any]] {
    try #require(try json(out.stdout)["results"] as? [[String: Any]])
}

func run(_ tool: String, _ args: [String], in dir: URL) throws {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: tool)
    p.arguments = args
    p.currentDirectoryURL = dir
    try p.run()
    p.waitUntilExit()
    #expect(p.terminationStatus == 0, "\(tool) \(args)")
}

@Suite(.serialized) struct ArchiveInputs {
    @Test func wheelMembersAreNamedAndBundledLibrariesFound() throws {
        let dir = try scratch("wheel")
        defer { try? FileManager.default.removeItem(at: dir) }
        // A wheel-like zip: the extension finds its library through RUNPATH $ORIGIN/lib, as in the fixture.
        try zip(
            dir.appendingPathComponent("pkg-1.0-cp311-manylinux_x86_64.whl"),
            [
                ("pkg/app-runpath", try fixture("app-runpath")),
                ("pkg/lib/libgreet.so.1", try fixture("lib/libgreet.so.1")),
                ("pkg/__init__.py", Data("x = 1\n".utf8)),
            ])
        let out = muslcheck("check", "--format", "json", "--target", "alpine:3.20", dir.path)
        let list = try results(out)
        let paths = list.compactMap { $0["path"] as? String }
        #expect(paths.contains(dir.path + "/pkg-1.0-cp311-manylinux_x86_64.whl!/pkg/app-runpath"))
        #expect(paths.contains(dir.path + "/pkg-1.0-cp311-manylinux_x86_64.whl!/pkg/lib/libgreet.so.1"))
        let app = try #require(list.first { ($0["path"] as? String)?.hasSuffix("!/pkg/app-runpath") == true })
        #expect((app["missingLibraries"] as? [Any])?.isEmpty == true)  // libgreet is bundled in the wheel
        #expect(app["verdict"] as? String == "needs-gcompat")
    }

    /// A directory whose name ends in "!" makes paths that read like archive members (outer!/inner): what a
    /// file is comes from where it was found, so its bundled library is still found on disk.
    @Test func aDirectoryNamedLikeAnArchiveIsADirectory() throws {
        let dir = try scratch("bang")
        defer { try? FileManager.default.removeItem(at: dir) }
        let bin = dir.appendingPathComponent("build!/bin")
        try FileManager.default.createDirectory(
            at: bin.appendingPathComponent("lib"), withIntermediateDirectories: true)
        try fixture("app-runpath").write(to: bin.appendingPathComponent("app-runpath"))  // RUNPATH $ORIGIN/lib
        try fixture("lib/libgreet.so.1").write(to: bin.appendingPathComponent("lib/libgreet.so.1"))
        // A compressed program is the file it unpacks to, beside its libraries: no archive member either.
        try fixture("app-runpath").write(to: bin.appendingPathComponent("packed"))
        try run("/usr/bin/gzip", ["-f", "packed"], in: bin)
        let list = try results(
            muslcheck("check", "--format", "json", "--target", "alpine:3.20", "--fail-on", "never", dir.path))
        for name in ["app-runpath", "packed.gz"] {
            let app = try #require(list.first { ($0["path"] as? String) == bin.path + "/" + name }, "\(name)")
            #expect((app["missingLibraries"] as? [Any])?.isEmpty == true, "\(name)")
            #expect(app["verdict"] as? String == "needs-gcompat", "\(name)")
        }
    }

    @Test func jarsInsideJarsAndCompressedTarballs() throws {
        let dir = try scratch("nested")
        defer { try? FileManager.default.removeItem(at: dir) }
        let inner = dir.appendingPathComponent("inner.jar")
        try zip(inner, [("native/linux-x86_64/libhello.so", try fixture("lib/libgreet.so.1"))])
        try zip(
            dir.appendingPathComponent("app.jar"),
            [
                ("lib/inner.jar", try Data(contentsOf: inner)),
                ("META-INF/MANIFEST.MF", Data("Manifest-Version: 1.0\n".utf8)),
            ])
        try FileManager.default.removeItem(at: inner)
        let tree = dir.appendingPathComponent("tree/usr/bin")
        try FileManager.default.createDirectory(at: tree, withIntermediateDirectories: true)
        try fixture("recent").write(to: tree.appendingPathComponent("recent"))
        try run("/usr/bin/tar", ["-czf", "bundle.tar.gz", "-C", "tree", "."], in: dir)
        try run("/usr/bin/tar", ["-cJf", "bundle.tar.xz", "-C", "tree", "."], in: dir)
        try run("/usr/bin/tar", ["--zstd", "-cf", "bundle.tar.zst", "-C", "tree", "."], in: dir)
        try FileManager.default.removeItem(at: dir.appendingPathComponent("tree"))
        let paths = try results(muslcheck("check", "--format", "json", "--fail-on", "never", dir.path)).compactMap {
            $0["path"] as? String
        }
        #expect(paths.contains(dir.path + "/app.jar!/lib/inner.jar!/native/linux-x86_64/libhello.so"))
        for ext in ["gz", "xz", "zst"] {
            #expect(paths.contains(dir.path + "/bundle.tar.\(ext)!/usr/bin/recent"), "\(ext)")
        }
    }

    @Test func debianPackagesAndDockerSaveImages() throws {
        let dir = try scratch("deb")
        defer { try? FileManager.default.removeItem(at: dir) }
        let fm = FileManager.default
        // .deb: an ar archive of debian-binary, control.tar.xz and data.tar.xz.
        try fm.createDirectory(at: dir.appendingPathComponent("data/usr/bin"), withIntermediateDirectories: true)
        try fixture("hello-glibc").write(to: dir.appendingPathComponent("data/usr/bin/hello"))
        try Data("2.0\n".utf8).write(to: dir.appendingPathComponent("debian-binary"))
        try run("/usr/bin/tar", ["-cJf", "data.tar.xz", "-C", "data", "."], in: dir)
        try run("/usr/bin/tar", ["-cJf", "control.tar.xz", "-C", "data", "."], in: dir)
        try run(
            "/usr/bin/ar", ["rc", "hello_1.0_amd64.deb", "debian-binary", "control.tar.xz", "data.tar.xz"], in: dir)
        // docker save: two layers; the second deletes usr/bin/app with a whiteout and adds usr/bin/new.
        try fm.createDirectory(at: dir.appendingPathComponent("l1/usr/bin"), withIntermediateDirectories: true)
        try fm.createDirectory(at: dir.appendingPathComponent("l2/usr/bin"), withIntermediateDirectories: true)
        try fixture("recent").write(to: dir.appendingPathComponent("l1/usr/bin/app"))
        try fixture("hello-glibc").write(to: dir.appendingPathComponent("l1/usr/bin/kept"))
        try Data().write(to: dir.appendingPathComponent("l2/usr/bin/.wh.app"))
        try fixture("hello-musl").write(to: dir.appendingPathComponent("l2/usr/bin/new"))
        try fm.createDirectory(at: dir.appendingPathComponent("image"), withIntermediateDirectories: true)
        try run("/usr/bin/tar", ["-cf", "image/layer1.tar", "-C", "l1", "."], in: dir)
        try run("/usr/bin/tar", ["-czf", "image/layer2.tar", "-C", "l2", "."], in: dir)
        try Data(#"[{"Config":"c.json","RepoTags":["x:1"],"Layers":["layer1.tar","layer2.tar"]}]"#.utf8).write(
            to: dir.appendingPathComponent("image/manifest.json"))
        try run("/usr/bin/tar", ["-cf", "image.tar", "-C", "image", "."], in: dir)
        for d in ["data", "l1", "l2", "image", "debian-binary", "control.tar.xz", "data.tar.xz"] {
            try fm.removeItem(at: dir.appendingPathComponent(d))
        }
        let paths = try results(muslcheck("check", "--format", "json", "--fail-on", "never", dir.path)).compactMap {
            $0["path"] as? String
        }
        #expect(paths.contains(dir.path + "/hello_1.0_amd64.deb!/data.tar.xz!/usr/bin/hello"))
        #expect(paths.contains(dir.path + "/image.tar!/usr/bin/new"))
        #expect(paths.contains(dir.path + "/image.tar!/usr/bin/kept"))
        #expect(!paths.contains(dir.path + "/image.tar!/usr/bin/app"))  // whited out by the upper layer
    }

    /// Alpine .apk: gzip streams back to back (signature, control, data), each a tar segment.
    @Test func alpinePackagesAndOCILayouts() throws {
        let dir = try scratch("apk")
        defer { try? FileManager.default.removeItem(at: dir) }
        let fm = FileManager.default
        try fm.createDirectory(at: dir.appendingPathComponent("ctl"), withIntermediateDirectories: true)
        try Data("pkgname = x\n".utf8).write(to: dir.appendingPathComponent("ctl/.PKGINFO"))
        try fm.createDirectory(at: dir.appendingPathComponent("data/usr/bin"), withIntermediateDirectories: true)
        try fixture("hello-musl").write(to: dir.appendingPathComponent("data/usr/bin/hello"))
        try run("/usr/bin/tar", ["-czf", "ctl.tar.gz", "-C", "ctl", "."], in: dir)
        try run("/usr/bin/tar", ["-czf", "data.tar.gz", "-C", "data", "."], in: dir)
        var apk = try Data(contentsOf: dir.appendingPathComponent("ctl.tar.gz"))
        apk.append(try Data(contentsOf: dir.appendingPathComponent("data.tar.gz")))
        try apk.write(to: dir.appendingPathComponent("hello-1.0-r0.apk"))
        // An OCI image layout directory with one gzip layer and an opaque whiteout in a second one.
        let layout = dir.appendingPathComponent("layout")
        try fm.createDirectory(at: layout.appendingPathComponent("blobs/sha256"), withIntermediateDirectories: true)
        try fm.createDirectory(at: dir.appendingPathComponent("l1/opt/gone"), withIntermediateDirectories: true)
        try fixture("recent").write(to: dir.appendingPathComponent("l1/opt/gone/recent"))
        try fixture("hello-glibc").write(to: dir.appendingPathComponent("l1/hello"))
        try fm.createDirectory(at: dir.appendingPathComponent("l2/opt/gone"), withIntermediateDirectories: true)
        try Data().write(to: dir.appendingPathComponent("l2/opt/gone/.wh..wh..opq"))
        try run(
            "/usr/bin/tar", ["-czf", "layout/blobs/sha256/" + String(repeating: "a", count: 64), "-C", "l1", "."],
            in: dir)
        try run(
            "/usr/bin/tar", ["-cf", "layout/blobs/sha256/" + String(repeating: "b", count: 64), "-C", "l2", "."],
            in: dir)
        try Data(
            #"{"schemaVersion":2,"layers":[{"digest":"sha256:\#(String(repeating: "a", count: 64))"},{"digest":"sha256:\#(String(repeating: "b", count: 64))"}]}"#
                .utf8
        ).write(to: layout.appendingPathComponent("blobs/sha256/" + String(repeating: "c", count: 64)))
        try Data(#"{"schemaVersion":2,"manifests":[{"digest":"sha256:\#(String(repeating: "c", count: 64))"}]}"#.utf8)
            .write(to: layout.appendingPathComponent("index.json"))
        try Data(#"{"imageLayoutVersion":"1.0.0"}"#.utf8).write(to: layout.appendingPathComponent("oci-layout"))
        for d in ["ctl", "data", "ctl.tar.gz", "data.tar.gz", "l1", "l2"] {
            try fm.removeItem(at: dir.appendingPathComponent(d))
        }
        let paths = try results(muslcheck("check", "--format", "json", "--fail-on", "never", dir.path)).compactMap {
            $0["path"] as? String
        }
        #expect(paths.contains(dir.path + "/hello-1.0-r0.apk!/usr/bin/hello"))
        #expect(paths.contains(layout.path + "!/hello"))
        #expect(!paths.contains { $0.hasSuffix("opt/gone/recent") })  // hidden by the opaque whiteout
    }

    @Test func hardLinksAreJudgedOnceAndListedTwice() throws {
        let dir = try scratch("hardlinks")
        defer { try? FileManager.default.removeItem(at: dir) }
        try fixture("recent").write(to: dir.appendingPathComponent("a"))
        #expect(link(dir.appendingPathComponent("a").path, dir.appendingPathComponent("b").path) == 0)
        let list = try results(muslcheck("check", "--format", "json", "--fail-on", "never", dir.path))
        #expect(list.count == 2)
        let b = try #require(list.first { ($0["path"] as? String)?.hasSuffix("/b") == true })
        #expect(b["sameAs"] as? String == dir.appendingPathComponent("a").path)
        #expect(b["verdict"] as? String == "needs-rebuild")
    }

    @Test func limitsAreReportedNeverSilentlySkipped() throws {
        let dir = try scratch("limits")
        defer { try? FileManager.default.removeItem(at: dir) }
        // A zip bomb: an ELF header then 64 MiB of zeros in a tiny archive; the member limit is 1 MiB.
        // (A member whose first bytes are neither ELF nor an archive is never expanded, bomb or not.)
        let elfHead = try fixture("hello-musl").prefix(64)
        try zip(dir.appendingPathComponent("bomb.zip"), [("zeros.bin", elfHead + Data(count: 64 << 20))])
        let bomb = try results(
            muslcheck(
                "check", "--format", "json", "--max-member-bytes", "1048576",
                dir.appendingPathComponent("bomb.zip").path))
        let over = try #require(bomb.first { ($0["path"] as? String)?.hasSuffix("bomb.zip!/zeros.bin") == true })
        #expect(over["status"] as? String == "error")
        #expect((over["error"] as? String)?.contains("limit") == true)
        // Archives nested deeper than --max-depth.
        var data = try fixture("hello-musl")
        var name = "level0.zip"
        for level in 0..<4 {
            let url = dir.appendingPathComponent("level\(level).zip")
            try zip(url, [(level == 0 ? "hello" : "level\(level - 1).zip", data)])
            data = try Data(contentsOf: url)
            name = url.lastPathComponent
        }
        let deep = muslcheck("check", "--format", "json", "--max-depth", "2", dir.appendingPathComponent(name).path)
        #expect(deep.exitCode == 2)  // an archive not opened is an input error, never a pass
        #expect(try results(deep).contains { ($0["error"] as? String)?.contains("nested more than 2 levels") == true })
        let shallow = muslcheck("check", "--format", "json", dir.appendingPathComponent(name).path)
        #expect(try results(shallow).contains { ($0["path"] as? String)?.hasSuffix("level0.zip!/hello") == true })
        // Total bytes expanded from one archive: three 1 MiB members, 2 MiB allowed in all.
        try zip(dir.appendingPathComponent("total.zip"), (0..<3).map { ("m\($0)", elfHead + Data(count: 1 << 20)) })
        let total = muslcheck(
            "check", "--format", "json", "--max-total-bytes", "2097152", dir.appendingPathComponent("total.zip").path)
        #expect(total.exitCode == 2)
        #expect(try results(total).contains { ($0["error"] as? String)?.contains("over the limit") == true })
        // An archive itself over the member limit is named as such, with its size.
        let whole = muslcheck(
            "check", "--format", "json", "--max-member-bytes", "1000", dir.appendingPathComponent("total.zip").path)
        #expect(whole.exitCode == 2)
        #expect(
            try results(whole).contains {
                ($0["error"] as? String)?.hasSuffix("-byte limit (--max-member-bytes); not opened") == true
            })
        // Entry count.
        try zip(dir.appendingPathComponent("many.zip"), (0..<20).map { ("f\($0)", Data([1])) })
        let many = muslcheck(
            "check", "--format", "json", "--max-entries", "5", dir.appendingPathComponent("many.zip").path)
        #expect(many.exitCode == 2)
    }

    @Test func adversarialFileNamesAndSpecialFiles() throws {
        let dir = try scratch("names")
        defer { try? FileManager.default.removeItem(at: dir) }
        try fixture("hello-musl").write(to: dir.appendingPathComponent("ok"))
        // A file name that is not UTF-8, made with the raw system call.
        let raw = Array((dir.path + "/bad-\u{1}").utf8).dropLast() + [0xFF, 0xFE, 0]
        let fd = raw.withUnsafeBufferPointer {
            open(UnsafeRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self), O_CREAT | O_WRONLY, 0o644)
        }
        #expect(fd >= 0)
        close(fd)
        #expect(mkfifo(dir.appendingPathComponent("fifo").path, 0o600) == 0)
        try FileManager.default.createSymbolicLink(
            atPath: dir.appendingPathComponent("loop").path, withDestinationPath: dir.path)
        let out = muslcheck("check", "--format", "json", dir.path)
        let list = try results(out)
        #expect(
            list.contains { ($0["path"] as? String)?.hasSuffix("/ok") == true && $0["verdict"] as? String == "runs" })
        #expect(list.contains { ($0["error"] as? String)?.contains("not valid UTF-8") == true })
        #expect(out.exitCode == 2)  // reported, not a pass
        #expect(!list.contains { ($0["path"] as? String)?.hasSuffix("/fifo") == true })
    }
}

@Suite struct CompressedPeek {
    /// A compressed file is judged by its first decompressed bytes: documents are skipped unread, ELF files
    /// and archives inside are expanded, and a start too short or damaged to tell leaves the decision open.
    @Test func compressedFilesAreToldByTheirStart() throws {
        let dir = try scratch("peek")
        defer { try? FileManager.default.removeItem(at: dir) }
        let page = Data(String(repeating: ".TH LS 1 \"manual page\"\n.SH NAME\nls \\- list\n", count: 400).utf8)
        try page.write(to: dir.appendingPathComponent("ls.1"))
        try fixture("hello-musl").write(to: dir.appendingPathComponent("hello"))
        for (tool, ext, kind) in [("gzip", "gz", ArchiveKind.gzip), ("xz", "xz", .xz), ("zstd", "zst", .zstd)] {
            try run("/usr/bin/\(tool)", ["-k", "-f", "ls.1", "hello"], in: dir)
            let doc = try [UInt8](Data(contentsOf: dir.appendingPathComponent("ls.1.\(ext)")))
            let elf = try [UInt8](Data(contentsOf: dir.appendingPathComponent("hello.\(ext)")))
            #expect(Archives.holdsCandidate(kind, doc[...]) == false, "\(ext)")
            #expect(Archives.holdsCandidate(kind, elf[...]) == true, "\(ext)")
            #expect(Archives.holdsCandidate(kind, doc.prefix(12)) == nil, "\(ext): too short to tell")
            var damaged = elf
            for i in 12..<min(damaged.count, 400) { damaged[i] ^= 0x5A }
            #expect(
                Archives.holdsCandidate(kind, damaged[...]) == nil,
                "\(ext): damaged data is left to the full read, which reports it")
            // Through the command: the compressed ELF file is read, the compressed page only counted.
            let list = try results(
                muslcheck(
                    "check", "--format", "json", "--fail-on", "never",
                    dir.appendingPathComponent("ls.1.\(ext)").path, dir.appendingPathComponent("hello.\(ext)").path))
            #expect(
                list.contains {
                    ($0["path"] as? String)?.hasSuffix("/hello.\(ext)") == true && $0["verdict"] as? String == "runs"
                }, "\(ext)")
            #expect(
                list.filter { ($0["path"] as? String)?.contains("ls.1.\(ext)") == true }.map { $0["status"] as? String }
                    == ["skipped"], "\(ext)")
        }
    }
}

extension CompressedPeek {
    /// Zip members are judged by their first 262 bytes; a tar without ustar magic (v7) needs all 512,
    /// and must still be found inside a zip.
    @Test func tarsInsideZipsAreFoundWhateverTheirFormat() throws {
        let dir = try scratch("peek-tar")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("t"), withIntermediateDirectories: true)
        try fixture("hello-musl").write(to: dir.appendingPathComponent("t/hello"))
        var members: [(String, Data)] = []
        for format in ["v7", "ustar", "gnu"] {
            try run("/usr/bin/tar", ["--format=\(format)", "-cf", "\(format).tar", "-C", "t", "hello"], in: dir)
            let tar = try Data(contentsOf: dir.appendingPathComponent("\(format).tar"))
            #expect(Tar.looksLikeTar([UInt8](tar)) && Tar.couldBeHeader([UInt8](tar.prefix(262))), "\(format)")
            members.append(("\(format).tar", tar))
        }
        try zip(dir.appendingPathComponent("tars.zip"), members)
        let list = try results(muslcheck("check", "--format", "json", dir.appendingPathComponent("tars.zip").path))
        for format in ["v7", "ustar", "gnu"] {
            #expect(
                list.contains {
                    ($0["path"] as? String)?.hasSuffix("tars.zip!/\(format).tar!/hello") == true
                        && $0["verdict"] as? String == "runs"
                }, "\(format)")
        }
        // The point of the short test: a class file's start is turned away without the other 250 bytes.
        let classFile: [UInt8] = [0xCA, 0xFE, 0xBA, 0xBE, 0, 0, 0, 0x34] + [UInt8](repeating: 0x01, count: 254)
        #expect(!Tar.couldBeHeader(classFile))
        // Exact: any block the full check takes as a tar header passes the 262-byte test.
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            var block = [UInt8](repeating: 0, count: 512)
            for i in 0..<512 where Bool.random(using: &rng) { block[i] = UInt8.random(in: 1...255, using: &rng) }
            block[0] = UInt8.random(in: 1...255, using: &rng)
            let sum = (0..<512).reduce(0) { $0 + ((148..<156).contains($1) ? 32 : Int(block[$1])) }
            let field = Array(String(sum, radix: 8).utf8)
            for i in 148..<156 { block[i] = i - 148 < field.count ? field[i - 148] : 0 }
            if Tar.looksLikeTar(block) { #expect(Tar.couldBeHeader(Array(block.prefix(262)))) }
        }
    }
}

@Suite struct PathologicalInputs {
    /// A copy of a fixture whose dynamic symbol table, as the loader finds it (DT_SYMTAB, counted by a
    /// DT_HASH), is `count` entries appended to the file: zeroed, or (`named`) each a copy of the fixture's
    /// first import.
    func manySymbols(_ count: Int, named: Bool = false) throws -> Data {
        var elf = ELFImage([UInt8](try fixture("hello-glibc")))
        let symtab = try #require(elf.dynamic(6).flatMap { elf.fileOffset(ofAddress: $0) })
        let first = Array(elf.bytes[(symtab + 24)..<(symtab + 48)])
        let table = elf.appendLoaded(
            named ? Array((0..<count).map { _ in first }.joined()) : [UInt8](repeating: 0, count: count * 24))
        var hash = [UInt8](repeating: 0, count: 8)  // nbucket 0, nchain = count
        for i in 0..<4 { hash[4 + i] = UInt8(truncatingIfNeeded: count >> (8 * i)) }
        let hashAddress = elf.appendLoaded(hash)
        elf.setDynamic(6, table)
        elf.setDynamic(0x6fff_fef5, hashAddress, newTag: 4)  // DT_GNU_HASH becomes a DT_HASH
        return Data(elf.bytes)
    }

    /// Per-file time cap: a file that needs more is an error (exit 2), never a partial read taken as a pass;
    /// huge and sparse files are refused before anything is mapped.
    @Test func pathologicalFilesAreStoppedAndReported() throws {
        let dir = try scratch("pathological")
        defer { try? FileManager.default.removeItem(at: dir) }
        let symbols = dir.appendingPathComponent("million-symbols")
        try manySymbols(1 << 20).write(to: symbols)
        let capped = muslcheck("check", "--format", "json", "--max-seconds-per-file", "0.000001", symbols.path)
        #expect(capped.exitCode == 2)
        #expect(
            try results(capped).first?["error"] as? String
                == "stopped after 1e-06 s (--max-seconds-per-file): too much work for one file; not judged")
        let uncapped = muslcheck("check", "--format", "json", "--fail-on", "never", symbols.path)
        #expect(try results(uncapped).first?["status"] as? String == "assessed")  // the cap, not the file, stopped it
        // Memory: more imports than any real program has are refused, not kept (nor cut short).
        let imports = dir.appendingPathComponent("many-imports")
        try manySymbols(300_000, named: true).write(to: imports)
        let refused = muslcheck("check", "--format", "json", imports.path)
        #expect(refused.exitCode == 2)
        #expect(
            (try results(refused).first?["error"] as? String)?.hasPrefix("more than 262144 undefined dynamic symbols")
                == true)
        // An archive with many members: the same clock covers the archive and everything in it.
        try zip(dir.appendingPathComponent("many.zip"), (0..<3000).map { ("m\($0).txt", Data("text \($0)".utf8)) })
        let archive = muslcheck(
            "check", "--format", "json", "--max-seconds-per-file", "0.000001",
            dir.appendingPathComponent("many.zip").path)
        #expect(archive.exitCode == 2)
        #expect(try results(archive).contains { ($0["error"] as? String)?.contains("--max-seconds-per-file") == true })
        // 10 GB sparse files: an ELF header, then a gzip header; neither is mapped or read into memory.
        for (name, head) in [
            ("sparse-elf", [UInt8](try fixture("hello-glibc").prefix(64))),
            ("sparse.gz", [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 3]),
        ] {
            let url = dir.appendingPathComponent(name)
            try Data(head).write(to: url)
            let fd = open(url.path, O_WRONLY)
            #expect(fd >= 0 && ftruncate(fd, 10 << 30) == 0)
            close(fd)
            let out = muslcheck("check", "--format", "json", url.path)
            #expect(out.exitCode == 2, "\(name)")
            // The ELF file is over the size limit; the gzip stream is read as one and its damage (zeros) reported.
            #expect(
                try results(out).contains {
                    ($0["error"] as? String)?.contains(name == "sparse.gz" ? "gzip data is damaged" : "limit") == true
                }, "\(name)")
        }
    }
}

@Suite struct TarNumbers {
    /// Octal fields as tar tools write them: zero- or space-padded, ended by NUL or space.
    @Test(arguments: [
        ("0000644\0", 420 as Int?), ("  12345 \0", 5349), ("0017\0\0\0\0", 15), ("        ", 0), ("", 0),
        ("12389", nil), ("-1", nil),
    ])
    func parses(_ text: String, _ expected: Int?) {
        #expect(Tar.octal(ArraySlice(Array(text.utf8))) == expected)
    }
}

@Suite struct ArchiveRegressions {
    /// Every input that ever crashed the archive reader, replayed; damaged zips are reported, not read.
    @Test func fuzzRegressionsStayFixed() throws {
        let dir = Fixtures.dir.appendingPathComponent("fuzz-regressions")
        let zips = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix("zip-") }
        #expect(zips.count >= 2)
        for name in zips {
            let bytes = try [UInt8](Data(contentsOf: dir.appendingPathComponent(name)))
            let e = Archives.expand(name: name, bytes: bytes)
            #expect(e.problems.contains { $0.message.hasPrefix("zip:") }, "\(name): \(e.problems)")
        }
    }
}

@Suite(.serialized) struct ReportFormats {
    func runReports(_ dir: URL) -> CommandOutput {
        muslcheck(
            "check", "--target", "alpine:3.20", "fixtures-bin/bin",
            "--format", "sarif", "--output", dir.appendingPathComponent("r.sarif").path,
            "--format", "junit", "--output", dir.appendingPathComponent("r.xml").path,
            "--format", "markdown", "--output", dir.appendingPathComponent("r.md").path,
            "--format", "html", "--output", dir.appendingPathComponent("r.html").path,
            "--format", "json")
    }

    /// The same input gives the same bytes in every format, run after run (each run hashes differently:
    /// a dictionary in a report once changed the SARIF key order between runs).
    @Test func reportsAreTheSameBytesEveryRun() throws {
        let first = try scratch("formats-a")
        let second = try scratch("formats-b")
        defer {
            try? FileManager.default.removeItem(at: first)
            try? FileManager.default.removeItem(at: second)
        }
        let a = runReports(first)
        let b = runReports(second)
        #expect(a.stdout == b.stdout)
        for name in ["r.sarif", "r.xml", "r.md", "r.html"] {
            #expect(
                try Data(contentsOf: first.appendingPathComponent(name))
                    == Data(contentsOf: second.appendingPathComponent(name)), "\(name)")
        }
    }

    @Test func oneRunFeedsEveryFormat() throws {
        let dir = try scratch("formats")
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = runReports(dir)
        #expect(out.exitCode == 1)
        #expect(try json(out.stdout)["schemaVersion"] as? Int == 1)  // the one without --output goes to stdout
        for f in ["r.sarif", "r.xml", "r.md", "r.html"] {
            #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent(f).path))
        }
        let md = try String(contentsOf: dir.appendingPathComponent("r.md"), encoding: .utf8)
        #expect(md.contains("**Gate failed**") && md.contains("| needs-rebuild |") && md.contains("fcntl64"))
    }

    @Test func sarifValidatesAgainstTheOfficialSchema() throws {
        let dir = try scratch("sarif")
        defer { try? FileManager.default.removeItem(at: dir) }
        _ = runReports(dir)
        let schema = Fixtures.root.deletingLastPathComponent().appendingPathComponent(
            "shared/schemas/sarif-schema-2.1.0.json")
        let local = Fixtures.root.appendingPathComponent("Tests/CLITests/sarif-schema-2.1.0.json")
        let schemaPath = FileManager.default.fileExists(atPath: schema.path) ? schema.path : local.path
        let check = """
            import json, sys, jsonschema
            schema = json.load(open(sys.argv[1])); log = json.load(open(sys.argv[2]))
            jsonschema.Draft7Validator(schema).validate(log)
            assert log['runs'][0]['results'], 'no results'
            print('valid', len(log['runs'][0]['results']))
            """
        let result = try #require(
            runProgram(
                "/usr/bin/env", ["python3", "-c", check, schemaPath, dir.appendingPathComponent("r.sarif").path]))
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("valid"))
    }

    @Test func junitParsesWithOneTestcasePerFile() throws {
        let dir = try scratch("junit")
        defer { try? FileManager.default.removeItem(at: dir) }
        _ = runReports(dir)
        let parser = XMLParser(contentsOf: dir.appendingPathComponent("r.xml"))
        final class Counter: NSObject, XMLParserDelegate {
            var cases = 0, failures = 0
            func parser(
                _ p: XMLParser, didStartElement e: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]
            ) {
                if e == "testcase" { cases += 1 }
                if e == "failure" { failures += 1 }
            }
        }
        let counter = Counter()
        parser?.delegate = counter
        #expect(parser?.parse() == true)
        let listed = try results(muslcheck("check", "--format", "json", "--target", "alpine:3.20", "fixtures-bin/bin"))
            .count
        #expect(counter.cases == listed)
        #expect(counter.failures > 0 && counter.failures < counter.cases)
    }

    @Test func htmlEscapesEverythingFromFiles() throws {
        let dir = try scratch("html")
        defer { try? FileManager.default.removeItem(at: dir) }
        let evil = dir.appendingPathComponent("<img src=x onerror=alert(1)>&\"x")
        try fixture("recent").write(to: evil)
        _ = muslcheck("check", "--format", "html", "--output", dir.appendingPathComponent("r.html").path, dir.path)
        let html = try String(contentsOf: dir.appendingPathComponent("r.html"), encoding: .utf8)
        #expect(!html.contains("<img src=x"))
        #expect(html.contains("&lt;img src=x onerror=alert(1)&gt;&amp;&quot;x"))
        #expect(html.contains("needs-rebuild") && html.contains("id=\"chart\""))
    }
}

@Suite(.serialized) struct Policies {
    @Test func installedPackagesIgnoresAndBaseline() throws {
        let dir = try scratch("policy")
        defer { try? FileManager.default.removeItem(at: dir) }
        try fixture("hello-glibc").write(to: dir.appendingPathComponent("hello"))
        try fixture("recent").write(to: dir.appendingPathComponent("recent"))
        let policy = dir.appendingPathComponent("policy.yml")
        // gcompat is in the image: hello passes; recent needs a rebuild and still fails.
        try Data("target: alpine:3.20\ninstalled: [gcompat]\n".utf8).write(to: policy)
        #expect(muslcheck("check", "--config", policy.path, dir.appendingPathComponent("hello").path).exitCode == 0)
        #expect(muslcheck("check", "--config", policy.path, dir.path).exitCode == 1)
        // Ignoring the path, with a reason, lets the gate pass.
        try Data(
            "installed: [gcompat]\nignore:\n  paths:\n    - path: \"**/recent\"\n      reason: replaced in the next release\n"
                .utf8
        ).write(to: policy)
        #expect(muslcheck("check", "--config", policy.path, dir.path).exitCode == 0)
        // Ignored rules do not count for --fail-on warning.
        try Data("ignore:\n  rules:\n    - rule: static-glibc\n      reason: no NSS use\n".utf8).write(to: policy)
        #expect(
            muslcheck("check", "--config", policy.path, "--fail-on", "warning", "fixtures-bin/bin/hello-static-glibc")
                .exitCode == 0)
        #expect(muslcheck("check", "--fail-on", "warning", "fixtures-bin/bin/hello-static-glibc").exitCode == 1)
        // A baseline: known problems pass, a new one fails.
        let baseline = dir.appendingPathComponent("baseline.json")
        #expect(
            // written: a success
            muslcheck("check", "--target", "alpine:3.20", "--write-baseline", baseline.path, dir.path).exitCode == 0)
        #expect(muslcheck("check", "--target", "alpine:3.20", "--baseline", baseline.path, dir.path).exitCode == 0)
        try fixture("resinit").write(to: dir.appendingPathComponent("resinit"))
        #expect(muslcheck("check", "--target", "alpine:3.20", "--baseline", baseline.path, dir.path).exitCode == 1)
        // A broken policy file is a usage error.
        try Data("fail-on: sometimes\n".utf8).write(to: policy)
        #expect(muslcheck("check", "--config", policy.path, dir.path).exitCode == 64)
    }
}

@Suite(.serialized) struct RepeatedZipMembers {
    /// A zip written by hand, every member deflated as one stored block (so that two members of the same
    /// length have the same compressed size), with the CRC field given.
    /// `method` 8 wraps the data in a deflate stored block; any other method stores the bytes as they are.
    func handZip(_ members: [(name: String, data: [UInt8], crc: UInt32)], method: Int = 8) -> [UInt8] {
        func le(_ v: Int, _ n: Int) -> [UInt8] { (0..<n).map { UInt8((v >> (8 * $0)) & 0xFF) } }
        var out: [UInt8] = []
        var directory: [UInt8] = []
        for m in members {
            // BFINAL, stored
            let body = method == 8 ? [0x01] + le(m.data.count, 2) + le(m.data.count ^ 0xFFFF, 2) + m.data : m.data
            let name = Array(m.name.utf8)
            let offset = out.count
            let common =
                le(20, 2) + le(0, 2) + le(method, 2) + le(0, 4) + le(Int(m.crc), 4) + le(body.count, 4)
                + le(m.data.count, 4) + le(name.count, 2) + le(0, 2)
            out += le(0x0403_4B50, 4) + common + name + body
            directory +=
                le(0x0201_4B50, 4) + le(20, 2) + common + le(0, 2) + le(0, 2) + le(0, 2) + le(0, 4) + le(offset, 4)
                + name
        }
        let start = out.count
        out += directory
        out +=
            le(0x0605_4B50, 4) + le(0, 4) + le(members.count, 2) + le(members.count, 2) + le(directory.count, 4)
            + le(start, 4) + le(0, 2)
        return out
    }

    /// The answer for a member's first bytes is reused only for a member whose compressed bytes begin the
    /// same way: an ELF file given the CRC and size of a class file seen in an earlier jar is still found.
    @Test func aForgedCRCNeverHidesAMember() throws {
        let dir = try scratch("zip-heads")
        defer { try? FileManager.default.removeItem(at: dir) }
        let elf = [UInt8](try fixture("hello-musl"))
        let classFile = [0xCA, 0xFE, 0xBA, 0xBE, 0, 0, 0, 0x34] + [UInt8](repeating: 0x01, count: elf.count - 8)
        let crc: UInt32 = 0x1234_5678
        try Data(handZip([("a/A.class", classFile, crc)])).write(to: dir.appendingPathComponent("1-first.jar"))
        try Data(handZip([("b/B.class", classFile, crc), ("native/hello", elf, crc)])).write(
            to: dir.appendingPathComponent("2-second.jar"))
        // One worker: the first jar (its class file remembered) is read before the second.
        let out = muslcheck("check", "--format", "json", "--fail-on", "never", "--jobs", "1", dir.path)
        let paths = try results(out).compactMap { $0["path"] as? String }
        #expect(paths.contains(dir.path + "/2-second.jar!/native/hello"))
        #expect(!paths.contains { $0.hasSuffix(".class") })  // the class files are counted, not listed

        // The rule itself: the same CRC and size with other consumed bytes is no answer; the same bytes are.
        let heads = ZipHeads()
        let first: [UInt8] = [1, 2, 3, 4, 5, 6]
        let other: [UInt8] = [1, 2, 9, 4, 5, 6]
        let longer: [UInt8] = [1, 2, 3, 4, 5, 6, 7]
        first.withUnsafeBytes { heads.rememberUninteresting(crc: 7, data: $0, consumed: 4) }
        #expect(first.withUnsafeBytes { heads.knownUninteresting(crc: 7, data: $0) })
        // beyond what was consumed
        #expect(([1, 2, 3, 4, 0, 0] as [UInt8]).withUnsafeBytes { heads.knownUninteresting(crc: 7, data: $0) })
        #expect(!other.withUnsafeBytes { heads.knownUninteresting(crc: 7, data: $0) })
        #expect(!longer.withUnsafeBytes { heads.knownUninteresting(crc: 7, data: $0) })  // another compressed size
        #expect(!first.withUnsafeBytes { heads.knownUninteresting(crc: 8, data: $0) })
    }

    /// Every member is remembered, however many bytes its answer consumed, up to `ZipHeads.capacity`
    /// members (a store of the bytes themselves held a tenth of /usr's), and none past it.
    @Test func manyMembersAreRemembered() {
        let heads = ZipHeads()
        let start = [UInt8](repeating: 0xA5, count: 1000)
        start.withUnsafeBytes { raw in
            for crc in 0..<UInt32(ZipHeads.capacity + 10) {
                heads.rememberUninteresting(crc: crc, data: raw, consumed: 1000)
            }
        }
        start.withUnsafeBytes { raw in
            #expect(heads.knownUninteresting(crc: 0, data: raw))
            #expect(heads.knownUninteresting(crc: UInt32(ZipHeads.capacity - 1), data: raw))
            #expect(!heads.knownUninteresting(crc: UInt32(ZipHeads.capacity), data: raw))
        }
        // One byte changed anywhere in what was consumed is no answer.
        var changed = start
        changed[999] = 0
        #expect(!changed.withUnsafeBytes { heads.knownUninteresting(crc: 0, data: $0) })
    }
}

extension RepeatedZipMembers {
    /// A stored member is told by its own first bytes; a member in a method the reader cannot decode
    /// (bzip2 here) is never counted as uninteresting: extracting it reports the problem.
    @Test func storedAndUndecodableMembers() throws {
        let dir = try scratch("zip-methods")
        defer { try? FileManager.default.removeItem(at: dir) }
        let elf = [UInt8](try fixture("hello-musl"))
        try Data(handZip([("native/hello", elf, 0), ("notes.txt", Array("plain text\n".utf8), 0)], method: 0))
            .write(to: dir.appendingPathComponent("stored.zip"))
        try Data(handZip([("native/other", Array("BZh91AY&SY".utf8), 0)], method: 12)).write(
            to: dir.appendingPathComponent("bzip2.zip"))
        let list = try results(muslcheck("check", "--format", "json", "--fail-on", "never", dir.path))
        #expect(
            list.contains {
                ($0["path"] as? String) == dir.path + "/stored.zip!/native/hello" && $0["verdict"] as? String == "runs"
            })
        let other = try #require(list.first { ($0["path"] as? String) == dir.path + "/bzip2.zip!/native/other" })
        #expect(other["status"] as? String == "error")
    }
}

@Suite struct ReadWindowBlocks {
    /// The window reads each block again into the array it keeps: every slice gives the file's own bytes,
    /// across moves forward and back, at the end of the file, and a slice still held when the block moves
    /// keeps the bytes it was given.
    @Test func slicesGiveTheFilesBytes() throws {
        let size = ReadWindow.block * 2 + 1000
        let file = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 9) }
        let window = ReadWindow(MemoryAccess(file))
        let held = try window.slice(at: 10, count: 100)
        for offset in [ReadWindow.block + 5, 3, size - 50, ReadWindow.block - 10, 0] {
            let s = try window.slice(at: offset, count: 100)
            #expect(Array(s) == Array(file[offset..<min(size, offset + 100)]))
        }
        #expect(Array(held) == Array(file[10..<110]))
        #expect(try window.slice(at: size, count: 10).isEmpty)
        #expect(try window.slice(at: size + 1, count: 10).isEmpty)
        // A slice longer than a block is read whole.
        let long = try window.slice(at: 7, count: ReadWindow.block + 300)
        #expect(Array(long) == Array(file[7..<(7 + ReadWindow.block + 300)]))
    }
}
