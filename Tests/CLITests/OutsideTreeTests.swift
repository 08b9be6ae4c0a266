// Library search never leaves what the command line names: $ORIGIN entries and links that lead out of the
// scanned paths are reported and not read (the host's files stay out of the report and out of the
// verdict); inside --root, archives and images ".." stops at the root, as it does once installed.
import Foundation
import MuslcheckCLI
import TestSupport
import Testing

@testable import Scanning

/// app-runpath with its RUNPATH string ("$ORIGIN/lib:/opt/greet/lib", 26 bytes) replaced in place.
private func app(runpath: String) throws -> Data {
    let old = Array("$ORIGIN/lib:/opt/greet/lib".utf8)
    let new = Array(runpath.utf8)
    precondition(new.count <= old.count)
    var bytes = [UInt8](try fixture("app-runpath"))
    let at = try #require((0...(bytes.count - old.count)).first { bytes[$0..<($0 + old.count)].elementsEqual(old) })
    for i in 0..<old.count { bytes[at + i] = i < new.count ? new[i] : 0 }
    return Data(bytes)
}

private func put(_ data: Data, _ url: URL) throws {
    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try data.write(to: url)
}

private func link(_ url: URL, to target: String) throws {
    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try FileManager.default.createSymbolicLink(atPath: url.path, withDestinationPath: target)
}

private func result(_ out: CommandOutput, _ path: String) throws -> [String: Any] {
    try #require(try results(out).first { ($0["path"] as? String) == path }, "\(path) in \(out.stdout.prefix(2000))")
}

private func rules(_ r: [String: Any]) -> [String] {
    (r["findings"] as? [[String: Any]] ?? []).compactMap { $0["rule"] as? String }
}

private func messages(_ r: [String: Any], _ rule: String) -> [String] {
    (r["findings"] as? [[String: Any]] ?? []).filter { $0["rule"] as? String == rule }.compactMap {
        $0["message"] as? String
    }
}

@Suite(.serialized) struct OutsideTheTree {
    /// libbad (needs-rebuild) stands for every library: when it is read, the program becomes needs-rebuild.
    static func bad() throws -> Data { try fixture("bundle/lib/libbad.so.1") }

