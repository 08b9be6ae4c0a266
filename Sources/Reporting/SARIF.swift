import Assessment
import Knowledge
// SARIF 2.1.0 from the judged files, built from Codable structs (Formats.swift has RunReport, JUnit and
// Markdown). Text from files is escaped here, at the renderer's edge.
import TextSupport

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
        let rules = self.rules(kb)
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
                        f.rule.rawValue, level(f.severity),
                        f.message + (others > 0 ? " (and \(others) more \(others == 1 ? "finding" : "findings"))" : ""),
                        verdict: a.verdict.rawValue, symbols: f.symbols, libraries: f.libraries,
                        suppressions: suppressed,
                        line: f.line, column: f.column))
                continue
            }
            for f in Blocking.ordered(a) {
                results.append(
                    result(
                        f.rule.rawValue, level(f.severity), f.message, verdict: a.verdict.rawValue, symbols: f.symbols,
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
        return try JSON.encode(log(run, rules: rules, results: results, sourceRoot: sourceRoot))
    }

    /// Every rule of the catalogue, and the one for files that could not be read.
    static func rules(_ kb: KnowledgeBase) -> [SarifRule] {
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
        return rules
    }

    /// The document: the tool and its rules, the results, and the run's target and gate.
    static func log(_ run: RunReport, rules: [SarifRule], results: [SarifResult], sourceRoot: String?) -> SarifLog {
        let base = sourceRoot.map {
            SarifBaseIds(
                srcroot: SarifArtifact(uri: "file://" + uri($0.hasSuffix("/") ? $0 : $0 + "/"), uriBaseId: nil))
        }
        return SarifLog(runs: [
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
