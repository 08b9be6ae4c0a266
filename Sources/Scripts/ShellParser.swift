// A recursive-descent parser for POSIX sh with the bash extensions scripts use (quotes, escapes, here-documents
// with `<<-` and quoted delimiters, `$(…)`, backticks, `${…}`, arithmetic, pipelines, lists, redirections,
// functions, if/case/for/while/until/select, subshells, brace groups, `[[ ]]`, `(( ))`). It builds no tree:
// it collects the simple commands, the features ash treats differently, and the first syntax error, which
// is all the rules need. Bounded: nesting deeper than `maxDepth` is a syntax error, never a stack overflow.

struct ShellParser {
    /// Deeper nesting than any real script uses; each level costs a few stack frames.
    static let maxDepth = 100

    private let bytes: [UInt8]
    private var pos: Int
    private let end: Int
    private var depth = 0
    private var functionDepth = 0
    private var pendingHereDocs: [(delimiter: [UInt8], stripTabs: Bool, expands: Bool)] = []
    private var peeked: Token?
    var script = ShellScript()

    private enum Op: String {
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

    private enum Token {
        case word(ShellWord, raw: Range<Int>)
        case ioNumber
        case op(Op, offset: Int)
        case newline(offset: Int)
        case eof
    }

    private struct Stop: Error {}

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

    private mutating func fail(_ offset: Int, _ message: String) throws -> Never {
        if script.error == nil { script.error = ShellParseError(offset: offset, message: message) }
        throw Stop()
    }

    private mutating func enter(_ offset: Int) throws {
        depth += 1
        if depth > Self.maxDepth { try fail(offset, "nesting deeper than \(Self.maxDepth) levels") }
    }

    private mutating func note(_ feature: ShellFeature, _ from: Int, _ to: Int) {
        let cut = min(to, from + 40, end)
        script.features.append(
            SyntaxUse(
                feature: feature, offset: from,
                excerpt: String(decoding: bytes[from..<max(from, cut)], as: UTF8.self)))
    }

    // MARK: Bytes

    @inline(__always) private func at(_ i: Int) -> UInt8 { i < end ? bytes[i] : 0 }

