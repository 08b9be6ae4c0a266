// Libraries are found and folded as musl's loader finds and binds them, on disk and inside archives, and
// a file's verdict never depends on what else is scanned.
import Foundation
import MuslcheckCLI
import TestSupport
import Testing

/// path → verdict (or status when not assessed) of a JSON check report.
private func verdicts(_ out: CommandOutput) throws -> [String: String] {
    var map: [String: String] = [:]
    for r in try results(out) {
        guard let path = r["path"] as? String else { continue }
        map[path] = (r["verdict"] as? String) ?? (r["status"] as? String) ?? "?"
    }
    return map
}

private func rules(of path: String, in out: CommandOutput) throws -> [String] {
    let r = try #require(try results(out).first { ($0["path"] as? String) == path })
    return (r["findings"] as? [[String: Any]] ?? []).compactMap { $0["rule"] as? String }
}

private func copy(_ fixtureName: String, to url: URL) throws {
    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try fixture(fixtureName).write(to: url)
}

@Suite(.serialized) struct Resolution {
    /// musl maps the first file of the name on its path; an AArch64 libgreet.so.1 there fails to load.
    @Test func aLibraryOfAnotherMachineOnThePathDoesNotLoad() throws {
        let dir = try scratch("wrongarch")
        defer { try? FileManager.default.removeItem(at: dir) }
        try copy("app-runpath", to: dir.appendingPathComponent("good/app"))
        try copy("lib/libgreet.so.1", to: dir.appendingPathComponent("good/lib/libgreet.so.1"))
        try copy("app-runpath", to: dir.appendingPathComponent("bad/app"))
        try copy("resolve/aarch64/libgreet.so.1", to: dir.appendingPathComponent("bad/lib/libgreet.so.1"))
        let good = dir.appendingPathComponent("good/app").path
        let bad = dir.appendingPathComponent("bad/app").path
        let out = muslcheck(
            "check", "--format", "json", "--target", "alpine:3.20", dir.appendingPathComponent("good").path,
            dir.appendingPathComponent("bad").path)
        let v = try verdicts(out)
        #expect(v[good] == "needs-gcompat")
        #expect(v[bad] == "needs-rebuild")
        #expect(try rules(of: bad, in: out).contains("library-unloadable"))
        #expect(try !rules(of: good, in: out).contains("library-unloadable"))
    }

