import Assessment
import Knowledge
// SARIF 2.1.0, JUnit XML and Markdown from the judged files. Each renderer is a pure function of the
// results; SARIF is built from Codable structs. Text from files is escaped at each renderer's edge.
import TextSupport

/// What a renderer needs of the whole run.
public struct RunReport: Sendable {
    public var tool: CheckReport.Tool
    public var target: CheckReport.Target
    public var results: [CheckResult]
    public var summary: CheckSummary
    public var gate: CheckReport.Gate
    /// Whether each result fails the gate (same order as `results`).
    public var failing: [Bool]
    public init(
        tool: CheckReport.Tool, target: CheckReport.Target, results: [CheckResult], summary: CheckSummary,
        gate: CheckReport.Gate, failing: [Bool]
    ) {
        self.tool = tool
        self.target = target
        self.results = results
        self.summary = summary
        self.gate = gate
        self.failing = failing
    }

    /// Indices of the results, worst first: unreadable, then needs-rebuild … runs, skipped last; by path within.
    public var bySeverity: [Int] {
        func rank(_ r: CheckResult) -> Int {
            switch r.status {
            case .error: return 5
            case .skipped: return -1
            case .assessed: return (r.assessment.map { Verdict.allCases.firstIndex(of: $0.verdict) ?? 0 } ?? 0) + 1
            }
        }
        return results.indices.sorted { a, b in
            let x = rank(results[a])
            let y = rank(results[b])
            if x != y { return x > y }
            if failing[a] != failing[b] { return failing[a] }
            return results[a].path < results[b].path
        }
    }
}

// MARK: - SARIF

struct SarifLog: Encodable {
    var version = "2.1.0"
    var schema = "https://json.schemastore.org/sarif-2.1.0.json"
    var runs: [SarifRun]
    enum CodingKeys: String, CodingKey {
        case version
        case schema = "$schema"
        case runs
    }
}
struct SarifRun: Encodable {
    var tool: SarifTool
    var originalUriBaseIds: SarifBaseIds?
    var results: [SarifResult]
    var properties: SarifRunProperties
}
struct SarifBaseIds: Encodable {
    var srcroot: SarifArtifact
    enum CodingKeys: String, CodingKey { case srcroot = "%SRCROOT%" }
}
/// A struct, not a dictionary: the same run writes the same bytes (dictionary order changes per process).
struct SarifRunProperties: Encodable {
    var target: String
    var musl: String
    var gcompat: String
    var knowledgeBase: String
    var failOn: String
}
struct SarifTool: Encodable { var driver: SarifDriver }
struct SarifDriver: Encodable {
    var name: String, version: String, informationUri: String
    var rules: [SarifRule]
}
struct SarifText: Encodable { var text: String }
struct SarifHelp: Encodable {
    var text: String
    var markdown: String
}
struct SarifRule: Encodable {
    var id: String, name: String
    var shortDescription: SarifText, fullDescription: SarifText, help: SarifHelp
    var helpUri: String
    var defaultConfiguration: SarifConfiguration
    var properties: SarifRuleProperties
}
struct SarifConfiguration: Encodable { var level: String }
struct SarifRuleProperties: Encodable { var tags: [String] }
struct SarifResult: Encodable {
    var ruleId: String, ruleIndex: Int?, level: String
    var message: SarifText
    var locations: [SarifLocation]
    var partialFingerprints: SarifFingerprints
    var suppressions: [SarifSuppression]?
    var properties: SarifResultProperties
}
struct SarifFingerprints: Encodable {
    var finding: String
    enum CodingKeys: String, CodingKey { case finding = "muslcheckFinding/v1" }
}
struct SarifSuppression: Encodable {
    var kind = "external"
    var status = "accepted"
    var justification: String
}
struct SarifLocation: Encodable {
    var physicalLocation: SarifPhysical
    var logicalLocations: [SarifLogical]?
}
struct SarifLogical: Encodable {
    var name: String
    var fullyQualifiedName: String
    var kind = "module"
}
struct SarifPhysical: Encodable {
    var artifactLocation: SarifArtifact
    var region: SarifRegion? = nil
}
/// Where in a script or Dockerfile a finding is, so code scanning annotates the line.
struct SarifRegion: Encodable {
    var startLine: Int
    var startColumn: Int?
}
struct SarifArtifact: Encodable {
    var uri: String
    var uriBaseId: String?
}
struct SarifResultProperties: Encodable {
    var verdict: String?
    var symbols: [String]
    var libraries: [String]
    var failsGate: Bool
}

