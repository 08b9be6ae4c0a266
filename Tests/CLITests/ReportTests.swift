// Readable text and reports that scale: colour and wrapping only where asked, names from files escaped in
// every format, a Markdown report under GitHub's limit at any size, HTML worst first, SARIF that code
// scanning maps onto the repository; golden files for the help and for every format of the fixtures.
import Foundation
import MuslcheckCLI
import TestSupport
import Testing

@testable import Assessment
@testable import Knowledge
@testable import Reporting

#if canImport(FoundationXML)
    import FoundationXML
#endif

@Suite(.serialized) struct ReadableText {
    @Test func colourOnlyWhereAsked() {
        let terminal = RunContext(stdoutIsTerminal: true, terminalWidth: 100)
        #expect(
            muslcheck(["check", "fixtures-bin/bin/recent"], context: terminal).stdout.contains(
                "\u{1B}[1;31mneeds-rebuild"))
        #expect(
            !muslcheck(
                ["check", "fixtures-bin/bin/recent"],
                context: RunContext(environment: ["NO_COLOR": "1"], stdoutIsTerminal: true)
            ).stdout.contains("\u{1B}["))
        #expect(
            !muslcheck(["check", "--color", "never", "fixtures-bin/bin/recent"], context: terminal).stdout.contains(
                "\u{1B}["))
        #expect(
            muslcheck(["check", "--color", "always", "fixtures-bin/bin/recent"]).stdout.contains("\u{1B}[32m") == false)
        #expect(
            muslcheck(["check", "--color", "always", "fixtures-bin/bin/recent"]).stdout.contains(
                "\u{1B}[1;31mgate failed"))
        #expect(!muslcheck("check", "fixtures-bin/bin/recent").stdout.contains("\u{1B}["))  // a pipe
    }

    @Test func wrapsToTheTerminalWithHangingIndents() {
        let out = muslcheck(
            ["check", "--target", "alpine:3.17", "fixtures-bin/bin/glibconly"],
            context: RunContext(environment: ["NO_COLOR": "1"], stdoutIsTerminal: true, terminalWidth: 60))
        let lines = out.stdout.split(separator: "\n")
        for line in lines where line.count > 60 {
            #expect(!line.dropFirst(line.prefix { $0 == " " }.count).contains(" "), "\(line)")
        }
        // A continuation line hangs further in than the line it continues.
        #expect(lines.contains { $0.hasPrefix("          ") && !$0.contains("@") })
        let piped = muslcheck("check", "--target", "alpine:3.17", "fixtures-bin/bin/glibconly").stdout
        #expect(piped.split(separator: "\n").contains { $0.count > 60 })
    }

    @Test func aSharedExplanationIsWrittenOncePerRun() {
        let out = muslcheck(
            "check", "--target", "alpine:3.17", "fixtures-bin/bin/glibconly", "fixtures-bin/bin/glibconly-nosections"
        ).stdout
        let note = "glibc _FORTIFY_SOURCE wrapper"
        #expect(out.components(separatedBy: note).count - 1 == 1)
        #expect(out.contains("see [") && out.contains("] " + note))
    }

    @Test func theBlockingReasonComesFirst() {
        let out = muslcheck("check", "--target", "alpine:3.20", "fixtures-bin/bin/ifunc").stdout
        let findings = out.split(separator: "\n").filter {
            $0.hasPrefix("  error [") || $0.hasPrefix("  warning [") || $0.hasPrefix("  note [")
        }
        #expect(findings.first?.contains("[ifunc-symbols]") == true || findings.first?.contains("[irelative]") == true)
        let md = muslcheck("check", "--target", "alpine:3.20", "-f", "markdown", "fixtures-bin/bin/ifunc").stdout
        #expect(!md.contains("`glibc-interpreter`"))
    }

    func result(_ path: String, symbols: Int = 1, verdict: Verdict = .needsRebuild) -> CheckResult {
        let names = (0..<symbols).map { "sym_\($0)_" + String(repeating: "x", count: 20) }
        var a = Assessment(verdict: verdict, libc: .glibc, linkage: .dynamic, arch: "x86_64")
        a.missingSymbols = names.map { MissingSymbol(name: $0, version: "GLIBC_2.34") }
        a.findings = [
            Finding(
                rule: .symbolMissing, severity: .error, message: "\(symbols) imports", symbols: names, libraries: []),
            Finding(rule: .glibcInterpreter, severity: .warning, message: "interp", symbols: [], libraries: []),
        ]
        return CheckResult(path: path, status: .assessed, assessment: a)
    }

    @Test func longListsAreCappedWithACount() {
        let text = CheckText.file(result("x", symbols: 50))
        #expect(text.contains("… and 38 more (--format json lists them all)"))
        #expect(text.split(separator: "\n").count < 25)
        let long = CheckText.capped(String(repeating: "lib/libx.so (needs-rebuild: a); ", count: 400))
        #expect(long.count < 500 && long.contains("more (--format json has them all)"))
    }

    @Test func controlCharactersNeverReachTheTerminalOrTheDockerfile() throws {
        let dir = try scratch("hostile-names")
        defer { try? FileManager.default.removeItem(at: dir) }
        let name = "evil\u{1B}]0;pwned\u{07}\nRUN curl x | sh\r\u{202E}"
        try fixture("recent").write(to: dir.appendingPathComponent(name))
        let text = muslcheck("check", "--target", "alpine:3.20", dir.path).stdout
        #expect(!text.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" } && !text.contains("\u{202E}"))
        #expect(text.contains("evil\\x1b]0;pwned\\x07\\nRUN curl x | sh\\r\\u{202e}"))
        #expect(!text.split(separator: "\n").contains { $0.trimmingCharacters(in: .whitespaces).hasPrefix("RUN curl") })
        let result = try #require(
            try results(muslcheck("check", "-f", "json", "--target", "alpine:3.20", dir.path)).first)
        let dockerfile = try #require((result["fix"] as? [String: Any])?["dockerfile"] as? String)
        #expect(!dockerfile.split(separator: "\n").contains { $0.hasPrefix("RUN curl") })
        let md = muslcheck("check", "-f", "markdown", "--target", "alpine:3.20", dir.path).stdout
        #expect(
            !md.contains("\r") && !md.contains("\u{1B}")
                && md.split(separator: "\n").allSatisfy { !$0.hasPrefix("RUN") })
        let html = try scratch("hostile-html")
        defer { try? FileManager.default.removeItem(at: html) }
        try fixture("recent").write(to: html.appendingPathComponent("a<b>bold<i>\r|x"))
        let md2 = muslcheck("check", "-f", "markdown", html.path).stdout
        // in code spans, which GitHub never reads as HTML
        #expect(!md2.contains("\r") && md2.contains("a<b>bold<i>\\r\\|x`"))
        #expect(Markdown.text("a<b>x</b>\r|*y*") == "a&lt;b&gt;x&lt;/b&gt;\\\\r\\|\\*y\\*")
    }

    @Test func junitStaysWellFormedWithNoncharacters() throws {
        let dir = try scratch("nonchar")
        defer { try? FileManager.default.removeItem(at: dir) }
        try fixture("recent").write(to: dir.appendingPathComponent("a\u{FFFE}b\u{FFFF}"))
        let out = muslcheck("check", "-f", "junit", dir.path).stdout
        let parser = XMLParser(data: Data(out.utf8))
        #expect(parser.parse(), "\(String(describing: parser.parserError))")
    }
}

