// A recursive-descent parser for POSIX sh with the bash extensions scripts use (quotes, escapes, here-documents
// with `<<-` and quoted delimiters, `$(…)`, backticks, `${…}`, arithmetic, pipelines, lists, redirections,
// functions, if/case/for/while/until/select, subshells, brace groups, `[[ ]]`, `(( ))`). It builds no tree:
// it collects the simple commands, the features ash treats differently, and the first syntax error, which
// is all the rules need. Bounded: nesting deeper than `maxDepth` is a syntax error, never a stack overflow.

struct ShellParser {
    /// Deeper nesting than any real script uses; each level costs a few stack frames.
    static let maxDepth = 100

    let bytes: [UInt8]
    var pos: Int
    let end: Int
    var depth = 0
    var functionDepth = 0
    var pendingHereDocs: [(delimiter: [UInt8], stripTabs: Bool, expands: Bool)] = []
    var peeked: Token?
    var script = ShellScript()

    enum Op: String {
        case and = "&&"
        case or = "||"
        case pipe = "|"
        case pipeBoth = "|&"
        case amp = "&"
        case semi = ";"
        case dsemi = ";;"
        case semiAmp = ";&"
        case dsemiAmp = ";;&"
        case lparen = "("
        case rparen = ")"
        case less = "<"
        case great = ">"
        case dless = "<<"
        case dlessDash = "<<-"
        case tless = "<<<"
        case dgreat = ">>"
        case lessAnd = "<&"
        case greatAnd = ">&"
        case lessGreat = "<>"
        case clobber = ">|"
        case andGreat = "&>"
        case andDgreat = "&>>"

        var isRedirection: Bool {
            switch self {
            case .less, .great, .dless, .dlessDash, .tless, .dgreat, .lessAnd, .greatAnd, .lessGreat, .clobber,
                .andGreat, .andDgreat:
                true
            default: false
            }
        }
    }

    enum Token {
        case word(ShellWord, raw: Range<Int>)
        case ioNumber
        case op(Op, offset: Int)
        case newline(offset: Int)
        case eof
    }

    struct Stop: Error {}

    init(bytes: [UInt8], range: Range<Int>) {
        self.bytes = bytes
        pos = max(0, min(range.lowerBound, bytes.count))
        end = max(pos, min(range.upperBound, bytes.count))
    }

    /// Parses the whole range; the result is in `script` (with `error` set if it stopped early).
    static func parse(_ bytes: [UInt8], range: Range<Int>? = nil) -> ShellScript {
        var p = ShellParser(bytes: bytes, range: range ?? 0..<bytes.count)
        do {
            try p.parseList(stopWords: [], stopOps: [])
            if case .op(let op, let at) = try p.next() { try p.fail(at, "unexpected '\(op.rawValue)'") }
        } catch {}
        // Inner commands ($(…), backquotes) are found before the command around them: file order for callers.
        p.script.commands.sort { $0.name.offset < $1.name.offset }
        return p.script
    }

    // MARK: Errors

    mutating func fail(_ offset: Int, _ message: String) throws -> Never {
        if script.error == nil { script.error = ShellParseError(offset: offset, message: message) }
        throw Stop()
    }

    mutating func enter(_ offset: Int) throws {
        depth += 1
        if depth > Self.maxDepth { try fail(offset, "nesting deeper than \(Self.maxDepth) levels") }
    }

    mutating func note(_ feature: ShellFeature, _ from: Int, _ to: Int) {
        let cut = min(to, from + 40, end)
        script.features.append(
            SyntaxUse(
                feature: feature, offset: from,
                excerpt: String(decoding: bytes[from..<max(from, cut)], as: UTF8.self)))
    }

    // MARK: Bytes

    @inline(__always) func at(_ i: Int) -> UInt8 { i < end ? bytes[i] : 0 }

    static func isMeta(_ c: UInt8) -> Bool {
        switch c {
        case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: ";"), UInt8(ascii: "&"),
            UInt8(ascii: "|"), UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "("), UInt8(ascii: ")"):
            true
        default: false
        }
    }

    static func isNameStart(_ c: UInt8) -> Bool {
        (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z"))
            || c == UInt8(ascii: "_")
    }

    static func isNameChar(_ c: UInt8) -> Bool {
        isNameStart(c) || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9"))
    }

    // MARK: Tokens

    mutating func peek() throws -> Token {
        if let t = peeked { return t }
        let t = try lex()
        peeked = t
        return t
    }

    mutating func next() throws -> Token {
        if let t = peeked {
            peeked = nil
            return t
        }
        return try lex()
    }

    /// Blanks, line continuations and comments.
    mutating func skipBlanks() {
        while pos < end {
            let c = bytes[pos]
            if c == UInt8(ascii: " ") || c == UInt8(ascii: "\t") || c == UInt8(ascii: "\r") {
                pos += 1
            } else if c == UInt8(ascii: "\\") && at(pos + 1) == UInt8(ascii: "\n") {
                pos += 2
            } else if c == UInt8(ascii: "#") {
                while pos < end && bytes[pos] != UInt8(ascii: "\n") { pos += 1 }
            } else {
                break
            }
        }
    }

    mutating func lex() throws -> Token {
        pos = min(pos, end)
        skipBlanks()
        guard pos < end else { return .eof }
        let start = pos
        let c = bytes[pos]
        let d = at(pos + 1)
        let e = at(pos + 2)
        func op(_ o: Op, _ n: Int) -> Token {
            pos += n
            return .op(o, offset: start)
        }
        switch c {
        case UInt8(ascii: "\n"):
            pos += 1
            try readHereDocuments()
            return .newline(offset: start)
        case UInt8(ascii: "&"):
            if d == UInt8(ascii: "&") { return op(.and, 2) }
            if d == UInt8(ascii: ">") { return e == UInt8(ascii: ">") ? op(.andDgreat, 3) : op(.andGreat, 2) }
            return op(.amp, 1)
        case UInt8(ascii: "|"):
            if d == UInt8(ascii: "|") { return op(.or, 2) }
            if d == UInt8(ascii: "&") { return op(.pipeBoth, 2) }
            return op(.pipe, 1)
        case UInt8(ascii: ";"):
            if d == UInt8(ascii: ";") { return e == UInt8(ascii: "&") ? op(.dsemiAmp, 3) : op(.dsemi, 2) }
            if d == UInt8(ascii: "&") { return op(.semiAmp, 2) }
            return op(.semi, 1)
        case UInt8(ascii: "("): return op(.lparen, 1)
        case UInt8(ascii: ")"): return op(.rparen, 1)
        case UInt8(ascii: "<"):
            if d == UInt8(ascii: "(") { return try readWord() }  // process substitution
            if d == UInt8(ascii: "<") {
                if e == UInt8(ascii: "<") { return op(.tless, 3) }
                if e == UInt8(ascii: "-") { return op(.dlessDash, 3) }
                return op(.dless, 2)
            }
            if d == UInt8(ascii: "&") { return op(.lessAnd, 2) }
            if d == UInt8(ascii: ">") { return op(.lessGreat, 2) }
            return op(.less, 1)
        case UInt8(ascii: ">"):
            if d == UInt8(ascii: "(") { return try readWord() }
            if d == UInt8(ascii: ">") { return op(.dgreat, 2) }
            if d == UInt8(ascii: "&") { return op(.greatAnd, 2) }
            if d == UInt8(ascii: "|") { return op(.clobber, 2) }
            return op(.great, 1)
        default:
            return try readWord()
        }
    }
}
