// Links inside archives and images are followed when libraries are found, as the kernel follows them once the
// archive is unpacked as a root filesystem: the library is the link's target (its verdict is the one folded
// in, its name the one reported), the same as for the same files on disk; an image's later layers delete or
// replace links as they do files; no link leaves the archive's root; a loop is reported, never followed.
import ELF
import Foundation
import MuslcheckCLI
import TestSupport
import Testing

@testable import Engine
@testable import Scanning

/// path → the result object of a JSON check report.
private func byPath(_ out: CommandOutput) throws -> [String: [String: Any]] {
    var map: [String: [String: Any]] = [:]
    for r in try results(out) { if let path = r["path"] as? String { map[path] = r } }
    return map
}

private func verdict(_ r: [String: Any]?) -> String? { r?["verdict"] as? String }

private func rules(_ r: [String: Any]?) -> [String] {
    (r?["findings"] as? [[String: Any]] ?? []).compactMap { $0["rule"] as? String }
}

/// Every finding's message and library paths, as one text to search.
private func findingsText(_ r: [String: Any]?) -> String {
    (r?["findings"] as? [[String: Any]] ?? []).map { f in
        ((f["message"] as? String) ?? "") + " " + ((f["libraries"] as? [String]) ?? []).joined(separator: " ")
    }.joined(separator: "\n")
}

private func check(_ paths: String...) -> CommandOutput {
    muslcheck(["check", "--format", "json", "--target", "alpine:3.20"] + paths)
}

extension TarWriter {
    mutating func symlink(_ name: String, to target: String) {
        bytes += Self.header(name, size: 0, type: UInt8(ascii: "2"), link: target)
    }

    mutating func hardlink(_ name: String, to target: String) {
        bytes += Self.header(name, size: 0, type: UInt8(ascii: "1"), link: target)
    }

    mutating func file(_ path: String, fixture source: String) throws {
        add(path, [UInt8](try CLITests.fixture(source)))
    }
}

@Suite(.serialized) struct ArchiveLinks {
    /// A program bundle with its libraries behind links (libgreet.so.1 → libgreet.so.1.2 → libgreet.so.1.2.3,
    /// libbad.so.1 → libbad.so.1.0.0), packed with tar: the same verdicts inside the .tar.gz as in the
    /// directory, and the library reported is the link's target. Before, every library behind a link was
    /// "not found" inside the archive: app-runpath was needs-rebuild there (and runs on disk), and bundled
    /// blamed no library.
    @Test func aLinkChainInATarballGivesTheDirectoryVerdicts() throws {
        let dir = try scratch("links-tar")
        defer { try? FileManager.default.removeItem(at: dir) }
        let fm = FileManager.default
        let app = dir.appendingPathComponent("app")
        for sub in ["bin", "lib"] {
            try fm.createDirectory(at: app.appendingPathComponent(sub), withIntermediateDirectories: true)
        }
        try fixture("bundle/bin/bundled").write(to: app.appendingPathComponent("bin/bundled"))
        try fixture("app-runpath").write(to: app.appendingPathComponent("app-runpath"))
        try fixture("lib/libgreet.so.1").write(to: app.appendingPathComponent("lib/libgreet.so.1.2.3"))
        try fixture("bundle/lib/libbad.so.1").write(to: app.appendingPathComponent("lib/libbad.so.1.0.0"))
        for (link, target) in [
            ("libgreet.so.1", "libgreet.so.1.2"), ("libgreet.so.1.2", "libgreet.so.1.2.3"),
            ("libbad.so.1", "libbad.so.1.0.0"),
        ] {
            try fm.createSymbolicLink(
                atPath: app.appendingPathComponent("lib/" + link).path, withDestinationPath: target)
        }
        // In a directory of its own: the cache trusts an entry only once the directory holding it has settled.
        try fm.createDirectory(at: dir.appendingPathComponent("t"), withIntermediateDirectories: true)
        try run("/usr/bin/tar", ["-czf", "t/app.tar.gz", "app"], in: dir)
        let tarball = dir.appendingPathComponent("t/app.tar.gz").path
        let onDisk = try byPath(check(app.path))
        let inTar = try byPath(check(tarball))
        for program in ["bin/bundled", "app-runpath"] {
            let disk = onDisk[app.path + "/" + program]
            let member = inTar[tarball + "!/app/" + program]
            #expect(verdict(member) != nil && verdict(member) == verdict(disk), "\(program)")
            #expect(rules(member) == rules(disk), "\(program)")
            #expect(!rules(member).contains("library-unknown"), "\(program): \(rules(member))")
        }
        #expect(verdict(inTar[tarball + "!/app/bin/bundled"]) == "needs-rebuild")
        // The library blamed is the target, named as its member (on disk: as its file).
        #expect(findingsText(inTar[tarball + "!/app/bin/bundled"]).contains(tarball + "!/app/lib/libbad.so.1.0.0"))
        #expect(findingsText(onDisk[app.path + "/bin/bundled"]).contains(app.path + "/lib/libbad.so.1.0.0"))
        // Through the cache, cold and warm: what a fresh reading gives.
        Thread.sleep(forTimeInterval: Caching.settle * 1.5)
        let fresh = try Caching.run([tarball], cache: nil)
        let cold = try Caching.run([tarball], cache: try Caching.cache(dir))
        let warm = try Caching.run([tarball], cache: try Caching.cache(dir))
        #expect(cold.json == fresh.json && warm.json == fresh.json)
        #expect(!Caching.entries(dir).isEmpty)
    }

