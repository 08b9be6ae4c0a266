import ArgumentParser
import Assessment
import ELF
import Engine
import Knowledge
import Reporting
import Scanning

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
#if canImport(Glibc)
    import Glibc
#endif

struct Check: OutputCommand {
    static let configuration = CommandConfiguration(
        abstract: "Judge files, directories and their ELF binaries against an Alpine release.",
        discussion: """
            Verdicts, cheapest remedy first: runs, needs-libc6-compat, needs-gcompat, needs-rebuild.

            Options not given on the command line come from the environment, then from the policy file: \
            MUSLCHECK_TARGET, MUSLCHECK_FAIL_ON, MUSLCHECK_CONFIG, MUSLCHECK_MIN_SEVERITY, MUSLCHECK_JOBS, \
            MUSLCHECK_COLOR. The policy file is --config, or the nearest .muslcheck.yml from the current \
            directory up to the repository root.

            Exit status: 0 nothing reached --fail-on (or --write-baseline wrote the baseline); 1 the gate \
            failed; 2 some input could not be read or assessed, a path does not exist, a path holds no ELF \
            file (unless --allow-empty), or a report could not be written; 64 usage error.

            Examples:
              muslcheck check dist/
              muslcheck check -f sarif -o r.sarif -f markdown dist/ >> $GITHUB_STEP_SUMMARY
              muslcheck check -q --target alpine:3.20 --fail-on needs-gcompat image.tar
              find build -name '*.so' | muslcheck check --files-from -
              muslcheck check --write-baseline .muslcheck-baseline.json dist/
            """)

    @Argument(help: "Files, directories, archives and images (directories are walked recursively).")
    var paths: [String] = []

    @Option(
        name: .customLong("files-from"),
        help: ArgumentHelp(
            "Read more paths from this file, one a line (or NUL-separated); - reads standard input.", valueName: "file")
    )
    var filesFrom: String?

    @Option(
        help: ArgumentHelp(
            "Alpine release to judge against: alpine:3.14 … alpine:3.24, alpine:edge (default: newest stable).",
            valueName: "alpine:X.Y"),
        completion: .list(knownTargets()))
    var target: String?

    @Option(
        name: [.customShort("f"), .customLong("format")],
        help: "Report format (default: text). Repeatable: each pairs with the --output at the same position.")
    var formats: [ReportFormat] = []

    @Option(
        name: [.customShort("o"), .customLong("output")],
        help: ArgumentHelp(
            "Write the report of the --format at the same position to this file (- for standard output). Repeatable.",
            valueName: "file"))
    var outputs: [String] = []

    @Flag(name: .shortAndLong, help: "Text: only one line per file that fails the gate or cannot be read.")
    var quiet = false

    @Option(
        name: .customLong("fail-on"),
        help: ArgumentHelp(
            "The lowest verdict that fails the gate; warning also fails on warning findings (default: needs-libc6-compat).",
            valueName: "level"))
    var failOn: FailOn?

    @Option(
        name: .customLong("min-severity"),
        help: ArgumentHelp(
            "Leave findings below this out of the reports (note, warning, error; default note: all). JSON keeps them all; the gate sees them all.",
            valueName: "severity"))
    var minSeverity: Rule.Severity?

    @Flag(name: .customLong("allow-empty"), help: "Pass when a path holds no ELF file (otherwise exit status 2).")
    var allowEmpty = false

    @Option(
        help: ArgumentHelp(
            "Policy file (YAML): target, fail-on, installed packages, ignores, baseline (default: the nearest .muslcheck.yml).",
            valueName: "file"))
    var config: String?

    @Option(
        help: ArgumentHelp(
            "A baseline written by --write-baseline: only problems not in it fail the gate.", valueName: "file"))
    var baseline: String?

    @Option(
        name: .customLong("write-baseline"),
        help: ArgumentHelp(
            "Write the problems of this run as a baseline to this file; exits 0 once written (2 if an input could not be read).",
            valueName: "file"))
    var writeBaseline: String?

