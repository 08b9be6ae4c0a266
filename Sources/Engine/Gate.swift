import Assessment
import Knowledge
import Reporting
// The gate: how strict it is (--fail-on), the policy file (--config, or .muslcheck.yml found from the
// current directory up to the repository root: target, gate level, paths and rules to ignore with a
// reason, packages the image already installs) and a baseline of known problems, applied to each
// assessment as one decision that records what it waived and why, so that every report can list it.
import TextSupport

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
#if canImport(Glibc)
    import Glibc
#endif

/// A policy file or baseline that cannot be used: a usage problem, reported before anything is read.
public struct PolicyError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// How strict the gate is: the lowest verdict (or finding severity) that fails it.
public enum FailOn: String, Sendable, CaseIterable {
    case needsLibc6Compat = "needs-libc6-compat"
    case needsGcompat = "needs-gcompat"
    case needsRebuild = "needs-rebuild"
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
    /// The paths the run was given: baseline entries and policy globs are matched against a file's path
    /// relative to the directory it was found under, so that the same tree gives the same keys from anywhere.
    public let roots: [String]
    /// Each given directory, without a trailing slash (the files and archives given are keyed as typed).
    private let directories: Set<String>

    public init(
        failOn: FailOn = .needsLibc6Compat, policy: Policy = Policy(), baseline: Baseline? = nil, roots: [String] = []
    ) {
        self.failOn = failOn
        self.policy = policy
        self.baseline = baseline
        self.roots = roots
        var directories = Set<String>()
        for root in roots {
            var st = stat()
            guard stat(root, &st) == 0, st.st_mode & S_IFMT == S_IFDIR else { continue }
            directories.insert(Self.trimmed(root))
        }
        self.directories = directories
    }

    static func trimmed(_ path: String) -> String {
        var p = Substring(path)
        while p.count > 1 && p.hasSuffix("/") { p = p.dropLast() }
        return String(p)
    }

    /// What the gate decided for one file and what it set aside on the way.
    public struct Decision: Sendable {
        public var fails: Bool
        public var suppressions: [Suppression]
    }

    /// Drops the findings of ignored rules from `a` and decides whether `path` fails the gate.
    public func decide(path: String, _ a: inout Assessment) -> Decision {
        let failedBefore = failOn.fails(a)
        var suppressions: [Suppression] = []
        var seen = Set<RuleID>()
        for f in a.findings {
            guard let entry = policy.ignoredRule(f.rule), seen.insert(f.rule).inserted else { continue }
            suppressions.append(
                Suppression(kind: .rule, match: f.rule.rawValue, reason: entry.reason, waivesGate: false))
        }
        a.findings.removeAll { policy.ignoredRule($0.rule) != nil }
        guard failOn.fails(a) else {
            // Only the ignored rules kept it from failing (--fail-on warning).
            if failedBefore { for i in suppressions.indices { suppressions[i].waivesGate = true } }
            return Decision(fails: false, suppressions: suppressions)
        }
        let key = self.key(path)
        if let entry = policy.ignoredPath(key) ?? policy.ignoredPath(path) {
            suppressions.append(
                Suppression(kind: .path, match: entry.path ?? "", reason: entry.reason, waivesGate: true))
            return Decision(fails: false, suppressions: suppressions)
        }
        // Packages the image installs already: a remedy made only of them is no problem.
        let installed = Set(policy.installed)
        if a.verdict < .needsRebuild && !a.packages.isEmpty && Set(a.packages).isSubset(of: installed) {
            suppressions.append(
                Suppression(
                    kind: .installed, match: a.packages.joined(separator: " "),
                    reason: "the image installs \(a.packages.joined(separator: ", "))", waivesGate: true))
            return Decision(fails: false, suppressions: suppressions)
        }
        if let baseline, baseline.covers(key: key, path: path, a) {
            suppressions.append(
                Suppression(
                    kind: .baseline, match: key, reason: "known problem recorded in the baseline", waivesGate: true))
            return Decision(fails: false, suppressions: suppressions)
        }
        return Decision(fails: true, suppressions: suppressions)
    }

    /// Drops the findings of ignored rules from `a` (for a caller that wants only the filtered assessment).
    public func filter(_ a: inout Assessment) { a.findings.removeAll { policy.ignoredRule($0.rule) != nil } }

    /// Whether the (filtered) assessment of `path` fails the gate, without the record of what was waived.
    public func fails(path: String, _ a: Assessment) -> Bool {
        var copy = a
        return decide(path: path, &copy).fails
    }

