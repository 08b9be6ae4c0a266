// The command line: parses arguments, runs a command, and hands back what to print and the exit status.
// Commands build their output as values so that tests run them in-process; only `emit` (standard output
// and error) and `deliver` (--output files) write.
import ArgumentParser
import Engine
import Knowledge

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
#if canImport(Glibc)
    import Glibc
#endif

public struct CommandOutput: Sendable {
    /// Standard output in consecutive parts: a large report is written without being joined first.
    public var stdoutParts: [String]
    public var stderr: String
    public var exitCode: Int32
    public var stdout: String { stdoutParts.joined() }
    public init(stdout: String = "", stderr: String = "", exitCode: Int32 = 0) {
        self.init(stdoutParts: [stdout], stderr: stderr, exitCode: exitCode)
    }
    public init(stdoutParts: [String], stderr: String = "", exitCode: Int32 = 0) {
        self.stdoutParts = stdoutParts
        self.stderr = stderr
        self.exitCode = exitCode
    }
}

/// Exit statuses: scripts depend on these numbers.
public enum ExitStatus {
    public static let ok: Int32 = 0
    public static let gateFailed: Int32 = 1
    public static let inputError: Int32 = 2
    public static let usage: Int32 = 64
}

protocol OutputCommand: ParsableCommand {
    func execute() throws -> CommandOutput
}

extension OutputCommand {
    func run() throws {
        let output = try execute()
        emit(output)
        if output.exitCode != 0 { throw ExitCode(output.exitCode) }
    }
}

struct UsageError: Error, CustomStringConvertible {
    var description: String
}

/// An input that cannot be used at all (a path that does not exist, nothing to assess, a report that
/// cannot be written): said on standard error, exit status 2, before or instead of any verdict.
struct InputError: Error, CustomStringConvertible {
    var description: String
    /// Already rendered reports for standard output (written before the message).
    var stdoutParts: [String] = []
}

public enum CLI {
    /// Runs muslcheck with `arguments` (without the program name) in `context` (the process's own by default).
    public static func run(_ arguments: [String], context: RunContext = .process) -> CommandOutput {
        RunContext.$current.withValue(context) { run(arguments) }
    }

    static func run(_ arguments: [String]) -> CommandOutput {
        if arguments.first == "--version" && arguments.count == 1 { return CommandOutput(stdout: versionText() + "\n") }
        do {
            var command = try Muslcheck.parseAsRoot(arguments)
            if let runnable = command as? OutputCommand { return try runnable.execute() }
            try command.run()
            return CommandOutput()
        } catch let error as UsageError {
            return CommandOutput(stderr: "error: \(error.description)\n", exitCode: ExitStatus.usage)
        } catch let error as InputError {
            return CommandOutput(
                stdoutParts: error.stdoutParts, stderr: "error: \(error.description)\n", exitCode: ExitStatus.inputError
            )
        } catch {
            let code = Muslcheck.exitCode(for: error).rawValue
            let message = Muslcheck.fullMessage(for: error)
            if code == 0 { return CommandOutput(stdout: message + "\n") }
            return CommandOutput(stderr: message + "\n", exitCode: code == 1 ? ExitStatus.inputError : code)
        }
    }

    /// `muslcheck --version`: the tool, the knowledge base it carries and the release it judges against by default.
    static func versionText() -> String {
        let target = (try? loadKnowledge())?.newestStable.map { "alpine:\($0.name)" } ?? "unknown"
        return "muslcheck \(toolVersion) (knowledge base \(KnowledgeBase.dataVersion), default target \(target))"
    }

    public static func main() -> Never {
        let output = run(Array(CommandLine.arguments.dropFirst()))
        emit(output)
        exit(output.exitCode)
    }
}

func emit(_ output: CommandOutput) {
    for part in output.stdoutParts { writeAll(part, to: 1) }
    writeAll(output.stderr, to: 2)
}

/// Writes without copying the text again (reports can be many megabytes); false when the write failed.
@discardableResult
func writeAll(_ text: String, to fd: Int32) -> Bool { LocalFile.writeAll(text, to: fd) }

struct Muslcheck: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "muslcheck",
        abstract: "Will this binary run on Alpine Linux (musl libc), and if not, what fixes it?",
        discussion: """
            Exit status: 0 nothing reached the --fail-on level; 1 the gate failed; 2 some input could not be \
            read or assessed; 64 usage error.

            Examples:
              muslcheck dist/                                   (check is the default subcommand)
              muslcheck check -f sarif -o muslcheck.sarif image.tar
              muslcheck inspect ./app
              muslcheck explain symbol-missing
              muslcheck kb

            Shell completion (completes options and --target values):
              muslcheck --generate-completion-script bash > /etc/bash_completion.d/muslcheck
              muslcheck --generate-completion-script zsh > "${fpath[1]}/_muslcheck"
              muslcheck --generate-completion-script fish > ~/.config/fish/completions/muslcheck.fish
            """,
        version: toolVersion,
        subcommands: [Check.self, Inspect.self, Migrate.self, Explain.self, KB.self, Merge.self],
        defaultSubcommand: Check.self
    )
}

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}

/// Writes `text` to `--output FILE` when given (and not `-`), else returns it for stdout.
func deliver(_ text: String, to file: String?) throws -> String {
    try deliver([text], to: file).joined()
}

/// Writes the parts of a report to `--output FILE` when given (and not `-`), else returns them for stdout.
/// The file is opened and truncated in place, never replaced: a symbolic link is written through, a FIFO
/// or device (/dev/stdout) is written to, and their owners and modes stay. A failed write is exit status 2.
func deliver(_ parts: [String], to file: String?) throws -> [String] {
    guard let file, file != "-" else { return parts }
    // Written in place through LocalFile (never replaced by a rename): a symlink, FIFO or device stays what it is.
    do { try LocalFile.write(parts, to: file) } catch {
        throw InputError(description: "cannot write \(file): \(error)")
    }
    return []
}