    @Option(
        help: ArgumentHelp(
            "When to colour the text: auto colours a terminal unless NO_COLOR is set (default: auto).",
            valueName: "when"))
    var color: ColorChoice?

    @Option(
        name: .customLong("sarif-results"),
        help: ArgumentHelp(
            "SARIF: one result per finding, or one per file that fails the gate (its blocking finding).",
            valueName: "per"))
    var sarifResults: SarifResults = .finding

    @Option(help: "Parallel workers (default: all cores).")
    var jobs: Int?

    @Flag(help: "Follow symbolic links while walking directories.")
    var followSymlinks = false

    @Option(
        help: ArgumentHelp(
            "A root filesystem or unpacked image to judge against: NEEDED libraries are searched in its /etc/ld-musl-ARCH.path directories (default /lib:/usr/local/lib:/usr/lib), and absolute RPATHs and links are taken inside it.",
            valueName: "dir"))
    var root: String?

    @Option(
        name: .customLong("library-path"),
        help: ArgumentHelp(
            "A directory of the target system's libraries (an unpacked image's /usr/lib, say), searched for NEEDED libraries after RPATH/RUNPATH. Repeatable.",
            valueName: "dir"))
    var libraryPaths: [String] = []

    @Flag(
        name: .customLong("search-scanned"),
        help: ArgumentHelp(
            "Also find NEEDED libraries beside each binary and anywhere in the scanned paths, as if the scanned files were installed on the library path together. musl itself searches only RPATH/RUNPATH and its library path."
        ))
    var searchScanned = false

    @Option(
        help: ArgumentHelp(
            "Read only the I-th of N shares of the inputs, 1 ≤ I ≤ N (merge the N JSON reports with muslcheck merge).",
            valueName: "I/N"))
    var shard: Shard?

    @Option(
        help: ArgumentHelp(
            "Reuse the results of unchanged files kept in this directory by earlier runs (created if missing; jobs may share it).",
            valueName: "dir"))
    var cache: String?

    @OptionGroup var limits: LimitOptions

    func validate() throws {
        if paths.isEmpty && filesFrom == nil {
            throw ValidationError("name at least one file or directory (or --files-from)")
        }
        if outputs.count > max(formats.count, 1) { throw ValidationError("more --output than --format options") }
        let toStdout = max(formats.count, 1) - outputs.count + outputs.filter { $0 == "-" }.count
        if toStdout > 1 {
            throw ValidationError(
                "only one report can go to standard output: give each --format but one an --output file")
        }
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1") }
    }

    /// The settings of this run: a flag wins over MUSLCHECK_*, which wins over the policy file.
    struct Settings {
        var paths: [String]
        var policy: Policy
        var release: AlpineRelease
        var failOn: FailOn
        var minSeverity: Rule.Severity
        var jobs: Int
        var style: TextStyle
        var stderrStyle: TextStyle
    }