    /// $ORIGIN/../.. above the scanned directory: the library there (a host file) is neither read nor
    /// named; the entry is reported. Before, it was found and its verdict folded in.
    @Test func originAboveTheScanIsNotRead() throws {
        let dir = try scratch("outside-origin")
        defer { try? FileManager.default.removeItem(at: dir) }
        try put(try Self.bad(), dir.appendingPathComponent("outside/libgreet.so.1"))
        try put(try app(runpath: "$ORIGIN/../../outside"), dir.appendingPathComponent("d/bin/app"))
        let d = dir.appendingPathComponent("d").path
        let out = muslcheck("check", "--format", "json", "--target", "alpine:3.20", d)
        let r = try result(out, d + "/bin/app")
        // Not read, and never a pass on it: the file is not shown to load (the library outside would have
        // made it needs-rebuild too, but through `dependency`, which needs the library read).
        #expect(r["verdict"] as? String == "needs-rebuild")
        #expect(!rules(r).contains("dependency"))
        #expect(
            messages(r, "library-path-outside") == [
                "RUNPATH entry $ORIGIN/../../outside: leads to \(dir.path)/outside, outside the scanned paths: not searched; libgreet.so.1 not found elsewhere, so the file is not shown to load (needs-rebuild until the directory is given)"
            ])
        #expect(!out.stdout.contains("outside/libgreet"))
        // Scanning the directory above takes it in: found, read, folded in.
        let wider = muslcheck("check", "--format", "json", "--target", "alpine:3.20", dir.path)
        let w = try result(wider, d + "/bin/app")
        #expect(w["verdict"] as? String == "needs-rebuild")
        #expect(!rules(w).contains("library-path-outside"))
        // Two scanned directories side by side: ".." out of one into the other stays inside the scan.
        let both = muslcheck(
            "check", "--format", "json", "--target", "alpine:3.20", d, dir.appendingPathComponent("outside").path)
        #expect(try result(both, d + "/bin/app")["verdict"] as? String == "needs-rebuild")
    }

    /// A file given alone is a tree of one file: what its RUNPATH names beside it is not read.
    @Test func aFileGivenAloneReadsNothingBesideIt() throws {
        let dir = try scratch("outside-alone")
        defer { try? FileManager.default.removeItem(at: dir) }
        try put(try fixture("app-runpath"), dir.appendingPathComponent("app"))
        try put(try Self.bad(), dir.appendingPathComponent("lib/libgreet.so.1"))
        let file = dir.appendingPathComponent("app").path
        let alone = try result(muslcheck("check", "--format", "json", "--target", "alpine:3.20", file), file)
        #expect(alone["verdict"] as? String == "needs-rebuild")
        #expect(
            messages(alone, "library-path-outside").first?.hasPrefix(
                "RUNPATH entry $ORIGIN/lib: the file's directory is outside the scanned paths") == true)
        let together = try result(muslcheck("check", "--format", "json", "--target", "alpine:3.20", dir.path), file)
        #expect(together["verdict"] as? String == "needs-rebuild")
    }

    /// A link in the scan whose target is outside it is not followed (its target on this machine says
    /// nothing of the target system); one whose target stays inside is, as it will be once installed.
    @Test func linksOutOfTheScanAreNotFollowed() throws {
        let dir = try scratch("outside-links")
        defer { try? FileManager.default.removeItem(at: dir) }
        try put(try Self.bad(), dir.appendingPathComponent("host/libgreet.so.1"))
        // A file link to an absolute place outside.
        try put(try fixture("app-runpath"), dir.appendingPathComponent("a/app"))
        try link(dir.appendingPathComponent("a/lib/libgreet.so.1"), to: dir.path + "/host/libgreet.so.1")
        // A directory link, relative, climbing out.
        try put(try fixture("app-runpath"), dir.appendingPathComponent("b/app"))
        try link(dir.appendingPathComponent("b/lib"), to: "../host")
        // A link that stays inside.
        try put(try fixture("app-runpath"), dir.appendingPathComponent("c/app"))
        try put(try Self.bad(), dir.appendingPathComponent("c/real/libgreet.so.1.0"))
        try link(dir.appendingPathComponent("c/lib/libgreet.so.1"), to: "../real/libgreet.so.1.0")
        let a = dir.appendingPathComponent("a").path
        let b = dir.appendingPathComponent("b").path
        let c = dir.appendingPathComponent("c").path
        let out = muslcheck("check", "--format", "json", "--target", "alpine:3.20", a, b, c)
        let ra = try result(out, a + "/app")
        let rb = try result(out, b + "/app")
        let rc = try result(out, c + "/app")
        #expect(ra["verdict"] as? String == "needs-rebuild")
        #expect(
            messages(ra, "library-path-outside") == [
                "RUNPATH entry $ORIGIN/lib: \(a)/lib/libgreet.so.1 links to \(dir.path)/host/libgreet.so.1, outside the scanned paths: not searched; libgreet.so.1 not found elsewhere, so the file is not shown to load (needs-rebuild until the directory is given)"
            ])
        #expect(rb["verdict"] as? String == "needs-rebuild")
        #expect(
            messages(rb, "library-path-outside") == [
                "RUNPATH entry $ORIGIN/lib: leads to \(dir.path)/host, outside the scanned paths: not searched; libgreet.so.1 not found elsewhere, so the file is not shown to load (needs-rebuild until the directory is given)"
            ])
        #expect(!rules(ra).contains("dependency") && !rules(rb).contains("dependency"))
        #expect(rc["verdict"] as? String == "needs-rebuild")
        #expect(messages(rc, "dependency").first?.contains(c + "/real/libgreet.so.1.0") == true)
        #expect(!rules(rc).contains("library-path-outside"))
    }

    /// Inside --root, ".." stops at the root and a link's absolute target is taken inside it, at every
    /// component (a directory link too), as the kernel resolves paths for a program installed there.
    @Test func insideRootDotDotAndLinksStayInTheRoot() throws {
        let dir = try scratch("outside-root")
        defer { try? FileManager.default.removeItem(at: dir) }
        let root = dir.appendingPathComponent("rootfs")
        // $ORIGIN/../../../../../lib from /usr/bin is /lib once installed.
        try put(try app(runpath: "$ORIGIN/../../../../../lib"), root.appendingPathComponent("usr/bin/app"))
        try put(try Self.bad(), root.appendingPathComponent("lib/libgreet.so.1"))
        let out = muslcheck(
            "check", "--format", "json", "--target", "alpine:3.20", "--root", root.path,
            root.appendingPathComponent("usr/bin").path)
        let r = try result(out, root.path + "/usr/bin/app")
        #expect(r["verdict"] as? String == "needs-rebuild")
        #expect(messages(r, "dependency").first?.contains(root.path + "/lib/libgreet.so.1") == true)
        // A directory link to an absolute path: inside the root, not this machine's directory of that name.
        let other = dir.appendingPathComponent("rootfs2")
        try put(try fixture("app-runpath"), other.appendingPathComponent("opt/app/app"))
        try put(try Self.bad(), dir.appendingPathComponent("host/libgreet.so.1"))
        try link(other.appendingPathComponent("opt/app/lib"), to: dir.path + "/host")
        let out2 = muslcheck(
            "check", "--format", "json", "--target", "alpine:3.20", "--root", other.path,
            other.appendingPathComponent("opt").path)
        let r2 = try result(out2, other.path + "/opt/app/app")
        #expect(r2["verdict"] as? String == "needs-gcompat")
        #expect(!rules(r2).contains("dependency"))
        // The same target made inside the root is found there.
        try put(try Self.bad(), other.appendingPathComponent(String(dir.path.dropFirst()) + "/host/libgreet.so.1"))
        let out3 = muslcheck(
            "check", "--format", "json", "--target", "alpine:3.20", "--root", other.path,
            other.appendingPathComponent("opt").path)
        #expect(try result(out3, other.path + "/opt/app/app")["verdict"] as? String == "needs-rebuild")
    }

    /// Inside an archive ".." stops at its root: a member finds /opt/lib from /bin/../../../opt/lib, and a
    /// member of a tar inside a tar never reaches the outer tar's members.
    @Test func insideArchivesDotDotStopsAtTheirRoot() throws {
        let dir = try scratch("outside-archive")
        defer { try? FileManager.default.removeItem(at: dir) }
        let tree = dir.appendingPathComponent("t")
        try put(try app(runpath: "$ORIGIN/../../../opt/lib"), tree.appendingPathComponent("bin/app"))
        try put(try Self.bad(), tree.appendingPathComponent("opt/lib/libgreet.so.1"))
        try run("/usr/bin/tar", ["-cf", "flat.tar", "-C", "t", "bin", "opt"], in: dir)
        let flat = dir.appendingPathComponent("flat.tar").path
        let one = muslcheck("check", "--format", "json", "--target", "alpine:3.20", flat)
        #expect(try result(one, flat + "!/bin/app")["verdict"] as? String == "needs-rebuild")
        // inner.tar holds only bin/app; the outer tar holds inner.tar and opt/lib/libgreet.so.1.
        let inner = dir.appendingPathComponent("i")
        try put(try app(runpath: "$ORIGIN/../../opt/lib"), inner.appendingPathComponent("bin/app"))
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("o"), withIntermediateDirectories: true)
        try run("/usr/bin/tar", ["-cf", "o/inner.tar", "-C", "i", "bin"], in: dir)
        try put(try Self.bad(), dir.appendingPathComponent("o/opt/lib/libgreet.so.1"))
        try run("/usr/bin/tar", ["-cf", "outer.tar", "-C", "o", "inner.tar", "opt"], in: dir)
        let outer = dir.appendingPathComponent("outer.tar").path
        let nested = muslcheck("check", "--format", "json", "--target", "alpine:3.20", outer)
        let r = try result(nested, outer + "!/inner.tar!/bin/app")
        #expect(r["verdict"] as? String == "needs-gcompat")
        #expect(!rules(r).contains("dependency"))
    }

    /// The search path inherited down a chain of libraries keeps each directory once and stops, reported,
    /// at 1024 directories (64 entries per library down 256 libraries would be 16,384 lookups per name).
    @Test func theInheritedSearchPathIsBounded() {
        typealias Place = DependencyResolver.Place
        let own = [Place(tree: 0, path: "a", label: "x"), Place(tree: 0, path: "b", label: "x")]
        var notes: [String] = []
        #expect(
            DependencyResolver.chain(
                own, then: own + [Place(tree: 1, path: "a", label: "y")], key: \.key, notes: &notes
            ).map(\.key)
                == ["0:a", "0:b", "1:a"])
        #expect(notes.isEmpty)
        let many = (0..<2000).map { Place(tree: 0, path: "d\($0)", label: "z") }
        #expect(
            DependencyResolver.chain(own, then: many, key: \.key, notes: &notes).count == DependencyResolver.maxChain)
        #expect(notes.count == 1 && notes[0].contains("not searched"))
    }
}
