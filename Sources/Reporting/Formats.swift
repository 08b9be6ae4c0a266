// SARIF 2.1.0, JUnit XML, Markdown and a self-contained HTML page from the judged files. Each renderer is
// a pure function of the results; SARIF is built from Codable structs.
import Assessment
import Knowledge

/// What a renderer needs of the whole run.
public struct RunReport: Sendable {
    public var tool: CheckReport.Tool
    public var target: CheckReport.Target
    public var results: [CheckResult]
    public var summary: CheckSummary
    public var gate: CheckReport.Gate
    /// Whether each result fails the gate (same order as `results`).
    public var failing: [Bool]
    public init(tool: CheckReport.Tool, target: CheckReport.Target, results: [CheckResult], summary: CheckSummary,
                gate: CheckReport.Gate, failing: [Bool]) {
        self.tool = tool; self.target = target; self.results = results; self.summary = summary; self.gate = gate; self.failing = failing
    }
}

// MARK: - SARIF

struct SarifLog: Encodable {
    var version = "2.1.0"
    var schema = "https://json.schemastore.org/sarif-2.1.0.json"
    var runs: [SarifRun]
    enum CodingKeys: String, CodingKey { case version, schema = "$schema", runs }
}
struct SarifRun: Encodable { var tool: SarifTool; var results: [SarifResult]; var properties: SarifRunProperties }
/// A struct, not a dictionary: the same run writes the same bytes (dictionary order changes per process).
struct SarifRunProperties: Encodable { var target: String; var musl: String; var gcompat: String; var knowledgeBase: String }
struct SarifTool: Encodable { var driver: SarifDriver }
struct SarifDriver: Encodable {
    var name: String, version: String, informationUri: String
    var rules: [SarifRule]
}
struct SarifText: Encodable { var text: String }
struct SarifHelp: Encodable { var text: String; var markdown: String }
struct SarifRule: Encodable {
    var id: String, name: String
    var shortDescription: SarifText, fullDescription: SarifText, help: SarifHelp
    var defaultConfiguration: SarifConfiguration
    var properties: SarifRuleProperties
}
struct SarifConfiguration: Encodable { var level: String }
struct SarifRuleProperties: Encodable { var tags: [String] }
struct SarifResult: Encodable {
    var ruleId: String, ruleIndex: Int, level: String
    var message: SarifText
    var locations: [SarifLocation]
    var properties: SarifResultProperties
}
struct SarifLocation: Encodable { var physicalLocation: SarifPhysical }
struct SarifPhysical: Encodable { var artifactLocation: SarifArtifact }
struct SarifArtifact: Encodable { var uri: String }
struct SarifResultProperties: Encodable { var verdict: String?; var symbols: [String]; var libraries: [String] }

public enum SARIF {
    static let readError = "read-error"

    public static func render(_ run: RunReport, kb: KnowledgeBase) throws -> String {
        var rules = kb.rules.map { r in
            SarifRule(id: r.id, name: r.title.replacingOccurrences(of: " ", with: ""), shortDescription: SarifText(text: r.title),
                      fullDescription: SarifText(text: r.summary),
                      help: SarifHelp(text: "\(r.summary)\nWhy: \(r.rationale)\nFix: \(r.remedy)\nSources: \(r.sources.joined(separator: "; "))",
                                      markdown: "**\(r.title)**\n\n\(r.summary)\n\n*Why:* \(r.rationale)\n\n*Fix:* \(r.remedy)\n\n*Sources:* \(r.sources.joined(separator: "; "))"),
                      defaultConfiguration: SarifConfiguration(level: level(r.severity)), properties: SarifRuleProperties(tags: ["alpine", "musl"]))
        }
        rules.append(SarifRule(id: readError, name: "ReadError", shortDescription: SarifText(text: "A file could not be read or judged"),
                               fullDescription: SarifText(text: "The file is damaged, unreadable or over a limit; it was not assessed and never counts as passing."),
                               help: SarifHelp(text: "Check the file; the message says what was wrong and where.", markdown: "Check the file; the message says what was wrong and where."),
                               defaultConfiguration: SarifConfiguration(level: "error"), properties: SarifRuleProperties(tags: ["muslcheck"])))
        let index = Dictionary(uniqueKeysWithValues: rules.enumerated().map { ($1.id, $0) })
        var results: [SarifResult] = []
        for r in run.results {
            let location = [SarifLocation(physicalLocation: SarifPhysical(artifactLocation: SarifArtifact(uri: uri(r.path))))]
            if r.status == .error {
                results.append(SarifResult(ruleId: readError, ruleIndex: index[readError] ?? 0, level: "error",
                                           message: SarifText(text: r.error ?? "unreadable"), locations: location,
                                           properties: SarifResultProperties(verdict: nil, symbols: [], libraries: [])))
            }
            guard let a = r.assessment else { continue }
            for f in a.findings {
                results.append(SarifResult(ruleId: f.rule, ruleIndex: index[f.rule] ?? 0, level: level(f.severity),
                                           message: SarifText(text: "\(a.verdict.rawValue) on Alpine \(run.target.release): \(f.message)"),
                                           locations: location,
                                           properties: SarifResultProperties(verdict: a.verdict.rawValue, symbols: f.symbols, libraries: f.libraries)))
            }
        }
        let log = SarifLog(runs: [SarifRun(tool: SarifTool(driver: SarifDriver(name: "muslcheck", version: run.tool.version,
                                                                              informationUri: "https://alpinelinux.org/", rules: rules)),
                                           results: results,
                                           properties: SarifRunProperties(target: "alpine:\(run.target.release)", musl: run.target.musl,
                                                                          gcompat: run.target.gcompat, knowledgeBase: run.tool.knowledgeBase))])
        return try JSON.encode(log)
    }

