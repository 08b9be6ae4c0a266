// The option types of `check` beside the command itself: archive limits, report formats, SARIF grouping.
import Archives
import ArgumentParser
import Engine
import Knowledge

/// Limits on archives, so that no input can exhaust memory; an archive over one is reported, not skipped.
struct LimitOptions: ParsableArguments {
    @Option(name: .customLong("max-depth"), help: "Archives nested deeper than this are reported, not opened.")
    var maxDepth = 5
    @Option(
        name: .customLong("max-member-bytes"),
        help: ArgumentHelp(
            "Largest archive member held in memory: an ELF file, or a zip inside a compressed stream (bytes, or 512K, 256M, 2G…). Archives and images themselves are read as streams, whatever their size.",
            valueName: "size"))
    var maxMemberBytes = ByteSize(256 << 20)
    @Option(
        name: .customLong("max-total-bytes"),
        help: ArgumentHelp(
            "Most bytes decompressed from one input (bytes, or 512M, 64G…); past 1 GiB, also at most --max-expansion-ratio times the bytes of the input read.",
            valueName: "size"))
    var maxTotalBytes = ByteSize(64 << 30)
    @Option(
        name: .customLong("max-expansion-ratio"),
        help:
            "Past 1 GiB decompressed from one input, the most bytes out per byte read: bombs are stopped, real images are not."
    )
    var maxExpansionRatio = 100
    @Option(name: .customLong("max-entries"), help: "Most entries read from one archive.")
    var maxEntries = 200_000
    @Option(
        name: .customLong("max-seconds-per-file"),
        help: ArgumentHelp(
            "Time for reading one file, or one archive with everything in it, and as much again for each 256 MiB of it read; a file that needs more is reported as an error.",
            valueName: "seconds"))
    var maxSeconds = 60.0

    var archiveLimits: ArchiveLimits {
        var l = ArchiveLimits()
        l.maxDepth = maxDepth
        l.maxMemberBytes = maxMemberBytes.bytes
        l.maxTotalBytes = maxTotalBytes.bytes
        l.maxEntries = maxEntries
        l.maxExpansionRatio = maxExpansionRatio
        l.maxSeconds = maxSeconds
        // For the benchmark of what judging scripts costs (README, Performance) only.
        l.scripts = RunContext.current.variable("BENCH_NO_SCRIPTS") == nil
        return l
    }

    func validate() throws {
        if maxDepth < 0 || maxMemberBytes.bytes < 1 || maxTotalBytes.bytes < 1 || maxEntries < 1
            || maxExpansionRatio < 1
        {
            throw ValidationError("archive limits must be positive")
        }
        if !(maxSeconds > 0) { throw ValidationError("--max-seconds-per-file must be positive") }
    }
}

enum ReportFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json, sarif, junit, markdown, html
}

extension FailOn: ExpressibleByArgument {}
extension Rule.Severity: ExpressibleByArgument {}

/// How SARIF groups results: one per finding (default), or one per file that fails the gate.
enum SarifResults: String, ExpressibleByArgument, CaseIterable { case finding, file }

/// The targets the knowledge base knows, for help and shell completion.
func knownTargets() -> [String] {
    KnowledgeBase.releaseNames().map { "alpine:\($0)" }
}
