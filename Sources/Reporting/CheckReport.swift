// `muslcheck check`: the verdict per file, as the JSON contract (ARCHITECTURE.md §4) and as text a person acts on.
import Assessment
import ELF
import Knowledge

public struct CheckResult: Encodable, Sendable {
    public enum Status: String, Encodable, Sendable { case assessed, skipped, error }
    public var path: String
    public var status: Status
    public var error: String?
    public var assessment: Assessment?
    /// Kept from the file's facts for the report (the facts themselves are let go once judged).
    public var interpreter: String?
    public var needed: [String] = []
    /// For a hard link: the path it shares its contents with (judged once, under that path).
    public var sameAs: String?

    public init(path: String, status: Status, error: String? = nil, assessment: Assessment? = nil, facts: BinaryFacts? = nil) {
        self.path = path; self.status = status; self.error = error; self.assessment = assessment
        interpreter = facts?.interpreter
        needed = facts?.needed ?? []
    }

    enum Key: String, CodingKey {
        case path, status, error, arch, libc, linkage, verdict, ownVerdict, missingSymbols, missingLibraries, packages, minimumGlibc, findings
        case language, fix, interpreter, needed, sameAs
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(path, forKey: .path)
        try c.encode(status.rawValue, forKey: .status)
        if let error { try c.encode(error, forKey: .error) }
        if let sameAs { try c.encode(sameAs, forKey: .sameAs) }
        guard let a = assessment else { return }
        try c.encode(a.arch, forKey: .arch)
        try c.encode(a.libc.rawValue, forKey: .libc)
        try c.encode(a.linkage.rawValue, forKey: .linkage)
        try c.encode(a.verdict.rawValue, forKey: .verdict)
        try c.encode((a.ownVerdict ?? a.verdict).rawValue, forKey: .ownVerdict)
        try c.encode(a.missingSymbols, forKey: .missingSymbols)
        try c.encode(a.missingLibraries, forKey: .missingLibraries)
        try c.encode(a.packages, forKey: .packages)
        try c.encode(a.minimumGlibc, forKey: .minimumGlibc)
        try c.encode(a.findings, forKey: .findings)
        try c.encode(a.language, forKey: .language)
        try c.encode(a.fix, forKey: .fix)
        try c.encode(interpreter, forKey: .interpreter)
        try c.encode(needed, forKey: .needed)
    }
}

public struct CheckSummary: Encodable, Sendable {
    public var files = 0
    public var assessed = 0
    public var skipped = 0
    public var errors = 0
    public var verdicts: Verdicts = Verdicts()
    /// The union of the packages of every file that can run: one apk add line for the whole set.
    public var packages: [String] = []
    /// The missing symbols and libraries that block the most files (ten of each, most first).
    public var topSymbols: [Count] = []
    public var topLibraries: [Count] = []
    private var symbolCounts: [String: Int] = [:]
    private var libraryCounts: [String: Int] = [:]

    public struct Count: Encodable, Sendable, Hashable { public var name: String; public var files: Int }
    enum CodingKeys: String, CodingKey { case files, assessed, skipped, errors, verdicts, packages, topSymbols, topLibraries }

    public struct Verdicts: Encodable, Sendable {
        public var runs = 0, needsLibc6Compat = 0, needsGcompat = 0, needsRebuild = 0
        enum CodingKeys: String, CodingKey {
            case runs, needsLibc6Compat = "needs-libc6-compat", needsGcompat = "needs-gcompat", needsRebuild = "needs-rebuild"
        }
        mutating func add(_ v: Verdict) {
            switch v {
            case .runs: runs += 1
            case .needsLibc6Compat: needsLibc6Compat += 1
            case .needsGcompat: needsGcompat += 1
            case .needsRebuild: needsRebuild += 1
            }
        }
    }

    public init() {}

