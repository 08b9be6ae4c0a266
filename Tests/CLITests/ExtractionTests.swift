// The property the archive reader keeps: every ELF file that a standard extractor (GNU tar, Python's
// zipfile, dpkg-deb) produces from an input is judged or reported by muslcheck, under the same name.
import Foundation
import MuslcheckCLI
import TestSupport
import Testing

@Suite(.serialized) struct StandardExtractors {
    /// Regular files under `root` that start with the ELF magic, relative to it (links are not files).
    func elfFiles(under root: URL) throws -> [String] {
        var out: [String] = []
        let fm = FileManager.default
        guard let walk = fm.enumerator(atPath: root.path) else { return [] }
        for case let rel as String in walk {
            let path = root.appendingPathComponent(rel).path
            var st = stat()
            guard lstat(path, &st) == 0, st.st_mode & S_IFMT == S_IFREG, let handle = FileHandle(forReadingAtPath: path)
            else { continue }
            let head = handle.readData(ofLength: 4)
            try handle.close()
            if head == Data([0x7F, 0x45, 0x4C, 0x46]) { out.append(rel) }
        }
        return out.sorted()
    }

    /// The inputs: tars in the formats GNU tar writes (hard and symbolic links, long names, sparse
    /// files, three compressions), a zip written by Python with a member whose mode says link, and a .deb.
    func inputs(_ dir: URL) throws -> [(archive: String, extract: [String], inner: String)] {
        let fm = FileManager.default
        let tree = dir.appendingPathComponent("tree")
        let long = "very/" + String(repeating: "long-directory-name/", count: 8)
        for sub in ["bin", "lib", long] {
            try fm.createDirectory(at: tree.appendingPathComponent(sub), withIntermediateDirectories: true)
        }
        try fixture("hello-musl").write(to: tree.appendingPathComponent("bin/hello"))
        try fixture("recent").write(to: tree.appendingPathComponent(long + "recent"))
        try fixture("lib/libgreet.so.1").write(to: tree.appendingPathComponent("lib/libgreet.so.1"))
        try Data("#!/bin/sh\n".utf8).write(to: tree.appendingPathComponent("bin/script"))
        #expect(link(tree.appendingPathComponent("bin/hello").path, tree.appendingPathComponent("bin/hard").path) == 0)
        try fm.createSymbolicLink(atPath: tree.appendingPathComponent("bin/soft").path, withDestinationPath: "hello")
        let sparse = dir.appendingPathComponent("sparse")
        try fm.createDirectory(at: sparse, withIntermediateDirectories: true)
        try fixture("hello-glibc").write(to: sparse.appendingPathComponent("holey"))
        #expect(truncate(sparse.appendingPathComponent("holey").path, 1 << 20) == 0)
        var list: [(String, [String], String)] = []
        for (name, flags) in [
            ("gnu.tar", ["--format=gnu"]), ("pax.tar", ["--format=pax"]), ("tree.tar.gz", ["-z"]),
            ("tree.tar.xz", ["-J"]), ("tree.tar.zst", ["--zstd"]),
        ] {
            try run("/usr/bin/tar", flags + ["-cf", name, "-C", "tree", "."], in: dir)
            list.append((name, ["/usr/bin/tar", "-xf"], ""))
        }
        for (name, flags) in [
            ("sparse-gnu.tar", ["--format=gnu"]), ("sparse-pax.tar", ["--format=pax", "--sparse-version=1.0"]),
        ] {
            try run("/usr/bin/tar", flags + ["--sparse", "-cf", name, "-C", "sparse", "."], in: dir)
            list.append((name, ["/usr/bin/tar", "-xf"], ""))
        }
        let python = """
            import sys, zipfile
            z = zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED)
            z.write(sys.argv[2] + '/bin/hello', 'pkg/hello')
            z.write(sys.argv[2] + '/lib/libgreet.so.1', 'pkg/lib/libgreet.so.1')
            info = zipfile.ZipInfo('pkg/looks-like-a-link')
            info.external_attr = 0o120777 << 16
            z.writestr(info, open(sys.argv[2] + '/bin/hello', 'rb').read())
            z.writestr('pkg/dir/', b'')
            z.close()
            """
        try run("/usr/bin/env", ["python3", "-c", python, "py.zip", tree.path], in: dir)
        list.append(("py.zip", ["/usr/bin/env", "python3", "-m", "zipfile", "-e"], ""))
        let package = dir.appendingPathComponent("pkg")
        try fm.createDirectory(at: package.appendingPathComponent("DEBIAN"), withIntermediateDirectories: true)
        try fm.createDirectory(at: package.appendingPathComponent("usr/bin"), withIntermediateDirectories: true)
        try fixture("hello-glibc").write(to: package.appendingPathComponent("usr/bin/hello"))
        try Data("Package: x\nVersion: 1.0\nArchitecture: amd64\nMaintainer: x <x@example.org>\nDescription: x\n".utf8)
            .write(to: package.appendingPathComponent("DEBIAN/control"))
        try run("/usr/bin/dpkg-deb", ["-Zxz", "--build", "--root-owner-group", "pkg", "x.deb"], in: dir)
        list.append(("x.deb", ["/usr/bin/dpkg-deb", "-x"], "data.tar.xz!/"))
        return list
    }

    @Test func everyELFFileAnExtractorProducesIsJudgedOrReported() throws {
        let dir = try scratch("extractors")
        defer { try? FileManager.default.removeItem(at: dir) }
        let fm = FileManager.default
        var checked = 0
        for (archive, extract, inner) in try inputs(dir) {
            let out = dir.appendingPathComponent("out-" + archive)
            try fm.createDirectory(at: out, withIntermediateDirectories: true)
            let url = dir.appendingPathComponent(archive)
            if extract[0] == "/usr/bin/tar" {
                try run(extract[0], [extract[1], url.path, "-C", out.path], in: dir)
            } else {
                try run(extract[0], Array(extract.dropFirst()) + [url.path, out.path], in: dir)
            }
            let produced = try elfFiles(under: out)
            #expect(!produced.isEmpty, "\(archive)")
            let list = try results(muslcheck("check", "--format", "json", "--fail-on", "never", url.path))
            for rel in produced {
                let name = url.path + "!/" + inner + rel
                let found = list.first { ($0["path"] as? String) == name }
                #expect(
                    found?["status"] as? String == "assessed" || found?["status"] as? String == "error",
                    "\(name) not judged")
                checked += 1
            }
        }
        #expect(checked >= 20)
    }
}