    /// `path` relative to the given directory it was found under (the nearest): `dist/bin/x` under `dist/`
    /// is `bin/x`, a member keeps its `!/` chain. A file or archive given by itself is keyed as typed (less
    /// `./`): its name alone could stand for another file of the same name elsewhere, and a key that does
    /// not match only fails the gate, where one that matches the wrong file would pass it.
    /// Candidate roots are the path's own prefixes, so the cost is its length, not the number of roots.
    public func key(_ path: String) -> String {
        let bytes = Array(path.utf8)
        var cut = bytes.count
        while cut > 0 {
            // The prefix ending before a "/" (or at a member's "!/").
            cut -= 1
            guard bytes[cut] == UInt8(ascii: "/") else { continue }
            let end = cut > 0 && bytes[cut - 1] == UInt8(ascii: "!") ? cut - 1 : cut
            let prefix = end == 0 ? "/" : String(decoding: bytes[..<end], as: UTF8.self)
            guard directories.contains(prefix) else { continue }
            let rest = String(decoding: bytes[(end == 0 ? 1 : end + 1)...], as: UTF8.self)
            return end < cut ? String(prefix.split(separator: "/").last ?? Substring(prefix)) + "!" + rest : rest
        }
        return path.hasPrefix("./") ? String(path.dropFirst(2)) : path
    }
}

// MARK: - Policy file

public struct Policy: Sendable {
    public var target: String?
    public var failOn: String?
    /// Packages the image installs: a file whose remedy needs only these passes the gate.
    public var installed: [String] = []
    public var ignore: Ignore = Ignore()
    /// A baseline written by --write-baseline: only problems not in it fail the gate. Relative to the policy file.
    public var baseline: String?
    /// The file it came from (for messages), and where in it `target` and `fail-on` were given.
    public var file: String?
    public var targetLine: Int?
    public var failOnLine: Int?

    public struct Ignore: Sendable {
        public var paths: [Entry] = []
        public var rules: [Entry] = []
        public init() {}
    }
    public struct Entry: Sendable {
        public var path: String?
        public var rule: String?
        public var reason: String
        public init(path: String? = nil, rule: String? = nil, reason: String) {
            self.path = path
            self.rule = rule
            self.reason = reason
        }
    }

    public init() {}

    public static let fileName = ".muslcheck.yml"
    static let topKeys = ["target", "fail-on", "installed", "ignore", "baseline"]
    static let ignoreKeys = ["paths", "rules"]

    /// `.muslcheck.yml` in `directory` or the nearest directory above it, stopping at the repository root
    /// (the first directory holding `.git`); outside a repository only `directory` itself is looked at.
    public static func find(from directory: String) -> String? {
        let fm = FileManager.default
        var dir = URL(fileURLWithPath: directory).standardizedFileURL
        let start = dir
        var inRepository = false
        var probe = start
        for _ in 0..<256 {  // a path has far fewer components; the cap only bounds the loop
            if fm.fileExists(atPath: probe.appendingPathComponent(".git").path) {
                inRepository = true
                break
            }
            let up = probe.deletingLastPathComponent()
            if up.path == probe.path { break }
            probe = up
        }
        for _ in 0..<256 {
            let candidate = dir.appendingPathComponent(fileName)
            if fm.fileExists(atPath: candidate.path) {
                return dir.path == fm.currentDirectoryPath ? fileName : candidate.path
            }
            if !inRepository || fm.fileExists(atPath: dir.appendingPathComponent(".git").path) { return nil }
            let up = dir.deletingLastPathComponent()
            if up.path == dir.path { return nil }
            dir = up
        }
        return nil
    }

    /// Loads `path` (or the `.muslcheck.yml` found) without checking rule ids against a knowledge base.
    public static func load(_ path: String?) throws -> Policy { try load(path, ruleIDs: []) }

    /// Loads `path`, or the `.muslcheck.yml` found from the current directory when no path is given.
    /// `ruleIDs`: the rules an `ignore.rules` entry may name.
    public static func load(_ path: String?, ruleIDs: Set<String>) throws -> Policy {
        guard let file = path ?? find(from: FileManager.default.currentDirectoryPath) else { return Policy() }
        guard let bytes = try? LocalFile.read(file), let text = String(validating: bytes, as: UTF8.self) else {
            throw PolicyError("cannot read the policy file \(file)")
        }
        var policy = try parse(text, file: file, ruleIDs: ruleIDs)
        if let b = policy.baseline, !b.hasPrefix("/") {
            let dir = PathText.deletingLastComponent(file)
            if !dir.isEmpty { policy.baseline = PathText.appending(dir, b) }
        }
        return policy
    }

