import ArgumentParser
import Assessment
import ELF
import Knowledge
import Reporting
import Archives
import Scanning
import Engine
import Foundation
import Synchronization

/// Limits on archives, so that no input can exhaust memory; an archive over one is reported, not skipped.
struct LimitOptions: ParsableArguments {
    @Option(name: .customLong("max-depth"), help: "Archives nested deeper than this are reported, not opened (default 5).")
    var maxDepth = 5
    @Option(name: .customLong("max-member-bytes"), help: "Largest archive or archive member read into memory, in bytes (default 268435456).")
    var maxMemberBytes = 256 << 20
    @Option(name: .customLong("max-total-bytes"), help: "Most bytes expanded from one archive, in bytes (default 1073741824).")
    var maxTotalBytes = 1 << 30
    @Option(name: .customLong("max-entries"), help: "Most entries read from one archive (default 200000).")
    var maxEntries = 200_000
    @Option(name: .customLong("max-seconds-per-file"), help: ArgumentHelp(
        "Time for reading one file, or one archive with everything in it; a file that needs more is reported as an error (default 60).",
        valueName: "seconds"))
    var maxSeconds = 60.0

    var archiveLimits: ArchiveLimits {
        var l = ArchiveLimits()
        l.maxDepth = maxDepth; l.maxMemberBytes = maxMemberBytes; l.maxTotalBytes = maxTotalBytes; l.maxEntries = maxEntries
        l.maxSeconds = maxSeconds
        return l
    }

    func validate() throws {
        if maxDepth < 0 || maxMemberBytes < 1 || maxTotalBytes < 1 || maxEntries < 1 { throw ValidationError("archive limits must be positive") }
        if !(maxSeconds > 0) { throw ValidationError("--max-seconds-per-file must be positive") }
    }
}

enum ReportFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json, sarif, junit, markdown, html
}

/// Files done, rate and the current path on standard error, only when it is a terminal.
final class Progress: Sendable {
    private let state = Mutex<(done: Int, last: Double)>((0, 0))
    let total: Int
    let enabled: Bool
    let start = Date().timeIntervalSince1970

    init(total: Int) {
        self.total = total
        enabled = isatty(2) != 0 && total > 1
    }

    func step(_ path: String) {
        guard enabled else { return }
        let now = Date().timeIntervalSince1970
        let line: String? = state.withLock { s in
            s.done += 1
            guard now - s.last > 0.1 || s.done == total else { return nil }
            s.last = now
            let rate = Double(s.done) / max(now - start, 0.001)
            return "\r\u{1B}[K\(s.done)/\(total) files, \(Int(rate))/s  \(path.suffix(60))"
        }
        if let line { FileHandle.standardError.write(Data(line.utf8)) }
    }

    func finish() { if enabled { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) } }
}

extension FailOn: ExpressibleByArgument {}

struct Check: OutputCommand {
    static let configuration = CommandConfiguration(
        abstract: "Judge files, directories and their ELF binaries against an Alpine release.",
        discussion: """
            Verdicts, cheapest remedy first: runs, needs-libc6-compat, needs-gcompat, needs-rebuild.
            Exit status: 0 nothing reached --fail-on; 1 the gate failed; 2 the gate did not fail but some \
            input could not be read or assessed; 64 usage error.
            """)

    @Argument(help: "Files and directories (walked recursively).")
    var paths: [String] = []

    @Option(help: "Alpine release to judge against: alpine:3.14 … alpine:3.24, alpine:edge (default: newest stable).")
    var target: String?

    @Option(name: .customLong("format"), help: "text, json, sarif, junit, markdown or html. Repeatable: each pairs with the --output at the same position.")
    var formats: [ReportFormat] = []

    @Option(name: .customLong("fail-on"), help: "needs-libc6-compat (default), needs-gcompat, needs-rebuild, warning or never.")
    var failOn: FailOn?

