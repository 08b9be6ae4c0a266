import ArgumentParser
import ELF
import Foundation
import Reporting
import Scanning

struct Inspect: OutputCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the raw ELF facts that decide loading (interpreter, NEEDED, RPATH, versioned imports...).")

    @Argument(help: "Files and directories (walked recursively).")
    var paths: [String] = []

    @Option(help: "text or json.")
    var format: OutputFormat = .text

    @Option(help: "Parallel workers (default: all cores).")
    var jobs: Int?

    @Flag(help: "Also list the names of exported (defined) dynamic symbols.")
    var exports = false

    @Flag(help: "Follow symbolic links while walking directories.")
    var followSymlinks = false

    @Option(help: "Write the report to this file instead of standard output.")
    var output: String?

    func validate() throws {
        if paths.isEmpty { throw ValidationError("name at least one file or directory") }
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1") }
    }

    func execute() throws -> CommandOutput {
        let items = Walker.collect(paths, options: WalkOptions(followSymlinks: followSymlinks))
        let scanned = Scanner.read(items, jobs: jobs ?? CPU.count, options: ReadOptions(exportNames: exports))
        // Walked files that are not ELF are left out; named ones are listed as not-elf.
        let files = scanned.filter { s in
            if case .notELF = s.result { return s.item.explicit }
            return true
        }.map(InspectedFile.init)
        let text: String
        switch format {
        case .json: text = try JSON.encode(InspectReport(files: files))
        case .text: text = InspectText.render(files)
        }
        let failed = files.contains { $0.status == "error" }
        return CommandOutput(stdout: try deliver(text, to: output), exitCode: failed ? ExitStatus.inputError : ExitStatus.ok)
    }
}