    /// The same bundle in a zip made on Unix with its links kept (`zip -y`; written here by Python's zipfile with
    /// a Unix mode of S_IFLNK, one link stored and one deflated): unzip, bsdtar and the like make the links, so
    /// the verdicts are the directory's. A wheel holding the same members is unpacked by pip, which writes each
    /// link as a file holding its target: there libgreet.so.1 is text, and musl's search ends on it.
    @Test func zipLinksAreLinksWhereTheUnpackerMakesThem() throws {
        let dir = try scratch("links-zip")
        defer { try? FileManager.default.removeItem(at: dir) }
        let staging = dir.appendingPathComponent("staging")
        try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: true)
        try fixture("app-runpath").write(to: staging.appendingPathComponent("app"))
        try fixture("lib/libgreet.so.1").write(to: staging.appendingPathComponent("greet"))
        let script = """
            import sys, zipfile
            out, app, greet = sys.argv[1:4]
            def link(z, name, target, method):
                info = zipfile.ZipInfo(name)
                info.create_system = 3
                info.external_attr = 0o120777 << 16
                info.compress_type = method
                z.writestr(info, target)
            with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
                z.write(app, "app/app-runpath")
                z.write(greet, "app/lib/libgreet.so.1.2.3")
                link(z, "app/lib/libgreet.so.1", "libgreet.so.1.2", zipfile.ZIP_STORED)
                link(z, "app/lib/libgreet.so.1.2", "libgreet.so.1.2.3", zipfile.ZIP_DEFLATED)
            """
        for name in ["app.zip", "app-1.0-py3-none-linux_x86_64.whl"] {
            let made = try #require(
                runProgram(
                    "/usr/bin/env",
                    [
                        "python3", "-c", script, dir.appendingPathComponent(name).path,
                        staging.appendingPathComponent("app").path, staging.appendingPathComponent("greet").path,
                    ]))
            #expect(made.status == 0, "\(made.stderr)")
        }
        let zipped = dir.appendingPathComponent("app.zip").path
        let program = try byPath(check(zipped))[zipped + "!/app/app-runpath"]
        #expect(verdict(program) == "needs-gcompat")
        #expect(!rules(program).contains("library-unloadable") && !rules(program).contains("library-unknown"))
        let wheel = dir.appendingPathComponent("app-1.0-py3-none-linux_x86_64.whl").path
        let inWheel = try byPath(check(wheel))[wheel + "!/app/app-runpath"]
        #expect(verdict(inWheel) == "needs-rebuild")
        #expect(findingsText(inWheel).contains("found at \(wheel)!/app/lib/libgreet.so.1, but not an ELF file"))
    }

    /// docker save: a layer's link to a file of an earlier layer is followed; a later layer that deletes the
    /// target (or the link) leaves the library not found, and said. Read by offset (a plain tar), streamed
    /// (the same tar gzip-compressed) and as an OCI layout directory.
    @Test func aLayersLinkReachesAnEarlierLayersFileUntilALaterLayerDeletesIt() throws {
        let dir = try scratch("links-image")
        defer { try? FileManager.default.removeItem(at: dir) }
        var l1 = TarWriter()
        try l1.file("usr/lib/libgreet.so.1.2.3", fixture: "lib/libgreet.so.1")
        var l2 = TarWriter()
        l2.symlink("usr/lib/libgreet.so.1", to: "libgreet.so.1.2.3")
        try l2.file("usr/bin/app", fixture: "app-runpath")
        var deletesTarget = TarWriter()
        deletesTarget.add("usr/lib/.wh.libgreet.so.1.2.3", [])
        var deletesLink = TarWriter()
        deletesLink.add("usr/lib/.wh.libgreet.so.1", [])
        var replacesLink = TarWriter()  // a regular file where the link was: not an ELF file, musl cannot load it
        replacesLink.add("usr/lib/libgreet.so.1", Array("not a library\n".utf8))
        let program = "usr/bin/app"
        func image(_ name: String, _ layers: [TarWriter]) throws -> URL {
            let url = dir.appendingPathComponent(name + ".tar")
            try Data(TarWriter.dockerSave(layers.enumerated().map { ("layer\($0 + 1).tar", $1.finished()) })).write(
                to: url)
            return url
        }
        let base = try image("linked", [l1, l2])
        try run("/usr/bin/gzip", ["-k", base.lastPathComponent], in: dir)
        let gz = base.path + ".gz"
        for path in [base.path, gz] {
            let r = try byPath(check(path))[path + "!/" + program]
            #expect(verdict(r) != nil && !rules(r).contains("library-unknown"), "\(path): \(rules(r))")
        }
        // An OCI layout of the same layers.
        var layerFiles: [URL] = []
        for (i, layer) in [l1, l2].enumerated() {
            let url = dir.appendingPathComponent("oci-layer\(i + 1).tar")
            try Data(layer.finished()).write(to: url)
            layerFiles.append(url)
        }
        let layout = dir.appendingPathComponent("layout")
        _ = try Images().ociLayout(layout, layers: layerFiles)
        let inLayout = try byPath(check(layout.path))[layout.path + "!/" + program]
        #expect(verdict(inLayout) != nil && !rules(inLayout).contains("library-unknown"), "\(rules(inLayout))")
        // A third layer deletes the target, or the link, or puts a file in the link's place.
        for (name, top) in [("target-deleted", deletesTarget), ("link-deleted", deletesLink)] {
            let url = try image(name, [l1, l2, top])
            try run("/usr/bin/gzip", ["-k", url.lastPathComponent], in: dir)
            for path in [url.path, url.path + ".gz"] {
                let r = try byPath(check(path))[path + "!/" + program]
                #expect(rules(r).contains("library-unknown"), "\(path): \(rules(r))")
            }
        }
        // The text file is what musl opens first on the program's path: unloadable, and the search ends there.
        let replaced = try image("link-replaced", [l1, l2, replacesLink])
        let r = try byPath(check(replaced.path))[replaced.path + "!/" + program]
        #expect(rules(r).contains("library-unloadable") && !rules(r).contains("library-unknown"), "\(rules(r))")
        #expect(findingsText(r).contains(replaced.path + "!/usr/lib/libgreet.so.1, but not an ELF file"))
    }

    /// Link targets are taken inside the archive's root: "../../../../lib/x" from app/lib stops at the
    /// root (lib/x of the archive), "/lib/x" is the archive's lib/x; a target naming a host file
    /// (an absolute path to a real libgreet on this machine) is the archive's path of that name, absent.
    @Test func linkTargetsStayInsideTheArchiveRoot() throws {
        let dir = try scratch("links-root")
        defer { try? FileManager.default.removeItem(at: dir) }
        let host = dir.appendingPathComponent("host/libgreet.so.1")
        try FileManager.default.createDirectory(
            at: host.deletingLastPathComponent(), withIntermediateDirectories: true)
        try fixture("lib/libgreet.so.1").write(to: host)
        for (name, target, found) in [
            ("dotdot", "../../../../../../lib/libgreet.so.1.2.3", true),
            ("absolute", "/lib/libgreet.so.1.2.3", true),
            ("host", host.path, false),
            ("host-dotdot", "../../../../../../../../.." + host.path, false),
        ] {
            var tar = TarWriter()
            try tar.file("lib/libgreet.so.1.2.3", fixture: "lib/libgreet.so.1")
            try tar.file("app/app-runpath", fixture: "app-runpath")
            tar.symlink("app/lib/libgreet.so.1", to: target)
            let url = dir.appendingPathComponent(name + ".tar")
            try Data(tar.finished()).write(to: url)
            let out = check(url.path)
            let r = try byPath(out)[url.path + "!/app/app-runpath"]
            #expect(verdict(r) != nil && rules(r).contains("library-unknown") == !found, "\(name): \(rules(r))")
            #expect(!out.stdout.contains(host.path), "\(name): the host's file is never reported")
        }
    }

    /// A loop of links (and a link to itself) is reported and ends musl's search for the name: no hang, no
    /// library found further down the path (musl's path_open stops on ELOOP).
    @Test func aLinkLoopIsReportedAndEndsTheSearch() throws {
        let dir = try scratch("links-loop")
        defer { try? FileManager.default.removeItem(at: dir) }
        for (name, links) in [
            ("pair", [("app/lib/libgreet.so.1", "libgreet.so.1.b"), ("app/lib/libgreet.so.1.b", "libgreet.so.1")]),
            ("self", [("app/lib/libgreet.so.1", "./libgreet.so.1")]),
            ("directory", [("app/lib", "../app/lib/.")]),
        ] {
            var tar = TarWriter()
            try tar.file("app/app-runpath", fixture: "app-runpath")
            // Found on musl's default path, were the search to go on past the loop.
            try tar.file("usr/lib/libgreet.so.1", fixture: "lib/libgreet.so.1")
            for (link, target) in links { tar.symlink(link, to: target) }
            let url = dir.appendingPathComponent(name + ".tar")
            try Data(tar.finished()).write(to: url)
            let started = Date()
            let r = try byPath(check(url.path))[url.path + "!/app/app-runpath"]
            #expect(Date().timeIntervalSince(started) < 30, "\(name)")
            #expect(rules(r).contains("library-unknown"), "\(name): \(rules(r))")
            #expect(findingsText(r).contains("a loop"), "\(name): \(findingsText(r))")
            // The same tree on disk: the same verdict and findings.
            let unpacked = dir.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: unpacked, withIntermediateDirectories: true)
            try run("/usr/bin/tar", ["-xf", url.path, "-C", unpacked.path], in: dir)
            let disk = try byPath(check(unpacked.path))[unpacked.path + "/app/app-runpath"]
            #expect(verdict(disk) == verdict(r) && rules(disk) == rules(r), "\(name) on disk: \(rules(disk))")
            #expect(findingsText(disk).contains("a loop"), "\(name) on disk")
        }
    }

    /// A Debian package (ar, then data.tar.xz) and a tarball inside a tarball: links are followed inside the
    /// innermost archive, whose root is the package's.
    @Test func linksInsidePackagesAndNestedArchivesAreFollowed() throws {
        let dir = try scratch("links-deb")
        defer { try? FileManager.default.removeItem(at: dir) }
        let fm = FileManager.default
        let root = dir.appendingPathComponent("root")
        try fm.createDirectory(at: root.appendingPathComponent("usr/bin"), withIntermediateDirectories: true)
        try fm.createDirectory(at: root.appendingPathComponent("usr/lib"), withIntermediateDirectories: true)
        try fixture("app-runpath").write(to: root.appendingPathComponent("usr/bin/app"))
        try fixture("lib/libgreet.so.1").write(to: root.appendingPathComponent("usr/lib/libgreet.so.1.2.3"))
        try fm.createSymbolicLink(
            atPath: root.appendingPathComponent("usr/lib/libgreet.so.1").path, withDestinationPath: "libgreet.so.1.2.3")
        try Data("2.0\n".utf8).write(to: dir.appendingPathComponent("debian-binary"))
        try Data("Package: app\n".utf8).write(to: dir.appendingPathComponent("control"))
        try run("/usr/bin/tar", ["-czf", "control.tar.gz", "control"], in: dir)
        try run("/usr/bin/tar", ["-cJf", "data.tar.xz", "-C", "root", "."], in: dir)
        try run("/usr/bin/ar", ["rc", "app.deb", "debian-binary", "control.tar.gz", "data.tar.xz"], in: dir)
        try run("/usr/bin/tar", ["-czf", "inner.tar.gz", "-C", "root", "."], in: dir)
        try run("/usr/bin/tar", ["-cf", "outer.tar", "inner.tar.gz"], in: dir)
        let deb = dir.appendingPathComponent("app.deb").path
        let outer = dir.appendingPathComponent("outer.tar").path
        for program in [deb + "!/data.tar.xz!/usr/bin/app", outer + "!/inner.tar.gz!/usr/bin/app"] {
            let container = String(program.prefix { $0 != "!" })
            let r = try byPath(check(container))[program]
            #expect(verdict(r) != nil && !rules(r).contains("library-unknown"), "\(program): \(rules(r))")
        }
    }

    /// With --search-scanned, a library of that name anywhere in the archive counts, a link to one too (its
    /// target is the library); without it, only musl's own search.
    @Test func searchScannedFindsALibraryBehindALinkAnywhereInTheArchive() throws {
        let dir = try scratch("links-scanned")
        defer { try? FileManager.default.removeItem(at: dir) }
        var tar = TarWriter()
        try tar.file("bin/app", fixture: "app-runpath")
        try tar.file("opt/x/libgreet.so.1.2.3", fixture: "lib/libgreet.so.1")
        tar.symlink("opt/x/libgreet.so.1", to: "libgreet.so.1.2.3")
        let url = dir.appendingPathComponent("t.tar")
        try Data(tar.finished()).write(to: url)
        let strict = try byPath(check(url.path))[url.path + "!/bin/app"]
        #expect(rules(strict).contains("library-unknown"))
        let together = try byPath(
            muslcheck(["check", "--format", "json", "--target", "alpine:3.20", "--search-scanned", url.path]))[
                url.path + "!/bin/app"]
        #expect(verdict(together) != nil && !rules(together).contains("library-unknown"), "\(rules(together))")
    }

    /// A hard link in a later layer to an earlier layer's file is that file.
    @Test func aLayersHardLinkToAnEarlierLayersFileIsThatFile() throws {
        let dir = try scratch("links-hard")
        defer { try? FileManager.default.removeItem(at: dir) }
        var l1 = TarWriter()
        try l1.file("usr/lib/libgreet.so.1.2.3", fixture: "lib/libgreet.so.1")
        var l2 = TarWriter()
        l2.hardlink("usr/lib/libgreet.so.1", to: "usr/lib/libgreet.so.1.2.3")
        try l2.file("usr/bin/app", fixture: "app-runpath")
        var tar = TarWriter()
        tar.add("layer1.tar", l1.finished())
        tar.add("layer2.tar", l2.finished())
        tar.add("manifest.json", Array(#"[{"RepoTags":["x:1"],"Layers":["layer1.tar","layer2.tar"]}]"#.utf8))
        let url = dir.appendingPathComponent("image.tar")
        try Data(tar.finished()).write(to: url)
        let r = try byPath(check(url.path))[url.path + "!/usr/bin/app"]
        #expect(verdict(r) != nil && !rules(r).contains("library-unknown"), "\(rules(r))")
    }
}

/// Link resolution inside an archive costs what the archive's links allow, never more: loops, depth and the
/// components walked per binary are bounded, and the bounds are reported.
@Suite struct ArchiveLinkBounds {
    let root = "x.tar!/"

    @Test func relativeAbsoluteAndDotDotTargetsResolveInsideTheRoot() {
        let links = [
            root + "lib": "usr/lib", root + "usr/lib/libz.so.1": "../../../../opt/z/libz.so.1.3",
            root + "opt/z/libz.so.1.3": "/usr/lib/real/libz",
        ]
        var budget = DependencyResolver.maxLinkSteps
        #expect(
            DependencyResolver.follow(root + "lib/libz.so.1", root: root, links: links, budget: &budget)
                == .name(root + "usr/lib/real/libz"))
        #expect(
            DependencyResolver.follow(root + "usr/bin", root: root, links: links, budget: &budget)
                == .name(root + "usr/bin"))
    }

    @Test func loopsDepthAndLongChainsAreBounded() {
        let long = Array(repeating: "d", count: 2000).joined(separator: "/")
        var budget = DependencyResolver.maxLinkSteps
        let started = Date()
        // A link whose target starts with itself: a loop after 40 links.
        let loop = DependencyResolver.follow(
            root + "a/lib.so", root: root, links: [root + "a": "a/" + long], budget: &budget)
        #expect(loop == .unresolved(DependencyResolver.loopMessage(root + "a")))
        // A target 2,000 directories deep: past the depth bound.
        budget = DependencyResolver.maxLinkSteps
        guard
            case .unresolved(let deep) = DependencyResolver.follow(
                root + "b/lib.so", root: root, links: [root + "b": long], budget: &budget)
        else {
            Issue.record("a 2,000-deep target resolved")
            return
        }
        #expect(deep.contains("directories deep"))
        // Many lookups share one budget: once spent, every lookup says so.
        budget = DependencyResolver.maxLinkSteps
        let hundred = Array(repeating: "e", count: 100).joined(separator: "/")
        var last = DependencyResolver.MemberName.name("")
        for _ in 0..<1000 {
            last = DependencyResolver.follow(root + "c/x", root: root, links: [root + "c": hundred], budget: &budget)
        }
        guard case .unresolved(let spent) = last else {
            Issue.record("the budget was never spent")
            return
        }
        #expect(spent.contains("path components") && budget < 0)
        #expect(Date().timeIntervalSince(started) < 5)
    }
}