    /// Adding unrelated directories (an AArch64 library tree, glibc's own libc.so.6) to a run never changes
    /// a verdict: each file is judged with its own dependencies, found where musl would find them.
    @Test func unrelatedDirectoriesNeverChangeAVerdict() throws {
        let dir = try scratch("unrelated")
        defer { try? FileManager.default.removeItem(at: dir) }
        try copy("resolve/aarch64/libgreet.so.1", to: dir.appendingPathComponent("aarch64/libgreet.so.1"))
        try copy("bundle/lib/libbad.so.1", to: dir.appendingPathComponent("aarch64/libgreet.so.1.bak"))
        try copy("hello-glibc", to: dir.appendingPathComponent("other/libc.so.6"))
        try copy("bundle/lib/libbad.so.1", to: dir.appendingPathComponent("other/libgreet.so.1"))
        // Names hello-cxx loads: a scanned-tree search would take these (a needs-rebuild library, an AArch64 one).
        try copy("bundle/lib/libbad.so.1", to: dir.appendingPathComponent("other/libstdc++.so.6"))
        try copy("resolve/aarch64/libgreet.so.1", to: dir.appendingPathComponent("aarch64/libgcc_s.so.1"))
        let files = ["app-runpath", "app-rpath", "hello-cxx", "bundle/bin/bundled", "crypt", "ldso", "hello-glibc"]
        // The fixtures' directory alone, then with the unrelated directories.
        let fixturesAlone = try verdicts(
            muslcheck("check", "--format", "json", "--target", "alpine:3.20", Fixtures.bin.path))
        var alone: [String: String] = [:]
        for name in files { alone[Fixtures.path(name)] = fixturesAlone[Fixtures.path(name)] }
        let together = try verdicts(
            muslcheck(
                "check", "--format", "json", "--target", "alpine:3.20",
                dir.path, Fixtures.bin.path))
        for (path, verdict) in alone { #expect(together[path] == verdict, "\(path)") }
        #expect(alone.count == files.count && alone.values.allSatisfy { !$0.isEmpty })
    }

    /// Inside an archive, the verdict of a module folds in everything it loads, however deep: the wheel's
    /// module loads libchain, which loads libbad (needs-rebuild).
    @Test func archiveMembersFoldInWhatTheirLibrariesLoad() throws {
        let dir = try scratch("closure")
        defer { try? FileManager.default.removeItem(at: dir) }
        let wheel = dir.appendingPathComponent("pkg-1.0-cp311-cp311-manylinux_2_17_x86_64.whl")
        try zip(
            wheel,
            [
                ("pkg/mod.so", try fixture("resolve/pkg/mod.so")),
                ("pkg.libs/libchain.so.1", try fixture("resolve/pkg.libs/libchain.so.1")),
                ("pkg.libs/libbad.so.1", try fixture("bundle/lib/libbad.so.1")),
            ])
        let v = try verdicts(muslcheck("check", "--format", "json", "--target", "alpine:3.20", wheel.path))
        #expect(v[wheel.path + "!/pkg.libs/libbad.so.1"] == "needs-rebuild")
        #expect(v[wheel.path + "!/pkg.libs/libchain.so.1"] == "needs-rebuild")
        #expect(v[wheel.path + "!/pkg/mod.so"] == "needs-rebuild")
        // The same files unpacked give the same verdicts.
        let unpacked = dir.appendingPathComponent("unpacked")
        try copy("resolve/pkg/mod.so", to: unpacked.appendingPathComponent("pkg/mod.so"))
        try copy("resolve/pkg.libs/libchain.so.1", to: unpacked.appendingPathComponent("pkg.libs/libchain.so.1"))
        try copy("bundle/lib/libbad.so.1", to: unpacked.appendingPathComponent("pkg.libs/libbad.so.1"))
        let onDisk = try verdicts(muslcheck("check", "--format", "json", "--target", "alpine:3.20", unpacked.path))
        #expect(onDisk[unpacked.path + "/pkg/mod.so"] == "needs-rebuild")
    }

    /// musl searches a library's NEEDED names with its own RPATH/RUNPATH, then with those of what loads it
    /// (ldso/dynlink.c walks needed_by): relayapp (RUNPATH $ORIGIN/../lib) loads librelay.so.1, which has no
    /// search path and loads libgreet.so.1 from the same directory. `ld-musl-x86_64.so.1 --list` loads all
    /// three for relayapp and cannot find libgreet.so.1 for librelay.so.1 alone. So the program misses no
    /// library and needs no package for it, on disk, in a tar, in a zip and in an image (libraries and program
    /// in different layers); the library alone still misses it.
    @Test func aLibrarysNamesAreSearchedWithItsRequestersPath() throws {
        let dir = try scratch("inherit")
        defer { try? FileManager.default.removeItem(at: dir) }
        let files = ["bin/relayapp", "lib/librelay.so.1", "lib/libgreet.so.1"]
        let tree = dir.appendingPathComponent("app")
        for f in files { try copy("resolve/inherit/" + f, to: tree.appendingPathComponent(f)) }
        var tar = TarWriter()
        for f in files { tar.add("app/" + f, [UInt8](try fixture("resolve/inherit/" + f))) }
        let tarball = dir.appendingPathComponent("app.tar")
        try Data(tar.finished()).write(to: tarball)
        let zipped = dir.appendingPathComponent("app.zip")
        try zip(zipped, try files.map { ("app/" + $0, try fixture("resolve/inherit/" + $0)) })
        // An image: the libraries in the first layer, the program in the second.
        var libraries = TarWriter()
        var programs = TarWriter()
        for f in files {
            if f.hasPrefix("lib/") {
                libraries.add("app/" + f, [UInt8](try fixture("resolve/inherit/" + f)))
            } else {
                programs.add("app/" + f, [UInt8](try fixture("resolve/inherit/" + f)))
            }
        }
        let image = dir.appendingPathComponent("image.tar")
        try Data(
            TarWriter.dockerSave([("l1.tar", libraries.finished()), ("l2.tar", programs.finished())])
        ).write(to: image)
        for (input, root) in [
            (tree.path, tree.path), (tarball.path, tarball.path + "!/app"), (zipped.path, zipped.path + "!/app"),
            (image.path, image.path + "!/app"),
        ] {
            let all = try results(muslcheck("check", "--format", "json", "--target", "alpine:3.20", input))
            func result(_ name: String) -> [String: Any]? { all.first { ($0["path"] as? String) == root + "/" + name } }
            func missing(_ r: [String: Any]?) -> [String] {
                (r?["missingLibraries"] as? [[String: Any]] ?? []).compactMap { $0["soname"] as? String }
            }
            let program = result("bin/relayapp")
            #expect(program?["verdict"] as? String == "needs-gcompat", "\(input)")
            #expect(missing(program) == [], "\(input)")
            #expect(program?["packages"] as? [String] == ["gcompat"], "\(input)")
            let library = result("lib/librelay.so.1")
            #expect(missing(library) == ["libgreet.so.1"], "\(input)")
            #expect(library?["packages"] as? [String] == ["so:libgreet.so.1"], "\(input)")
        }
        // Without libgreet.so.1 where the program's path leads, the program misses it through its library.
        try FileManager.default.removeItem(at: tree.appendingPathComponent("lib/libgreet.so.1"))
        let all = try results(muslcheck("check", "--format", "json", "--target", "alpine:3.20", tree.path))
        let program = try #require(all.first { ($0["path"] as? String) == tree.path + "/bin/relayapp" })
        let missing = (program["missingLibraries"] as? [[String: Any]] ?? []).compactMap { $0["soname"] as? String }
        #expect(missing == ["libgreet.so.1"])
        #expect(program["packages"] as? [String] == ["gcompat", "so:libgreet.so.1"])
    }

    /// The other way round: the program's path leads librelay.so.1's search for libgreet.so.1 to an AArch64
    /// file before musl's default path, where the library alone finds a good one. musl maps the first file of
    /// the name and fails (`ld-musl-x86_64.so.1 --list` exits 127 on the same tree with the good copy in
    /// /usr/local/lib); the library alone loads. In a tar and on disk.
    @Test func aNameUnusableOnTheProgramsPathFailsItThroughItsLibrary() throws {
        let dir = try scratch("inherit-unusable")
        defer { try? FileManager.default.removeItem(at: dir) }
        var tar = TarWriter()
        try tar.file("app/bin/relayapp", fixture: "resolve/inherit/bin/relayapp")
        try tar.file("app/lib/librelay.so.1", fixture: "resolve/inherit/lib/librelay.so.1")
        try tar.file("app/lib/libgreet.so.1", fixture: "resolve/aarch64/libgreet.so.1")
        try tar.file("usr/lib/libgreet.so.1", fixture: "lib/libgreet.so.1")
        let tarball = dir.appendingPathComponent("app.tar")
        try Data(tar.finished()).write(to: tarball)
        let out = muslcheck("check", "--format", "json", "--target", "alpine:3.20", tarball.path)
        let v = try verdicts(out)
        let program = tarball.path + "!/app/bin/relayapp"
        #expect(v[program] == "needs-rebuild")
        #expect(try rules(of: program, in: out).contains("library-unloadable"))
        #expect(v[tarball.path + "!/app/lib/librelay.so.1"] == "runs")
        #expect(try !rules(of: tarball.path + "!/app/lib/librelay.so.1", in: out).contains("library-unloadable"))
        // On disk: the good copy in a --library-path directory, searched after the RPATH/RUNPATH chain.
        let tree = dir.appendingPathComponent("tree")
        try copy("resolve/inherit/bin/relayapp", to: tree.appendingPathComponent("app/bin/relayapp"))
        try copy("resolve/inherit/lib/librelay.so.1", to: tree.appendingPathComponent("app/lib/librelay.so.1"))
        try copy("resolve/aarch64/libgreet.so.1", to: tree.appendingPathComponent("app/lib/libgreet.so.1"))
        try copy("lib/libgreet.so.1", to: dir.appendingPathComponent("good/libgreet.so.1"))
        let onDisk = muslcheck(
            "check", "--format", "json", "--target", "alpine:3.20", "--library-path",
            dir.appendingPathComponent("good").path, tree.path)
        let d = try verdicts(onDisk)
        #expect(d[tree.path + "/app/bin/relayapp"] == "needs-rebuild")
        #expect(try rules(of: tree.path + "/app/bin/relayapp", in: onDisk).contains("library-unloadable"))
        #expect(d[tree.path + "/app/lib/librelay.so.1"] == "runs")
    }

    /// musl answers to libc.*, libm.*, libpthread.* … itself: a glibc libc.so.6 inside an archive is never
    /// taken for what a member loads.
    @Test func muslsOwnNamesAreNeverFilesInsideArchives() throws {
        let dir = try scratch("reserved")
        defer { try? FileManager.default.removeItem(at: dir) }
        let wheel = dir.appendingPathComponent("x.whl")
        // libc.so.6 here is a needs-rebuild library: if it were taken as hello's dependency, hello would be too.
        try zip(
            wheel,
            [
                ("bin/hello", try fixture("hello-glibc")), ("bin/libc.so.6", try fixture("bundle/lib/libbad.so.1")),
                ("bin/libm.so.6", try fixture("bundle/lib/libbad.so.1")),
            ])
        let out = muslcheck("check", "--format", "json", "--target", "alpine:3.20", "--search-scanned", wheel.path)
        let v = try verdicts(out)
        #expect(v[wheel.path + "!/bin/hello"] == "needs-gcompat")
        #expect(try !rules(of: wheel.path + "!/bin/hello", in: out).contains("dependency"))
    }

    /// musl does not look beside the binary or elsewhere in the tree; `--search-scanned` does, for files that
    /// will be installed on the library path together, and then takes only a library of the right machine.
    @Test func besideTheBinaryOnlyWhenAsked() throws {
        let dir = try scratch("beside")
        defer { try? FileManager.default.removeItem(at: dir) }
        // A copy of bundled with its libraries beside it, not where its RUNPATH ($ORIGIN/../lib) points.
        try copy("bundle/bin/bundled", to: dir.appendingPathComponent("app/bundled"))
        try copy("lib/libgreet.so.1", to: dir.appendingPathComponent("app/libgreet.so.1"))
        try copy("bundle/lib/libbad.so.1", to: dir.appendingPathComponent("app/libbad.so.1"))
        try copy("resolve/aarch64/libgreet.so.1", to: dir.appendingPathComponent("aarch64/libgreet.so.1"))
        let app = dir.appendingPathComponent("app/bundled").path
        let strict = muslcheck("check", "--format", "json", "--target", "alpine:3.20", app)
        #expect(try rules(of: app, in: strict).contains("library-unknown"))
        let together = muslcheck("check", "--format", "json", "--target", "alpine:3.20", "--search-scanned", dir.path)
        #expect(try verdicts(together)[app] == "needs-rebuild")  // libbad found beside it
        #expect(try !rules(of: app, in: together).contains("library-unknown"))
        #expect(try !rules(of: app, in: together).contains("library-unloadable"))
        // Elsewhere in the tree only an AArch64 libgreet.so.1: never taken for this x86_64 program.
        try copy("bundle/bin/bundled", to: dir.appendingPathComponent("lone/bundled"))
        try copy("bundle/lib/libbad.so.1", to: dir.appendingPathComponent("lone/libbad.so.1"))
        let lone = dir.appendingPathComponent("lone/bundled").path
        let onlyForeign = muslcheck(
            "check", "--format", "json", "--target", "alpine:3.20", "--search-scanned",
            lone, dir.appendingPathComponent("aarch64").path)
        #expect(try rules(of: lone, in: onlyForeign).contains("library-unknown"))
    }

    /// An unversioned import of a glibc name in a GLIBC-versioned program comes from its own library
    /// (RUNPATH): found, it binds there; not found, the library is what is missing, not a libc symbol.
    @Test func unversionedImportsComeFromTheProgramsLibraries() throws {
        let dir = try scratch("argp")
        defer { try? FileManager.default.removeItem(at: dir) }
        let withLibrary = Fixtures.path("resolve/argpapp")
        try copy("resolve/argpapp", to: dir.appendingPathComponent("argpapp"))
        let alone = dir.appendingPathComponent("argpapp").path
        // The directories are given, so that the RUNPATH ($ORIGIN/lib) is searched in both.
        let out = muslcheck("check", "--format", "json", "--target", "alpine:3.20", Fixtures.path("resolve"), dir.path)
        let v = try verdicts(out)
        #expect(v[withLibrary] == "needs-gcompat")  // the glibc loader only
        #expect(v[alone] == "needs-gcompat")
        #expect(try !rules(of: alone, in: out).contains("symbol-missing"))
        #expect(try rules(of: alone, in: out).contains("symbol-from-library"))
        #expect(try rules(of: alone, in: out).contains("library-unknown"))
    }

    /// glibc's own files are replaced by musl, not carried over: counted apart, never judged or blamed.
    @Test func theCLibrarysOwnFilesAreReplacedNotJudged() throws {
        let libc = "/lib/x86_64-linux-gnu/libc.so.6"
        let gconv = "/usr/lib/x86_64-linux-gnu/gconv/IBM1047.so"
        guard FileManager.default.fileExists(atPath: libc), FileManager.default.fileExists(atPath: gconv) else {
            print("skipped: this machine has no Debian glibc files to test with")
            return
        }
        let dir = try scratch("clibrary")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.copyItem(atPath: libc, toPath: dir.appendingPathComponent("libc.so.6").path)
        try FileManager.default.createDirectory(
            at: dir.appendingPathComponent("gconv"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: gconv, toPath: dir.appendingPathComponent("gconv/IBM1047.so").path)
        try copy("hello-glibc", to: dir.appendingPathComponent("hello"))
        let out = muslcheck("check", "--format", "json", "--target", "alpine:3.20", dir.path)
        let summary = try #require(try json(out.stdout)["summary"] as? [String: Any])
        #expect(summary["cLibrary"] as? Int == 2)
        #expect(summary["assessed"] as? Int == 1)
        #expect(try verdicts(out).count == 1)  // only hello is listed
        let explicit = muslcheck(
            "check", "--format", "json", "--target", "alpine:3.20", dir.appendingPathComponent("libc.so.6").path)
        let listed = try results(explicit)
        #expect(listed.count == 1 && listed.first?["status"] as? String == "skipped")
    }
}
