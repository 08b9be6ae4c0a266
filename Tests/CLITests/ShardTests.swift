// --shard, merge and --cache: shares that together are one run, reports merged byte for byte, and a cache
// that never serves a result something it depends on has changed.
import Dispatch
import Foundation
import Knowledge
import MuslcheckCLI
import Reporting
import Synchronization
import TestSupport
import Testing

@testable import Engine

private let target = "alpine:3.20"

/// A copy of some fixtures in a scratch tree (copies: hard links and changes stay inside the test).
private func tree(_ name: String, _ files: [(String, String)]) throws -> URL {
    let dir = try scratch(name)
    for (source, destination) in files {
        let url = dir.appendingPathComponent(destination)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Fixtures.path(source), toPath: url.path)
    }
    return dir
}

private func write(_ out: CommandOutput, _ url: URL) throws { try Data(out.stdout.utf8).write(to: url) }

@Suite(.serialized) struct Sharding {
    @Test func shardsParseOnlyAsIOfN() {
        #expect(Shard("1/1") == Shard(index: 1, count: 1))
        #expect(Shard("3/4")?.index == 3)
        for bad in ["0/3", "4/3", "1/0", "a/b", "1", "1/2/3", "-1/2", "+1/2", "1/", "/2", "1/65537"] {
            #expect(Shard(bad) == nil, "\(bad)")
        }
        let out = muslcheck("check", "--shard", "0/2", Fixtures.path("hello-musl"))
        #expect(out.exitCode == 64)
    }

    @Test func theHashIsFixed() {
        // FNV-1a 64 of "a" (published test vector): shares must agree across machines and processes.
        #expect(Shard.hash("a") == 0xaf63_dc4c_8601_ec8c)
        #expect(Shard.hash("") == 0xcbf2_9ce4_8422_2325)
    }

    /// Every share's results are the whole run's results for those files; together they list each once.
    @Test func sharesCoverEveryInputOnce() throws {
        let whole = muslcheck("check", "--format", "json", "--target", target, "fixtures-bin/bin")
        let all = try results(whole)
        let byPath = Dictionary(
            all.map { (($0["path"] as? String) ?? "", $0 as NSDictionary) }, uniquingKeysWith: { a, _ in a })
        #expect(all.count > 20)
        for n in [1, 2, 3, 7] {
            var seen: [String] = []
            var counted = 0
            for i in 1...n {
                let out = muslcheck(
                    "check", "--format", "json", "--target", target, "--shard", "\(i)/\(n)", "fixtures-bin/bin")
                let part = try results(out)
                for r in part {
                    let path = try #require(r["path"] as? String)
                    seen.append(path)
                    #expect(byPath[path] == (r as NSDictionary), "\(path) in share \(i)/\(n)")
                }
                let summary = try #require(try json(out.stdout)["summary"] as? [String: Any])
                counted += try #require(summary["files"] as? Int)
            }
            #expect(seen.sorted() == all.compactMap { $0["path"] as? String }.sorted(), "\(n) shares")
            #expect(Set(seen).count == seen.count, "a file in two of \(n) shares")
            let wholeSummary = try #require(try json(whole.stdout)["summary"] as? [String: Any])
            #expect(counted == wholeSummary["files"] as? Int)
        }
    }