    @Option(help: "Policy file (YAML; default .muslcheck.yml when present): target, fail-on, installed packages, ignores, baseline.")
    var config: String?

    @Option(help: "A baseline written by --write-baseline: only problems not in it fail the gate.")
    var baseline: String?

    @Option(name: .customLong("write-baseline"), help: "Write the problems of this run as a baseline to this file.")
    var writeBaseline: String?

    @Option(help: "Parallel workers (default: all cores).")
    var jobs: Int?

    @Flag(help: "Follow symbolic links while walking directories.")
    var followSymlinks = false

    @Option(help: ArgumentHelp(
        "A root filesystem or unpacked image to judge against: NEEDED libraries are searched in its /etc/ld-musl-ARCH.path directories (default /lib:/usr/local/lib:/usr/lib), and absolute RPATHs and links are taken inside it.",
        valueName: "dir"))
    var root: String?

    @Option(name: .customLong("library-path"), help: ArgumentHelp(
        "A directory of the target system's libraries (an unpacked image's /usr/lib, say), searched for NEEDED libraries after RPATH/RUNPATH and the binary's own directory. Repeatable.",
        valueName: "dir"))
    var libraryPaths: [String] = []

    @Option(name: .customLong("output"), help: "Write a report to this file instead of standard output. Repeatable, one per --format.")
    var outputs: [String] = []

    @Option(help: ArgumentHelp("Read only the I-th of N shares of the inputs, 1 ≤ I ≤ N (merge the N JSON reports with muslcheck merge).", valueName: "I/N"))
    var shard: Shard?

    @Option(help: ArgumentHelp("Reuse the results of unchanged files kept in this directory by earlier runs (created if missing; jobs may share it).", valueName: "dir"))
    var cache: String?

    @OptionGroup var limits: LimitOptions

    func validate() throws {
        if paths.isEmpty { throw ValidationError("name at least one file or directory") }
        if outputs.count > max(formats.count, 1) { throw ValidationError("more --output than --format options") }
        if max(formats.count, 1) - outputs.count > 1 { throw ValidationError("only one report can go to standard output: give each --format but one an --output") }
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1") }
    }

    func execute() throws -> CommandOutput {
        // The walk needs nothing from the knowledge base: it runs while the base loads and the options are
        // checked (a usage error still ends the run before any result is used).
        let paths = self.paths, follow = followSymlinks
        let walking = InBackground<WalkResult> { CheckEngine.walk(paths, followSymlinks: follow) }
        let kb = try loadKnowledge()
        let policy = try usage { try Policy.load(config) }
        let release = try resolveTarget(target ?? policy.target, kb: kb)
        let failOn: FailOn
        if let level = self.failOn { failOn = level } else if let name = policy.failOn {
            guard let level = FailOn(rawValue: name) else { throw UsageError(description: "policy: unknown fail-on '\(name)'") }
            failOn = level
        } else { failOn = .needsLibc6Compat }
        let known = try usage { try (baseline ?? policy.baseline).map(Baseline.load) }
        if let root, !FileManager.default.fileExists(atPath: root) { throw UsageError(description: "--root \(root) does not exist") }
        let walk = walking.value
        var request = CheckRequest(paths: paths, release: release, gate: Gate(failOn: failOn, policy: policy, baseline: known),
                                   jobs: jobs ?? CPU.count, followSymlinks: followSymlinks, root: root, libraryPaths: libraryPaths,
                                   limits: limits.archiveLimits)
        request.shard = shard
        request.cache = try cache.map { dir in try readable { try ResultCache(directory: dir, toolVersion: toolVersion) } }
        let progress = Progress(total: walk.items.count)
        let step: ProgressStep? = progress.enabled ? { @Sendable path in progress.step(path) } : nil
        let outcome = CheckEngine.run(request, kb: kb, walk: walk, progress: step)
        progress.finish()
        let stdout = try render(outcome, kb: kb, release: release, failOn: failOn)
        if let writeBaseline { try write(baselineOf: outcome, release: release, to: writeBaseline) }
        let status = outcome.gateFailed ? ExitStatus.gateFailed : outcome.summary.errors > 0 ? ExitStatus.inputError : ExitStatus.ok
        return CommandOutput(stdoutParts: stdout, exitCode: status)
    }