public enum SARIF {
    static let readError = "read-error"
    static let baseId = "%SRCROOT%"
    /// Pages that explain a rule's ground, for `helpUri` when the rule cites no web page of its own:
    /// musl's list of behaviour differences for behaviour rules, Alpine's page on glibc programs for the rest.
    static let behaviourHelp = "https://wiki.musl-libc.org/functional-differences-from-glibc.html"
    static let loadingHelp = "https://wiki.alpinelinux.org/wiki/Running_glibc_programs"

    /// `sourceRoot`: the absolute directory relative paths are relative to (the current directory), given as
    /// `%SRCROOT%` so that code scanning maps results onto the repository. `perFile`: one result per file
    /// that fails the gate (its blocking finding) instead of one per finding.
    public static func render(_ run: RunReport, kb: KnowledgeBase, sourceRoot: String? = nil, perFile: Bool = false)
        throws -> String
    {
        var rules = kb.rules.map { r in
            SarifRule(
                id: r.id, name: ruleName(r.id), shortDescription: SarifText(text: r.title),
                fullDescription: SarifText(text: r.summary),
                help: SarifHelp(
                    text:
                        "\(r.summary)\nWhy: \(r.rationale)\nFix: \(r.remedy)\nSources: \(r.sources.joined(separator: "; "))",
                    markdown:
                        "**\(r.title)**\n\n\(r.summary)\n\n*Why:* \(r.rationale)\n\n*Fix:* \(r.remedy)\n\n*Sources:* \(r.sources.joined(separator: "; "))"
                ),
                // the URL, not its note
                helpUri: r.sources.first { $0.hasPrefix("https://") }.map { String($0.prefix { !$0.isWhitespace }) }
                    ?? (r.when != nil ? behaviourHelp : loadingHelp),
                defaultConfiguration: SarifConfiguration(level: level(r.severity)),
                properties: SarifRuleProperties(tags: ["alpine", "musl"]))
        }
        rules.append(
            SarifRule(
                id: readError, name: ruleName(readError),
                shortDescription: SarifText(text: "A file could not be read or judged"),
                fullDescription: SarifText(
                    text:
                        "The file is damaged, unreadable or over a limit; it was not assessed and never counts as passing."
                ),
                help: SarifHelp(
                    text: "Check the file; the message says what was wrong and where.",
                    markdown: "Check the file; the message says what was wrong and where."),
                helpUri: loadingHelp,
                defaultConfiguration: SarifConfiguration(level: "error"),
                properties: SarifRuleProperties(tags: ["muslcheck"])))
        let index = Dictionary(uniqueKeysWithValues: rules.enumerated().map { ($1.id, $0) })
        var results: [SarifResult] = []
        for (r, fails) in zip(run.results, run.failing) {
            let location = [self.location(r.path, sourceRoot: sourceRoot)]
            let suppressed = r.suppressions.filter(\.waivesGate).map {
                SarifSuppression(justification: "\($0.kind.rawValue) \($0.match): \($0.reason)")
            }
            func result(
                _ rule: String, _ lvl: String, _ message: String, verdict: String?, symbols: [String] = [],
                libraries: [String] = [],
                suppressions: [SarifSuppression] = [], line: Int? = nil, column: Int? = nil
            ) -> SarifResult {
                var key = ([rule, r.path] + symbols.sorted() + libraries.sorted()).joined(separator: "\u{0}")
                var here = location
                if let line, !here.isEmpty {
                    here[0].physicalLocation.region = SarifRegion(startLine: line, startColumn: column)
                    key += "\u{0}\(line):\(column ?? 0)"
                }
                // A rule not in the list gets no index: index 0 would point code scanning at another rule.
                return SarifResult(
                    ruleId: rule, ruleIndex: index[rule], level: lvl, message: SarifText(text: message),
                    locations: here,
                    partialFingerprints: SarifFingerprints(finding: fingerprint(key)),
                    suppressions: suppressions.isEmpty ? nil : suppressions,
                    properties: SarifResultProperties(
                        verdict: verdict, symbols: symbols, libraries: libraries, failsGate: fails))
            }
            if r.status == .error { results.append(result(readError, "error", r.error ?? "unreadable", verdict: nil)) }
            guard let a = r.assessment else { continue }
            if perFile {
                guard fails || !suppressed.isEmpty, let f = Blocking.finding(a) else { continue }
                let others = a.findings.count - 1
                results.append(
                    result(
                        f.rule, level(f.severity),
                        f.message + (others > 0 ? " (and \(others) more \(others == 1 ? "finding" : "findings"))" : ""),
                        verdict: a.verdict.rawValue, symbols: f.symbols, libraries: f.libraries,
                        suppressions: suppressed,
                        line: f.line, column: f.column))
                continue
            }
            for f in Blocking.ordered(a) {
                results.append(
                    result(
                        f.rule, level(f.severity), f.message, verdict: a.verdict.rawValue, symbols: f.symbols,
                        libraries: f.libraries,
                        suppressions: suppressed, line: f.line, column: f.column))
            }
            // Findings of ignored rules: listed as suppressed, with the policy's reason.
            for s in r.suppressions where s.kind == .rule {
                results.append(
                    result(
                        s.match, level(kb.rule(s.match)?.severity ?? .note),
                        "findings of \(s.match) ignored by the policy",
                        verdict: a.verdict.rawValue, suppressions: [SarifSuppression(justification: s.reason)]))
            }
        }
        let base = sourceRoot.map {
            SarifBaseIds(
                srcroot: SarifArtifact(uri: "file://" + uri($0.hasSuffix("/") ? $0 : $0 + "/"), uriBaseId: nil))
        }
        let log = SarifLog(runs: [
            SarifRun(
                tool: SarifTool(
                    driver: SarifDriver(
                        name: "muslcheck", version: run.tool.version,
                        informationUri: "https://alpinelinux.org/", rules: rules)),
                originalUriBaseIds: base,
                results: results,
                properties: SarifRunProperties(
                    target: "alpine:\(run.target.release)", musl: run.target.musl,
                    gcompat: run.target.gcompat, knowledgeBase: run.tool.knowledgeBase,
                    failOn: run.gate.failOn))
        ])
        return try JSON.encode(log)
    }