    /// Merging the shares gives the whole run's report byte for byte, in every format, with its exit status.
    @Test func mergedSharesAreTheWholeRun() throws {
        let dir = try scratch("merge")
        defer { try? FileManager.default.removeItem(at: dir) }
        let inputs = ["fixtures-bin/bin", "fixtures-bin/malformed"]
        let whole = muslcheck(["check", "--format", "json", "--target", target] + inputs)
        let n = 4
        var reports: [String] = []
        for i in 1...n {
            let out = muslcheck(["check", "--format", "json", "--target", target, "--shard", "\(i)/\(n)"] + inputs)
            let file = dir.appendingPathComponent("share-\(i).json")
            try write(out, file)
            reports.append(file.path)
        }
        let merged = muslcheck(["merge", "--format", "json"] + reports.reversed())
        #expect(merged.stderr == "")
        #expect(merged.stdout == whole.stdout)
        #expect(merged.exitCode == whole.exitCode)
        #expect(whole.stdout.contains("\"shard\"") == false)
        for format in ["text", "sarif", "markdown", "html", "junit"] {
            let one = muslcheck(["check", "--format", format, "--target", target] + inputs)
            let fromShares = muslcheck(["merge", "--format", format] + reports)
            #expect(fromShares.stdout == one.stdout, "\(format)")
        }
        // A stricter gate given to merge is decided again, as the run would have decided it.
        let strict = muslcheck(["check", "--format", "json", "--target", target, "--fail-on", "warning"] + inputs)
        let strictMerged = muslcheck(["merge", "--format", "json", "--fail-on", "warning"] + reports)
        #expect(strictMerged.stdout == strict.stdout)
        #expect(strictMerged.exitCode == strict.exitCode)
        let never = muslcheck(["merge", "--fail-on", "never"] + reports)
        #expect(never.exitCode != 1)
    }

    /// A saved whole report renders in every format as the run itself did.
    @Test func aSavedReportRendersInAnyFormat() throws {
        let dir = try scratch("render")
        defer { try? FileManager.default.removeItem(at: dir) }
        let saved = dir.appendingPathComponent("report.json")
        try write(muslcheck("check", "--format", "json", "--target", target, "fixtures-bin/bin"), saved)
        for format in ["json", "text", "sarif", "markdown", "html", "junit"] {
            let one = muslcheck("check", "--format", format, "--target", target, "fixtures-bin/bin")
            let rendered = muslcheck("merge", "--format", format, saved.path)
            #expect(rendered.stdout == one.stdout, "\(format)")
            #expect(rendered.exitCode == one.exitCode)
        }
    }

    /// Hard links go to the share of their first path, so each share reports them as the whole run does.
    @Test func hardLinksStayWithTheirFirstPath() throws {
        let dir = try tree(
            "shard-links",
            [("app-runpath", "t/a/app"), ("lib/libgreet.so.1", "t/a/lib/libgreet.so.1"), ("hello-glibc", "t/b/hello")])
        defer { try? FileManager.default.removeItem(at: dir) }
        let first = dir.appendingPathComponent("t/a/app").path
        let link = dir.appendingPathComponent("t/z/app-link").path
        try FileManager.default.createDirectory(
            atPath: dir.appendingPathComponent("t/z").path, withIntermediateDirectories: true)
        try FileManager.default.linkItem(atPath: first, toPath: link)
        // A share count that puts the two paths' own hashes in different shares: the test means something.
        let n = try #require((2...64).first { Shard.hash(first) % UInt64($0) != Shard.hash(link) % UInt64($0) })
        let root = dir.appendingPathComponent("t").path
        let whole = muslcheck("check", "--format", "json", "--target", target, root)
        #expect(whole.stdout.contains("\"sameAs\": \"\(first)\""))
        var reports: [String] = []
        for i in 1...n {
            let file = dir.appendingPathComponent("share-\(i).json")
            try write(muslcheck("check", "--format", "json", "--target", target, "--shard", "\(i)/\(n)", root), file)
            reports.append(file.path)
        }
        #expect(muslcheck(["merge", "--format", "json"] + reports).stdout == whole.stdout)
    }