    /// Every report asked for: written to its --output, or returned for standard output.
    func render(_ outcome: CheckOutcome, kb: KnowledgeBase, release: AlpineRelease, failOn: FailOn) throws -> [String] {
        let formats = self.formats.isEmpty ? [ReportFormat.text] : self.formats
        let results = outcome.results, summary = outcome.summary
        // Per-file text and JSON are rendered on all cores.
        let wantsJSON = formats.contains(.json), wantsText = formats.contains(.text)
        let parts: [(text: String, json: String)] = parallelMap(results.count, jobs: jobs ?? CPU.count) { i in
            (wantsText ? CheckText.file(results[i]) : "", wantsJSON ? ((try? JSON.fragment(results[i], indent: 2)) ?? "{}") : "")
        }
        let gateResult = CheckReport.Gate(failOn: failOn.rawValue, failed: outcome.gateFailed)
        let target = CheckReport.Target(release)
        let tool = CheckReport.Tool(version: toolVersion)
        let run = RunReport(tool: tool, target: target, results: results, summary: summary, gate: gateResult, failing: outcome.failing)
        var stdout: [String] = []
        for (i, format) in formats.enumerated() {
            let text: String
            switch format {
            case .json:
                // Written in parts: the fragments are not joined into one string first.
                stdout += try deliver(try CheckReport.jsonParts(tool: tool, target: target, results: parts.map(\.json), summary: summary, gate: gateResult,
                                                                     extra: try outcome.placement?.jsonFields() ?? []),
                                      to: i < outputs.count ? outputs[i] : nil)
                continue
            case .text:
                // Summary first when there is more than one file; the gate's word last, where a terminal ends.
                let head = results.count > 1 ? CheckText.footer(summary, gate: CheckReport.Gate(failOn: failOn.rawValue, failed: false)).dropFirst() + "\n" : ""
                text = CheckText.header(target) + head + parts.map(\.text).joined() + CheckText.footer(summary, gate: gateResult)
            case .sarif: text = try SARIF.render(run, kb: kb)
            case .junit: text = JUnit.render(run)
            case .markdown: text = Markdown.render(run)
            case .html: text = HTML.render(run)
            }
            stdout += try deliver([text], to: i < outputs.count ? outputs[i] : nil)
        }
        return stdout
    }

    func write(baselineOf outcome: CheckOutcome, release: AlpineRelease, to file: String) throws {
        let entries = outcome.results.compactMap { r -> Baseline.Entry? in
            guard let a = r.assessment, a.verdict > .runs || !a.findings.isEmpty else { return nil }
            return Baseline.Entry(path: r.path, verdict: a.verdict.rawValue, rules: Array(Set(a.findings.map(\.rule))).sorted())
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        do { try encoder.encode(Baseline(target: "alpine:\(release.name)", entries: entries)).write(to: URL(fileURLWithPath: file)) } catch {
            throw UsageError(description: "cannot write the baseline \(file): \(error.localizedDescription)")
        }
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

func resolveTarget(_ name: String?, kb: KnowledgeBase) throws -> AlpineRelease {
    guard let name else {
        guard let newest = kb.newestStable else { throw ToolError(description: "knowledge base has no releases") }
        return newest
    }
    guard name.hasPrefix("alpine:") || name.first?.isNumber == true || name == "edge", let release = kb.release(named: name) else {
        let known = kb.releases.map { "alpine:\($0.name)" }.joined(separator: ", ")
        throw UsageError(description: "unknown target '\(name)'; known: \(known)")
    }
    return release
}
