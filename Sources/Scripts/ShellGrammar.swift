// The shell parser's grammar: lists, and-or lists, pipelines, compound commands, functions, redirections and
// simple commands (recursive descent over the tokens of ShellParser.swift).

extension ShellParser {
    // MARK: Grammar

    /// A word token's text when it is a plain word (unquoted, nothing else in the token): the only form
    /// in which a reserved word is one.
    func plainWord(_ t: Token) -> String? {
        guard case .word(let w, _) = t, let lit = w.literal, w.length == lit.utf8.count else { return nil }
        return lit
    }

    func isReserved(_ t: Token, _ words: Set<String>) -> String? {
        plainWord(t).flatMap { words.contains($0) ? $0 : nil }
    }

    static let closers: Set<String> = ["then", "else", "elif", "fi", "do", "done", "esac", "}", "in"]
    // The words that end each list, built once: a set literal at each call was built again on every call.
    static let untilBrace: Set<String> = ["}"]
    static let untilDo: Set<String> = ["do"]
    static let untilDone: Set<String> = ["done"]
    static let untilElseOrFi: Set<String> = ["elif", "else", "fi"]
    static let untilEsac: Set<String> = ["esac"]
    static let untilFi: Set<String> = ["fi"]
    static let untilThen: Set<String> = ["then"]

    static let untilParen: Set<Op> = [.rparen]
    static let caseItemEnds: Set<Op> = [.dsemi, .semiAmp, .dsemiAmp]

    /// Whether `t` is the reserved word `word`.
    func isWord(_ t: Token, _ word: String) -> Bool { plainWord(t) == word }

    mutating func skipNewlines() throws {
        while case .newline = try peek() { _ = try next() }
    }

    /// A list of and-or lists separated by `;`, `&` or newlines, up to a closing word or operator.
    mutating func parseList(stopWords: Set<String>, stopOps: Set<Op>) throws {
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

    mutating func parseAndOr() throws {
        try parsePipeline()
        while true {
            guard case .op(let op, _) = try peek(), op == .and || op == .or else { return }
            _ = try next()
            try skipNewlines()
            try parsePipeline()
        }
    }

    mutating func parsePipeline() throws {
        if isWord(try peek(), "!") { _ = try next() }
        try parseCommand()
        while true {
            guard case .op(let op, let at) = try peek(), op == .pipe || op == .pipeBoth else { return }
            _ = try next()
            if op == .pipeBoth { note(.pipeStderr, at, at + 2) }
            try skipNewlines()
            try parseCommand()
        }
    }

    mutating func parseCommand() throws {
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
                try parseList(stopWords: [], stopOps: Self.untilParen)
                try expectOp(.rparen, at, "unterminated subshell")
            }
            try parseRedirections()
            return
        case .op(let op, let at) where !op.isRedirection:
            try fail(at, "unexpected '\(op.rawValue)'")
        case .eof:
            try fail(pos, "unexpected end of file")
        case .word(let w, _):
            switch plainWord(t) {
            case "{":
                _ = try next()
                try parseList(stopWords: Self.untilBrace, stopOps: [])
                try expectWord("}", w.offset, "unterminated '{'")
                try parseRedirections()
                return
            case "if":
                try parseIf(w)
                return
            case "while", "until":
                _ = try next()
                try parseList(stopWords: Self.untilDo, stopOps: [])
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

    mutating func expectOp(_ op: Op, _ from: Int, _ message: String) throws {
        guard case .op(let o, _) = try next(), o == op else { try fail(from, message) }
    }

    mutating func expectWord(_ word: String, _ from: Int, _ message: String) throws {
        let t = try next()
        guard isWord(t, word) else { try fail(from, message) }
    }

    mutating func parseRedirections() throws {
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

    mutating func parseRedirectionTarget(_ op: Op, _ at: Int) throws {
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

    mutating func parseIf(_ w: ShellWord) throws {
        _ = try next()
        try parseList(stopWords: Self.untilThen, stopOps: [])
        try expectWord("then", w.offset, "'if' without 'then'")
        while true {
            try parseList(stopWords: Self.untilElseOrFi, stopOps: [])
            let t = try next()
            if isWord(t, "fi") { break }
            if isWord(t, "else") {
                try parseList(stopWords: Self.untilFi, stopOps: [])
                try expectWord("fi", w.offset, "'if' without 'fi'")
                break
            }
            if isWord(t, "elif") {
                try parseList(stopWords: Self.untilThen, stopOps: [])
                try expectWord("then", w.offset, "'elif' without 'then'")
                continue
            }
            try fail(w.offset, "'if' without 'fi'")
        }
        try parseRedirections()
    }

    mutating func parseDoGroup(_ w: ShellWord) throws {
        let t = try next()
        if isWord(t, "{") {  // bash accepts `for x in y; { …; }`
            try parseList(stopWords: Self.untilBrace, stopOps: [])
            try expectWord("}", w.offset, "unterminated '{'")
        } else {
            guard isWord(t, "do") else { try fail(w.offset, "'\(w.text)' without 'do'") }
            try parseList(stopWords: Self.untilDone, stopOps: [])
            try expectWord("done", w.offset, "'\(w.text)' without 'done'")
        }
        try parseRedirections()
    }

    mutating func parseFor(_ w: ShellWord) throws {
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
            if isWord(try peek(), "in") {
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

    mutating func parseCase(_ w: ShellWord) throws {
        _ = try next()
        guard case .word = try next() else { try fail(w.offset, "'case' without a word") }
        try skipNewlines()
        try expectWord("in", w.offset, "'case' without 'in'")
        while true {
            try skipNewlines()
            if isWord(try peek(), "esac") {
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
            try parseList(stopWords: Self.untilEsac, stopOps: Self.caseItemEnds)
            let t = try next()
            if case .op(let op, let at) = t {
                if op == .semiAmp || op == .dsemiAmp { note(.caseFallthrough, at, at + op.rawValue.count) }
                continue
            }
            if isWord(t, "esac") { break }
            try fail(w.offset, "'case' without 'esac'")
        }
        try parseRedirections()
    }

    mutating func parseFunctionKeyword(_ w: ShellWord) throws {
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

    mutating func parseFunctionBody(_ w: ShellWord) throws {
        try skipNewlines()
        functionDepth += 1
        defer { functionDepth -= 1 }
        try parseCommand()
    }

    mutating func parseDoubleBracket(_ w: ShellWord) throws {
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

    mutating func parseSimpleCommand() throws {
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
    func assignmentKind(_ raw: Range<Int>) -> (append: Bool, subscripted: Bool)? {
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