    @Test func reportsOfDifferentRunsAreRefused() throws {
        let dir = try scratch("merge-refused")
        defer { try? FileManager.default.removeItem(at: dir) }
        func save(_ name: String, _ args: String...) throws -> String {
            let url = dir.appendingPathComponent(name)
            try write(CLI.run(["check", "--format", "json"] + args), url)
            return url.path
        }
        _ = FileManager.default.changeCurrentDirectoryPath(Fixtures.root.path)
        let one = try save("1.json", "--target", target, "--shard", "1/2", "fixtures-bin/bin")
        let two = try save("2.json", "--target", target, "--shard", "2/2", "fixtures-bin/bin")
        let otherTarget = try save("2-old.json", "--target", "alpine:3.18", "--shard", "2/2", "fixtures-bin/bin")
        let otherInputs = try save("2-other.json", "--target", target, "--shard", "2/2", "fixtures-bin/bin/lib")
        let whole = try save("whole.json", "--target", target, "fixtures-bin/bin")
        #expect(muslcheck("merge", one, two).exitCode != 64)
        let cases: [([String], String)] = [
            ([one, otherTarget], "different targets"),
            ([one], "shares missing: 2/2"),
            ([one, two, two], "both share 2/2"),
            ([one, otherInputs], "not shares of one run"),
            ([one, whole], "not a shard report"),
        ]
        for (files, message) in cases {
            let out = muslcheck(["merge"] + files)
            #expect(out.exitCode == 64, "\(files)")
            #expect(out.stderr.contains(message), "\(out.stderr)")
        }
        // Another tool version, another knowledge base, and what is no report at all.
        let text = try String(contentsOfFile: two, encoding: .utf8)
        let newer = dir.appendingPathComponent("newer.json")
        try Data(text.replacingOccurrences(of: "\"version\": \"", with: "\"version\": \"9.").utf8).write(to: newer)
        let otherBase = dir.appendingPathComponent("kb.json")
        try Data(text.replacingOccurrences(of: "\"knowledgeBase\": \"", with: "\"knowledgeBase\": \"x").utf8).write(
            to: otherBase)
        let broken = dir.appendingPathComponent("broken.json")
        try Data(text.prefix(text.count / 2).utf8).write(to: broken)
        #expect(muslcheck("merge", one, newer.path).stderr.contains("different tool versions"))
        #expect(muslcheck("merge", one, otherBase.path).stderr.contains("different knowledge bases"))
        #expect(muslcheck("merge", newer.path).stderr.contains("merge it with the muslcheck that wrote it"))
        let out = muslcheck("merge", broken.path)
        #expect(out.exitCode == 64 && out.stderr.contains("is not a muslcheck check report"))
        #expect(muslcheck("merge", dir.appendingPathComponent("absent.json").path).stderr.contains("cannot read"))
    }
}

func muslcheck(_ args: [String]) -> CommandOutput {
    _ = FileManager.default.changeCurrentDirectoryPath(Fixtures.root.path)
    return CLI.run(args)
}

@Suite(.serialized) struct Caching {
    /// Files made by a test are seconds old at most; the cache is told to trust them after this long.
    static let settle = 0.2

    static func run(_ paths: [String], cache: ResultCache?) throws -> (json: String, outcome: CheckOutcome) {
        let kb = try KnowledgeBase.shared.get()
        let release = try #require(kb.release(named: target))
        var request = CheckRequest(paths: paths, release: release, jobs: 2)
        request.cache = cache
        let outcome = CheckEngine.run(request, kb: kb)
        let fragments = try outcome.results.map { try JSON.fragment($0, indent: 2) }
        let json = try CheckReport.json(
            tool: .init(version: "test"), target: .init(release), results: fragments, summary: outcome.summary,
            gate: .init(failOn: "needs-libc6-compat", failed: outcome.gateFailed))
        return (json, outcome)
    }

    static func cache(_ dir: URL, version: String = "test") throws -> ResultCache {
        try ResultCache(
            directory: dir.appendingPathComponent("cache").path, toolVersion: version, settleSeconds: settle)
    }

    static func entries(_ dir: URL) -> [String] {
        let root = dir.appendingPathComponent("cache/v1")
        return ((try? FileManager.default.subpathsOfDirectory(atPath: root.path)) ?? []).filter {
            $0.contains("/") && !$0.contains(".tmp") && !$0.hasPrefix("plain")
        }
        .map { root.appendingPathComponent($0).path }
    }