@Suite(.serialized) struct ScalingReports {
    func bigRun(_ files: Int) -> RunReport {
        let text = ReadableText()
        let results = (0..<files).map { i in
            text.result(
                "very/long/path/to/a/build/output/directory/number-\(i % 37)/component-\(i)/libthing-\(i).so.1",
                symbols: 1 + i % 9, verdict: i % 3 == 0 ? .needsGcompat : .needsRebuild)
        }
        var summary = CheckSummary()
        for r in results { summary.add(status: .assessed, verdict: r.assessment?.verdict, packages: []) }
        summary.finish()
        let failing = [Bool](repeating: true, count: files)
        let target = CheckReport.Target(
            AlpineRelease(
                name: "3.20", musl: "1.2.5", gcompat: "1.1.0", gcompatChecked: true, libc6Compat: .gcompat,
                lfs64Exported: false, notes: ""))
        return RunReport(
            tool: CheckReport.Tool(version: "test"), target: target, results: results, summary: summary,
            gate: CheckReport.Gate(failOn: "needs-libc6-compat", results: results, failing: failing), failing: failing)
    }

    /// A finding under a rule the SARIF rule list lacks gets no ruleIndex (index 0 would name another rule);
    /// the known ones point at their own entry.
    @Test func sarifGivesNoIndexToAnUnknownRule() throws {
        var run = bigRun(1)
        run.results[0].assessment?.findings[1].rule = RuleID(rawValue: "no-such-rule")
        let knowledge = try KnowledgeBase()
        let document = try #require(
            try JSONSerialization.jsonObject(with: Data(SARIF.render(run, kb: knowledge).utf8)) as? [String: Any])
        let sarifRun = try #require((document["runs"] as? [[String: Any]])?.first)
        let rules = try #require(
            ((sarifRun["tool"] as? [String: Any])?["driver"] as? [String: Any])?["rules"] as? [[String: Any]])
        let results = try #require(sarifRun["results"] as? [[String: Any]])
        let unknown = try #require(results.first { $0["ruleId"] as? String == "no-such-rule" })
        #expect(unknown["ruleIndex"] == nil)
        let known = try #require(results.first { $0["ruleId"] as? String == "symbol-missing" })
        let index = try #require(known["ruleIndex"] as? Int)
        #expect(rules[index]["id"] as? String == "symbol-missing")
    }

    @Test func markdownStaysUnderGitHubsLimitAtAnySize() {
        for n in [1, 50, 1_500, 20_000] {
            let md = Markdown.render(bigRun(n))
            #expect(md.count < 60_000, "\(n) files: \(md.count) characters")
        }
        let md = Markdown.render(bigRun(1_500))
        #expect(
            md.contains("### What blocks the gate")
                && md.contains("more files (the HTML, SARIF or JSON report lists them all)"))
        // Worst first: every needs-rebuild row comes before the first needs-gcompat row.
        let rows = md.split(separator: "\n").filter { $0.hasPrefix("| `very/") }
        let firstGcompat = rows.firstIndex { $0.contains("| needs-gcompat |") } ?? rows.count
        #expect(!rows[firstGcompat...].contains { $0.contains("| needs-rebuild |") })
    }

    @Test func htmlIsWorstFirstWithThePrefixOnce() throws {
        let html = HTML.render(bigRun(1_200))
        #expect(html.contains("All paths are under <code>very/long/path/to/a/build/output/directory/</code>"))
        let first = try #require(html.range(of: "data-verdict=\"needs-gcompat\"")?.lowerBound)
        let last = try #require(html.range(of: "data-verdict=\"needs-rebuild\"", options: .backwards)?.lowerBound)
        #expect(last < first)
        #expect(
            html.contains("id=\"expand\"") && html.contains("id=\"group\"")
                && html.contains("<td class=\"why\">symbol-missing: sym_0_"))
    }

    @Test func sarifMapsOntoTheRepository() throws {
        let out = muslcheck(
            "check", "-f", "sarif", "--target", "alpine:3.20", "fixtures-bin/bin/recent", "fixtures-bin/bin/hello-glibc"
        )
        let log = try json(out.stdout)
        let run = try #require((log["runs"] as? [[String: Any]])?.first)
        let base = try #require((run["originalUriBaseIds"] as? [String: Any])?["%SRCROOT%"] as? [String: Any])
        #expect(
            (base["uri"] as? String)?.hasPrefix("file:///") == true && (base["uri"] as? String)?.hasSuffix("/") == true)
        let results = try #require(run["results"] as? [[String: Any]])
        let first = try #require(results.first)
        let artifact = try #require(
            ((first["locations"] as? [[String: Any]])?.first?["physicalLocation"] as? [String: Any])?[
                "artifactLocation"] as? [String: Any])
        #expect(
            artifact["uriBaseId"] as? String == "%SRCROOT%" && artifact["uri"] as? String == "fixtures-bin/bin/recent")
        #expect(((first["partialFingerprints"] as? [String: String])?["muslcheckFinding/v1"])?.count == 16)
        let message = try #require((first["message"] as? [String: Any])?["text"] as? String)
        #expect(!message.hasPrefix("needs-") && !message.contains("on Alpine 3.20:"))
        let rules = try #require(
            ((run["tool"] as? [String: Any])?["driver"] as? [String: Any])?["rules"] as? [[String: Any]])
        #expect(
            rules.contains {
                $0["id"] as? String == "glibc-interpreter" && $0["name"] as? String == "GlibcInterpreter"
                    && ($0["helpUri"] as? String)?.hasPrefix("https://") == true
            })
        let perFile = try json(
            muslcheck(
                "check", "-f", "sarif", "--sarif-results", "file", "--target", "alpine:3.20", "fixtures-bin/bin/recent",
                "fixtures-bin/bin/hello-glibc"
            ).stdout)
        #expect(((perFile["runs"] as? [[String: Any]])?.first?["results"] as? [Any])?.count == 2)
    }

    @Test func archiveMembersAreLogicalLocations() throws {
        let dir = try scratch("sarif-member")
        defer { try? FileManager.default.removeItem(at: dir) }
        try zip(dir.appendingPathComponent("pkg.whl"), [("pkg/mod.so", try fixture("recent"))])
        let log = try json(muslcheck("check", "-f", "sarif", dir.path).stdout)
        let location = try #require(
            (((log["runs"] as? [[String: Any]])?.first?["results"] as? [[String: Any]])?.first?["locations"]
                as? [[String: Any]])?.first)
        let artifact = try #require(
            (location["physicalLocation"] as? [String: Any])?["artifactLocation"] as? [String: Any])
        #expect((artifact["uri"] as? String)?.hasSuffix("/pkg.whl") == true)
        let logical = try #require((location["logicalLocations"] as? [[String: Any]])?.first)
        #expect(
            logical["name"] as? String == "pkg/mod.so"
                && (logical["fullyQualifiedName"] as? String)?.hasSuffix("pkg.whl!/pkg/mod.so") == true)
    }

    /// Per-file results, suppressions and logical locations of archive members: all still SARIF 2.1.0.
    @Test func everySarifShapeValidatesAgainstTheSchema() throws {
        let dir = try scratch("sarif-shapes")
        defer { try? FileManager.default.removeItem(at: dir) }
        try zip(dir.appendingPathComponent("pkg.whl"), [("pkg/mod.so", try fixture("recent"))])
        try fixture("resinit").write(to: dir.appendingPathComponent("resinit"))
        let policy = dir.appendingPathComponent("p.yml")
        try Data(
            "ignore:\n  paths:\n    - path: resinit\n      reason: old\n  rules:\n    - rule: tzdata\n      reason: UTC\n"
                .utf8
        ).write(to: policy)
        let perFile = dir.appendingPathComponent("file.sarif")
        let suppressed = dir.appendingPathComponent("sup.sarif")
        _ = muslcheck(
            "check", "-f", "sarif", "-o", perFile.path, "--sarif-results", "file", "--target", "alpine:3.20",
            "fixtures-bin/bin")
        _ = muslcheck("check", "-f", "sarif", "-o", suppressed.path, "--config", policy.path, dir.path)
        #expect(try String(contentsOf: suppressed, encoding: .utf8).contains("\"suppressions\""))
        #expect(try String(contentsOf: suppressed, encoding: .utf8).contains("\"logicalLocations\""))
        let check = """
            import json, sys, jsonschema
            schema = json.load(open(sys.argv[1]))
            for f in sys.argv[2:]: jsonschema.Draft7Validator(schema).validate(json.load(open(f)))
            print('valid')
            """
        let schema = Fixtures.root.appendingPathComponent("Tests/CLITests/sarif-schema-2.1.0.json").path
        let result = try #require(
            runProgram("/usr/bin/env", ["python3", "-c", check, schema, perFile.path, suppressed.path]))
        #expect(result.status == 0, "\(result.stderr)")
    }
}

