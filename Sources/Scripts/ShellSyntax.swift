// What the shell parser finds in a script: every simple command with its words and where they are, the
// syntax features used (the ones BusyBox ash treats differently from bash), the functions defined, and the
// first syntax error. Offsets are byte offsets into the file the script was read from.

/// One word of a command line.
public struct ShellWord: Sendable, Hashable {
    /// Byte offset of the word's first byte in the file.
    public var offset: Int
    /// Length of the word in the file, quotes included.
    public var length: Int
    /// The word after quote removal when it holds no expansion (`"-P"` → `-P`); nil when it expands
    /// something (`$x`, `$(…)`, `*`), so no rule guesses at run-time values.
    public var literal: String?
    /// Quote removal applied to the static parts only, expansions dropped: for messages.
    public var text: String
}

/// A simple command: the command word and its arguments (redirections and leading assignments removed).
public struct ShellCommand: Sendable, Hashable {
    public var name: ShellWord
    public var arguments: [ShellWord]
    /// Inside a function body (`local` is legal there only).
    public var inFunction: Bool
}

/// A syntax feature whose meaning depends on the shell. The raw values are the keys of ash-syntax.tsv.
public struct ShellFeature: RawRepresentable, Sendable, Hashable, Codable {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    public static let arrayAssignment = ShellFeature(rawValue: "array-assignment")
    public static let arraySubscript = ShellFeature(rawValue: "array-subscript")
    public static let caseModification = ShellFeature(rawValue: "case-modification")
    public static let indirectExpansion = ShellFeature(rawValue: "indirect-expansion")
    public static let transformExpansion = ShellFeature(rawValue: "transform-expansion")
    public static let arithmeticFor = ShellFeature(rawValue: "arithmetic-for")
    public static let arithmeticCommand = ShellFeature(rawValue: "arithmetic-command")
    public static let hereString = ShellFeature(rawValue: "here-string")
    public static let pipeStderr = ShellFeature(rawValue: "pipe-stderr")
    public static let appendAssignment = ShellFeature(rawValue: "append-assignment")
    public static let fdVariable = ShellFeature(rawValue: "fd-variable")
    public static let braceExpansion = ShellFeature(rawValue: "brace-expansion")
    public static let fileSubstitution = ShellFeature(rawValue: "file-substitution")
    public static let processSubstitution = ShellFeature(rawValue: "process-substitution")
    public static let doubleBracket = ShellFeature(rawValue: "double-bracket")
    public static let ansiCQuote = ShellFeature(rawValue: "ansi-c-quote")
    public static let localeQuote = ShellFeature(rawValue: "locale-quote")
    public static let redirectBoth = ShellFeature(rawValue: "redirect-both")
    public static let functionKeyword = ShellFeature(rawValue: "function-keyword")
    public static let select = ShellFeature(rawValue: "select")
    public static let coproc = ShellFeature(rawValue: "coproc")
    public static let extglob = ShellFeature(rawValue: "extglob")
    public static let caseFallthrough = ShellFeature(rawValue: "case-fallthrough")
}

public struct SyntaxUse: Sendable, Hashable {
    public var feature: ShellFeature
    public var offset: Int
    /// The source text that shows it (cut to a short excerpt).
    public var excerpt: String
}

public struct ShellParseError: Error, Sendable, Hashable {
    public var offset: Int
    public var message: String
}

/// Everything the parser found in one piece of shell text.
public struct ShellScript: Sendable {
    public var commands: [ShellCommand] = []
    public var features: [SyntaxUse] = []
    /// Names of parameters expanded (`$BASH_VERSION`, `${PIPESTATUS[0]}`), with the first offset of each.
    public var variables: [String: Int] = [:]
    public var functions: Set<String> = []
    /// The first syntax error; parsing stops there, as `sh -n` does.
    public var error: ShellParseError?

    public init() {}
}

/// Line and column (both from 1; the column counts bytes) of byte offsets in one file.
public struct LineMap: Sendable {
    private let starts: [Int]

    public init(_ bytes: [UInt8]) {
        var starts = [0]
        bytes.withUnsafeBufferPointer { buffer in
            for (i, b) in buffer.enumerated() where b == UInt8(ascii: "\n") { starts.append(i + 1) }
        }
        self.starts = starts
    }

    public init(_ bytes: some Collection<UInt8>) { self.init(Array(bytes)) }

    public func position(of offset: Int) -> (line: Int, column: Int) {
        var lo = 0
        var hi = starts.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if starts[mid] <= offset { lo = mid } else { hi = mid - 1 }
        }
        return (lo + 1, offset - starts[lo] + 1)
    }
}