    /// Strict: every key and rule id must be known; each problem names the file, line and column.
    public static func parse(_ text: String, file: String, ruleIDs: Set<String>) throws -> Policy {
        let root: YAMLNode?
        do { root = try PolicyYAML.parse(text) } catch { throw PolicyError("\(file):\(error)") }
        var policy = Policy()
        policy.file = file
        guard let root else { return policy }  // an empty file: no settings
        let nodes = PolicyNodes(file: file)
        for (key, keyNode, value) in try nodes.mapping(root, "the policy", keys: topKeys) {
            switch key {
            case "target":
                policy.target = try nodes.string(value, "target")
                policy.targetLine = keyNode.mark.line
            case "fail-on":
                let level = try nodes.string(value, "fail-on")
                guard FailOn(rawValue: level) != nil else {
                    let all = FailOn.allCases.map(\.rawValue)
                    throw nodes.fail(
                        value,
                        "unknown fail-on '\(level)'"
                            + (suggestion(level, among: all).map { "; did you mean '\($0)'?" }
                                ?? "; one of \(all.joined(separator: ", "))"))
                }
                policy.failOn = level
                policy.failOnLine = keyNode.mark.line
            case "installed": policy.installed = try nodes.strings(value, "installed")
            case "baseline": policy.baseline = try nodes.string(value, "baseline")
            default:  // ignore
                for (kind, _, list) in try nodes.mapping(value, "ignore", keys: ignoreKeys) {
                    guard let seq = list.sequence else { throw nodes.fail(list, "ignore.\(kind) must be a list") }
                    for item in seq {
                        let entry = try ignoreEntry(item, kind: kind, nodes: nodes, ruleIDs: ruleIDs)
                        if kind == "paths" {
                            policy.ignore.paths.append(entry)
                        } else {
                            policy.ignore.rules.append(entry)
                        }
                    }
                }
            }
        }
        return policy
    }

    /// One entry of ignore.paths or ignore.rules: its path or a known rule id, and its reason (both required).
    static func ignoreEntry(_ item: YAMLNode, kind: String, nodes: PolicyNodes, ruleIDs: Set<String>) throws -> Entry {
        let field = kind == "paths" ? "path" : "rule"
        var entry = Entry(reason: "")
        var hasReason = false
        for (k, _, v) in try nodes.mapping(item, "an ignore.\(kind) entry", keys: [field, "reason"]) {
            if k == "reason" {
                entry.reason = try nodes.string(v, "reason")
                hasReason = true
                continue
            }
            let s = try nodes.string(v, field)
            if kind == "rules" {
                guard ruleIDs.isEmpty || ruleIDs.contains(s) else {
                    throw nodes.fail(
                        v,
                        "unknown rule '\(s)'"
                            + (suggestion(s, among: ruleIDs.sorted()).map { "; did you mean '\($0)'?" }
                                ?? "; see muslcheck kb"))
                }
                entry.rule = s
            } else {
                entry.path = s
            }
        }
        guard (kind == "paths" ? entry.path : entry.rule) != nil else {
            throw nodes.fail(item, "every ignore.\(kind) entry needs a \(field)")
        }
        guard hasReason, !entry.reason.isEmpty else {
            throw nodes.fail(item, "every ignore.\(kind) entry needs a reason")
        }
        return entry
    }

    /// The known word closest to `word` (at most two edits, or a prefix), for "did you mean".
    public static func suggestion(_ word: String, among words: [String]) -> String? {
        let w = Array(word.lowercased())
        var best: (String, Int)?
        for candidate in words {
            let c = Array(candidate.lowercased())
            let d = distance(w, c)
            let stripped =
                candidate.replacingLiteral("-", with: "") == word.replacingLiteral("-", with: "").lowercased()
            let score = stripped ? 0 : d
            if score <= max(2, c.count / 4), best == nil || score < (best?.1 ?? .max) { best = (candidate, score) }
        }
        return best?.0
    }

