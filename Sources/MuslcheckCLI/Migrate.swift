import ArgumentParser
import Engine
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import Migration
import Scanning

enum MigrateFormat: String, ExpressibleByArgument, CaseIterable { case text, json, markdown, html }

struct Migrate: OutputCommand {
    static let configuration = CommandConfiguration(
        abstract: "Plan the move of an unpacked Debian or Ubuntu root filesystem to Alpine.",
        discussion: """
            Classifies every ELF file once (the distribution's, replaced by Alpine packages; the C library's, \
            replaced by musl; the application's, judged as check judges it), maps each installed package to \
            its Alpine counterpart, follows the Dockerfile's entrypoint, and proposes an Alpine Dockerfile. \
            Exit status: 0 the plan was made; 2 the root could not be read; 64 usage error.
            """)

    @Argument(help: "An unpacked root filesystem (a directory holding etc/, usr/, var/lib/dpkg …).")
    var root: String

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

    func execute() throws -> CommandOutput {
        var st = stat()
        guard stat(root, &st) == 0 else {
            throw UsageError(description: "\(root) does not exist")
        }
        guard st.st_mode & S_IFMT == S_IFDIR else {
            throw UsageError(description: "\(root) is not a directory: migrate reads an unpacked root filesystem (for an image, unpack its layers into one directory first)")
        }
        if let dockerfile, !FileManager.default.isReadableFile(atPath: dockerfile) { throw UsageError(description: "cannot read \(dockerfile)") }
        let kb = try loadKnowledge()
        let release = try resolveTarget(target, kb: kb)
        let plan = Migration.plan(MigrationRequest(root: root, release: release, dockerfile: dockerfile, jobs: jobs ?? CPU.count), kb: kb)
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
