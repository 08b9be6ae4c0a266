// Inside archives and images, musl's search for a library stops at the first file of that name, as on disk:
// a member that is not an ELF file (text, a linker script, a compressed library, a member found uninteresting
// from its first bytes) is the file musl opens and fails to map, so the library is unloadable there and no later
// directory is searched; a member that could not be read stops the search too and leaves the program not
// judged. An image's later layers delete or replace such files as they do ELF files.
import Foundation
import MuslcheckCLI
import TestSupport
import Testing

@testable import Archives

/// path → the result object of a JSON check report.
private func byPath(_ out: CommandOutput) throws -> [String: [String: Any]] {
    var map: [String: [String: Any]] = [:]
    for r in try results(out) { if let path = r["path"] as? String { map[path] = r } }
    return map
}

private func rules(_ r: [String: Any]?) -> [String] {
    (r?["findings"] as? [[String: Any]] ?? []).compactMap { $0["rule"] as? String }
}

private func messages(_ r: [String: Any]?) -> String {
    (r?["findings"] as? [[String: Any]] ?? []).compactMap { $0["message"] as? String }.joined(separator: "\n")
}

private func check(_ extra: [String] = [], _ paths: String...) -> CommandOutput {
    muslcheck(["check", "--format", "json", "--target", "alpine:3.20", "--fail-on", "never"] + extra + paths)
}

private let text = Array("this is not a library\n".utf8)
/// What a distribution's unversioned libfoo.so often is: a GNU ld script for the static linker.
private let linkerScript = Array("/* GNU ld script */\nINPUT(libgreet.so.1.2)\n".utf8)

/// app-runpath needs libgreet.so.1; its RUNPATH is $ORIGIN/lib, then /opt/greet/lib.
private let program = "app/app-runpath"
private let firstDir = "app/lib/libgreet.so.1"
private let laterDir = "opt/greet/lib/libgreet.so.1"

