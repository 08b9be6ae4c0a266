// The policy file (--config, or .muslcheck.yml in the current directory): target, gate level, paths and
// rules to ignore with a reason, packages the image already installs, and a baseline of known problems.
import Assessment
import Foundation
import Reporting
import Yams

struct Policy: Decodable {
    var target: String?
    var failOn: String?
    /// Packages the image installs: a file whose remedy needs only these passes the gate.
    var installed: [String] = []
    var ignore: Ignore = Ignore()
    /// A baseline written by --write-baseline: only problems not in it fail the gate.
    var baseline: String?

    struct Ignore: Decodable {
        var paths: [Entry] = []
        var rules: [Entry] = []
        enum CodingKeys: String, CodingKey { case paths, rules }
        init() {}
        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            paths = try c.decodeIfPresent([Entry].self, forKey: .paths) ?? []
            rules = try c.decodeIfPresent([Entry].self, forKey: .rules) ?? []
        }
    }
    struct Entry: Decodable {
        var path: String?
        var rule: String?
        var reason: String
    }

    enum CodingKeys: String, CodingKey { case target, failOn = "fail-on", installed, ignore, baseline }

    init() {}
    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        target = try c.decodeIfPresent(String.self, forKey: .target)
        failOn = try c.decodeIfPresent(String.self, forKey: .failOn)
        installed = try c.decodeIfPresent([String].self, forKey: .installed) ?? []
        ignore = try c.decodeIfPresent(Ignore.self, forKey: .ignore) ?? Ignore()
        baseline = try c.decodeIfPresent(String.self, forKey: .baseline)
        for e in ignore.paths where e.path == nil { throw UsageError(description: "policy: every ignore.paths entry needs a path") }
        for e in ignore.rules where e.rule == nil { throw UsageError(description: "policy: every ignore.rules entry needs a rule") }
    }

    /// Loads `path`, or .muslcheck.yml when it exists and no path is given.
    static func load(_ path: String?) throws -> Policy {
        let file = path ?? (FileManager.default.fileExists(atPath: ".muslcheck.yml") ? ".muslcheck.yml" : nil)
        guard let file else { return Policy() }
        guard let bytes = try? LocalFile.read(file), let text = String(validating: bytes, as: UTF8.self) else {
            throw UsageError(description: "cannot read the policy file \(file)")
        }
        do { return try YAMLDecoder().decode(Policy.self, from: text) } catch let error as UsageError { throw error } catch {
            throw UsageError(description: "policy file \(file): \(error)")
        }
    }

    func ignoredPath(_ path: String) -> String? {
        ignore.paths.first { e in e.path.map { Glob.matches($0, path) } ?? false }?.reason
    }

    func ignoredRule(_ rule: String) -> Bool { ignore.rules.contains { $0.rule == rule } }
}

enum Glob {
    /// `*` matches within a path component, `**` across components, `?` one character.
    static func matches(_ pattern: String, _ path: String) -> Bool {
        let p = Array(pattern.utf8), s = Array(path.utf8)
        func match(_ i: Int, _ j: Int) -> Bool {
            if i == p.count { return j == s.count }
            if p[i] == UInt8(ascii: "*") {
                let across = i + 1 < p.count && p[i + 1] == UInt8(ascii: "*")
                let next = across ? i + 2 : i + 1
                var k = j
                while true {
                    if match(next, k) { return true }
                    guard k < s.count, across || s[k] != UInt8(ascii: "/") else { return false }
                    k += 1
                }
            }
            guard j < s.count, p[i] == UInt8(ascii: "?") ? s[j] != UInt8(ascii: "/") : p[i] == s[j] else { return false }
            return match(i + 1, j + 1)
        }
        return match(0, 0)
    }
}

/// Known problems, so that a gate fails only on new ones.
struct Baseline: Codable {
    var schemaVersion = 1
    var target: String
    var entries: [Entry]
    struct Entry: Codable { var path: String; var verdict: String; var rules: [String] }

    static func load(_ path: String) throws -> Baseline {
        do { return try JSONDecoder().decode(Baseline.self, from: Data(LocalFile.read(path))) } catch {
            throw UsageError(description: "cannot read the baseline \(path): \(error)")
        }
    }

    /// Whether `a` at `path` is already known: same or better verdict, and no rule the baseline lacks.
    func covers(path: String, _ a: Assessment) -> Bool {
        guard let e = entries.first(where: { $0.path == path }), let known = Verdict(rawValue: e.verdict) else { return false }
        return a.verdict <= known && Set(a.findings.map(\.rule)).isSubset(of: Set(e.rules))
    }
}
