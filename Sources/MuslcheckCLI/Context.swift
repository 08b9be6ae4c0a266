// What a run takes from its surroundings besides the arguments: the environment (MUSLCHECK_*, NO_COLOR,
// COLUMNS), whether standard output and error are terminals and how wide, and standard input (for
// --files-from -). A task-local value, so that tests run commands in-process, in parallel, each with its own.
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

public struct RunContext: Sendable {
    public var environment: [String: String]
    public var stdoutIsTerminal: Bool
    public var stderrIsTerminal: Bool
    /// Columns of the terminal standard output writes to, when it is one.
    public var terminalWidth: Int?
    /// Reads all of standard input.
    public var readStandardInput: @Sendable () -> Data

    public init(
        environment: [String: String] = [:], stdoutIsTerminal: Bool = false, stderrIsTerminal: Bool = false,
        terminalWidth: Int? = nil, standardInput: Data = Data()
    ) {
        self.environment = environment
        self.stdoutIsTerminal = stdoutIsTerminal
        self.stderrIsTerminal = stderrIsTerminal
        self.terminalWidth = terminalWidth
        readStandardInput = { standardInput }
    }

    /// The process's own surroundings.
    public static var process: RunContext {
        var c = RunContext(
            environment: ProcessInfo.processInfo.environment, stdoutIsTerminal: isatty(1) != 0,
            stderrIsTerminal: isatty(2) != 0)
        c.readStandardInput = { Data(LocalFile.readAll(fd: 0)) }
        if c.stdoutIsTerminal {
            var size = winsize()
            if ioctl(1, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 {
                c.terminalWidth = Int(size.ws_col)
            } else if let columns = c.environment["COLUMNS"].flatMap(Int.init), columns > 0 {
                c.terminalWidth = columns
            }
        }
        return c
    }

    @TaskLocal public static var current = RunContext.process

    /// MUSLCHECK_<NAME>, when set and not empty.
    func variable(_ name: String) -> String? {
        guard let value = environment["MUSLCHECK_" + name], !value.isEmpty else { return nil }
        return value
    }
}

/// --color: auto colours a terminal unless NO_COLOR is set (no-color.org) or TERM is dumb.
enum ColorChoice: String, ExpressibleByArgument, CaseIterable {
    case auto, always, never

    func enabled(terminal: Bool, environment: [String: String]) -> Bool {
        switch self {
        case .always: return true
        case .never: return false
        case .auto: return terminal && (environment["NO_COLOR"] ?? "").isEmpty && environment["TERM"] != "dumb"
        }
    }
}