@Suite(.serialized) struct NonELFMembers {
    /// A text file where the program's RUNPATH leads first, a good library in the next RUNPATH directory:
    /// musl opens the text file and fails ("Exec format error"), so the program needs a rebuild, as the same
    /// tree on disk says; the library in the later directory is never reached. The same for a gzip-compressed
    /// library (musl maps no compressed file) and for an ELF member that cannot be read (not judged).
    @Test func aNonELFFileFirstOnTheSearchPathEndsTheSearchAsOnDisk() throws {
        let dir = try scratch("nonelf-tar")
        defer { try? FileManager.default.removeItem(at: dir) }
        let library = [UInt8](try fixture("lib/libgreet.so.1"))
        let gzipped = dir.appendingPathComponent("gz")
        try Data(library).write(to: gzipped)
        try run("/usr/bin/gzip", ["-n", "gz"], in: dir)
        let compressed = [UInt8](try Data(contentsOf: dir.appendingPathComponent("gz.gz")))
        // In a directory of its own: the cache trusts an entry only once the directory holding it has settled.
        let tars = dir.appendingPathComponent("t")
        try FileManager.default.createDirectory(at: tars, withIntermediateDirectories: true)
        func tarball(_ name: String, first: [UInt8]?) throws -> String {
            var tar = TarWriter()
            try tar.file(program, fixture: "app-runpath")
            if let first { tar.add(firstDir, first) }
            try tar.file(laterDir, fixture: "lib/libgreet.so.1")
            let url = tars.appendingPathComponent(name + ".tar")
            try Data(tar.finished()).write(to: url)
            return url.path
        }
        // Without a file in the first directory the later one is found: the input is otherwise sound.
        let sound = try tarball("sound", first: nil)
        let found = try byPath(check([], sound))[sound + "!/" + program]
        #expect(
            found != nil && !rules(found).contains("library-unloadable") && !rules(found).contains("library-unknown"))
        for (name, first) in [("text", text), ("script", linkerScript), ("gzip", compressed)] {
            let tar = try tarball(name, first: first)
            let r = try byPath(check([], tar))[tar + "!/" + program]
            #expect(r?["verdict"] as? String == "needs-rebuild", "\(name)")
            #expect(rules(r).contains("library-unloadable"), "\(name): \(rules(r))")
            #expect(
                messages(r).contains("found at \(tar)!/\(firstDir), but not an ELF file"), "\(name): \(messages(r))")
            // The same tree unpacked: the same verdict and findings.
            let unpacked = dir.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: unpacked, withIntermediateDirectories: true)
            try run("/usr/bin/tar", ["-xf", tar, "-C", unpacked.path], in: dir)
            let disk = try byPath(check([], unpacked.path))[unpacked.path + "/" + program]
            #expect(disk?["verdict"] as? String == r?["verdict"] as? String, "\(name) on disk")
            #expect(rules(disk) == rules(r), "\(name) on disk: \(rules(disk))")
        }
        // Through a link to a text file of another name: what the link leads to is what musl opens.
        var linked = TarWriter()
        try linked.file(program, fixture: "app-runpath")
        linked.symlink(firstDir, to: "notes.txt")
        linked.add("app/lib/notes.txt", text)
        try linked.file(laterDir, fixture: "lib/libgreet.so.1")
        let link = tars.appendingPathComponent("link.tar").path
        try Data(linked.finished()).write(to: URL(fileURLWithPath: link))
        let l = try byPath(check([], link))[link + "!/" + program]
        #expect(messages(l).contains("found at \(link)!/app/lib/notes.txt, but not an ELF file"), "\(messages(l))")
        // A damaged ELF member is where musl's search ends too, as on disk: one whose header says ELF cannot be
        // read, so the program cannot be judged; one cut short after the magic is not an ELF file to musl.
        for (damage, status) in [("truncated-ehdr", "error"), ("magic-only", "assessed")] {
            let bytes = [UInt8](try Data(contentsOf: Fixtures.malformed.appendingPathComponent(damage)))
            let tar = try tarball(damage, first: bytes)
            let r = try byPath(check([], tar))[tar + "!/" + program]
            #expect(r?["status"] as? String == status, "\(damage): \(String(describing: r))")
            if status == "error" {
                let why = r?["error"] as? String
                #expect(why?.contains("could not be read: \(tar)!/\(firstDir)") == true, "\(damage): \(why ?? "")")
            } else {
                #expect(rules(r).contains("library-unloadable"), "\(damage): \(rules(r))")
            }
            let unpacked = dir.appendingPathComponent(damage)
            try FileManager.default.createDirectory(at: unpacked, withIntermediateDirectories: true)
            try run("/usr/bin/tar", ["-xf", tar, "-C", unpacked.path], in: dir)
            let disk = try byPath(check([], unpacked.path))[unpacked.path + "/" + program]
            #expect(disk?["status"] as? String == status, "\(damage) on disk")
            #expect(rules(disk) == rules(r), "\(damage) on disk: \(rules(disk))")
        }
        // So is a member over the size limit (not opened), whatever it holds: a library padded past it.
        let big = try tarball("big", first: library + [UInt8](repeating: 0, count: 4096))
        let b = try byPath(check(["--max-member-bytes", "18000"], big))
        #expect(b[big + "!/" + firstDir]?["status"] as? String == "error", "the padded library is over the limit")
        #expect(
            b[big + "!/" + program]?["status"] as? String == "error", "\(String(describing: b[big + "!/" + program]))")
        // Through the cache, cold and warm: what a fresh reading gives.
        let text = try tarball("text", first: text)
        Thread.sleep(forTimeInterval: Caching.settle * 1.5)
        let fresh = try Caching.run([text], cache: nil)
        let cold = try Caching.run([text], cache: try Caching.cache(dir))
        let warm = try Caching.run([text], cache: try Caching.cache(dir))
        #expect(fresh.json.contains("library-unloadable"))
        #expect(cold.json == fresh.json && warm.json == fresh.json)
        #expect(!Caching.entries(dir).isEmpty)
    }

    /// Linker scripts named libc.so or libgreet.so (the names the static linker opens) stand beside the
    /// libraries musl loads and change nothing for a program that needs libgreet.so.1; one named as the
    /// soname itself is what musl opens.
    @Test func aLinkerScriptMattersOnlyUnderTheNameMuslOpens() throws {
        let dir = try scratch("nonelf-ldscript")
        defer { try? FileManager.default.removeItem(at: dir) }
        func tarball(_ name: String, scripts: [String]) throws -> String {
            var tar = TarWriter()
            try tar.file(program, fixture: "app-runpath")
            for path in scripts { tar.add(path, linkerScript) }
            try tar.file("usr/lib/libgreet.so.1", fixture: "lib/libgreet.so.1")
            let url = dir.appendingPathComponent(name + ".tar")
            try Data(tar.finished()).write(to: url)
            return url.path
        }
        let plain = try tarball("plain", scripts: [])
        let beside = try tarball("beside", scripts: ["usr/lib/libc.so", "app/lib/libgreet.so", "usr/lib/libgreet.so"])
        let before = try tarball("before", scripts: ["app/lib/libgreet.so.1"])
        let p = try byPath(check([], plain))[plain + "!/" + program]
        let s = try byPath(check([], beside))[beside + "!/" + program]
        let b = try byPath(check([], before))[before + "!/" + program]
        #expect(p != nil && !rules(p).contains("library-unloadable") && !rules(p).contains("library-unknown"))
        #expect(s?["verdict"] as? String == p?["verdict"] as? String && rules(s) == rules(p), "\(rules(s))")
        #expect(rules(b).contains("library-unloadable"), "\(rules(b))")
        #expect(messages(b).contains("\(before)!/app/lib/libgreet.so.1, but not an ELF file"))
    }

    /// docker save and an OCI layout: layer 1 holds a text file first on the search path and the library in a
    /// later directory. Alone, the text file ends the search; a layer 2 that puts a library in its place makes
    /// the library found; one that deletes the later library leaves only the text file. One layer after the
    /// other (--jobs 1) and side by side (--jobs 4) give the same report; the image streamed (gzip-compressed)
    /// the same verdicts.
    @Test func imageLayersReplaceAndDeleteNonELFFilesAsTheyDoLibraries() throws {
        let dir = try scratch("nonelf-image")
        defer { try? FileManager.default.removeItem(at: dir) }
        var l1 = TarWriter()
        try l1.file(program, fixture: "app-runpath")
        l1.add(firstDir, text)
        try l1.file(laterDir, fixture: "lib/libgreet.so.1")
        var replaces = TarWriter()
        try replaces.file(firstDir, fixture: "lib/libgreet.so.1")
        var deletes = TarWriter()
        deletes.add("opt/greet/lib/.wh.libgreet.so.1", [])
        deletes.add("usr/share/doc/readme", text)  // something else, so the layer is not empty
        func image(_ name: String, _ layers: [TarWriter]) throws -> URL {
            let url = dir.appendingPathComponent(name + ".tar")
            try Data(TarWriter.dockerSave(layers.enumerated().map { ("layer\($0 + 1).tar", $1.finished()) })).write(
                to: url)
            return url
        }
        func layout(_ name: String, _ layers: [TarWriter]) throws -> URL {
            var files: [URL] = []
            for (i, layer) in layers.enumerated() {
                let url = dir.appendingPathComponent("\(name)-layer\(i + 1).tar")
                try Data(layer.finished()).write(to: url)
                files.append(url)
            }
            let url = dir.appendingPathComponent(name)
            _ = try Images().ociLayout(url, layers: files)
            return url
        }
        for (name, layers, unloadable) in [
            ("alone", [l1], true), ("replaced", [l1, replaces], false), ("deleted", [l1, deletes], true),
        ] {
            let tar = try image(name, layers)
            try run("/usr/bin/gzip", ["-k", tar.lastPathComponent], in: dir)
            let oci = try layout(name + "-oci", layers)
            for path in [tar.path, tar.path + ".gz", oci.path] {
                let serial = check(["--jobs", "1"], path)
                let parallel = check(["--jobs", "4"], path)
                #expect(parallel.stdout == serial.stdout, "\(path): side by side differs")
                let r = try byPath(serial)[path + "!/" + program]
                #expect(r != nil, "\(path)")
                #expect(rules(r).contains("library-unloadable") == unloadable, "\(path): \(rules(r))")
                #expect(!rules(r).contains("library-unknown"), "\(path): \(rules(r))")
                if unloadable {
                    #expect(messages(r).contains("\(path)!/\(firstDir), but not an ELF file"), "\(messages(r))")
                }
            }
        }
    }

    /// A wheel whose RUNPATH directory holds a file of the library's name that is not ELF (deflated text, found
    /// uninteresting from its first bytes): musl stops there, whatever a later directory holds. Only the names a
    /// lookup can reach are kept: those named as a library an ELF file inside needs, and none of a zip without
    /// ELF files (nothing in it looks a library up).
    @Test func aZipMemberFoundUninterestingStillEndsTheSearch() throws {
        let dir = try scratch("nonelf-zip")
        defer { try? FileManager.default.removeItem(at: dir) }
        let wheel = dir.appendingPathComponent("pkg-1.0-cp311-manylinux_x86_64.whl")
        try zip(
            wheel,
            [
                (program, try fixture("app-runpath")), (firstDir, Data(text)),
                (laterDir, try fixture("lib/libgreet.so.1")), ("pkg/__init__.py", Data("x = 1\n".utf8)),
            ])
        let r = try byPath(check([], wheel.path))[wheel.path + "!/" + program]
        #expect(r?["verdict"] as? String == "needs-rebuild")
        #expect(rules(r).contains("library-unloadable"), "\(rules(r))")
        #expect(messages(r).contains("\(wheel.path)!/\(firstDir), but not an ELF file"), "\(messages(r))")
        let withELF = Archives.expand(name: "w.whl", bytes: [UInt8](try Data(contentsOf: wheel)))
        #expect(withELF.notELF == ["w.whl!/" + firstDir], "\(withELF.notELF)")
        let jar = dir.appendingPathComponent("only-text.jar")
        try zip(jar, [("a/B.class", Data([0xCA, 0xFE, 0xBA, 0xBE])), ("META-INF/MANIFEST.MF", Data(text))])
        let withoutELF = Archives.expand(name: "t.jar", bytes: [UInt8](try Data(contentsOf: jar)))
        #expect(withoutELF.notELF.isEmpty && withoutELF.otherFiles == 2)
    }
}

