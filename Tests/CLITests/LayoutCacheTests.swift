import Assessment
// An OCI layout read through the cache gives what a fresh reading gives, whatever its digests say.
import Foundation
import MuslcheckCLI
import TestSupport
import Testing

@testable import Engine

@Suite(.serialized) struct LayoutCaching {
    /// A layout whose blobs are not what their names say: layer 1… (hello-glibc) under manifest a….
    func layout(_ dir: URL, index: String) throws -> URL {
        let fm = FileManager.default
        let layout = dir.appendingPathComponent("t/layout")
        try fm.createDirectory(at: layout.appendingPathComponent("blobs/sha256"), withIntermediateDirectories: true)
        for (name, program) in [("l1", "hello-glibc"), ("l2", "recent")] {
            try fm.createDirectory(at: dir.appendingPathComponent("\(name)/usr/bin"), withIntermediateDirectories: true)
            try fixture(program).write(to: dir.appendingPathComponent("\(name)/usr/bin/app"))
            try CLITests.run("/usr/bin/tar", ["-cf", "\(name).tar", "-C", name, "."], in: dir)
        }
        let layer = String(repeating: "1", count: 64)
        let manifest = String(repeating: "a", count: 64)
        try fm.copyItem(
            at: dir.appendingPathComponent("l1.tar"), to: layout.appendingPathComponent("blobs/sha256/\(layer)"))
        try Data(#"{"schemaVersion":2,"layers":[{"digest":"sha256:\#(layer)"}]}"#.utf8).write(
            to: layout.appendingPathComponent("blobs/sha256/\(manifest)"))
        try Data(index.replacingOccurrences(of: "MANIFEST", with: "sha256:" + manifest).utf8).write(
            to: layout.appendingPathComponent("index.json"))
        try Data(#"{"imageLayoutVersion":"1.0.0"}"#.utf8).write(to: layout.appendingPathComponent("oci-layout"))
        return layout
    }

    /// A layer blob rewritten in place (no directory, no index changes): the cached run reads it again.
    /// Before, the cache served the old layer's program (needs-gcompat) for the new one (needs-rebuild).
    @Test func aBlobRewrittenInPlaceIsReadAgain() throws {
        let dir = try scratch("layout-blob")
        defer { try? FileManager.default.removeItem(at: dir) }
        let layout = try layout(dir, index: #"{"schemaVersion":2,"manifests":[{"digest":"MANIFEST"}]}"#)
        Thread.sleep(forTimeInterval: Caching.settle * 1.5)
        let paths = [dir.appendingPathComponent("t").path]
        let first = try Caching.run(paths, cache: try Caching.cache(dir))
        #expect(first.outcome.results.map { $0.assessment?.verdict } == [.needsGcompat])
        #expect(!Caching.entries(dir).isEmpty)
        let blob = layout.appendingPathComponent("blobs/sha256/" + String(repeating: "1", count: 64))
        let handle = try FileHandle(forWritingTo: blob)
        try handle.truncate(atOffset: 0)
        try handle.write(contentsOf: try Data(contentsOf: dir.appendingPathComponent("l2.tar")))
        try handle.close()
        Thread.sleep(forTimeInterval: Caching.settle * 1.5)
        let cached = try Caching.run(paths, cache: try Caching.cache(dir))
        let fresh = try Caching.run(paths, cache: nil)
        #expect(cached.json == fresh.json)
        #expect(fresh.outcome.results.map { $0.assessment?.verdict } == [.needsRebuild])
    }

    /// Malformed digests in the index (a path, another algorithm, none): reported every time, never
    /// cached, and the same report with and without the cache, run after run.
    @Test func malformedDigestsAreNeverCached() throws {
        let dir = try scratch("layout-digests")
        defer { try? FileManager.default.removeItem(at: dir) }
        _ = try layout(
            dir,
            index:
                #"{"schemaVersion":2,"manifests":[{"digest":"MANIFEST"},{"digest":"sha256:../.."},{"digest":"md5:abc"},{"digest":"sha256:"}]}"#
        )
        Thread.sleep(forTimeInterval: Caching.settle * 1.5)
        let paths = [dir.appendingPathComponent("t").path]
        let plain = try Caching.run(paths, cache: nil)
        #expect(
            plain.outcome.results.contains { $0.status == .error && ($0.error ?? "").contains("not a valid digest") })
        for _ in 0..<2 {
            #expect(try Caching.run(paths, cache: try Caching.cache(dir)).json == plain.json)
            #expect(try Caching.run(paths, cache: nil).json == plain.json)
        }
        #expect(Caching.entries(dir).isEmpty)
    }
}