    private static func isMeta(_ c: UInt8) -> Bool {
        switch c {
        case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: ";"), UInt8(ascii: "&"),
            UInt8(ascii: "|"), UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "("), UInt8(ascii: ")"):
            true
        default: false
        }
    }

    private static func isNameStart(_ c: UInt8) -> Bool {
        (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z"))
            || c == UInt8(ascii: "_")
    }

    private static func isNameChar(_ c: UInt8) -> Bool {
        isNameStart(c) || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9"))
    }

    // MARK: Tokens

    private mutating func peek() throws -> Token {
        if let t = peeked { return t }
        let t = try lex()
        peeked = t
        return t
    }

    private mutating func next() throws -> Token {
        if let t = peeked {
            peeked = nil
            return t
        }
        return try lex()
    }

    /// Blanks, line continuations and comments.
    private mutating func skipBlanks() {
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

    private mutating func lex() throws -> Token {
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

    // MARK: Words

    /// State while reading one word: its static text, whether anything expands, and brace-expansion tracking.
    private struct WordBuilder {
        var literal: [UInt8] = []
        var expands = false
        var quoted = false
        var braceOpen = -1
        var braceHasList = false
        var braceFound = false
    }

    private mutating func readWord() throws -> Token {
        let start = pos
        var w = WordBuilder()
        var lastWasBraceDots = false
        while pos < end {
            let c = bytes[pos]
            if c == UInt8(ascii: "(") {
                // `name=(…)` array assignment, `@(…)` and friends (extglob): part of the word in bash.
                if !w.quoted && !w.expands && isAssignmentPrefix(w.literal) {
                    note(.arrayAssignment, start, pos + 1)
                    try skipBalanced(open: pos)
                    w.expands = true
                    continue
                }
                if pos > start,
                    [UInt8(ascii: "@"), UInt8(ascii: "!"), UInt8(ascii: "+"), UInt8(ascii: "*"), UInt8(ascii: "?")]
                        .contains(bytes[pos - 1])
                {
                    note(.extglob, pos - 1, pos + 1)
                    try skipBalanced(open: pos)
                    w.expands = true
                    continue
                }
                break
            }
            if (c == UInt8(ascii: "<") || c == UInt8(ascii: ">")) && at(pos + 1) == UInt8(ascii: "(") && pos == start {
                note(.processSubstitution, pos, pos + 2)
                pos += 1
                try readCommandSubstitution(open: pos)
                w.expands = true
                continue
            }
            if Self.isMeta(c) { break }
            switch c {
            case UInt8(ascii: "\\"):
                if at(pos + 1) == UInt8(ascii: "\n") {
                    pos += 2
                    continue
                }
                if pos + 1 < end { w.literal.append(bytes[pos + 1]) }
                w.quoted = true
                pos += 2
            case UInt8(ascii: "'"):
                w.quoted = true
                let open = pos
                pos += 1
                while pos < end && bytes[pos] != UInt8(ascii: "'") {
                    w.literal.append(bytes[pos])
                    pos += 1
                }
                if pos >= end { try fail(open, "unterminated single quote") }
                pos += 1
            case UInt8(ascii: "\""):
                w.quoted = true
                try readDoubleQuoted(&w)
            case UInt8(ascii: "$"):
                try readDollar(&w, inDoubleQuotes: false)
            case UInt8(ascii: "`"):
                try readBackticks()
                w.expands = true
            case UInt8(ascii: "{"):
                if w.braceOpen < 0 {
                    w.braceOpen = w.literal.count
                    w.braceHasList = false
                }
                w.literal.append(c)
                pos += 1
            case UInt8(ascii: ","):
                if w.braceOpen >= 0 { w.braceHasList = true }
                w.literal.append(c)
                pos += 1
            case UInt8(ascii: "."):
                if w.braceOpen >= 0 && lastWasBraceDots { w.braceHasList = true }
                lastWasBraceDots = w.braceOpen >= 0
                w.literal.append(c)
                pos += 1
                continue
            case UInt8(ascii: "}"):
                if w.braceOpen >= 0 && w.braceHasList { w.braceFound = true }
                w.braceOpen = -1
                w.literal.append(c)
                pos += 1
            case UInt8(ascii: "*"), UInt8(ascii: "?"), UInt8(ascii: "["):
                // A glob: the value is only known at run time, unless nothing matches; keep the text.
                w.expands = w.expands || c != UInt8(ascii: "[")
                w.literal.append(c)
                pos += 1
            default:
                w.literal.append(c)
                pos += 1
            }
            lastWasBraceDots = false
        }
        if pos == start { pos += 1 }  // never a word of no bytes: the caller would not advance
        pos = min(pos, end)
        if w.braceFound { note(.braceExpansion, start, pos) }
        // `2>`, `10<`: the number belongs to the redirection.
        if !w.quoted && !w.expands && pos < end && (bytes[pos] == UInt8(ascii: "<") || bytes[pos] == UInt8(ascii: ">"))
            && !w.literal.isEmpty && w.literal.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") })
        {
            return .ioNumber
        }
        // `{fd}>`: bash allocates a descriptor into the variable.
        if !w.quoted && pos < end && (bytes[pos] == UInt8(ascii: "<") || bytes[pos] == UInt8(ascii: ">"))
            && w.literal.count > 2 && w.literal.first == UInt8(ascii: "{") && w.literal.last == UInt8(ascii: "}")
            && w.literal.dropFirst().dropLast().allSatisfy(Self.isNameChar)
        {
            note(.fdVariable, start, pos + 1)
            return .ioNumber
        }
        let text = String(decoding: w.literal, as: UTF8.self)
        let word = ShellWord(offset: start, length: pos - start, literal: w.expands ? nil : text, text: text)
        return .word(word, raw: start..<pos)
    }

    private func isAssignmentPrefix(_ s: [UInt8]) -> Bool {
        guard let first = s.first, Self.isNameStart(first), s.last == UInt8(ascii: "=") else { return false }
        var body = s.dropLast()
        if body.last == UInt8(ascii: "+") { body = body.dropLast() }
        return body.allSatisfy(Self.isNameChar)
    }

    /// One step over `byte` at `pos` while skipping to a closing bracket: an escape, a quoted string, a `$`
    /// expansion or backquotes as a whole (their insides never close anything), else the byte alone.
    private mutating func skipQuotedOrExpansion(_ byte: UInt8, inDoubleQuotes: Bool) throws {
        switch byte {
        case UInt8(ascii: "\\"): pos += 2
        case UInt8(ascii: "'"):
            pos += 1
            while pos < end && bytes[pos] != UInt8(ascii: "'") { pos += 1 }
            pos += 1
        case UInt8(ascii: "\""):
            var w = WordBuilder()
            try readDoubleQuoted(&w)
        case UInt8(ascii: "$"):
            var w = WordBuilder()
            try readDollar(&w, inDoubleQuotes: inDoubleQuotes)
        case UInt8(ascii: "`"): try readBackticks()
        default: pos += 1
        }
    }

    /// From an opening parenthesis to its match, respecting quotes. Used for array literals and extglob.
    private mutating func skipBalanced(open: Int) throws {
        var level = 0
        pos = open
        while pos < end {
            let c = bytes[pos]
            switch c {
            case UInt8(ascii: "("):
                level += 1
                pos += 1
            case UInt8(ascii: ")"):
                level -= 1
                pos += 1
                if level == 0 { return }
            default: try skipQuotedOrExpansion(c, inDoubleQuotes: false)
            }
        }
        try fail(open, "unmatched '('")
    }

    private mutating func readDoubleQuoted(_ w: inout WordBuilder) throws {
        let open = pos
        pos += 1
        while pos < end {
            let c = bytes[pos]
            switch c {
            case UInt8(ascii: "\""):
                pos += 1
                return
            case UInt8(ascii: "\\"):
                let d = at(pos + 1)
                if d == UInt8(ascii: "\n") {
                    pos += 2
                    continue
                }
                if d == UInt8(ascii: "$") || d == UInt8(ascii: "`") || d == UInt8(ascii: "\"")
                    || d == UInt8(ascii: "\\")
                {
                    w.literal.append(d)
                } else {
                    w.literal.append(c)
                    if pos + 1 < end { w.literal.append(d) }
                }
                pos += 2
            case UInt8(ascii: "$"): try readDollar(&w, inDoubleQuotes: true)
            case UInt8(ascii: "`"):
                try readBackticks()
                w.expands = true
            default:
                w.literal.append(c)
                pos += 1
            }
        }
        try fail(open, "unterminated double quote")
    }

    private mutating func readDollar(_ w: inout WordBuilder, inDoubleQuotes: Bool) throws {
        let start = pos
        let d = at(pos + 1)
        switch d {
        case UInt8(ascii: "'") where !inDoubleQuotes:
            note(.ansiCQuote, start, pos + 2)
            w.quoted = true
            pos += 2
            while pos < end && bytes[pos] != UInt8(ascii: "'") {
                if bytes[pos] == UInt8(ascii: "\\") { pos += 1 }
                pos += 1
            }
            if pos >= end { try fail(start, "unterminated $'…' quote") }
            pos += 1
            w.expands = true
        case UInt8(ascii: "\"") where !inDoubleQuotes:
            note(.localeQuote, start, pos + 2)
            pos += 1
            try readDoubleQuoted(&w)
        case UInt8(ascii: "{"):
            w.expands = true
            try readBraceParameter()
        case UInt8(ascii: "("):
            w.expands = true
            if at(pos + 2) == UInt8(ascii: "("), try readArithmetic(open: pos + 1) { return }
            pos += 1
            try readCommandSubstitution(open: pos)
        default:
            if Self.isNameStart(d) {
                var i = pos + 1
                while i < end && Self.isNameChar(bytes[i]) { i += 1 }
                recordVariable(start + 1..<i, at: start)
                pos = i
                w.expands = true
            } else if (d >= UInt8(ascii: "0") && d <= UInt8(ascii: "9"))
                || [
                    UInt8(ascii: "@"), UInt8(ascii: "*"), UInt8(ascii: "#"),
                    UInt8(ascii: "?"), UInt8(ascii: "-"), UInt8(ascii: "$"), UInt8(ascii: "!"),
                ].contains(d)
            {
                pos += 2
                w.expands = true
            } else {
                w.literal.append(UInt8(ascii: "$"))
                pos += 1
            }
        }
    }

    private mutating func recordVariable(_ range: Range<Int>, at offset: Int) {
        let name = String(decoding: bytes[range], as: UTF8.self)
        if script.variables[name] == nil { script.variables[name] = offset }
    }

    /// `$((…))`: true when the parentheses close as `))`; otherwise the caller treats `$(` as a command
    /// substitution that starts with a subshell, as bash does.
    private mutating func readArithmetic(open: Int) throws -> Bool {
        var level = 0
        var i = open
        while i < end {
            let c = bytes[i]
            if c == UInt8(ascii: "(") {
                level += 1
            } else if c == UInt8(ascii: ")") {
                level -= 1
                if level == 1 && at(i + 1) == UInt8(ascii: ")") {
                    pos = i + 2
                    return true
                }
                if level <= 1 { return false }
            } else if c == UInt8(ascii: "\\") {
                i += 1
            } else if c == UInt8(ascii: "'") || c == UInt8(ascii: "\"") || c == UInt8(ascii: "`") {
                return false
            }
            i += 1
        }
        return false
    }

    private mutating func readBraceParameter() throws {
        let start = pos
        try enter(start)
        defer { depth -= 1 }
        pos += 2
        var c = at(pos)
        if c == UInt8(ascii: "!") && at(pos + 1) != UInt8(ascii: "}") {
            note(.indirectExpansion, start, pos + 2)
            pos += 1
        } else if c == UInt8(ascii: "#") && at(pos + 1) != UInt8(ascii: "}") {
            pos += 1
        }
        let nameStart = pos
        c = at(pos)
        if Self.isNameStart(c) {
            while pos < end && Self.isNameChar(bytes[pos]) { pos += 1 }
            recordVariable(nameStart..<pos, at: start)
        } else if pos < end {
            pos += 1
        }  // $1 … $9, $@, $*, $#, $?
        c = at(pos)
        if c == UInt8(ascii: "[") {
            note(.arraySubscript, start, pos + 1)
        } else if c == UInt8(ascii: "^") || c == UInt8(ascii: ",") {
            note(.caseModification, start, pos + 2)
        } else if c == UInt8(ascii: "@") && Self.isNameStart(at(pos + 1)) {
            note(.transformExpansion, start, pos + 2)
        }
        while pos < end {
            let b = bytes[pos]
            switch b {
            case UInt8(ascii: "}"):
                pos += 1
                return
            default: try skipQuotedOrExpansion(b, inDoubleQuotes: true)
            }
        }
        try fail(start, "unterminated ${…}")
    }

    /// `$(…)`, `<(…)`, `>(…)`: `open` is the offset of the parenthesis. The inner text is parsed as a script.
    private mutating func readCommandSubstitution(open: Int) throws {
        try enter(open)
        defer { depth -= 1 }
        let saved = peeked
        peeked = nil
        pos = open + 1
        // `$(<file)`: bash reads the file; ash runs an empty command with a redirection.
        var probe = pos
        while probe < end && (bytes[probe] == UInt8(ascii: " ") || bytes[probe] == UInt8(ascii: "\t")) { probe += 1 }
        let fileRead =
            at(probe) == UInt8(ascii: "<") && at(probe + 1) != UInt8(ascii: "<") && open > 0
            && bytes[open - 1] == UInt8(ascii: "$")
        let commandsBefore = script.commands.count
        try parseList(stopWords: [], stopOps: [.rparen])
        // Only a lone redirection is bash's file read: `$(< f grep x)` runs grep in both shells.
        if fileRead && script.commands.count == commandsBefore { note(.fileSubstitution, open - 1, probe + 1) }
        guard case .op(.rparen, _) = try next() else { try fail(open, "unterminated $(…)") }
        peeked = saved
    }

    /// `` `…` ``: the text between the backticks, unescaped, is parsed as a script of its own.
    private mutating func readBackticks() throws {
        let open = pos
        try enter(open)
        defer { depth -= 1 }
        pos += 1
        var inner: [UInt8] = []
        var exact = true
        while pos < end && bytes[pos] != UInt8(ascii: "`") {
            if bytes[pos] == UInt8(ascii: "\\"), pos + 1 < end,
                [UInt8(ascii: "`"), UInt8(ascii: "\\"), UInt8(ascii: "$")].contains(bytes[pos + 1])
            {
                inner.append(bytes[pos + 1])
                exact = false
                pos += 2
                continue
            }
            inner.append(bytes[pos])
            pos += 1
        }
        if pos >= end { try fail(open, "unterminated backquote") }
        pos += 1
        var sub = ShellParser(bytes: inner, range: 0..<inner.count)
        sub.depth = depth
        sub.functionDepth = functionDepth
        do {
            try sub.parseList(stopWords: [], stopOps: [])
            if case .op(let op, let at) = try sub.next() { try sub.fail(at, "unexpected '\(op.rawValue)'") }
        } catch {}
        // Offsets inside map back exactly when nothing was unescaped; otherwise to the backquote.
        let shift = { (o: Int) -> Int in exact ? open + 1 + o : open }
        for var c in sub.script.commands {
            c.name.offset = shift(c.name.offset)
            c.arguments = c.arguments.map {
                var a = $0
                a.offset = shift(a.offset)
                return a
            }
            script.commands.append(c)
        }
        for var f in sub.script.features {
            f.offset = shift(f.offset)
            script.features.append(f)
        }
        for (name, o) in sub.script.variables where script.variables[name] == nil { script.variables[name] = shift(o) }
        script.functions.formUnion(sub.script.functions)
        if let e = sub.script.error { try fail(shift(e.offset), e.message) }
    }

    private mutating func readHereDocuments() throws {
        let pending = pendingHereDocs
        pendingHereDocs = []
        for doc in pending {
            let bodyStart = pos
            var bodyEnd = end
            var after = end
            while pos < end {
                var lineStart = pos
                var lineEnd = pos
                while lineEnd < end && bytes[lineEnd] != UInt8(ascii: "\n") { lineEnd += 1 }
                if doc.stripTabs {
                    while lineStart < lineEnd && bytes[lineStart] == UInt8(ascii: "\t") { lineStart += 1 }
                }
                var trimmedEnd = lineEnd
                if trimmedEnd > lineStart && bytes[trimmedEnd - 1] == UInt8(ascii: "\r") { trimmedEnd -= 1 }
                let next = min(end, lineEnd + 1)
                if bytes[lineStart..<trimmedEnd].elementsEqual(doc.delimiter) {
                    bodyEnd = pos
                    after = next
                    break
                }
                pos = next
            }
            // Like bash and ash, a here-document that runs to the end of the input is accepted.
            if doc.expands { try readSubstitutions(bodyStart..<bodyEnd) }
            pos = after
        }
    }

    /// The command substitutions in an unquoted here-document body (the rest of it is text).
    private mutating func readSubstitutions(_ body: Range<Int>) throws {
        var i = body.lowerBound
        while i < body.upperBound {
            let c = bytes[i]
            if c == UInt8(ascii: "\\") {
                i += 2
                continue
            }
            if c == UInt8(ascii: "`")
                || (c == UInt8(ascii: "$") && (at(i + 1) == UInt8(ascii: "(") || at(i + 1) == UInt8(ascii: "{")))
            {
                pos = i
                var w = WordBuilder()
                if c == UInt8(ascii: "`") { try readBackticks() } else { try readDollar(&w, inDoubleQuotes: true) }
                i = max(pos, i + 1)
                continue
            }
            i += 1
        }
    }

    // MARK: Grammar

    private func isReserved(_ t: Token, _ words: Set<String>) -> String? {
        if case .word(let w, _) = t, let lit = w.literal, w.length == lit.utf8.count, words.contains(lit) { return lit }
        return nil
    }

    private static let closers: Set<String> = ["then", "else", "elif", "fi", "do", "done", "esac", "}", "in"]

    private mutating func skipNewlines() throws {
        while case .newline = try peek() { _ = try next() }
    }

    /// A list of and-or lists separated by `;`, `&` or newlines, up to a closing word or operator.
    private mutating func parseList(stopWords: Set<String>, stopOps: Set<Op>) throws {
        try enter(pos)
        defer { depth -= 1 }
        while true {
            let t = try peek()
            switch t {
            case .eof: return
            case .newline:
                _ = try next()
                continue
            case .op(let op, let at):
                if stopOps.contains(op) { return }
                if op == .lparen || op.isRedirection { break }
                if stopOps.isEmpty && stopWords.isEmpty && op == .rparen { return }
                try fail(at, "unexpected '\(op.rawValue)'")
            case .word(let w, _):
                if isReserved(t, stopWords) != nil { return }
                if let r = isReserved(t, Self.closers) { try fail(w.offset, "unexpected '\(r)'") }
            case .ioNumber: break
            }
            try parseAndOr()
            switch try peek() {
            case .op(.semi, _), .op(.amp, _), .newline: _ = try next()
            case .op(let op, let at):
                if stopOps.contains(op) { return }
                if stopOps.isEmpty && stopWords.isEmpty && op == .rparen { return }
                try fail(at, "unexpected '\(op.rawValue)'")
            case .eof: return
            case .word(let w, _):
                if isReserved(try peek(), stopWords) != nil { return }
                try fail(w.offset, "unexpected word '\(w.text)'")
            case .ioNumber: try fail(pos, "unexpected redirection")
            }
        }
    }

    private mutating func parseAndOr() throws {
        try parsePipeline()
        while true {
            guard case .op(let op, _) = try peek(), op == .and || op == .or else { return }
            _ = try next()
            try skipNewlines()
            try parsePipeline()
        }
    }

    private mutating func parsePipeline() throws {
        if isReserved(try peek(), ["!"]) != nil { _ = try next() }
        try parseCommand()
        while true {
            guard case .op(let op, let at) = try peek(), op == .pipe || op == .pipeBoth else { return }
            _ = try next()
            if op == .pipeBoth { note(.pipeStderr, at, at + 2) }
            try skipNewlines()
            try parseCommand()
        }
    }

    private mutating func parseCommand() throws {
        let t = try peek()
        try enter(pos)
        defer { depth -= 1 }
        switch t {
        case .op(.lparen, let at):
            _ = try next()
            if at + 1 < end && bytes[at + 1] == UInt8(ascii: "("), try readArithmetic(open: at) {
                note(.arithmeticCommand, at, pos)
                peeked = nil
            } else {
                try parseList(stopWords: [], stopOps: [.rparen])
                try expectOp(.rparen, at, "unterminated subshell")
            }
            try parseRedirections()
            return
        case .op(let op, let at) where !op.isRedirection:
            try fail(at, "unexpected '\(op.rawValue)'")
        case .eof:
            try fail(pos, "unexpected end of file")
        case .word(let w, _):
            switch w.literal.flatMap({ w.length == $0.utf8.count ? $0 : nil }) {
            case "{":
                _ = try next()
                try parseList(stopWords: ["}"], stopOps: [])
                try expectWord("}", w.offset, "unterminated '{'")
                try parseRedirections()
                return
            case "if":
                try parseIf(w)
                return
            case "while", "until":
                _ = try next()
                try parseList(stopWords: ["do"], stopOps: [])
                try parseDoGroup(w)
                return
            case "for", "select":
                try parseFor(w)
                return
            case "case":
                try parseCase(w)
                return
            case "function":
                try parseFunctionKeyword(w)
                return
            case "[[":
                try parseDoubleBracket(w)
                return
            case "coproc":
                note(.coproc, w.offset, w.offset + 6)
                _ = try next()
                try parseCommand()
                return
            default: break
            }
        default: break
        }
        try parseSimpleCommand()
    }

    private mutating func expectOp(_ op: Op, _ from: Int, _ message: String) throws {
        guard case .op(let o, _) = try next(), o == op else { try fail(from, message) }
    }

    private mutating func expectWord(_ word: String, _ from: Int, _ message: String) throws {
        let t = try next()
        guard isReserved(t, [word]) != nil else { try fail(from, message) }
    }

    private mutating func parseRedirections() throws {
        while true {
            switch try peek() {
            case .ioNumber: _ = try next()
            case .op(let op, let at) where op.isRedirection:
                _ = try next()
                try parseRedirectionTarget(op, at)
            default: return
            }
        }
    }

    private mutating func parseRedirectionTarget(_ op: Op, _ at: Int) throws {
        if op == .tless { note(.hereString, at, at + 3) }
        if op == .andGreat || op == .andDgreat { note(.redirectBoth, at, at + 2) }
        guard case .word(let w, let raw) = try next() else { try fail(at, "redirection without a target") }
        if op == .dless || op == .dlessDash {
            let rawBytes = bytes[raw]
            let quoted =
                rawBytes.contains(UInt8(ascii: "'")) || rawBytes.contains(UInt8(ascii: "\""))
                || rawBytes.contains(UInt8(ascii: "\\"))
            // An unquoted delimiter: the body's $(…) and backquotes run.
            pendingHereDocs.append(
                (quoted || w.literal != nil ? Array(w.text.utf8) : Array(rawBytes), op == .dlessDash, !quoted))
        }
    }

    private mutating func parseIf(_ w: ShellWord) throws {
        _ = try next()
        try parseList(stopWords: ["then"], stopOps: [])
        try expectWord("then", w.offset, "'if' without 'then'")
        while true {
            try parseList(stopWords: ["elif", "else", "fi"], stopOps: [])
            let t = try next()
            if isReserved(t, ["fi"]) != nil { break }
            if isReserved(t, ["else"]) != nil {
                try parseList(stopWords: ["fi"], stopOps: [])
                try expectWord("fi", w.offset, "'if' without 'fi'")
                break
            }
            if isReserved(t, ["elif"]) != nil {
                try parseList(stopWords: ["then"], stopOps: [])
                try expectWord("then", w.offset, "'elif' without 'then'")
                continue
            }
            try fail(w.offset, "'if' without 'fi'")
        }
        try parseRedirections()
    }

    private mutating func parseDoGroup(_ w: ShellWord) throws {
        let t = try next()
        if isReserved(t, ["{"]) != nil {  // bash accepts `for x in y; { …; }`
            try parseList(stopWords: ["}"], stopOps: [])
            try expectWord("}", w.offset, "unterminated '{'")
        } else {
            guard isReserved(t, ["do"]) != nil else { try fail(w.offset, "'\(w.text)' without 'do'") }
            try parseList(stopWords: ["done"], stopOps: [])
            try expectWord("done", w.offset, "'\(w.text)' without 'done'")
        }
        try parseRedirections()
    }

    private mutating func parseFor(_ w: ShellWord) throws {
        _ = try next()
        if w.text == "select" { note(.select, w.offset, w.offset + 6) }
        skipBlanks()
        if peeked == nil && at(pos) == UInt8(ascii: "(") && at(pos + 1) == UInt8(ascii: "(") {
            let open = pos
            guard try readArithmetic(open: open) else { try fail(open, "bad for ((…)) loop") }
            note(.arithmeticFor, w.offset, pos)
        } else {
            guard case .word = try next() else { try fail(w.offset, "'\(w.text)' without a variable name") }
            try skipNewlines()
            if isReserved(try peek(), ["in"]) != nil {
                _ = try next()
                while case .word = try peek() { _ = try next() }
            }
        }
        while true {
            switch try peek() {
            case .newline, .op(.semi, _): _ = try next()
            default:
                try parseDoGroup(w)
                return
            }
        }
    }

    private mutating func parseCase(_ w: ShellWord) throws {
        _ = try next()
        guard case .word = try next() else { try fail(w.offset, "'case' without a word") }
        try skipNewlines()
        try expectWord("in", w.offset, "'case' without 'in'")
        while true {
            try skipNewlines()
            if isReserved(try peek(), ["esac"]) != nil {
                _ = try next()
                break
            }
            if case .op(.lparen, _) = try peek() { _ = try next() }
            // Patterns: words separated by `|`, then `)`.
            while true {
                guard case .word = try next() else { try fail(w.offset, "bad pattern in 'case'") }
                let t = try next()
                if case .op(.pipe, _) = t { continue }
                if case .op(.rparen, _) = t { break }
                try fail(w.offset, "bad pattern in 'case'")
            }
            try parseList(stopWords: ["esac"], stopOps: [.dsemi, .semiAmp, .dsemiAmp])
            let t = try next()
            if case .op(let op, let at) = t {
                if op == .semiAmp || op == .dsemiAmp { note(.caseFallthrough, at, at + op.rawValue.count) }
                continue
            }
            if isReserved(t, ["esac"]) != nil { break }
            try fail(w.offset, "'case' without 'esac'")
        }
        try parseRedirections()
    }

    private mutating func parseFunctionKeyword(_ w: ShellWord) throws {
        _ = try next()
        note(.functionKeyword, w.offset, w.offset + 8)
        guard case .word(let name, _) = try next() else { try fail(w.offset, "'function' without a name") }
        script.functions.insert(name.text)
        if case .op(.lparen, _) = try peek() {
            _ = try next()
            try expectOp(.rparen, w.offset, "bad function definition")
        }
        try parseFunctionBody(w)
    }

    private mutating func parseFunctionBody(_ w: ShellWord) throws {
        try skipNewlines()
        functionDepth += 1
        defer { functionDepth -= 1 }
        try parseCommand()
    }

    private mutating func parseDoubleBracket(_ w: ShellWord) throws {
        _ = try next()
        note(.doubleBracket, w.offset, w.offset + 2)
        var words: [ShellWord] = []
        while true {
            let t = try next()
            switch t {
            case .eof: try fail(w.offset, "'[[' without ']]'")
            case .word(let x, _):
                if x.literal == "]]" {
                    script.commands.append(ShellCommand(name: w, arguments: words, inFunction: functionDepth > 0))
                    try parseRedirections()
                    return
                }
                words.append(x)
            default: continue
            }
        }
    }

    private mutating func parseSimpleCommand() throws {
        var name: ShellWord?
        var arguments: [ShellWord] = []
        loop: while true {
            let t = try peek()
            switch t {
            case .word(let w, let raw):
                _ = try next()
                if name == nil {
                    if let kind = assignmentKind(raw) {
                        if kind.append { note(.appendAssignment, w.offset, w.offset + min(w.length, 40)) }
                        if kind.subscripted { note(.arrayAssignment, w.offset, w.offset + min(w.length, 40)) }
                        continue
                    }
                    name = w
                    // `name()`: a function definition.
                    if case .op(.lparen, let at) = try peek(),
                        at == w.offset + w.length
                            || bytes[w.offset + w.length..<at].allSatisfy({
                                $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t")
                            })
                    {
                        _ = try next()
                        try expectOp(.rparen, w.offset, "bad function definition")
                        script.functions.insert(w.text)
                        try parseFunctionBody(w)
                        return
                    }
                } else {
                    arguments.append(w)
                }
            case .ioNumber: _ = try next()
            case .op(let op, let at) where op.isRedirection:
                _ = try next()
                try parseRedirectionTarget(op, at)
            default: break loop
            }
        }
        if let name {
            script.commands.append(ShellCommand(name: name, arguments: arguments, inFunction: functionDepth > 0))
        }
    }

    /// `NAME=…`, `NAME+=…`, `NAME[…]=…`: an assignment before the command word.
    private func assignmentKind(_ raw: Range<Int>) -> (append: Bool, subscripted: Bool)? {
        var i = raw.lowerBound
        guard i < raw.upperBound, Self.isNameStart(bytes[i]) else { return nil }
        while i < raw.upperBound && Self.isNameChar(bytes[i]) { i += 1 }
        var subscripted = false
        if i < raw.upperBound && bytes[i] == UInt8(ascii: "[") {
            var level = 0
            while i < raw.upperBound {
                if bytes[i] == UInt8(ascii: "[") {
                    level += 1
                } else if bytes[i] == UInt8(ascii: "]") {
                    level -= 1
                    if level == 0 {
                        i += 1
                        break
                    }
                }
                i += 1
            }
            subscripted = true
        }
        if i < raw.upperBound && bytes[i] == UInt8(ascii: "=") { return (false, subscripted) }
        if i + 1 < raw.upperBound && bytes[i] == UInt8(ascii: "+") && bytes[i + 1] == UInt8(ascii: "=") {
            return (true, subscripted)
        }
        return nil
    }
}