    func settings(kb: KnowledgeBase, paths: [String]) throws -> Settings {
        let context = RunContext.current
        func fromEnvironment<T>(_ name: String, _ parse: (String) -> T?) throws -> T? {
            guard let text = context.variable(name) else { return nil }
            guard let value = parse(text) else {
                throw UsageError(description: "MUSLCHECK_\(name): '\(text)' is not a valid value")
            }
            return value
        }
        if paths.isEmpty { throw InputError(description: "--files-from \(filesFrom ?? "") names no path") }
        // A path that does not exist is a mistake in the command, not a file that failed: nothing is read.
        for path in paths {
            var st = stat()
            if lstat(path, &st) != 0 { throw InputError(description: "\(path): \(String(cString: strerror(errno)))") }
        }
        if let root, !FileManager.default.fileExists(atPath: root) {
            throw InputError(description: "--root \(root): no such directory")
        }
        let ruleIDs = Set(kb.rules.map(\.id))
        let policy = try usage { try Policy.load(config ?? context.variable("CONFIG"), ruleIDs: ruleIDs) }
        let release: AlpineRelease
        if let name = target ?? context.variable("TARGET") {
            release = try resolveTarget(name, kb: kb, origin: target != nil ? "--target" : "MUSLCHECK_TARGET")
        } else {
            let origin = policy.file.map { "\($0):\(policy.targetLine ?? 1): target" } ?? "target"
            release = try resolveTarget(policy.target, kb: kb, origin: origin)
        }
        let failOn =
            try self.failOn ?? fromEnvironment("FAIL_ON", FailOn.init(rawValue:)) ?? policy.failOn.flatMap(
                FailOn.init(rawValue:)) ?? .needsLibc6Compat
        let minSeverity =
            try self.minSeverity ?? fromEnvironment("MIN_SEVERITY", Rule.Severity.init(rawValue:)) ?? .note
        let jobs = try self.jobs ?? fromEnvironment("JOBS", { Int($0).flatMap { $0 > 0 ? $0 : nil } }) ?? CPU.count
        let color = try self.color ?? fromEnvironment("COLOR", ColorChoice.init(rawValue:)) ?? .auto
        let style = TextStyle(
            color: color.enabled(terminal: context.stdoutIsTerminal, environment: context.environment),
            width: context.stdoutIsTerminal ? context.terminalWidth : nil)
        let stderrStyle = TextStyle(
            color: color.enabled(terminal: context.stderrIsTerminal, environment: context.environment))
        return Settings(
            paths: paths, policy: policy, release: release, failOn: failOn, minSeverity: minSeverity, jobs: jobs,
            style: style, stderrStyle: stderrStyle)
    }

    /// --files-from: one path a line (NUL-separated when the list holds a NUL, as find -print0 writes).
    func listedPaths() throws -> [String] {
        guard let filesFrom else { return [] }
        let data: Data
        if filesFrom == "-" {
            data = RunContext.current.readStandardInput()
        } else {
            guard let d = FileManager.default.contents(atPath: filesFrom) else {
                throw InputError(description: "--files-from \(filesFrom): cannot read it")
            }
            data = d
        }
        let separator: UInt8 = data.contains(0) ? 0 : UInt8(ascii: "\n")
        return data.split(separator: separator).compactMap { line in
            var text = String(decoding: line, as: UTF8.self)
            if separator != 0, text.hasSuffix("\r") { text.removeLast() }
            return text.isEmpty ? nil : text
        }
    }

