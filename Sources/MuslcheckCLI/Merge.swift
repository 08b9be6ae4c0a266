// `muslcheck merge`: one report from the JSON reports of a sharded run (or any saved JSON report, in any
// format), with the summary, gate and exit status one run over everything would have given.
import ArgumentParser
import Engine
import Knowledge
import Reporting
import Scanning

extension Shard: ExpressibleByArgument {
    public init?(argument: String) { self.init(argument) }
}

struct Merge: OutputCommand {
    static let configuration = CommandConfiguration(
        abstract: "Merge the JSON reports of a sharded check (or render a saved JSON report) into one report.",
        discussion: """
            Give every share of one run (check --shard I/N --format json): the results come out in the order \
            of one run over everything, with its summary; the gate is decided again (--fail-on, --config and \
            --baseline as for check; by default the level the reports were made with). Reports of different \
            targets, tool versions or knowledge bases are refused. Reports that are not shares are listed one \
            after the other. Exit status as for check.
            """)

    @Argument(help: "JSON reports written by check --format json.")
    var reports: [String] = []

    @Option(
        name: .customLong("format"),
        help:
            "text, json, sarif, junit, markdown or html. Repeatable: each pairs with the --output at the same position."
    )
    var formats: [ReportFormat] = []

    @Option(
        name: .customLong("output"),
        help: "Write a report to this file instead of standard output. Repeatable, one per --format.")
    var outputs: [String] = []

    @Option(
        name: .customLong("fail-on"),
        help: "needs-libc6-compat, needs-gcompat, needs-rebuild, warning or never (default: the reports' level).")
    var failOn: FailOn?

    @Option(
        help: "Policy file (YAML; default .muslcheck.yml when present): fail-on, installed packages, ignores, baseline."
    )
    var config: String?

    @Option(help: "A baseline written by --write-baseline: only problems not in it fail the gate.")
    var baseline: String?

    func validate() throws {
        if reports.isEmpty { throw ValidationError("name at least one JSON report") }
        if outputs.count > max(formats.count, 1) { throw ValidationError("more --output than --format options") }
        if max(formats.count, 1) - outputs.count > 1 {
            throw ValidationError("only one report can go to standard output: give each --format but one an --output")
        }
    }

    func execute() throws -> CommandOutput {
        let kb = try loadKnowledge()
        let saved = try reports.map { name in (name: name, report: try readable { try SavedReport.load(name) }) }
        guard let first = saved.first?.report else { throw UsageError(description: "name at least one JSON report") }
        // The reports must be this muslcheck's: the renderers and the gate use its knowledge base.
        if first.tool.version != toolVersion || first.tool.knowledgeBase != KnowledgeBase.dataVersion {
            throw UsageError(
                description: "\(saved[0].name) was written by muslcheck \(first.tool.version) with knowledge base "
                    + "\(first.tool.knowledgeBase); this is muslcheck \(toolVersion) with \(KnowledgeBase.dataVersion): "
                    + "merge it with the muslcheck that wrote it")
        }
        guard let release = kb.release(named: first.target.release), release.musl == first.target.musl,
            release.gcompat == first.target.gcompat
        else {
            throw UsageError(
                description:
                    "\(saved[0].name) judged against alpine:\(first.target.release) (musl \(first.target.musl)), "
                    + "which this knowledge base does not know as such")
        }
        let policy = try usage { try Policy.load(config) }
        let level: FailOn
        if let failOn {
            level = failOn
        } else if let name = policy.failOn {
            guard let l = FailOn(rawValue: name) else {
                throw UsageError(description: "policy: unknown fail-on '\(name)'")
            }
            level = l
        } else {
            let recorded = Set(saved.map(\.report.gate.failOn))
            guard recorded.count == 1, let name = recorded.first, let l = FailOn(rawValue: name) else {
                throw UsageError(
                    description:
                        "the reports were made with different --fail-on levels (\(recorded.sorted().joined(separator: ", "))): give --fail-on"
                )
            }
            level = l
        }
        let known = try usage { try (baseline ?? policy.baseline).map(Baseline.load) }
        let outcome = try readable {
            try ReportMerge.merge(saved, gate: Gate(failOn: level, policy: policy, baseline: known))
        }
        // The reports are rendered by check's own renderers, so that a merged report is written exactly as one
        // run's (byte for byte in JSON).
        var arguments: [String] = []
        for format in formats { arguments += ["--format", format.rawValue] }
        for output in outputs { arguments += ["--output", output] }
        let renderer: Check
        do { renderer = try Check.parse(arguments + ["--", "merged-report"]) } catch {
            throw UsageError(description: Check.message(for: error))
        }
        let settings = Check.Settings(
            paths: [], policy: policy, release: release, failOn: level, minSeverity: .note, jobs: CPU.count,
            style: .plain, stderrStyle: .plain)
        let stdout = try renderer.render(outcome, kb: kb, settings: settings).parts
        let status =
            outcome.gateFailed
            ? ExitStatus.gateFailed : outcome.summary.errors > 0 ? ExitStatus.inputError : ExitStatus.ok
        return CommandOutput(stdoutParts: stdout, exitCode: status)
    }
}

/// A report that cannot be read or merged is a usage problem (exit 64), reported before anything is written.
func readable<T>(_ body: () throws -> T) throws -> T {
    do { return try body() } catch let error as ReportError { throw UsageError(description: error.description) }
}
