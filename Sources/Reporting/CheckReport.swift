import Assessment
import ELF
import Knowledge
// `muslcheck check`: the verdict per file, as the version-1 JSON contract (README, "The JSON reports") and as
// text a person acts on.
import TextSupport

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
    /// What was judged when it is not an ELF file: "shell-script" or "dockerfile" (its verdict is the gate's
    /// rung for it: an apk add fixes it, or the script must change).
    public var kind: String?
    /// What the policy or baseline set aside for this file, with the reason (listed by every report).
    public var suppressions: [Suppression] = []

    public init(
        path: String, status: Status, error: String? = nil, assessment: Assessment? = nil, facts: BinaryFacts? = nil
    ) {
        self.path = path
        self.status = status
        self.error = error
        self.assessment = assessment
        interpreter = facts?.interpreter
        needed = facts?.needed ?? []
    }

    enum Key: String, CodingKey {
        case path, status, error, arch, libc, linkage, verdict, ownVerdict, missingSymbols, missingLibraries, packages,
            minimumGlibc, findings
        case language, fix, interpreter, needed, sameAs, kind, suppressions
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(path, forKey: .path)
        try c.encode(status.rawValue, forKey: .status)
        if let error { try c.encode(error, forKey: .error) }
        if let sameAs { try c.encode(sameAs, forKey: .sameAs) }
        if let kind { try c.encode(kind, forKey: .kind) }
        // Additive (schema 1 stays valid): present only when something was set aside.
        if !suppressions.isEmpty { try c.encode(suppressions, forKey: .suppressions) }
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

/// Something the gate set aside: findings of an ignored rule, or a whole file (ignored path, remedy the
/// image installs already, known in the baseline).
public struct Suppression: Encodable, Sendable, Hashable {
    public enum Kind: String, Encodable, Sendable {
        case rule = "policy-rule"
        case path = "policy-path"
        case installed, baseline
        /// Set by the policy file (everything but the baseline).
        public var isPolicy: Bool { self != .baseline }
    }
    public var kind: Kind
    /// The rule id, path glob, packages or baseline key that matched.
    public var match: String
    public var reason: String
    /// Without it the file would have failed the gate.
    public var waivesGate: Bool
    public init(kind: Kind, match: String, reason: String, waivesGate: Bool) {
        self.kind = kind
        self.match = match
        self.reason = reason
        self.waivesGate = waivesGate
    }
}

public struct CheckSummary: Encodable, Sendable {
    public var files = 0
    public var assessed = 0
    public var skipped = 0
    /// Of the skipped files: the C library's own (glibc's libc, loader, gconv and NSS modules…), replaced by
    /// musl on Alpine rather than carried over; outside the verdict counts and blocker lists.
    public var cLibrary = 0
    /// Of the assessed files: shell scripts and Dockerfiles (judged against BusyBox and ash, not musl).
    public var scripts = 0
    public var errors = 0
    public var verdicts: Verdicts = Verdicts()
    /// The union of the packages of every file that can run: one apk add line for the whole set.
    public var packages: [String] = []
    /// The missing symbols and libraries that block the most files (ten of each, most first).
    public var topSymbols: [Count] = []
    public var topLibraries: [Count] = []
    private var symbolCounts: [String: Int] = [:]
    private var libraryCounts: [String: Int] = [:]

    public struct Count: Encodable, Sendable, Hashable {
        public var name: String
        public var files: Int
    }
    enum CodingKeys: String, CodingKey {
        case files, assessed, skipped, cLibrary, scripts, errors, verdicts, packages, topSymbols, topLibraries
    }

    public struct Verdicts: Encodable, Sendable {
        public var runs = 0, needsLibc6Compat = 0, needsGcompat = 0, needsRebuild = 0
        enum CodingKeys: String, CodingKey {
            case runs
            case needsLibc6Compat = "needs-libc6-compat"
            case needsGcompat = "needs-gcompat"
            case needsRebuild = "needs-rebuild"
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
    public mutating func add(
        status: CheckResult.Status, verdict: Verdict?, packages: [String], symbols: [String] = [],
        libraries: [String] = []
    ) {
        for s in Set(symbols) { symbolCounts[s, default: 0] += 1 }
        for l in Set(libraries) { libraryCounts[l, default: 0] += 1 }
        files += 1
        switch status {
        case .assessed:
            assessed += 1
            if let verdict {
                verdicts.add(verdict)
                if verdict != .needsRebuild {
                    for p in packages where !self.packages.contains(p) { self.packages.append(p) }
                }
            }
        case .skipped: skipped += 1
        case .error: errors += 1
        }
    }

    /// Counts a non-ELF file found while walking: counted, not listed.
    public mutating func addWalkedSkip() {
        files += 1
        skipped += 1
    }

    /// Counts a file of the C library itself (listed only when named explicitly, as a skipped file).
    public mutating func addCLibrary(listed: Bool) {
        cLibrary += 1
        if !listed { addWalkedSkip() }
    }

    /// Fixes the top lists once every file is counted.
    public mutating func finish() {
        func top(_ counts: [String: Int]) -> [Count] {
            counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.prefix(10).map {
                Count(name: $0.key, files: $0.value)
            }
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
        public init(_ r: AlpineRelease) {
            release = r.name
            musl = r.musl
            gcompat = r.gcompat
        }
    }
    public struct Gate: Encodable, Sendable {
        public var failOn: String
        public var failed: Bool
        /// Files that fail it, and files that would have failed but for the policy file or the baseline.
        public var failingFiles = 0
        public var ignoredByPolicy = 0
        public var inBaseline = 0
        public init(failOn: String, failed: Bool) {
            self.failOn = failOn
            self.failed = failed
        }
        public init(failOn: String, results: [CheckResult], failing: [Bool]) {
            self.failOn = failOn
            failingFiles = failing.filter { $0 }.count
            failed = failingFiles > 0
            for r in results {
                guard let waiver = r.suppressions.last(where: \.waivesGate) else { continue }
                if waiver.kind == .baseline { inBaseline += 1 } else { ignoredByPolicy += 1 }
            }
        }
    }

    /// The version-1 document from per-file fragments (`JSON.fragment(result, indent: 2)`), in order.
    public static func json(tool: Tool, target: Target, results: [String], summary: CheckSummary, gate: Gate) throws
        -> String
    {
        try jsonParts(tool: tool, target: target, results: results, summary: summary, gate: gate).joined()
    }

    /// `extra`: fields after the gate (a sharded run's placement, which `merge` reads and a whole run lacks).
    public static func jsonParts(
        tool: Tool, target: Target, results: [String], summary: CheckSummary, gate: Gate,
        extra: [(String, JSON.Field)] = []
    ) throws -> [String] {
        JSON.documentParts(
            [
                ("schemaVersion", .value("1")),
                ("tool", .value(try JSON.fragment(tool, indent: 1))),
                ("target", .value(try JSON.fragment(target, indent: 1))),
                ("results", .elements(results)),
                ("summary", .value(try JSON.fragment(summary, indent: 1))),
                ("gate", .value(try JSON.fragment(gate, indent: 1))),
            ] + extra)
    }
}

/// Explanations that several symbols of a run share (the fortify note, say), numbered in the order the run
/// meets them: written out where first met, referred to by number after that. A note met once is just written.
public struct NoteBook: Sendable {
    var numbers: [String: Int] = [:]
    var firstUse: [String: (result: Int, symbol: String)] = [:]
    public init() {}
    public init(_ results: [CheckResult]) {
        var uses: [String: Int] = [:]
        for r in results {
            for s in r.assessment?.missingSymbols ?? [] { if let note = s.note { uses[note, default: 0] += 1 } }
        }
        for (i, r) in results.enumerated() {
            for s in r.assessment?.missingSymbols ?? [] {
                guard let note = s.note, uses[note, default: 0] > 1, numbers[note] == nil else { continue }
                numbers[note] = numbers.count + 1
                firstUse[note] = (i, s.name)
            }
        }
    }
}

public enum CheckText {
    /// Symbols listed under one finding before the rest are counted.
    public static let symbolsShown = 12
    /// A finding's message longer than this is cut at a list separator and the rest counted.
    public static let messageLength = 400

    /// A binary's verdict; a script's in its own words (it needs packages, or changes), with the rung of the
    /// binary ladder the gate counts it as (JSON's `verdict`).
    static func verdictText(_ r: CheckResult, _ a: Assessment, style: TextStyle) -> String {
        guard r.kind != nil, a.verdict != .runs else { return style.verdict(a.verdict.rawValue) }
        let own = a.verdict == .needsLibc6Compat ? "needs packages" : "needs changes"
        return style.paint(own, a.verdict == .needsLibc6Compat ? .yellow : .boldRed) + " (gate: \(a.verdict.rawValue))"
    }

    public static func header(_ t: CheckReport.Target, style: TextStyle = .plain) -> String {
        style.paint("Target: Alpine \(t.release) (musl \(t.musl), gcompat \(t.gcompat))", .bold) + "\n\n"
    }

    /// One file: verdict first, then the finding that set it, the other findings, the symbols and libraries
    /// behind them, the minimum glibc, and the fix. `notes`/`index`: the run's shared explanations and
    /// this file's place in the run (without them every explanation is written out).
    public static func file(_ r: CheckResult, style: TextStyle = .plain, notes: NoteBook? = nil, index: Int = 0)
        -> String
    {
        let path = Escape.terminal(r.path)
        switch r.status {
        case .error: return style.wrap("\(path): \(style.verdict("error")): \(Escape.terminal(r.error ?? ""))") + "\n"
        case .skipped: return "\(path): skipped: \(Escape.terminal(r.error ?? "not an ELF file"))\n"
        case .assessed: break
        }
        guard let a = r.assessment else { return "" }
        var out =
            "\(path): \(verdictText(r, a, style: style))"
            + (r.sameAs.map { " (hard link to \(Escape.terminal($0)))" } ?? "") + "\n"
        var what =
            r.kind.map {
                "  \($0)" + (a.language.map { ", \($0.rawValue)" } ?? "")
                    + ($0 == "entrypoint"
                        ? " (the image's Entrypoint and Cmd, against its files)" : " (BusyBox ash and applets)")
            }
            ?? "  \(a.libc == .unknown ? "" : a.libc.rawValue + " ")\(a.arch) \(a.linkage.rawValue)"
            + (a.language.map { ", \($0.rawValue)" } ?? "")
        if let g = a.minimumGlibc { what += ", needs glibc \(g) or newer" }
        out += what + "\n"
        for f in Blocking.ordered(a) {
            out += "  \(style.severity(f.severity)) [\(f.rule)] \(capped(Escape.terminal(f.message)))\n"
            if [RuleID.symbolMissing, .symbolGcompat, .muslSymbolNewer, .ifuncSymbols].contains(f.rule) {
                let listed = a.missingSymbols.filter { f.symbols.contains($0.name) }
                for s in listed.prefix(symbolsShown) {
                    var line = "      \(Escape.terminal(s.name))" + (s.version.map { "@" + Escape.terminal($0) } ?? "")
                    if let note = s.note { line += "  — " + noteText(note, symbol: s.name, notes: notes, index: index) }
                    out += line + "\n"
                }
                let shown = min(listed.count, symbolsShown)
                if f.symbols.count > shown {
                    out += "      … and \(f.symbols.count - shown) more (--format json lists them all)\n"
                }
            } else if !f.symbols.isEmpty {
                out +=
                    "      " + f.symbols.prefix(symbolsShown).map(Escape.terminal).joined(separator: ", ")
                    + (f.symbols.count > symbolsShown ? " … and \(f.symbols.count - symbolsShown) more" : "") + "\n"
            }
        }
        for s in r.suppressions {
            out +=
                "  \(style.paint("suppressed", .dim)) [\(s.kind.rawValue): \(Escape.terminal(s.match))] \(Escape.terminal(s.reason))\n"
        }
        out += "  fix: \(Escape.terminal(r.kind == nil ? fix(a) : scriptFix(a)))\n"
        if a.verdict == .needsRebuild, r.kind == nil, let dockerfile = a.fix?.dockerfile {
            out +=
                dockerfile.split(separator: "\n", omittingEmptySubsequences: false).map {
                    "      " + Escape.terminal(String($0))
                }.joined(separator: "\n") + "\n"
        }
        return style.wrap(out)
    }

    static func noteText(_ note: String, symbol: String, notes: NoteBook?, index: Int) -> String {
        guard let notes, let n = notes.numbers[note] else { return Escape.terminal(note) }
        if let first = notes.firstUse[note], first.result == index && first.symbol == symbol {
            return "[\(n)] " + Escape.terminal(note)
        }
        return "see [\(n)] above"
    }

    /// A long message (a program that loads hundreds of failing libraries) cut after the last whole item
    /// that fits, with a count of the items left out.
    static func capped(_ message: String) -> String {
        guard message.count > messageLength else { return message }
        let head = message.prefix(messageLength)
        let separator = head.lastLiteralRange(of: "; ") ?? head.lastLiteralRange(of: ", ")
        guard let cut = separator?.lowerBound else { return head + " …" }
        let rest = message[cut...]
        let more = rest.components(separatedBy: "; ").count - 1
        let items = more > 0 ? more : rest.components(separatedBy: ", ").count - 1
        return message[..<cut] + " … and \(items) more (--format json has them all)"
    }

    /// `--quiet`: one line per file that fails the gate or could not be read.
    public static func quiet(_ r: CheckResult, fails: Bool) -> String? {
        if r.status == .error { return "\(Escape.terminal(r.path)): error: \(Escape.terminal(r.error ?? ""))\n" }
        guard fails, let a = r.assessment else { return nil }
        let why = Blocking.reason(a)
        return "\(Escape.terminal(r.path)): \(a.verdict.rawValue)\(why.isEmpty ? "" : " (\(Escape.terminal(why)))")\n"
    }

    /// The summary line of the run.
    public static func summaryLine(_ s: CheckSummary) -> String {
        let v = s.verdicts
        return
            "\(s.files) \(s.files == 1 ? "file" : "files"): \(s.assessed) assessed (\(v.runs) runs, \(v.needsLibc6Compat) needs-libc6-compat, \(v.needsGcompat) needs-gcompat, \(v.needsRebuild) needs-rebuild), \(s.skipped) skipped, \(s.errors) \(s.errors == 1 ? "error" : "errors")\n"
    }

    /// The gate's word: `gate failed (--fail-on X: N files; P ignored by policy, B in the baseline)`.
    public static func gateLine(_ gate: CheckReport.Gate, style: TextStyle = .plain) -> String {
        let waived = "\(gate.ignoredByPolicy) ignored by policy, \(gate.inBaseline) in the baseline"
        if gate.failed {
            return style.paint("gate failed", .boldRed)
                + " (--fail-on \(gate.failOn): \(gate.failingFiles) \(gate.failingFiles == 1 ? "file" : "files"); \(waived))\n"
        }
        return style.paint("gate passed", .green) + " (--fail-on \(gate.failOn); \(waived))\n"
    }

    /// After the files: the summary, one apk line for everything, what blocks most, the run's shared
    /// explanations, and the gate's word last, where a terminal ends. `gate` nil: without the gate's word.
    public static func footer(_ s: CheckSummary, gate: CheckReport.Gate?, style: TextStyle = .plain) -> String {
        var out = "\n" + summaryLine(s)
        if !s.packages.isEmpty { out += "apk add --no-cache \(s.packages.joined(separator: " "))\n" }
        if !s.topSymbols.isEmpty {
            out +=
                "most blocking symbols: "
                + s.topSymbols.map { "\(Escape.terminal($0.name)) (\($0.files))" }.joined(separator: ", ") + "\n"
        }
        if !s.topLibraries.isEmpty {
            out +=
                "most missing libraries: "
                + s.topLibraries.map { "\(Escape.terminal($0.name)) (\($0.files))" }.joined(separator: ", ") + "\n"
        }
        if let gate { out += gateLine(gate, style: style) }
        return style.wrap(out)
    }

    /// A script is changed, not rebuilt; packages make the commands it uses available.
    static func scriptFix(_ a: Assessment) -> String {
        let apk = a.packages.isEmpty ? nil : "apk add --no-cache \(a.packages.joined(separator: " "))"
        if a.verdict == .needsRebuild {
            return (a.fix?.rebuild ?? "change the script") + (apk.map { "; and " + $0 } ?? "")
        }
        return apk ?? "nothing to do"
    }

    static func fix(_ a: Assessment) -> String {
        switch a.verdict {
        case .runs:
            return a.packages.isEmpty ? "nothing to do" : "apk add --no-cache \(a.packages.joined(separator: " "))"
        case .needsLibc6Compat, .needsGcompat: return "apk add --no-cache \(a.packages.joined(separator: " "))"
        case .needsRebuild:
            let extra =
                a.packages.isEmpty
                ? "" : "; the rebuilt program needs apk add --no-cache \(a.packages.joined(separator: " "))"
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
        kind = try c.decodeIfPresent(String.self, forKey: .kind)
        guard c.contains(.verdict) else { return }
        assessment = Assessment(
            verdict: try c.decode(Verdict.self, forKey: .verdict),
            ownVerdict: try c.decodeIfPresent(Verdict.self, forKey: .ownVerdict),
            libc: try c.decode(Libc.self, forKey: .libc), linkage: try c.decode(Linkage.self, forKey: .linkage),
            arch: try c.decode(String.self, forKey: .arch),
            missingSymbols: try c.decode([MissingSymbol].self, forKey: .missingSymbols),
            missingLibraries: try c.decode([MissingLibrary].self, forKey: .missingLibraries),
            packages: try c.decode([String].self, forKey: .packages),
            minimumGlibc: try c.decodeIfPresent(String.self, forKey: .minimumGlibc),
            findings: try c.decode([Finding].self, forKey: .findings),
            language: try c.decodeIfPresent(Language.self, forKey: .language),
            fix: try c.decodeIfPresent(Fix.self, forKey: .fix))
        interpreter = try c.decodeIfPresent(String.self, forKey: .interpreter)
        needed = try c.decode([String].self, forKey: .needed)
    }
}

extension CheckReport.Tool: Decodable {}
extension CheckReport.Target: Decodable {}
extension CheckReport.Gate: Decodable {}
