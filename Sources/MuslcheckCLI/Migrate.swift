import ArgumentParser
import Engine
import Migration
import Scanning

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
#if canImport(Glibc)
    import Glibc
#endif

enum MigrateFormat: String, ExpressibleByArgument, CaseIterable { case text, json, markdown, html }

struct Migrate: OutputCommand {
    static let configuration = CommandConfiguration(
        abstract: "Plan the move of a Debian or Ubuntu image, or its unpacked root filesystem, to Alpine.",
        discussion: """
            Reads a docker save tarball (plain or compressed), an OCI layout directory or an OCI layout in a tar \
            — streamed as check reads them — or an unpacked root filesystem. Classifies every ELF file once (the \
            distribution's, replaced by Alpine packages; the C library's, replaced by musl; the application's, \
            judged as check judges it), maps each installed package to its Alpine counterpart, follows the \
            entrypoint (from the image configuration, else the Dockerfile), and proposes an Alpine Dockerfile. \
            Exit status: 0 the plan was made; 2 the input could not be read; 64 usage error.
            """)

    @Argument(
        help:
            "An image (docker save tarball, OCI layout or OCI tar) or an unpacked root filesystem (a directory holding etc/, usr/, var/lib/dpkg …)."
    )
    var input: String

    @Option(help: "The Dockerfile that built the image: its entrypoint is followed and it is rewritten for Alpine.")
    var dockerfile: String?

    @Option(help: "Alpine release to move to (default: newest stable).")
    var target: String?

    @Option(help: "text, json, markdown or html.")
    var format: MigrateFormat = .text

    @Option(help: "Write the report to this file instead of standard output.")
    var output: String?

    @Option(help: "Parallel workers (default: all cores).")
    var jobs: Int?

    /// Archive and image limits, as for check.
    @OptionGroup var limits: LimitOptions

    func execute() throws -> CommandOutput {
        var st = stat()
        guard stat(input, &st) == 0 else { throw UsageError(description: "\(input) does not exist") }
        if let dockerfile, !FileManager.default.isReadableFile(atPath: dockerfile) {
            throw UsageError(description: "cannot read \(dockerfile)")
        }
        let kb = try loadKnowledge()
        let release = try resolveTarget(target, kb: kb)
        let plan: MigrationPlan
        do {
            plan = try Migration.plan(
                MigrationRequest(
                    root: input, release: release, dockerfile: dockerfile, jobs: jobs ?? CPU.count,
                    limits: limits.archiveLimits), kb: kb)
        } catch let error as MigrationError {
            throw InputError(description: error.description)
        }
        let text: String
        switch format {
        case .text: text = MigrationReport.text(plan)
        case .json: text = try MigrationReport.json(plan)
        case .markdown: text = MigrationReport.markdown(plan)
        case .html: text = MigrationReport.html(plan)
        }
        return CommandOutput(stdout: try deliver(text, to: output), exitCode: ExitStatus.ok)
    }
}