/// The result cache gives what a fresh reading gives for a file of the C library met while walking: counted,
/// not listed (entries used to come back listed).
@Suite(.serialized) struct CachedCLibrary {
    /// A FIFO, a device node or a directory where the program's RUNPATH leads first: musl opens it under the
    /// library's name (a FIFO blocks there; `ld-musl-x86_64.so.1 --list` says "Is a directory" for a directory)
    /// and never reaches the good library further on. In a tar and on disk.
    @Test func aFIFODeviceOrDirectoryFirstOnTheSearchPathEndsTheSearch() throws {
        let dir = try scratch("fifo-tar")
        defer { try? FileManager.default.removeItem(at: dir) }
        let kinds = [
            ("fifo", UInt8(ascii: "6")), ("char", UInt8(ascii: "3")), ("block", UInt8(ascii: "4")),
            ("directory", UInt8(ascii: "5")),
        ]
        for (kind, type) in kinds {
            var tar = TarWriter()
            try tar.file(program, fixture: "app-runpath")
            tar.add(firstDir, [], type: type)
            try tar.file(laterDir, fixture: "lib/libgreet.so.1")
            let url = dir.appendingPathComponent(kind + ".tar")
            try Data(tar.finished()).write(to: url)
            let r = try byPath(check([], url.path))[url.path + "!/" + program]
            #expect(r?["verdict"] as? String == "needs-rebuild", "\(kind)")
            #expect(rules(r).contains("library-unloadable"), "\(kind): \(rules(r))")
        }
        // On disk: a FIFO (never opened by the check, which would block) and a directory.
        for (kind, what) in [("fifo", "a FIFO"), ("directory", "a directory")] {
            let tree = dir.appendingPathComponent("disk-" + kind)
            try FileManager.default.createDirectory(
                at: tree.appendingPathComponent("app/lib"), withIntermediateDirectories: true)
            try Data(try fixture("app-runpath")).write(to: tree.appendingPathComponent(program))
            try FileManager.default.createDirectory(
                at: tree.appendingPathComponent(laterDir).deletingLastPathComponent(), withIntermediateDirectories: true
            )
            try Data(try fixture("lib/libgreet.so.1")).write(to: tree.appendingPathComponent(laterDir))
            let first = tree.appendingPathComponent(firstDir).path
            if kind == "fifo" {
                #expect(mkfifo(first, 0o644) == 0)
            } else {
                try FileManager.default.createDirectory(atPath: first, withIntermediateDirectories: true)
            }
            let r = try byPath(check(["--root", tree.path], tree.path))[tree.appendingPathComponent(program).path]
            #expect(r?["verdict"] as? String == "needs-rebuild", "\(kind)")
            #expect(messages(r).contains("found at \(first), but it is \(what)"), "\(kind): \(messages(r))")
        }
    }