    @Test func aRerunReusesResultsAndGivesTheSameReport() throws {
        let dir = try tree(
            "cache-reuse",
            [
                ("app-runpath", "t/app"), ("lib/libgreet.so.1", "t/lib/libgreet.so.1"), ("hello-glibc", "t/hello"),
                ("glibconly", "t/glibconly"),
            ])
        defer { try? FileManager.default.removeItem(at: dir) }
        Thread.sleep(forTimeInterval: Self.settle * 1.5)
        let paths = [dir.appendingPathComponent("t").path]
        let fresh = try Self.run(paths, cache: nil)
        let cold = try Self.run(paths, cache: try Self.cache(dir))
        #expect(cold.json == fresh.json)
        #expect(Self.entries(dir).count == 4)
        let cache = try Self.cache(dir)
        let warm = try Self.run(paths, cache: cache)
        #expect(warm.json == fresh.json)
        #expect(cache.hits.load(ordering: .relaxed) == 4)
        // Never trusted across tool versions.
        let other = try Self.cache(dir, version: "other")
        #expect(try Self.run(paths, cache: other).json == fresh.json)
        #expect(other.hits.load(ordering: .relaxed) == 0)
    }

    /// A library the file loads changes (the file does not): its verdict is never served from before.
    @Test func aChangedLibraryIsNeverServedStale() throws {
        let dir = try tree("cache-library", [("app-runpath", "t/app"), ("lib/libgreet.so.1", "t/lib/libgreet.so.1")])
        defer { try? FileManager.default.removeItem(at: dir) }
        Thread.sleep(forTimeInterval: Self.settle * 1.5)
        let app = dir.appendingPathComponent("t/app").path
        // The whole tree (the program alone searches nothing beside it).
        for paths in [[dir.appendingPathComponent("t").path]] {
            try? FileManager.default.removeItem(at: dir.appendingPathComponent("cache"))
            try FileManager.default.removeItem(at: dir.appendingPathComponent("t/lib/libgreet.so.1"))
            try FileManager.default.copyItem(
                atPath: Fixtures.path("lib/libgreet.so.1"),
                toPath: dir.appendingPathComponent("t/lib/libgreet.so.1").path)
            Thread.sleep(forTimeInterval: Self.settle * 1.5)
            let before = try Self.run(paths, cache: try Self.cache(dir))
            let warm = try Self.cache(dir)
            #expect(try Self.run(paths, cache: warm).json == before.json)
            #expect(warm.hits.load(ordering: .relaxed) > 0)
            // The program's entry names the library it loads, with the stamp it had (the fixtures' libraries
            // export no libc name, so only this shows that a library's change reaches the program's own result).
            let stored = try Self.entries(dir).compactMap {
                CacheEntry.decode(try Data(contentsOf: URL(fileURLWithPath: $0)))
            }
            let entry = try #require(stored.first { $0.path == app })
            let libraryPath = dir.appendingPathComponent("t/lib/libgreet.so.1").path
            #expect(entry.watched.contains { $0.path == libraryPath && $0.stamp == Stamp(libraryPath) })
            // Another library written over the same file (same inode, its directory untouched): it exports
            // nothing the program imports.
            let library = dir.appendingPathComponent("t/lib/libgreet.so.1")
            let inode = try FileManager.default.attributesOfItem(atPath: library.path)[.systemFileNumber] as? Int
            let handle = try FileHandle(forWritingTo: library)
            try handle.truncate(atOffset: 0)
            try handle.write(
                contentsOf: Data(contentsOf: URL(fileURLWithPath: Fixtures.path("bundle/lib/libbad.so.1"))))
            try handle.close()
            #expect(try FileManager.default.attributesOfItem(atPath: library.path)[.systemFileNumber] as? Int == inode)
            let after = try Self.run(paths, cache: try Self.cache(dir))
            let uncached = try Self.run(paths, cache: nil)
            #expect(after.json == uncached.json, "\(paths)")
            #expect(after.json != before.json, "the change must show: \(paths)")
        }
    }

