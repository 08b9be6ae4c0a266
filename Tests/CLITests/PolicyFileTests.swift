// A strict, friendly policy file: unknown keys and rules are errors that say where and what was meant,
// YAML errors fit on one line, the file is found up to the repository root, the baseline is keyed by
// paths relative to the scan root, and what the policy sets aside is listed by every report.
import Foundation
import MuslcheckCLI
import TestSupport
import Testing

@testable import Engine

@Suite(.serialized) struct PolicyFiles {
    let rules: Set<String> = ["tzdata", "static-glibc", "symbol-missing"]

    func problem(_ yaml: String) -> String? {
        do {
            _ = try Policy.parse(yaml, file: "p.yml", ruleIDs: rules)
            return nil
        } catch { return "\(error)" }
    }

    @Test func unknownKeysAreErrorsWithLineAndSuggestion() {
        #expect(
            problem("target: alpine:3.20\nfailon: needs-gcompat\n")
                == "p.yml:2:1: unknown key 'failon'; did you mean 'fail-on'?")
        #expect(
            problem("ignore:\n  path:\n    - path: x\n      reason: y\n")
                == "p.yml:2:3: unknown key 'path' in ignore; did you mean 'paths'?")
        #expect(
            problem("ignore:\n  paths:\n    - path: x\n      reasn: y\n")?.hasPrefix("p.yml:4:7: unknown key 'reasn'")
                == true)
        #expect(
            problem("colour: red\n")
                == "p.yml:1:1: unknown key 'colour'; known: target, fail-on, installed, ignore, baseline")
    }

    @Test func unknownRulesAndLevelsAreErrors() {
        #expect(
            problem("ignore:\n  rules:\n    - rule: tzdat\n      reason: UTC\n")
                == "p.yml:3:13: unknown rule 'tzdat'; did you mean 'tzdata'?")
        #expect(
            problem("fail-on: needs-gcompt\n")
                == "p.yml:1:10: unknown fail-on 'needs-gcompt'; did you mean 'needs-gcompat'?")
        #expect(problem("ignore:\n  rules:\n    - rule: tzdata\n")?.contains("needs a reason") == true)
    }

    @Test func yamlErrorsFitOnOneLine() throws {
        let message = try #require(problem("target: [alpine:3.20\nfail-on: x\n"))
        #expect(!message.contains("\n"))
        #expect(message.hasPrefix("p.yml:"))
        let tab = try #require(problem("ignore:\n\t- x\n"))
        #expect(!tab.contains("\n") && tab.hasPrefix("p.yml:2:"))
    }

    @Test func theCommandLineSaysWhereABadTargetCameFrom() throws {
        let dir = try scratch("bad-target")
        defer { try? FileManager.default.removeItem(at: dir) }
        let policy = dir.appendingPathComponent("policy.yml")
        try Data("# settings\ntarget: alpine:2.0\n".utf8).write(to: policy)
        let out = muslcheck("check", "--config", policy.path, "fixtures-bin/bin/hello-musl")
        #expect(out.exitCode == 64)
        #expect(out.stderr.contains("\(policy.path):2: target: unknown target 'alpine:2.0'"))
        try Data("failon: never\n".utf8).write(to: policy)
        let typo = muslcheck("check", "--config", policy.path, "fixtures-bin/bin/hello-musl")
        #expect(
            typo.exitCode == 64
                && typo.stderr == "error: \(policy.path):1:1: unknown key 'failon'; did you mean 'fail-on'?\n")
    }

    @Test func theFileIsFoundUpToTheRepositoryRoot() throws {
        let repo = try scratch("repo")
        defer { try? FileManager.default.removeItem(at: repo) }
        let deep = repo.appendingPathComponent("a/b/c")
        try FileManager.default.createDirectory(at: deep, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(
            at: repo.appendingPathComponent(".git"), withIntermediateDirectories: true)
        #expect(Policy.find(from: deep.path) == nil)
        try Data("fail-on: never\n".utf8).write(to: repo.appendingPathComponent(".muslcheck.yml"))
        #expect(Policy.find(from: deep.path) == repo.appendingPathComponent(".muslcheck.yml").path)
        // Nearer wins; nothing above the repository root is looked at.
        try Data("fail-on: warning\n".utf8).write(to: repo.appendingPathComponent("a/.muslcheck.yml"))
        #expect(Policy.find(from: deep.path) == repo.appendingPathComponent("a/.muslcheck.yml").path)
        let inner = repo.appendingPathComponent("a/b/sub")
        try FileManager.default.createDirectory(
            at: inner.appendingPathComponent(".git"), withIntermediateDirectories: true)
        #expect(Policy.find(from: inner.path) == nil)
    }

    @Test func theBaselineIsRelativeToTheConfigFileAndKeyedByTheScanRoot() throws {
        let dir = try scratch("baseline-root")
        defer { try? FileManager.default.removeItem(at: dir) }
        let dist = dir.appendingPathComponent("dist")
        try FileManager.default.createDirectory(at: dist, withIntermediateDirectories: true)
        try fixture("recent").write(to: dist.appendingPathComponent("recent"))
        // Written with the tree named one way...
        #expect(
            muslcheck("check", "--write-baseline", dir.appendingPathComponent("known.json").path, dist.path + "/")
                .exitCode == 0)
        let written = try String(contentsOf: dir.appendingPathComponent("known.json"), encoding: .utf8)
        #expect(written.contains("\"path\" : \"recent\"") && written.contains("\"schemaVersion\" : 2"))
        // ...and read through a policy file beside it, with the tree named another way.
        try Data("baseline: known.json\n".utf8).write(to: dir.appendingPathComponent("policy.yml"))
        let other = dir.path + "/./dist"
        #expect(muslcheck("check", "--config", dir.appendingPathComponent("policy.yml").path, other).exitCode == 0)
    }

    @Test func keysAreRelativeToTheNearestGivenDirectory() {
        let bin = Fixtures.bin.path  // a directory
        #expect(Gate(roots: [bin + "/"]).key(bin + "/x.whl!/a.so") == "x.whl!/a.so")
        #expect(Gate(roots: [bin]).key(bin + "/bundle/lib/libbad.so.1") == "bundle/lib/libbad.so.1")
        #expect(Gate(roots: [bin, bin + "/bundle"]).key(bin + "/bundle/lib/libbad.so.1") == "lib/libbad.so.1")
        #expect(Gate(roots: [Fixtures.dir.path + "/./bin"]).key(Fixtures.dir.path + "/./bin/ctor") == "ctor")
        #expect(Gate(roots: ["/"]).key("/usr/bin/x") == "usr/bin/x")
        // A file or archive given by itself is keyed as typed: its name alone could be another file's.
        #expect(Gate(roots: ["dist/app"]).key("dist/app") == "dist/app")
        #expect(Gate(roots: ["./dist/app.whl"]).key("./dist/app.whl!/lib/a.so") == "dist/app.whl!/lib/a.so")
        // Many roots (--files-from) cost nothing per path.
        let many = Gate(roots: (0..<20_000).map { "\(bin)/no-such-\($0)" } + [bin])
        #expect(many.key(bin + "/recent") == "recent")
    }

    @Test func suppressionsAreListedInEveryReport() throws {
        let dir = try scratch("suppressed")
        defer { try? FileManager.default.removeItem(at: dir) }
        try fixture("recent").write(to: dir.appendingPathComponent("legacy"))
        try fixture("resinit").write(to: dir.appendingPathComponent("resinit"))
        let policy = dir.appendingPathComponent("p.yml")
        try Data(
            "ignore:\n  paths:\n    - path: legacy\n      reason: replaced in 2.0\n  rules:\n    - rule: dns-resolver\n      reason: no DNS in this service\n"
                .utf8
        ).write(to: policy)
        let base = [
            "check", "--config", policy.path, "--target", "alpine:3.20", "--fail-on", "needs-rebuild", dir.path,
        ]
        let root = try json(muslcheck(base + ["-f", "json"]).stdout)
        let results = try #require(root["results"] as? [[String: Any]])
        let legacy = try #require(results.first { ($0["path"] as? String)?.hasSuffix("legacy") == true })
        let sup = try #require((legacy["suppressions"] as? [[String: Any]])?.first)
        #expect(
            sup["kind"] as? String == "policy-path" && sup["reason"] as? String == "replaced in 2.0"
                && sup["waivesGate"] as? Bool == true)
        let resinit = try #require(results.first { ($0["path"] as? String)?.hasSuffix("resinit") == true })
        #expect(
            (resinit["suppressions"] as? [[String: Any]])?.contains { $0["match"] as? String == "dns-resolver" } == true
        )
        #expect((root["gate"] as? [String: Any])?["ignoredByPolicy"] as? Int == 1)
        let sarif = muslcheck(base + ["-f", "sarif"]).stdout
        #expect(
            sarif.contains("\"justification\": \"policy-path legacy: replaced in 2.0\"")
                && sarif.contains("\"justification\": \"no DNS in this service\""))
        let md = muslcheck(base + ["-f", "markdown"]).stdout
        #expect(md.contains("### Set aside by the policy or baseline") && md.contains("replaced in 2.0"))
        let html = muslcheck(base + ["-f", "html"]).stdout
        #expect(html.contains("(passed: policy-path — replaced in 2.0)"))
        let text = muslcheck(base).stdout
        #expect(text.contains("suppressed [policy-path: legacy] replaced in 2.0"))
    }

    @Test func globsStayLinearOnLongPaths() {
        let path = String(repeating: "a/", count: 4_000) + "b"
        let start = Date()
        #expect(!Glob.matches("**/a/**/a/**/a/**/a/**/c", path))
        #expect(Glob.matches("**/a/**/a/**/b", path))
        #expect(Date().timeIntervalSince(start) < 2)
        #expect(Glob.matches("vendor/**/legacy-*.so", "vendor/x/y/legacy-1.so"))
        #expect(!Glob.matches("vendor/*/legacy-*.so", "vendor/x/y/legacy-1.so"))
        #expect(Glob.matches("**/recent", "/tmp/x/recent") && Glob.matches("a?c", "abc") && !Glob.matches("a?c", "a/c"))
    }
}