    static func level(_ s: Rule.Severity) -> String { s == .error ? "error" : s == .warning ? "warning" : "note" }

    /// A relative URI reference: spaces, '%', '#', '?' and non-ASCII bytes escaped.
    static func uri(_ path: String) -> String {
        var out = ""
        for byte in path.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "/"), UInt8(ascii: "."), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "~"), UInt8(ascii: "!"), UInt8(ascii: "+"):
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
        out += "<testsuites name=\"muslcheck\" tests=\"\(run.results.count)\" failures=\"\(failures)\" errors=\"\(errors)\">\n"
        out += "  <testsuite name=\"alpine-\(xml(run.target.release))\" tests=\"\(run.results.count)\" failures=\"\(failures)\" errors=\"\(errors)\" skipped=\"\(run.results.filter { $0.status == .skipped }.count)\">\n"
        out += "    <properties><property name=\"fail-on\" value=\"\(xml(run.gate.failOn))\"/><property name=\"musl\" value=\"\(xml(run.target.musl))\"/></properties>\n"
        for (r, fails) in zip(run.results, run.failing) {
            out += "    <testcase classname=\"muslcheck.alpine-\(xml(run.target.release))\" name=\"\(xml(r.path))\">"
            switch r.status {
            case .error: out += "<error message=\"\(xml(r.error ?? ""))\" type=\"read-error\"/>"
            case .skipped: out += "<skipped message=\"\(xml(r.error ?? "not an ELF file"))\"/>"
            case .assessed:
                if fails, let a = r.assessment {
                    out += "<failure message=\"\(xml(a.verdict.rawValue))\" type=\"\(xml(a.verdict.rawValue))\">"
                    out += xml(CheckText.file(r))
                    out += "</failure>"
                } else if let a = r.assessment {
                    out += "<system-out>\(xml(a.verdict.rawValue))</system-out>"
                }
            }
            out += "</testcase>\n"
        }
        return out + "  </testsuite>\n</testsuites>\n"
    }
}

/// XML and HTML escaping; control characters (not allowed in XML 1.0) become U+FFFD.
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
        default: if scalar.value < 0x20 || scalar.value == 0x7F { out += "\u{FFFD}" } else { out.unicodeScalars.append(scalar) }
        }
    }
    return out
}

// MARK: - Markdown

public enum Markdown {
    /// For a pull-request comment or a CI job summary: the summary first, then what fails and why.
    public static func render(_ run: RunReport) -> String {
        let s = run.summary, v = s.verdicts
        var out = "## muslcheck: Alpine \(run.target.release) (musl \(run.target.musl), gcompat \(run.target.gcompat))\n\n"
        out += run.gate.failed ? "**Gate failed** (`--fail-on \(run.gate.failOn)`)\n\n" : "Gate passed (`--fail-on \(run.gate.failOn)`)\n\n"
        out += "| verdict | files |\n|---|---:|\n| runs | \(v.runs) |\n| needs-libc6-compat | \(v.needsLibc6Compat) |\n| needs-gcompat | \(v.needsGcompat) |\n| needs-rebuild | \(v.needsRebuild) |\n| unreadable | \(s.errors) |\n\n"
        if !s.packages.isEmpty { out += "Install: `apk add --no-cache \(s.packages.joined(separator: " "))`\n\n" }
        if !s.topSymbols.isEmpty {
            out += "Symbols that block the most files: " + s.topSymbols.map { "`\(md($0.name))` (\($0.files))" }.joined(separator: ", ") + "\n\n"
        }
        if !s.topLibraries.isEmpty {
            out += "Libraries missing most often: " + s.topLibraries.map { "`\(md($0.name))` (\($0.files))" }.joined(separator: ", ") + "\n\n"
        }
        let problems = run.results.filter { $0.status == .error || ($0.assessment?.verdict ?? .runs) > .runs }
        if !problems.isEmpty {
            out += "| file | verdict | why | fix |\n|---|---|---|---|\n"
            for r in problems.prefix(500) {
                guard let a = r.assessment else { out += "| `\(md(r.path))` | error | \(md(r.error ?? "")) | |\n"; continue }
                let why = a.missingSymbols.prefix(4).map(\.name) + a.missingLibraries.prefix(2).map(\.soname)
                let reason = why.isEmpty ? (a.findings.first { $0.severity != .note }?.rule ?? "") : why.joined(separator: ", ")
                let fix = (a.verdict == .needsRebuild ? a.fix?.rebuild : a.fix?.apk) ?? ""
                out += "| `\(md(r.path))` | \(a.verdict.rawValue) | \(md(reason)) | \(md(fix)) |\n"
            }
            if problems.count > 500 { out += "\n… and \(problems.count - 500) more.\n" }
        }
        return out
    }

    static func md(_ s: String) -> String {
        s.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "`", with: "'").replacingOccurrences(of: "\n", with: " ")
    }
}