    /// A library that was missing appears where the program's RUNPATH ($ORIGIN/lib) points: the directories
    /// searched are watched.
    @Test func aLibraryThatAppearsIsSeen() throws {
        let dir = try tree("cache-appears", [("app-runpath", "t/app")])
        defer { try? FileManager.default.removeItem(at: dir) }
        Thread.sleep(forTimeInterval: Self.settle * 1.5)
        let paths = [dir.appendingPathComponent("t").path]
        let missing = try Self.run(paths, cache: try Self.cache(dir))
        #expect(Self.entries(dir).count == 1)
        try FileManager.default.createDirectory(
            at: dir.appendingPathComponent("t/lib"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(
            atPath: Fixtures.path("lib/libgreet.so.1"), toPath: dir.appendingPathComponent("t/lib/libgreet.so.1").path)
        let after = try Self.run(paths, cache: try Self.cache(dir))
        #expect(after.json == (try Self.run(paths, cache: nil)).json)
        #expect(after.json != missing.json)
    }

    /// Damaged entries are ignored (and written again), never believed.
    @Test func aCorruptedEntryIsIgnored() throws {
        let dir = try tree("cache-corrupt", [("hello-glibc", "t/hello"), ("glibconly", "t/glibconly")])
        defer { try? FileManager.default.removeItem(at: dir) }
        Thread.sleep(forTimeInterval: Self.settle * 1.5)
        let paths = [dir.appendingPathComponent("t").path]
        let fresh = try Self.run(paths, cache: try Self.cache(dir))
        let files = Self.entries(dir)
        #expect(files.count == 2)
        // Every cut of an entry is refused, none is trusted or crashes the reader.
        let cut = try Data(contentsOf: URL(fileURLWithPath: files[0]))
        #expect(CacheEntry.decode(cut) != nil)
        #expect((0..<cut.count).allSatisfy { CacheEntry.decode(cut.prefix($0)) == nil })
        var flipped = cut
        flipped[flipped.count / 2] ^= 0xFF
        _ = CacheEntry.decode(flipped)
        // One cut short, one of another shape.
        try cut.prefix(cut.count / 2).write(to: URL(fileURLWithPath: files[0]))
        try Data("{\"garbage\": true}".utf8).write(to: URL(fileURLWithPath: files[1]))
        let cache = try Self.cache(dir)
        #expect(try Self.run(paths, cache: cache).json == fresh.json)
        #expect(cache.hits.load(ordering: .relaxed) == 0)
        let again = try Self.cache(dir)
        #expect(try Self.run(paths, cache: again).json == fresh.json)
        #expect(again.hits.load(ordering: .relaxed) == 2)
    }

    /// Files with nothing of interest go into one list, not an entry each; one that becomes a program is seen.
    @Test func plainFilesAreListedAndAChangeIsSeen() throws {
        let dir = try tree("cache-plain", [("hello-glibc", "t/hello")])
        defer { try? FileManager.default.removeItem(at: dir) }
        for i in 0..<5 { try Data("text \(i)\n".utf8).write(to: dir.appendingPathComponent("t/notes-\(i).txt")) }
        try zip(
            dir.appendingPathComponent("t/classes.jar"), [("a/A.class", Data([0xCA, 0xFE, 0xBA, 0xBE, 0, 0, 0, 52]))])
        Thread.sleep(forTimeInterval: Self.settle * 1.5)
        let paths = [dir.appendingPathComponent("t").path]
        let fresh = try Self.run(paths, cache: try Self.cache(dir))
        #expect(Self.entries(dir).count == 1)
        let list = try FileManager.default.contentsOfDirectory(
            atPath: dir.appendingPathComponent("cache/v1/plain").path)
        #expect(list.count == 1)
        let warm = try Self.cache(dir)
        #expect(try Self.run(paths, cache: warm).json == fresh.json)
        #expect(warm.hits.load(ordering: .relaxed) == 7)
        // A listed file becomes a program (written in place): it is read again.
        let notes = dir.appendingPathComponent("t/notes-3.txt")
        let handle = try FileHandle(forWritingTo: notes)
        try handle.write(contentsOf: try fixture("glibconly"))
        try handle.close()
        let after = try Self.run(paths, cache: try Self.cache(dir))
        #expect(after.json == (try Self.run(paths, cache: nil)).json)
        #expect(after.json.contains(notes.path))
        // A damaged list is ignored.
        let listFile = dir.appendingPathComponent("cache/v1/plain/" + list[0])
        try Data("muslcheck plain files 1\0/x\0not numbers\0".utf8).write(to: listFile)
        #expect(try Self.run(paths, cache: try Self.cache(dir)).json == after.json)
        #expect(UninterestingList(Data("muslcheck plain files 1\0/x\0".utf8)).count == 0)
        #expect(UninterestingList(Data("muslcheck plain files 1\0/x\0not numbers\0".utf8)).stamp(of: "/x") == nil)
        let one = UninterestingList.encode([
            (
                "/x",
                Stamp(
                    device: 1, inode: UInt64.max, size: 3, modified: 4, modifiedNanoseconds: 5, changed: 6,
                    changedNanoseconds: 7)
            )
        ])
        #expect(UninterestingList(one).stamp(of: "/x")?.inode == UInt64.max)
        #expect(UninterestingList(one).stamp(of: "/y") == nil)
    }

    /// Jobs sharing one cache directory at once: each gets the report of a run without cache, and every
    /// entry left behind is whole.
    @Test func concurrentRunsShareTheDirectory() throws {
        let dir = try tree(
            "cache-concurrent",
            [
                ("app-runpath", "t/app"), ("lib/libgreet.so.1", "t/lib/libgreet.so.1"), ("hello-glibc", "t/hello"),
                ("glibconly", "t/glibconly"), ("recent", "t/recent"), ("hello-cxx", "t/hello-cxx"),
            ])
        defer { try? FileManager.default.removeItem(at: dir) }
        for i in 0..<20 { try Data("text \(i)\n".utf8).write(to: dir.appendingPathComponent("t/notes-\(i).txt")) }
        Thread.sleep(forTimeInterval: Self.settle * 1.5)
        let paths = [dir.appendingPathComponent("t").path]
        let fresh = try Self.run(paths, cache: nil).json
        let outputs = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 6) { _ in
            let json = (try? Self.run(paths, cache: try Self.cache(dir)).json) ?? "failed"
            outputs.withLock { $0.append(json) }
        }
        #expect(outputs.withLock { $0 }.allSatisfy { $0 == fresh })
        let files = Self.entries(dir)
        #expect(files.count == 6)
        #expect(try files.allSatisfy { CacheEntry.decode(try Data(contentsOf: URL(fileURLWithPath: $0))) != nil })
        let leftovers = try FileManager.default.subpathsOfDirectory(atPath: dir.appendingPathComponent("cache").path)
            .filter { $0.contains(".tmp-") }
        #expect(leftovers.isEmpty)
        let warm = try Self.cache(dir)
        #expect(try Self.run(paths, cache: warm).json == fresh)
        #expect(warm.hits.load(ordering: .relaxed) == 26)
    }

    /// An image layout is known by its index.json, which names every manifest and layer by digest.
    @Test func imageLayoutsAreKnownByTheirIndex() throws {
        let dir = try scratch("cache-layout")
        defer { try? FileManager.default.removeItem(at: dir) }
        let fm = FileManager.default
        let layout = dir.appendingPathComponent("t/layout")
        try fm.createDirectory(at: layout.appendingPathComponent("blobs/sha256"), withIntermediateDirectories: true)
        // Well-formed digests (64 hex digits), one per blob: layers 1…, manifests a…/b….
        func digest(_ c: Character) -> String { String(repeating: c, count: 64) }
        for (layer, manifest, program) in [
            (digest("1"), digest("a"), "hello-glibc"), (digest("2"), digest("b"), "recent"),
        ] {
            try fm.createDirectory(
                at: dir.appendingPathComponent("\(layer)/usr/bin"), withIntermediateDirectories: true)
            try fixture(program).write(to: dir.appendingPathComponent("\(layer)/usr/bin/app"))
            try CLITests.run("/usr/bin/tar", ["-czf", "t/layout/blobs/sha256/\(layer)", "-C", layer, "."], in: dir)
            try Data(#"{"schemaVersion":2,"layers":[{"digest":"sha256:\#(layer)"}]}"#.utf8).write(
                to: layout.appendingPathComponent("blobs/sha256/\(manifest)"))
        }
        func point(at manifest: String) throws {
            try Data(#"{"schemaVersion":2,"manifests":[{"digest":"sha256:\#(manifest)"}]}"#.utf8).write(
                to: layout.appendingPathComponent("index.json"))
        }
        try point(at: digest("a"))
        try Data(#"{"imageLayoutVersion":"1.0.0"}"#.utf8).write(to: layout.appendingPathComponent("oci-layout"))
        Thread.sleep(forTimeInterval: Self.settle * 1.5)
        let paths = [dir.appendingPathComponent("t").path]
        let first = try Self.run(paths, cache: try Self.cache(dir))
        #expect(first.json.contains("\"needs-gcompat\""))
        let warm = try Self.cache(dir)
        #expect(try Self.run(paths, cache: warm).json == first.json)
        #expect(warm.hits.load(ordering: .relaxed) > 0)
        // The image now names the other manifest: read again, never the old answer.
        try point(at: digest("b"))
        let after = try Self.run(paths, cache: try Self.cache(dir))
        #expect(after.json == (try Self.run(paths, cache: nil)).json)
        #expect(after.json != first.json)
    }

    /// A file changed just before or during a run is not written: its contents may not be what the entry says.
    @Test func unsettledFilesAreNotCached() throws {
        let dir = try tree("cache-unsettled", [("hello-glibc", "t/hello")])
        defer { try? FileManager.default.removeItem(at: dir) }
        _ = try Self.run([dir.appendingPathComponent("t").path], cache: try Self.cache(dir))
        #expect(Self.entries(dir).isEmpty)
    }

    @Test func theOldestEntriesGoBeyondTheLimit() throws {
        let dir = try scratch("cache-evict")
        defer { try? FileManager.default.removeItem(at: dir) }
        let sub = dir.appendingPathComponent("v1/ab")
        try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
        for i in 0..<10 {
            let url = sub.appendingPathComponent("entry\(i)")
            try Data(repeating: 0x20, count: 1000).write(to: url)
            try FileManager.default.setAttributes(
                [.modificationDate: Date(timeIntervalSince1970: 1_000_000 + Double(i))], ofItemAtPath: url.path)
        }
        ResultCache.evict(dir.appendingPathComponent("v1").path, maxBytes: 5000)
        let left = try FileManager.default.contentsOfDirectory(atPath: sub.path).sorted()
        #expect(left == ["entry6", "entry7", "entry8", "entry9"])  // down to 90% of the limit, newest kept
    }

    @Test func checkTakesTheCacheOption() throws {
        let dir = try tree("cache-cli", [("hello-glibc", "t/hello")])
        defer { try? FileManager.default.removeItem(at: dir) }
        let plain = muslcheck("check", "--format", "json", "--target", target, dir.appendingPathComponent("t").path)
        let cached = muslcheck(
            "check", "--format", "json", "--target", target, "--cache", dir.appendingPathComponent("cache").path,
            dir.appendingPathComponent("t").path)
        #expect(cached.stdout == plain.stdout)
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("cache/v1").path))
        let file = dir.appendingPathComponent("not-a-dir")
        try Data().write(to: file)
        let refused = muslcheck("check", "--cache", file.path, dir.appendingPathComponent("t").path)
        #expect(refused.exitCode == 64 && refused.stderr.contains("cannot use the cache directory"))
    }
}
