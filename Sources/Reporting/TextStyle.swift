// How the text report looks on the way out: colour (on a terminal, or when asked), lines wrapped to the
// terminal's width with hanging indents, and every text that came from a file (paths, symbol and library
// names, PT_INTERP) escaped, so that no control character from an input reaches a terminal raw.
import Assessment
import Knowledge

public struct TextStyle: Sendable {
    /// ANSI colours for verdicts, severities and the gate's word.
    public var color: Bool
    /// Wrap lines to this many columns (a terminal's width); nil: never wrap (pipes, files, goldens).
    public var width: Int?
    public init(color: Bool = false, width: Int? = nil) {
        self.color = color
        self.width = width
    }
    public static let plain = TextStyle()

    enum Paint: String {
        case green = "32"
        case yellow = "33"
        case orange = "38;5;208"
        case red = "31"
        case boldRed = "1;31"
        case cyan = "36"
        case dim = "2"
        case bold = "1"
    }

    func paint(_ text: String, _ p: Paint) -> String { color ? "\u{1B}[\(p.rawValue)m\(text)\u{1B}[0m" : text }

    func verdict(_ v: String) -> String {
        switch v {
        case Verdict.runs.rawValue: return paint(v, .green)
        case Verdict.needsLibc6Compat.rawValue: return paint(v, .yellow)
        case Verdict.needsGcompat.rawValue: return paint(v, .orange)
        case Verdict.needsRebuild.rawValue, "error": return paint(v, .boldRed)
        default: return paint(v, .dim)
        }
    }

    func severity(_ s: Rule.Severity) -> String {
        switch s {
        case .error: return paint("error", .red)
        case .warning: return paint("warning", .yellow)
        case .note: return paint("note", .cyan)
        }
    }

    /// Wraps each line longer than `width` at spaces; continuation lines hang four columns further in
    /// than the line's own indent. A word longer than the width (a path) is kept whole.
    public func wrap(_ text: String) -> String {
        guard let width, width >= 20 else { return text }
        var lines: [String] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if visibleCount(line) <= width {
                lines.append(String(line))
                continue
            }
            let indent = line.prefix { $0 == " " }.count
            let hang = String(repeating: " ", count: min(indent + 4, width / 2))
            var current = String(line.prefix(indent))
            var currentWidth = indent
            var hasWord = false
            for word in line.dropFirst(indent).split(separator: " ") {
                let w = visibleCount(word)
                if hasWord && currentWidth + 1 + w > width {
                    lines.append(current)
                    current = hang
                    currentWidth = hang.count
                    hasWord = false
                }
                if hasWord {
                    current += " "
                    currentWidth += 1
                }
                current += word
                currentWidth += w
                hasWord = true
            }
            lines.append(current)
        }
        return lines.joined(separator: "\n")
    }

    /// Characters a terminal shows (ANSI colour sequences take none).
    func visibleCount<S: StringProtocol>(_ s: S) -> Int {
        var n = 0
        var inEscape = false
        for scalar in s.unicodeScalars {
            if inEscape {
                if scalar == "m" { inEscape = false }
                continue
            }
            if scalar == "\u{1B}" {
                inEscape = true
                continue
            }
            n += 1
        }
        return n
    }
}

public enum Escape {
    /// Text from a file, safe for a terminal: C0 and C1 controls and DEL as `\n`, `\t`, `\x1b`, `\u{85}`,
    /// and the bidirectional overrides that reorder what a terminal shows as `\u{202e}`; a backslash is kept.
    public static func terminal(_ s: String) -> String {
        // Fast path over bytes: only C0 controls, DEL, and the lead bytes of C1 controls (0xC2) and of the
        // U+20xx marks (0xE2) can start something to escape.
        guard s.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F || $0 == 0xC2 || $0 == 0xE2 }),
            s.unicodeScalars.contains(where: needsEscape)
        else { return s }
        var out = ""
        for scalar in s.unicodeScalars {
            guard needsEscape(scalar) else {
                out.unicodeScalars.append(scalar)
                continue
            }
            switch scalar {
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                let hex = String(scalar.value, radix: 16)
                out += scalar.value < 0x80 ? "\\x" + (hex.count == 1 ? "0" + hex : hex) : "\\u{\(hex)}"
            }
        }
        return out
    }

    static func needsEscape(_ c: Unicode.Scalar) -> Bool {
        c.value < 0x20 || (0x7F...0x9F).contains(c.value) || (0x202A...0x202E).contains(c.value)
            || (0x2066...0x2069).contains(c.value)
            || c.value == 0x2028 || c.value == 0x2029
    }
}

/// The finding behind a file's verdict: the rule that raised it to this level (the verdict engine raises
/// only through these), so every report can give the blocking reason first.
public enum Blocking {
    static let raisers: [Verdict: [RuleID]] = [
        .needsRebuild: [
            .symbolMissing, .muslSymbolNewer, .ifuncSymbols, .irelative, .glibcOnlyLibrary, .libraryNotOnAlpine,
            .compatLibraryUnavailable, .unknownInterpreter, .dependency,
        ],
        .needsGcompat: [.symbolGcompat, .loaderNeeded, .compatLibrary, .glibcInterpreter, .dependency],
        .needsLibc6Compat: [.glibcInterpreter, .compatLibrary, .dependency],
    ]

    public static func finding(_ a: Assessment) -> Finding? {
        for rule in raisers[a.verdict] ?? [] { if let f = a.findings.first(where: { $0.rule == rule }) { return f } }
        // runs (or an ignored rule): the most severe finding that is not a note.
        return a.findings.filter { $0.severity > .note }.max { $0.severity < $1.severity }
    }

    /// Findings with the blocking one first, then by severity (stable within a severity).
    public static func ordered(_ a: Assessment) -> [Finding] {
        let first = finding(a)
        var rest = a.findings.enumerated().filter { $0.element != first }
        rest.sort {
            $0.element.severity != $1.element.severity
                ? $0.element.severity > $1.element.severity : $0.offset < $1.offset
        }
        return (first.map { [$0] } ?? []) + rest.map(\.element)
    }

    /// One line: the rule and what it names (symbols or libraries, a few, with a count of the rest).
    public static func reason(_ a: Assessment, limit: Int = 4) -> String {
        guard let f = finding(a) else { return "" }
        // A library it loads is named by its file name: the directory is in the file's own report.
        let names =
            f.symbols.isEmpty
            ? f.libraries.map {
                f.rule == .dependency ? String($0.split(separator: "/").last ?? Substring($0)) : $0
            } : f.symbols
        guard !names.isEmpty else { return f.rule.rawValue }
        return "\(f.rule): " + names.prefix(limit).joined(separator: ", ")
            + (names.count > limit ? " and \(names.count - limit) more" : "")
    }
}