    /// Counts one listed result.
    public mutating func add(status: CheckResult.Status, verdict: Verdict?, packages: [String], symbols: [String] = [], libraries: [String] = []) {
        for s in Set(symbols) { symbolCounts[s, default: 0] += 1 }
        for l in Set(libraries) { libraryCounts[l, default: 0] += 1 }
        files += 1
        switch status {
        case .assessed:
            assessed += 1
            if let verdict {
                verdicts.add(verdict)
                if verdict != .needsRebuild { for p in packages where !self.packages.contains(p) { self.packages.append(p) } }
            }
        case .skipped: skipped += 1
        case .error: errors += 1
        }
    }

    /// Counts a non-ELF file found while walking: counted, not listed.
    public mutating func addWalkedSkip() { files += 1; skipped += 1 }

    /// Fixes the top lists once every file is counted.
    public mutating func finish() {
        func top(_ counts: [String: Int]) -> [Count] {
            counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.prefix(10).map { Count(name: $0.key, files: $0.value) }
        }
        topSymbols = top(symbolCounts)
        topLibraries = top(libraryCounts)
    }
}

public struct CheckReport: Sendable {
    public struct Tool: Encodable, Sendable {
        public var name = "muslcheck"
        public var version: String
        public var knowledgeBase = KnowledgeBase.dataVersion
        public init(version: String) { self.version = version }
    }
    public struct Target: Encodable, Sendable {
        public var distribution = "alpine"
        public var release: String, musl: String, gcompat: String
        public init(_ r: AlpineRelease) { release = r.name; musl = r.musl; gcompat = r.gcompat }
    }
    public struct Gate: Encodable, Sendable {
        public var failOn: String
        public var failed: Bool
        public init(failOn: String, failed: Bool) { self.failOn = failOn; self.failed = failed }
    }

    /// The version-1 document from per-file fragments (`JSON.fragment(result, indent: 2)`), in order.
    public static func json(tool: Tool, target: Target, results: [String], summary: CheckSummary, gate: Gate) throws -> String {
        try jsonParts(tool: tool, target: target, results: results, summary: summary, gate: gate).joined()
    }

    /// `extra`: fields after the gate (a sharded run's placement, which `merge` reads and a whole run lacks).
    public static func jsonParts(tool: Tool, target: Target, results: [String], summary: CheckSummary, gate: Gate,
                                 extra: [(String, JSON.Field)] = []) throws -> [String] {
        JSON.documentParts([
            ("schemaVersion", .value("1")),
            ("tool", .value(try JSON.fragment(tool, indent: 1))),
            ("target", .value(try JSON.fragment(target, indent: 1))),
            ("results", .elements(results)),
            ("summary", .value(try JSON.fragment(summary, indent: 1))),
            ("gate", .value(try JSON.fragment(gate, indent: 1))),
        ] + extra)
    }
}

public enum CheckText {
    public static func header(_ t: CheckReport.Target) -> String {
        "Target: Alpine \(t.release) (musl \(t.musl), gcompat \(t.gcompat))\n\n"
    }

    /// One file: verdict first, then the symbols and libraries behind it, the minimum glibc, and the fix.
    public static func file(_ r: CheckResult) -> String {
        switch r.status {
        case .error: return "\(r.path): error: \(r.error ?? "")\n"
        case .skipped: return "\(r.path): skipped: \(r.error ?? "not an ELF file")\n"
        case .assessed: break
        }
        guard let a = r.assessment else { return "" }
        var out = "\(r.path): \(a.verdict.rawValue)" + (r.sameAs.map { " (hard link to \($0))" } ?? "") + "\n"
        var what = "  \(a.libc == .unknown ? "" : a.libc.rawValue + " ")\(a.arch) \(a.linkage.rawValue)" + (a.language.map { ", \($0)" } ?? "")
        if let g = a.minimumGlibc { what += ", needs glibc \(g) or newer" }
        out += what + "\n"
        for f in a.findings.sorted(by: { $0.severity > $1.severity }) {
            let mark = f.severity == .error ? "error" : f.severity == .warning ? "warning" : "note"
            out += "  \(mark) [\(f.rule)] \(f.message)\n"
            if f.rule == "symbol-missing" || f.rule == "symbol-gcompat" || f.rule == "musl-symbol-newer" {
                for s in a.missingSymbols where f.symbols.contains(s.name) {
                    var line = "      \(s.name)" + (s.version.map { "@" + $0 } ?? "")
                    if let note = s.note { line += "  — \(note)" }
                    out += line + "\n"
                }
            } else if !f.symbols.isEmpty {
                out += "      " + f.symbols.joined(separator: ", ") + "\n"
            }
        }
        out += "  fix: \(fix(a))\n"
        if a.verdict == .needsRebuild, let dockerfile = a.fix?.dockerfile {
            out += dockerfile.split(separator: "\n", omittingEmptySubsequences: false).map { "      " + $0 }.joined(separator: "\n") + "\n"
        }
        return out
    }

