// The command line: parses arguments, runs a command, and hands back what to print and the exit status.
// Commands build their output as values so that tests run them in-process; only main.swift writes.
import ArgumentParser
import Foundation

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
        self.stdoutParts = stdoutParts; self.stderr = stderr; self.exitCode = exitCode
    }
}

/// Exit statuses (ARCHITECTURE.md §3): scripts depend on these numbers.
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

public enum CLI {
    /// Runs muslcheck with `arguments` (without the program name).
    public static func run(_ arguments: [String]) -> CommandOutput {
        do {
            var command = try Muslcheck.parseAsRoot(arguments)
            if let runnable = command as? OutputCommand { return try runnable.execute() }
            try command.run()
            return CommandOutput()
        } catch let error as UsageError {
            return CommandOutput(stderr: "error: \(error.description)\n", exitCode: ExitStatus.usage)
        } catch {
            let code = Muslcheck.exitCode(for: error).rawValue
            let message = Muslcheck.fullMessage(for: error)
            if code == 0 { return CommandOutput(stdout: message + "\n") }
            return CommandOutput(stderr: message + "\n", exitCode: code == 1 ? ExitStatus.inputError : code)
        }
    }

    public static func main() -> Never {
        let output = run(Array(CommandLine.arguments.dropFirst()))
        emit(output)
        exit(output.exitCode)
    }
}

func emit(_ output: CommandOutput) {
    for part in output.stdoutParts { write(part, to: 1) }
    write(output.stderr, to: 2)
}

/// Writes without copying the text again (reports can be many megabytes); false when the write failed.
@discardableResult
private func write(_ text: String, to fd: Int32) -> Bool {
    var text = text
    return text.withUTF8 { bytes -> Bool in
        var offset = 0
        while offset < bytes.count, let base = bytes.baseAddress {
            let n = Foundation.write(fd, base + offset, bytes.count - offset)
            if n <= 0 { if n < 0 && errno == EINTR { continue } else { return false } }
            offset += n
        }
        return true
    }
}

struct Muslcheck: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "muslcheck",
        abstract: "Will this binary run on Alpine Linux (musl libc), and if not, what fixes it?",
        discussion: """
            Exit status: 0 nothing reached the --fail-on level; 1 the gate failed; 2 some input could not be \
            read or assessed; 64 usage error.
            """,
        version: toolVersion,
        subcommands: [Check.self, Inspect.self, Explain.self, KB.self, Merge.self],
        defaultSubcommand: Check.self
    )
}

let toolVersion = "0.1.0"

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}

/// Writes `text` to `--output FILE` when given, else returns it for stdout.
func deliver(_ text: String, to file: String?) throws -> String {
    try deliver([text], to: file).joined()
}

/// Writes the parts of a report to `--output FILE` when given, else returns them for stdout.
func deliver(_ parts: [String], to file: String?) throws -> [String] {
    guard let file else { return parts }
    guard FileManager.default.createFile(atPath: file, contents: nil), let handle = FileHandle(forWritingAtPath: file) else {
        throw UsageError(description: "cannot write \(file): \(String(cString: strerror(errno)))")
    }
    defer { try? handle.close() }
    for part in parts where !write(part, to: handle.fileDescriptor) {
        throw UsageError(description: "cannot write \(file): \(String(cString: strerror(errno)))")
    }
    return []
}