    /// The file on disk (an archive member's outermost archive), relative to `%SRCROOT%` when under it;
    /// a member's name inside the archive as a logical location.
    static func location(_ path: String, sourceRoot: String?) -> SarifLocation {
        let (file, member): (String, String?) = {
            guard let r = path.literalRange(of: "!/") else { return (path, nil) }
            return (String(path[..<r.lowerBound]), path)
        }()
        var artifact = SarifArtifact(uri: uri(file), uriBaseId: baseId)
        if file.hasPrefix("/") {
            if let root = sourceRoot.map({ $0.hasSuffix("/") ? $0 : $0 + "/" }), file.hasPrefix(root) {
                artifact.uri = uri(String(file.dropFirst(root.count)))
            } else {
                artifact = SarifArtifact(uri: "file://" + uri(file), uriBaseId: nil)
            }
        } else if file.hasPrefix("./") {
            artifact.uri = uri(String(file.dropFirst(2)))
        }
        let logical = member.map { m in
            [
                SarifLogical(
                    name: String(
                        m[m.index(after: m.lastLiteralRange(of: "!/")?.lowerBound ?? m.startIndex)...].dropFirst()),
                    fullyQualifiedName: m)
            ]
        }
        return SarifLocation(physicalLocation: SarifPhysical(artifactLocation: artifact), logicalLocations: logical)
    }

    /// `glibc-interpreter` → `GlibcInterpreter`: an identifier, as SARIF viewers expect of a rule's name.
    static func ruleName(_ id: String) -> String {
        id.split(separator: "-").map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
    }

    /// FNV-1a, 64 bits, in hex: stable across runs and machines for the same rule, path and names.
    static func fingerprint(_ key: String) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in key.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        let hex = String(h, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    static func level(_ s: Rule.Severity) -> String { s == .error ? "error" : s == .warning ? "warning" : "note" }

    /// A relative URI reference: spaces, '%', '#', '?' and non-ASCII bytes escaped.
    static func uri(_ path: String) -> String {
        var out = ""
        for byte in path.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "/"), UInt8(ascii: "."), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "~"),
                UInt8(ascii: "!"), UInt8(ascii: "+"):
                out.append(Character(UnicodeScalar(byte)))
            default:
                let hex = Array("0123456789ABCDEF")
                out += "%" + String(hex[Int(byte >> 4)]) + String(hex[Int(byte & 0xF)])
            }
        }
        return out
    }
}

// MARK: - JUnit