    public static func footer(_ s: CheckSummary, gate: CheckReport.Gate) -> String {
        let v = s.verdicts
        var out = "\n\(s.files) \(s.files == 1 ? "file" : "files"): \(s.assessed) assessed (\(v.runs) runs, \(v.needsLibc6Compat) needs-libc6-compat, \(v.needsGcompat) needs-gcompat, \(v.needsRebuild) needs-rebuild), \(s.skipped) skipped, \(s.errors) \(s.errors == 1 ? "error" : "errors")\n"
        if !s.packages.isEmpty { out += "apk add --no-cache \(s.packages.joined(separator: " "))\n" }
        if !s.topSymbols.isEmpty { out += "most blocking symbols: " + s.topSymbols.map { "\($0.name) (\($0.files))" }.joined(separator: ", ") + "\n" }
        if !s.topLibraries.isEmpty { out += "most missing libraries: " + s.topLibraries.map { "\($0.name) (\($0.files))" }.joined(separator: ", ") + "\n" }
        if gate.failed { out += "gate failed (--fail-on \(gate.failOn))\n" }
        return out
    }

    static func fix(_ a: Assessment) -> String {
        switch a.verdict {
        case .runs: return a.packages.isEmpty ? "nothing to do" : "apk add --no-cache \(a.packages.joined(separator: " "))"
        case .needsLibc6Compat, .needsGcompat: return "apk add --no-cache \(a.packages.joined(separator: " "))"
        case .needsRebuild:
            let extra = a.packages.isEmpty ? "" : "; the rebuilt program needs apk add --no-cache \(a.packages.joined(separator: " "))"
            return "rebuild: \(a.fix?.rebuild ?? "against musl, or statically")" + extra
        }
    }
}

// Reading a saved report back (`muslcheck merge`): each type decodes what it encodes above.
extension CheckResult.Status: Decodable {}

extension CheckResult: Decodable {
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        path = try c.decode(String.self, forKey: .path)
        status = try c.decode(Status.self, forKey: .status)
        error = try c.decodeIfPresent(String.self, forKey: .error)
        sameAs = try c.decodeIfPresent(String.self, forKey: .sameAs)
        guard c.contains(.verdict) else { return }
        assessment = Assessment(
            verdict: try c.decode(Verdict.self, forKey: .verdict), ownVerdict: try c.decodeIfPresent(Verdict.self, forKey: .ownVerdict),
            libc: try c.decode(Libc.self, forKey: .libc), linkage: try c.decode(Linkage.self, forKey: .linkage),
            arch: try c.decode(String.self, forKey: .arch),
            missingSymbols: try c.decode([MissingSymbol].self, forKey: .missingSymbols),
            missingLibraries: try c.decode([MissingLibrary].self, forKey: .missingLibraries),
            packages: try c.decode([String].self, forKey: .packages), minimumGlibc: try c.decodeIfPresent(String.self, forKey: .minimumGlibc),
            findings: try c.decode([Finding].self, forKey: .findings), language: try c.decodeIfPresent(String.self, forKey: .language),
            fix: try c.decodeIfPresent(Fix.self, forKey: .fix))
        interpreter = try c.decodeIfPresent(String.self, forKey: .interpreter)
        needed = try c.decode([String].self, forKey: .needed)
    }
}

extension CheckReport.Tool: Decodable {}
extension CheckReport.Target: Decodable {}
extension CheckReport.Gate: Decodable {}