/// A library reached through a link from another directory: musl takes its $ORIGIN from the directory it
/// opened it in, while the member is judged from where it is stored. When its own search path uses $ORIGIN,
/// what it loads may differ: it is reported unusable, never taken as judged.
@Suite struct ArchiveLinkOrigins {
    let resolver = DependencyResolver(libraryPaths: [], scannedRoots: []) { _ in false }

    func program() -> BinaryFacts {
        var f = BinaryFacts(is64: true, bigEndian: false, machine: .x86_64, type: .dyn, osABI: 0, entry: 0)
        f.needed = ["libfoo.so.1"]
        f.runpath = ["$ORIGIN/../lib"]
        return f
    }

    @Test func aLibraryWhoseOriginDiffersIsNotTakenAsJudged() {
        let header = Header(is64: true, bigEndian: false, machine: Machine.x86_64.rawValue)
        let prog = "a.tar!/app/bin/prog"
        let real = "a.tar!/app/real/libfoo.so.1"
        let members = [prog: header, real: header]
        let links = ["a.tar!/app/lib/libfoo.so.1": "../real/libfoo.so.1"]
        // Its own search path does not use $ORIGIN: the link's target, as before.
        let plain = resolver.locate(program(), path: prog, among: members, links: links)
        #expect(plain.found["libfoo.so.1"] == real)
        // It does: opened in app/lib, judged from app/real.
        let origin = resolver.locate(program(), path: prog, among: members, links: links, originUsers: [real])
        #expect(origin.found["libfoo.so.1"] == nil)
        #expect(origin.unusable["libfoo.so.1"]?.contains("$ORIGIN") == true)
        // A link beside its target (libfoo.so.1 -> libfoo.so.1.2.3): the same directory, the same $ORIGIN.
        let beside = "a.tar!/app/lib/libfoo.so.1.2.3"
        let same = resolver.locate(
            program(), path: prog, among: [prog: header, beside: header],
            links: ["a.tar!/app/lib/libfoo.so.1": "libfoo.so.1.2.3"], originUsers: [beside])
        #expect(same.found["libfoo.so.1"] == beside)
    }

    /// The engine names the members whose search path (RUNPATH, else RPATH, as musl takes it) uses $ORIGIN.
    @Test func theEngineTellsWhichMembersUseOrigin() {
        func member(_ path: String, rpath: [String] = [], runpath: [String] = []) -> ScannedFile {
            var f = program()
            f.rpath = rpath
            f.runpath = runpath
            return ScannedFile(
                item: ScanItem(path: path, kind: .file, explicit: false, inArchive: true), result: .elf(f))
        }
        let users = CheckEngine.memberIndex(
            [
                member("a.tar!/lib/runpath.so", runpath: ["${ORIGIN}/x"]),
                member("a.tar!/lib/rpath.so", rpath: ["$ORIGIN/../lib"]),
                // RUNPATH present: musl ignores RPATH, so its $ORIGIN there does not count.
                member("a.tar!/lib/ignored.so", rpath: ["$ORIGIN"], runpath: ["/opt/lib"]),
                member("a.tar!/lib/none.so", runpath: ["/usr/lib"]),
            ], notELF: []
        ).originUsers
        #expect(users == ["a.tar!/lib/runpath.so", "a.tar!/lib/rpath.so"])
    }
}