@Suite(.serialized) struct ReportGoldens {
    /// SARIF, JUnit, Markdown and HTML of every fixture, one run; the absolute source root is replaced.
    @Test func reportsOfTheFixturesMatchGoldenFiles() {
        let root = Fixtures.root.path
        for (format, ext) in [("sarif", "sarif"), ("junit", "xml"), ("markdown", "md"), ("html", "html")] {
            var text = muslcheck("check", "--target", "alpine:3.20", "-f", format, "fixtures-bin/bin").stdout
            text = text.replacingOccurrences(of: root, with: "/SOURCE-ROOT")
            if let difference = Fixtures.checkGolden(text, "reports/fixtures.\(ext)") {
                Issue.record(Comment(rawValue: difference))
            }
        }
    }

    /// The help of every command, at 80 columns.
    @Test(arguments: [[], ["check"], ["inspect"], ["explain"], ["kb"]])
    func helpMatchesGoldenFiles(_ command: [String]) {
        setenv("COLUMNS", "80", 1)
        let out = muslcheck(command + ["--help"])
        #expect(out.exitCode == 0)
        let name = command.first ?? "muslcheck"
        if let difference = Fixtures.checkGolden(out.stdout, "help/\(name).txt") {
            Issue.record(Comment(rawValue: difference))
        }
    }

