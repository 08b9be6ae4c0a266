// The gate: how strict it is (--fail-on), the policy file (--config, or .muslcheck.yml in the current
// directory: target, gate level, paths and rules to ignore with a reason, packages the image already
// installs) and a baseline of known problems, applied to each assessment as one decision.
import Assessment
import Foundation
import Yams

/// A policy file or baseline that cannot be used: a usage problem, reported before anything is read.
public struct PolicyError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// How strict the gate is: the lowest verdict (or finding severity) that fails it.
public enum FailOn: String, Sendable, CaseIterable {
    case needsLibc6Compat = "needs-libc6-compat", needsGcompat = "needs-gcompat", needsRebuild = "needs-rebuild"
    case warning, never

    public func fails(_ a: Assessment) -> Bool {
        switch self {
        case .never: return false
        case .needsLibc6Compat: return a.verdict >= .needsLibc6Compat
        case .needsGcompat: return a.verdict >= .needsGcompat
        case .needsRebuild: return a.verdict >= .needsRebuild
        case .warning: return a.verdict > .runs || a.findings.contains { $0.severity >= .warning }
        }
    }
}

/// One decision per file: policy ignores, installed packages, the baseline, then the fail-on level.
public struct Gate: Sendable {
    public var failOn: FailOn
    public var policy: Policy
    public var baseline: Baseline?
    public init(failOn: FailOn = .needsLibc6Compat, policy: Policy = Policy(), baseline: Baseline? = nil) {
        self.failOn = failOn; self.policy = policy; self.baseline = baseline
    }

    /// Drops the findings of ignored rules from `a`.
    public func filter(_ a: inout Assessment) { a.findings.removeAll { policy.ignoredRule($0.rule) } }

    /// Whether the (filtered) assessment of `path` fails the gate.
    public func fails(path: String, _ a: Assessment) -> Bool {
        // Packages the image installs already: a remedy made only of them is no problem.
        let installed = Set(policy.installed)
        let satisfied = a.verdict < .needsRebuild && Set(a.packages).isSubset(of: installed) && !a.packages.isEmpty
        return failOn.fails(a) && !satisfied && policy.ignoredPath(path) == nil && !(baseline?.covers(path: path, a) ?? false)
    }
}

public struct Policy: Decodable, Sendable {
    public var target: String?
    public var failOn: String?
    /// Packages the image installs: a file whose remedy needs only these passes the gate.
    public var installed: [String] = []
    public var ignore: Ignore = Ignore()
    /// A baseline written by --write-baseline: only problems not in it fail the gate.
    public var baseline: String?

    public struct Ignore: Decodable, Sendable {
        public var paths: [Entry] = []
        public var rules: [Entry] = []
        enum CodingKeys: String, CodingKey { case paths, rules }
        public init() {}
        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            paths = try c.decodeIfPresent([Entry].self, forKey: .paths) ?? []
            rules = try c.decodeIfPresent([Entry].self, forKey: .rules) ?? []
        }
    }
    public struct Entry: Decodable, Sendable {
        public var path: String?
        public var rule: String?
        public var reason: String
    }

    enum CodingKeys: String, CodingKey { case target, failOn = "fail-on", installed, ignore, baseline }

    public init() {}
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        target = try c.decodeIfPresent(String.self, forKey: .target)
        failOn = try c.decodeIfPresent(String.self, forKey: .failOn)
        installed = try c.decodeIfPresent([String].self, forKey: .installed) ?? []
        ignore = try c.decodeIfPresent(Ignore.self, forKey: .ignore) ?? Ignore()
        baseline = try c.decodeIfPresent(String.self, forKey: .baseline)
        for e in ignore.paths where e.path == nil { throw PolicyError("policy: every ignore.paths entry needs a path") }
        for e in ignore.rules where e.rule == nil { throw PolicyError("policy: every ignore.rules entry needs a rule") }
    }

    /// Loads `path`, or .muslcheck.yml when it exists and no path is given.
    public static func load(_ path: String?) throws -> Policy {
        let file = path ?? (FileManager.default.fileExists(atPath: ".muslcheck.yml") ? ".muslcheck.yml" : nil)
        guard let file else { return Policy() }
        guard let bytes = try? LocalFile.read(file), let text = String(validating: bytes, as: UTF8.self) else {
            throw PolicyError("cannot read the policy file \(file)")
        }
        do { return try YAMLDecoder().decode(Policy.self, from: text) } catch let error as PolicyError { throw error } catch {
            throw PolicyError("policy file \(file): \(error)")
        }
    }

    public func ignoredPath(_ path: String) -> String? {
        ignore.paths.first { e in e.path.map { Glob.matches($0, path) } ?? false }?.reason
    }

    public func ignoredRule(_ rule: String) -> Bool { ignore.rules.contains { $0.rule == rule } }
}

public enum Glob {
    /// `*` matches within a path component, `**` across components, `?` one character.
    public static func matches(_ pattern: String, _ path: String) -> Bool {
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
public struct Baseline: Codable, Sendable {
    public var schemaVersion = 1
    public var target: String
    public var entries: [Entry]
    public struct Entry: Codable, Sendable {
        public var path: String; public var verdict: String; public var rules: [String]
        public init(path: String, verdict: String, rules: [String]) { self.path = path; self.verdict = verdict; self.rules = rules }
    }
    public init(target: String, entries: [Entry]) { self.target = target; self.entries = entries }

    public static func load(_ path: String) throws -> Baseline {
        do { return try JSONDecoder().decode(Baseline.self, from: Data(LocalFile.read(path))) } catch {
            throw PolicyError("cannot read the baseline \(path): \(error)")
        }
    }

    /// Whether `a` at `path` is already known: same or better verdict, and no rule the baseline lacks.
    public func covers(path: String, _ a: Assessment) -> Bool {
        guard let e = entries.first(where: { $0.path == path }), let known = Verdict(rawValue: e.verdict) else { return false }
        return a.verdict <= known && Set(a.findings.map(\.rule)).isSubset(of: Set(e.rules))
    }
}