    @Test func aWalkedCLibraryFileIsCountedNotListedWithOrWithoutTheCache() throws {
        let dir = try scratch("cache-clibrary")
        defer { try? FileManager.default.removeItem(at: dir) }
        let tree = dir.appendingPathComponent("t")
        try FileManager.default.createDirectory(at: tree, withIntermediateDirectories: true)
        // libgreet with its SONAME renamed to one of musl's own (same room, NUL-padded).
        var bytes = [UInt8](try fixture("lib/libgreet.so.1"))
        let from = Array("libgreet.so.1".utf8) + [0]
        let to = Array("libm.so.6".utf8) + [UInt8](repeating: 0, count: from.count - 9)
        var renamed = 0
        var i = 0
        while i + from.count <= bytes.count {
            if bytes[i..<(i + from.count)].elementsEqual(from) {
                bytes.replaceSubrange(i..<(i + from.count), with: to)
                renamed += 1
            }
            i += 1
        }
        #expect(renamed > 0)
        let library = tree.appendingPathComponent("libm.so.6")
        try Data(bytes).write(to: library)
        try fixture("hello-musl").write(to: tree.appendingPathComponent("hello"))
        Thread.sleep(forTimeInterval: Caching.settle * 1.5)
        let fresh = try Caching.run([tree.path], cache: nil)
        let cold = try Caching.run([tree.path], cache: try Caching.cache(dir))
        let warm = try Caching.run([tree.path], cache: try Caching.cache(dir))
        #expect(!fresh.outcome.results.contains { $0.path == library.path }, "a C library file met while walking")
        #expect(fresh.outcome.results.contains { $0.path.hasSuffix("/hello") })
        #expect(cold.json == fresh.json && warm.json == fresh.json, "\(warm.json)")
        #expect(!Caching.entries(dir).isEmpty)
        // Named itself, it is listed, from the cache too.
        let named = try Caching.run([library.path], cache: try Caching.cache(dir))
        #expect(named.outcome.results.map(\.path) == [library.path])
        #expect(named.json == (try Caching.run([library.path], cache: nil)).json)
    }
}