public enum JUnit {
    /// One testcase per file; a failure where the file fails the gate, an error where it could not be read.
    public static func render(_ run: RunReport) -> String {
        let failures = run.failing.filter { $0 }.count
        let errors = run.results.filter { $0.status == .error }.count
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        out +=
            "<testsuites name=\"muslcheck\" tests=\"\(run.results.count)\" failures=\"\(failures)\" errors=\"\(errors)\">\n"
        out +=
            "  <testsuite name=\"alpine-\(xml(run.target.release))\" tests=\"\(run.results.count)\" failures=\"\(failures)\" errors=\"\(errors)\" skipped=\"\(run.results.filter { $0.status == .skipped }.count)\">\n"
        out +=
            "    <properties><property name=\"fail-on\" value=\"\(xml(run.gate.failOn))\"/><property name=\"musl\" value=\"\(xml(run.target.musl))\"/></properties>\n"
        for (r, fails) in zip(run.results, run.failing) {
            out +=
                "    <testcase classname=\"muslcheck.alpine-\(xml(run.target.release))\" name=\"\(xml(Escape.terminal(r.path)))\">"
            switch r.status {
            case .error: out += "<error message=\"\(xml(Escape.terminal(r.error ?? "")))\" type=\"read-error\"/>"
            case .skipped: out += "<skipped message=\"\(xml(Escape.terminal(r.error ?? "not an ELF file")))\"/>"
            case .assessed:
                if fails, let a = r.assessment {
                    out +=
                        "<failure message=\"\(xml(a.verdict.rawValue + ": " + Escape.terminal(Blocking.reason(a))))\" type=\"\(xml(a.verdict.rawValue))\">"
                    out += xml(CheckText.file(r))
                    out += "</failure>"
                } else if let a = r.assessment {
                    let waived =
                        r.suppressions.last(where: \.waivesGate).map { "; passed by \($0.kind.rawValue): \($0.reason)" }
                        ?? ""
                    out += "<system-out>\(xml(a.verdict.rawValue + Escape.terminal(waived)))</system-out>"
                }
            }
            out += "</testcase>\n"
        }
        return out + "  </testsuite>\n</testsuites>\n"
    }
}