    static func distance(_ a: [Character], _ b: [Character]) -> Int {
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + [Int](repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }

    public func ignoredPath(_ path: String) -> Entry? {
        ignore.paths.first { e in e.path.map { Glob.matches($0, path) } ?? false }
    }

    public func ignoredRule(_ rule: RuleID) -> Entry? { ignore.rules.first { $0.rule == rule.rawValue } }
}

public enum Glob {
    /// `*` matches within a path component, `**` across components, `?` one character (not `/`).
    /// Linear in the path for each pattern position (a set of pattern states advanced byte by byte), so
    /// that no pattern and path can make it backtrack: several `**` against a long path stay cheap.
    public static func matches(_ pattern: String, _ path: String) -> Bool {
        enum Token: Equatable {
            case byte(UInt8)
            case any, star, starStar
        }
        var tokens: [Token] = []
        let p = Array(pattern.utf8)
        var i = 0
        while i < p.count {
            if p[i] == UInt8(ascii: "*") {
                if i + 1 < p.count && p[i + 1] == UInt8(ascii: "*") {
                    if tokens.last != .starStar { tokens.append(.starStar) }
                    i += 2
                } else {
                    if tokens.last != .star && tokens.last != .starStar { tokens.append(.star) }
                    i += 1
                }
            } else {
                tokens.append(p[i] == UInt8(ascii: "?") ? .any : .byte(p[i]))
                i += 1
            }
        }
        // states[k]: the first k tokens match the path read so far; stars may match nothing.
        var states = [Bool](repeating: false, count: tokens.count + 1)
        func close(_ s: inout [Bool]) {
            for k in tokens.indices where s[k] && (tokens[k] == .star || tokens[k] == .starStar) { s[k + 1] = true }
        }
        states[0] = true
        close(&states)
        let slash = UInt8(ascii: "/")
        for c in path.utf8 {
            var next = [Bool](repeating: false, count: tokens.count + 1)
            var any = false
            for k in tokens.indices where states[k] {
                switch tokens[k] {
                case .byte(let b):
                    if b == c {
                        next[k + 1] = true
                        any = true
                    }
                case .any:
                    if c != slash {
                        next[k + 1] = true
                        any = true
                    }
                case .star:
                    if c != slash {
                        next[k] = true
                        any = true
                    }
                case .starStar:
                    next[k] = true
                    any = true
                }
            }
            guard any else { return false }
            close(&next)
            states = next
        }
        return states[tokens.count]
    }
}

// MARK: - Baseline

/// Known problems, so that a gate fails only on new ones. Entries are keyed by the path relative to the
/// path the run was given (schema 2); schema 1 baselines, keyed by the path as typed, are still read.
public struct Baseline: Codable, Sendable {
    public var schemaVersion = 2
    public var target: String
    public var entries: [Entry]
    public struct Entry: Codable, Sendable {
        public var path: String
        public var verdict: String
        public var rules: [String]
        public init(path: String, verdict: String, rules: [String]) {
            self.path = path
            self.verdict = verdict
            self.rules = rules
        }
    }
    public init(target: String, entries: [Entry]) {
        self.target = target
        self.entries = entries
    }

    public static func load(_ path: String) throws -> Baseline {
        let data: Data
        do { data = Data(try LocalFile.read(path)) } catch {
            let why = FileManager.default.fileExists(atPath: path) ? "unreadable" : "no such file"
            throw PolicyError("cannot read the baseline \(path): \(why)")
        }
        do { return try JSONDecoder().decode(Baseline.self, from: data) } catch {
            throw PolicyError("the baseline \(path) is not a baseline written by --write-baseline")
        }
    }

    /// Whether `a` is already known (by its key, or as typed for schema 1): same or better verdict, and no
    /// rule the baseline lacks.
    public func covers(key: String, path: String, _ a: Assessment) -> Bool {
        guard let e = entries.first(where: { $0.path == key }) ?? entries.first(where: { $0.path == path }),
            let known = Verdict(rawValue: e.verdict)
        else { return false }
        return a.verdict <= known && Set(a.findings.map(\.rule.rawValue)).isSubset(of: Set(e.rules))
    }
}

/// The policy file's YAML tree read as the values the policy holds; each problem names the file, line and
/// column.
struct PolicyNodes {
    let file: String

    func fail(_ node: YAMLNode, _ message: String) -> PolicyError { PolicyError("\(file):\(node.mark): \(message)") }

    func string(_ node: YAMLNode, _ what: String) throws -> String {
        guard let s = node.scalar else { throw fail(node, "\(what) must be a single value") }
        return s
    }

    func strings(_ node: YAMLNode, _ what: String) throws -> [String] {
        if let s = node.scalar { return s.isEmpty ? [] : [s] }
        guard let seq = node.sequence else { throw fail(node, "\(what) must be a list") }
        return try seq.map { try string($0, what + " entry") }
    }

    /// A mapping whose keys must be among `keys` (an unknown one is named, with the closest known key).
    func mapping(_ node: YAMLNode, _ what: String, keys: [String]) throws -> [(
        key: String, keyNode: YAMLNode, value: YAMLNode
    )] {
        guard let m = node.mapping else {
            throw fail(node, "\(what) must be a mapping of \(keys.joined(separator: ", "))")
        }
        return try m.map { pair in
            let key = try string(pair.key, "a key")
            guard keys.contains(key) else {
                let hint =
                    Policy.suggestion(key, among: keys).map { "; did you mean '\($0)'?" }
                    ?? "; known: \(keys.joined(separator: ", "))"
                throw fail(pair.key, "unknown key '\(key)'\(what == "the policy" ? "" : " in \(what)")\(hint)")
            }
            return (key, pair.key, pair.value)
        }
    }
}