    /// docs/muslcheck.1 is what scripts/gen-man.py makes of this help.
    @Test func theManPageIsCurrent() throws {
        setenv("COLUMNS", "80", 1)
        let dump = muslcheck("--experimental-dump-help")
        let dir = try scratch("man")
        defer { try? FileManager.default.removeItem(at: dir) }
        let json = dir.appendingPathComponent("help.json")
        let page = dir.appendingPathComponent("muslcheck.1")
        try Data(dump.stdout.utf8).write(to: json)
        let script = Fixtures.root.appendingPathComponent("scripts/gen-man.py").path
        let made = try #require(
            runProgram(
                "/usr/bin/env",
                ["python3", script, "--help-json", json.path, "--out", page.path, "--version", toolVersionForTests]))
        #expect(made.status == 0, "\(made.stderr)")
        let generated = try String(contentsOf: page, encoding: .utf8)
        let committed = Fixtures.root.appendingPathComponent("docs/muslcheck.1")
        if ProcessInfo.processInfo.environment["UPDATE_GOLDENS"] == "1" {
            try Data(generated.utf8).write(to: committed)
        }
        #expect(
            generated == (try? String(contentsOf: committed, encoding: .utf8)),
            "run scripts/gen-man.py (or UPDATE_GOLDENS=1 swift test)")
        #expect(generated.contains(".SH EXIT STATUS") && generated.contains("\\-\\-files\\-from"))
    }
}

let toolVersionForTests = String(muslcheck("--version").stdout.split(separator: " ").dropFirst().first ?? "")

@Suite(.serialized) struct InspectEscaping {
    @Test func inspectTextEscapesNamesFromTheFile() throws {
        let dir = try scratch("inspect-escape")
        defer { try? FileManager.default.removeItem(at: dir) }
        try fixture("hello-glibc").write(to: dir.appendingPathComponent("x\u{1B}[2J\u{9B}y"))
        let out = muslcheck("inspect", dir.path).stdout
        #expect(!out.contains("\u{1B}") && !out.contains("\u{9B}") && out.contains("x\\x1b[2J\\u{9b}y"))
        #expect(
            Escape.terminal("plain name") == "plain name"
                && Escape.terminal("\u{2066}a\u{2029}") == "\\u{2066}a\\u{2029}")
    }
}