/// XML and HTML escaping. Characters XML 1.0 does not allow (controls but tab, newline and carriage return;
/// U+FFFE and U+FFFF) become U+FFFD, so that the document stays well-formed whatever a file is called.
func xml(_ s: String) -> String {
    var out = ""
    out.reserveCapacity(s.utf8.count)
    for scalar in s.unicodeScalars {
        switch scalar {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&#39;"
        case "\n", "\t", "\r": out.unicodeScalars.append(scalar)
        default:
            if scalar.value < 0x20 || scalar.value == 0x7F || scalar.value == 0xFFFE || scalar.value == 0xFFFF {
                out += "\u{FFFD}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
    }
    return out
}

// MARK: - Markdown

public enum Markdown {
    /// GitHub stops a comment at 65,536 characters: the report stays under this whatever the run's size.
    public static let budget = 60_000
    /// Room kept for the closing lines once the file table is cut.
    static let reserve = 1_500

    /// For a pull-request comment or a CI job summary: the gate's word, the counts, what blocks most files
    /// (by symbol or library, worst first), then the files worst first with the rule that set each verdict,
    /// and what the policy and baseline set aside, each cut with a count when the budget runs out.
    public static func render(_ run: RunReport) -> String {
        let s = run.summary
        let v = s.verdicts
        let g = run.gate
        var out =
            "## muslcheck: Alpine \(run.target.release) (musl \(run.target.musl), gcompat \(run.target.gcompat))\n\n"
        let waived = "\(g.ignoredByPolicy) ignored by policy, \(g.inBaseline) in the baseline"
        out +=
            g.failed
            ? "**Gate failed**: \(g.failingFiles) \(g.failingFiles == 1 ? "file fails" : "files fail") `--fail-on \(g.failOn)` (\(waived))\n\n"
            : "Gate passed (`--fail-on \(g.failOn)`; \(waived))\n\n"
        out +=
            "| verdict | files |\n|---|---:|\n| runs | \(v.runs) |\n| needs-libc6-compat | \(v.needsLibc6Compat) |\n| needs-gcompat | \(v.needsGcompat) |\n| needs-rebuild | \(v.needsRebuild) |\n| unreadable | \(s.errors) |\n\n"
        if !s.packages.isEmpty { out += "Install: `apk add --no-cache \(s.packages.joined(separator: " "))`\n\n" }

        // What blocks: each failing file counted under the symbols or libraries of the finding that set its verdict.
        struct Cause {
            var rule: String
            var name: String
            var verdict: Verdict
            var files = 0
            var example = ""
        }
        var causes: [String: Cause] = [:]
        for (r, fails) in zip(run.results, run.failing) where fails {
            guard let a = r.assessment, let f = Blocking.finding(a) else { continue }
            let names = f.symbols.isEmpty ? (f.libraries.isEmpty ? [""] : f.libraries) : f.symbols
            for name in names {
                let key = f.rule + "\u{0}" + name
                var c = causes[key] ?? Cause(rule: f.rule, name: name, verdict: a.verdict, example: r.path)
                c.files += 1
                if a.verdict > c.verdict { c.verdict = a.verdict }
                causes[key] = c
            }
        }
        let groups = causes.values.sorted { a, b in
            a.verdict != b.verdict
                ? a.verdict > b.verdict : a.files != b.files ? a.files > b.files : (a.rule, a.name) < (b.rule, b.name)
        }
        if !groups.isEmpty {
            out +=
                "### What blocks the gate\n\n| blocking | rule | verdict | files | for example |\n|---|---|---|---:|---|\n"
            let shown = groups.prefix(25)
            for c in shown {
                out +=
                    "| \(c.name.isEmpty ? "—" : code(c.name)) | `\(c.rule)` | \(c.verdict.rawValue) | \(c.files) | \(code(c.example)) |\n"
            }
            if groups.count > shown.count { out += "\n… and \(groups.count - shown.count) more causes.\n" }
            out += "\n"
        }

        let problems = run.bySeverity.filter { run.failing[$0] || run.results[$0].status == .error }
        let suppressed = run.bySeverity.filter { !run.results[$0].suppressions.isEmpty }
        if !problems.isEmpty {
            out += "### Files, worst first\n\n| file | verdict | rule | why | fix |\n|---|---|---|---|---|\n"
            var written = 0
            for i in problems {
                let r = run.results[i]
                let row: String
                if let a = r.assessment {
                    let f = Blocking.finding(a)
                    let names = f.map { $0.symbols.isEmpty ? $0.libraries : $0.symbols } ?? []
                    let why =
                        names.isEmpty
                        ? (f?.message ?? "")
                        : names.prefix(4).joined(separator: ", ")
                            + (names.count > 4 ? " and \(names.count - 4) more" : "")
                    let fix = (a.verdict == .needsRebuild ? a.fix?.rebuild : a.fix?.apk) ?? ""
                    row =
                        "| \(code(r.path)) | \(a.verdict.rawValue) | `\(f?.rule ?? "")` | \(text(why)) | \(text(fix)) |\n"
                } else {
                    row = "| \(code(r.path)) | error | `read-error` | \(text(r.error ?? "")) | |\n"
                }
                if out.utf8.count + row.utf8.count > budget - reserve - (suppressed.isEmpty ? 0 : 4_000) { break }
                out += row
                written += 1
            }
            if written < problems.count {
                out +=
                    "\n… and \(problems.count - written) more files (the HTML, SARIF or JSON report lists them all).\n"
            }
            out += "\n"
        }
        if !suppressed.isEmpty {
            out += "### Set aside by the policy or baseline\n\n| file | by | reason |\n|---|---|---|\n"
            var written = 0
            for i in suppressed {
                let r = run.results[i]
                let rows = r.suppressions.map {
                    "| \(code(r.path)) | \($0.kind.rawValue) \(code($0.match)) | \(text($0.reason)) |\n"
                }.joined()
                if out.utf8.count + rows.utf8.count > budget - 200 { break }
                out += rows
                written += 1
            }
            if written < suppressed.count { out += "\n… and \(suppressed.count - written) more files.\n" }
        }
        return out
    }

    /// Inline code in a table cell: backticks cannot close it, `|` cannot end the cell, controls are escaped.
    static func code(_ s: String) -> String {
        "`" + Escape.terminal(s).replacingLiteral("`", with: "'").replacingLiteral("|", with: "\\|") + "`"
    }

    /// Plain text in a table cell: no HTML, no emphasis or links, no line breaks.
    static func text(_ s: String) -> String {
        var out = ""
        for c in Escape.terminal(s) {
            switch c {
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "&": out += "&amp;"
            case "|", "\\", "*", "_", "[", "]", "`", "#": out += "\\" + String(c)
            default: out.append(c)
            }
        }
        return out
    }
}
