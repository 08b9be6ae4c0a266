import ArgumentParser
import ELF
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

struct Inspect: OutputCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the raw ELF facts that decide loading (interpreter, NEEDED, RPATH, versioned imports...).",
        discussion: """
            Exit status: 0 every file was read; 2 some file could not be read, or a path does not exist; 64 usage error.

            Examples:
              muslcheck inspect ./app
              muslcheck inspect -f json --exports lib/ > facts.json
            """)

    @Argument(help: "Files and directories (walked recursively).")
    var paths: [String] = []

    @Option(name: .shortAndLong, help: "Report format.")
    var format: OutputFormat = .text

    @Option(help: "Parallel workers (default: all cores).")
    var jobs: Int?

    @Flag(help: "Also list the names of exported (defined) dynamic symbols.")
    var exports = false

    @Flag(help: "Follow symbolic links while walking directories.")
    var followSymlinks = false

    @Option(
        name: .shortAndLong,
        help: ArgumentHelp(
            "Write the report to this file instead of standard output (- for standard output).", valueName: "file"))
    var output: String?

    @OptionGroup var limits: LimitOptions

    func validate() throws {
        if paths.isEmpty { throw ValidationError("name at least one file or directory") }
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1") }
    }

    func execute() throws -> CommandOutput {
        for path in paths {
            var st = stat()
            if lstat(path, &st) != 0 { throw InputError(description: "\(path): \(String(cString: strerror(errno)))") }
        }
        let items = Walker.collect(paths, options: WalkOptions(followSymlinks: followSymlinks))
        let options = ReadOptions(exportNames: exports)
        let json = format == .json
        // Each worker reads one file and renders its part of the report, so output scales with the cores.
        let rendered: [[(text: String, failed: Bool)]] = parallelMap(items.count, jobs: jobs ?? CPU.count) { index in
            Scanner.scan(items[index], options: options, limits: limits.archiveLimits).compactMap { scanned in
                // Walked files that are not ELF are left out; named ones are listed as not-elf.
                if case .notELF = scanned.result, !scanned.item.explicit { return nil }
                let file = InspectedFile(scanned)
                let text = json ? JSON.fragment(file, indent: 2) : InspectText.render(file)
                return (text, file.status == .error)
            }
        }
        let files = rendered.flatMap { $0 }
        let parts = json ? InspectReport.jsonParts(files: files.map(\.text)) : files.map(\.text)
        let failed = files.contains { $0.failed }
        return CommandOutput(
            stdoutParts: try deliver(parts, to: output), exitCode: failed ? ExitStatus.inputError : ExitStatus.ok)
    }
}
