import Assessment
import Knowledge
// JUnit XML and Markdown from the judged files (SARIF.swift has SARIF 2.1.0). Each renderer is a pure
// function of the results. Text from files is escaped at each renderer's edge.
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
        var out = header(run) + causes(run)
        let problems = run.bySeverity.filter { run.failing[$0] || run.results[$0].status == .error }
        let suppressed = run.bySeverity.filter { !run.results[$0].suppressions.isEmpty }
        if !problems.isEmpty {
            // Room is kept for the set-aside table when there is one.
            addFiles(problems, of: run, to: &out, budget: budget - reserve - (suppressed.isEmpty ? 0 : 4_000))
        }
        if !suppressed.isEmpty { addSetAside(suppressed, of: run, to: &out) }
        return out
    }

    /// The title, the gate's word, the counts and the install line.
    static func header(_ run: RunReport) -> String {
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
        return out
    }

    /// What blocks the gate: each failing file counted under the symbols or libraries of the finding that set
    /// its verdict, worst first.
    static func causes(_ run: RunReport) -> String {
        var out = ""
        struct Cause {
            var rule: RuleID
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
                let key = f.rule.rawValue + "\u{0}" + name
                var c = causes[key] ?? Cause(rule: f.rule, name: name, verdict: a.verdict, example: r.path)
                c.files += 1
                if a.verdict > c.verdict { c.verdict = a.verdict }
                causes[key] = c
            }
        }
        let groups = causes.values.sorted { a, b in
            a.verdict != b.verdict
                ? a.verdict > b.verdict
                : a.files != b.files ? a.files > b.files : (a.rule.rawValue, a.name) < (b.rule.rawValue, b.name)
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
        return out
    }

    /// The failing and unreadable files, worst first, while they fit in `budget`.
    static func addFiles(_ problems: [Int], of run: RunReport, to out: inout String, budget: Int) {
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
                    "| \(code(r.path)) | \(a.verdict.rawValue) | `\(f?.rule.rawValue ?? "")` | \(text(why)) | \(text(fix)) |\n"
            } else {
                row = "| \(code(r.path)) | error | `read-error` | \(text(r.error ?? "")) | |\n"
            }
            if out.utf8.count + row.utf8.count > budget { break }
            out += row
            written += 1
        }
        if written < problems.count {
            out +=
                "\n… and \(problems.count - written) more files (the HTML, SARIF or JSON report lists them all).\n"
        }
        out += "\n"
    }

    /// What the policy and baseline set aside, while it fits in the budget.
    static func addSetAside(_ suppressed: [Int], of run: RunReport, to out: inout String) {
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