    func execute() throws -> CommandOutput {
        // The walk needs nothing from the knowledge base: it runs while the base loads and the options are
        // checked (a usage error still ends the run before any result is used).
        let paths = try self.paths + listedPaths()
        let follow = followSymlinks
        let walking = InBackground<WalkResult> { CheckEngine.walk(paths, followSymlinks: follow) }
        let kb = try loadKnowledge()
        let s = try settings(kb: kb, paths: paths)
        let known = try usage { try (baseline ?? s.policy.baseline).map(Baseline.load) }
        let walk = walking.value
        let gate = Gate(failOn: s.failOn, policy: s.policy, baseline: known, roots: s.paths)
        var request = CheckRequest(
            paths: s.paths, release: s.release, gate: gate, jobs: s.jobs, followSymlinks: followSymlinks, root: root,
            libraryPaths: libraryPaths, searchScanned: searchScanned, limits: limits.archiveLimits)
        request.shard = shard
        request.cache = try cache.map { dir in
            try readable { try ResultCache(directory: dir, toolVersion: toolVersion) }
        }
        let progress = Progress(total: walk.items.count)
        let step: ProgressStep? = progress.enabled ? { @Sendable path in progress.step(path) } : nil
        let bytes: ProgressBytes? = progress.enabled ? { @Sendable path, n in progress.bytes(path, n) } : nil
        let outcome = CheckEngine.run(request, kb: kb, walk: walk, progress: step, bytes: bytes)
        progress.finish()
        let (stdout, toStdout) = try render(outcome, kb: kb, settings: s)
        var stderr = ""
        let gateResult = CheckReport.Gate(failOn: s.failOn.rawValue, results: outcome.results, failing: outcome.failing)
        // Every report went to a file: the CI log still gets the summary and the gate's word.
        if !toStdout {
            stderr += CheckText.summaryLine(outcome.summary) + CheckText.gateLine(gateResult, style: s.stderrStyle)
        }
        var status =
            outcome.gateFailed
            ? ExitStatus.gateFailed : outcome.summary.errors > 0 ? ExitStatus.inputError : ExitStatus.ok
        if let writeBaseline {
            let entries = try write(baselineOf: outcome, gate: gate, release: s.release, to: writeBaseline)
            stderr +=
                "wrote the baseline \(writeBaseline): \(entries) \(entries == 1 ? "file" : "files") with known problems\n"
            // The baseline is what was asked for: written, the run succeeded (unless it could not read everything).
            status = outcome.summary.errors > 0 ? ExitStatus.inputError : ExitStatus.ok
        }
        // Fail safe: a path with no ELF file in it (a typo, an empty build) is never a silent pass.
        let empty = emptyPaths(s.paths, outcome.results)
        if !empty.isEmpty && !allowEmpty {
            let what = empty.map { "'\($0)'" }.joined(separator: ", ")
            stderr +=
                "error: no ELF file to assess under \(what) (\(outcome.summary.skipped) skipped: not ELF); --allow-empty accepts an empty result\n"
            if status != ExitStatus.gateFailed { status = ExitStatus.inputError }
        }
        return CommandOutput(stdoutParts: stdout, stderr: stderr, exitCode: status)
    }

    /// The given paths under which nothing was assessed or found unreadable. Each result marks the given
    /// paths among its own prefixes (itself, and each ending before a `/` or `!/`): linear in the results,
    /// however many paths --files-from gave.
    func emptyPaths(_ paths: [String], _ results: [CheckResult]) -> [String] {
        func trimmed(_ p: String) -> String { p.count > 1 && p.hasSuffix("/") ? String(p.dropLast()) : p }
        var pending = Set(paths.map(trimmed))
        for r in results where r.status != .skipped {
            pending.remove(r.path)
            let bytes = Array(r.path.utf8)
            for (i, b) in bytes.enumerated() where b == UInt8(ascii: "/") {
                pending.remove(i == 0 ? "/" : String(decoding: bytes[..<i], as: UTF8.self))
                if i > 0 && bytes[i - 1] == UInt8(ascii: "!") {
                    pending.remove(String(decoding: bytes[..<(i - 1)], as: UTF8.self))
                }
            }
            if pending.isEmpty { break }
        }
        return paths.filter { pending.contains(trimmed($0)) }
    }

    /// Every report asked for: written to its --output, or returned for standard output (and whether one was).
    func render(_ outcome: CheckOutcome, kb: KnowledgeBase, settings s: Settings) throws -> (
        parts: [String], toStdout: Bool
    ) {
        let formats = self.formats.isEmpty ? [ReportFormat.text] : self.formats
        let jsonResults = outcome.results
        // Reports for people leave out findings below --min-severity; JSON keeps everything.
        var shown = outcome.results
        if s.minSeverity > .note {
            for i in shown.indices { shown[i].assessment?.findings.removeAll { $0.severity < s.minSeverity } }
        }
        let results = shown
        let summary = outcome.summary
        let wantsJSON = formats.contains(.json)
        let wantsText = formats.contains(.text) && !quiet
        let notes = wantsText ? NoteBook(results) : NoteBook()
        let style = s.style
        // Per-file text and JSON are rendered on all cores.
        let parts: [(text: String, json: String)] = parallelMap(results.count, jobs: s.jobs) { i in
            (
                wantsText ? CheckText.file(results[i], style: style, notes: notes, index: i) : "",
                wantsJSON ? ((try? JSON.fragment(jsonResults[i], indent: 2)) ?? "{}") : ""
            )
        }
        let gateResult = CheckReport.Gate(failOn: s.failOn.rawValue, results: outcome.results, failing: outcome.failing)
        let target = CheckReport.Target(s.release)
        let tool = CheckReport.Tool(version: toolVersion)
        let run = RunReport(
            tool: tool, target: target, results: results, summary: summary, gate: gateResult, failing: outcome.failing)
        var stdout: [String] = []
        var toStdout = false
        for (i, format) in formats.enumerated() {
            let destination = i < outputs.count ? outputs[i] : nil
            if destination == nil || destination == "-" { toStdout = true }
            let text: String
            switch format {
            case .json:
                // Written in parts: the fragments are not joined into one string first.
                stdout += try deliver(
                    try CheckReport.jsonParts(
                        tool: tool, target: target, results: parts.map(\.json), summary: summary, gate: gateResult,
                        extra: try outcome.placement?.jsonFields() ?? []),
                    to: destination)
                continue
            case .text where quiet:
                text = zip(results, outcome.failing).compactMap { CheckText.quiet($0, fails: $1) }.joined()
            case .text:
                // Summary first when there is more than one file; the gate's word last, where a terminal ends.
                let head =
                    results.count > 1 ? CheckText.footer(summary, gate: nil, style: style).dropFirst() + "\n" : ""
                text =
                    CheckText.header(target, style: style) + head + parts.map(\.text).joined()
                    + CheckText.footer(summary, gate: gateResult, style: style)
            case .sarif:
                text = try SARIF.render(
                    run, kb: kb, sourceRoot: FileManager.default.currentDirectoryPath, perFile: sarifResults == .file)
            case .junit: text = JUnit.render(run)
            case .markdown: text = Markdown.render(run)
            case .html: text = HTML.render(run)
            }
            stdout += try deliver([text], to: destination)
        }
        return (stdout, toStdout)
    }

    /// Returns how many files it lists.
    func write(baselineOf outcome: CheckOutcome, gate: Gate, release: AlpineRelease, to file: String) throws -> Int {
        let entries = outcome.results.compactMap { r -> Baseline.Entry? in
            guard let a = r.assessment, a.verdict > .runs || !a.findings.isEmpty else { return nil }
            return Baseline.Entry(
                path: gate.key(r.path), verdict: a.verdict.rawValue,
                rules: Array(Set(a.findings.map(\.rule.rawValue))).sorted())
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data: Data
        do { data = try encoder.encode(Baseline(target: "alpine:\(release.name)", entries: entries)) } catch {
            throw ToolError(description: "cannot encode the baseline: \(error)")
        }
        _ = try deliver([String(decoding: data, as: UTF8.self) + "\n"], to: file)
        return entries.count
    }
}

/// A policy or baseline problem is a usage problem.
func usage<T>(_ body: () throws -> T) throws -> T {
    do { return try body() } catch let error as PolicyError { throw UsageError(description: error.description) }
}

func loadKnowledge() throws -> KnowledgeBase {
    switch KnowledgeBase.shared {
    case .success(let kb): return kb
    case .failure(let error): throw ToolError(description: "knowledge base: \(error.description)")
    }
}

/// An internal failure: reported with exit status 2, never as a pass.
struct ToolError: Error, CustomStringConvertible { var description: String }

/// `origin`: where the name came from (an option, a variable, a policy file and line), for the message.
func resolveTarget(_ name: String?, kb: KnowledgeBase, origin: String = "--target") throws -> AlpineRelease {
    guard let name else {
        guard let newest = kb.newestStable else { throw ToolError(description: "knowledge base has no releases") }
        return newest
    }
    guard name.hasPrefix("alpine:") || name.first?.isNumber == true || name == "edge",
        let release = kb.release(named: name)
    else {
        let known = kb.releases.map { "alpine:\($0.name)" }.joined(separator: ", ")
        throw UsageError(description: "\(origin): unknown target '\(name)'; known: \(known)")
    }
    return release
}
