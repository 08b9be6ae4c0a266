// The shell parser's words: quotes, escapes, `$…` expansions, arithmetic, command substitutions, backticks
// and here-documents, read byte by byte with the nesting bound of ShellParser.swift.

extension ShellParser {
    // MARK: Words

    /// State while reading one word: its static text, whether anything expands, and brace-expansion tracking.
    struct WordBuilder {
        var literal: [UInt8] = []
        var expands = false
        var quoted = false
        var braceOpen = -1
        var braceHasList = false
        var braceFound = false
    }

    mutating func readWord() throws -> Token {
        let start = pos
        var w = WordBuilder()
        var lastWasBraceDots = false
        while pos < end {
            let c = bytes[pos]
            if c == UInt8(ascii: "(") {
                guard try readParenthesisInWord(&w, start: start) else { break }
                continue
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
            case UInt8(ascii: "\\") where at(pos + 1) == UInt8(ascii: "\n"):
                pos += 2  // a line continuation: no part of the word
                continue
            case UInt8(ascii: "."):
                if w.braceOpen >= 0 && lastWasBraceDots { w.braceHasList = true }
                lastWasBraceDots = w.braceOpen >= 0
                w.literal.append(c)
                pos += 1
                continue
            default:
                try readWordPart(c, &w)
            }
            lastWasBraceDots = false
        }
        if pos == start { pos += 1 }  // never a word of no bytes: the caller would not advance
        pos = min(pos, end)
        return finishWord(w, start: start)
    }

    /// A `(` inside a word at `pos`: an array assignment or an extglob is read into the word (true); any
    /// other ends the word (false).
    mutating func readParenthesisInWord(_ w: inout WordBuilder, start: Int) throws -> Bool {
        // `name=(…)` array assignment, `@(…)` and friends (extglob): part of the word in bash.
        if !w.quoted && !w.expands && isAssignmentPrefix(w.literal) {
            note(.arrayAssignment, start, pos + 1)
            try skipBalanced(open: pos)
            w.expands = true
            return true
        }
        if pos > start,
            [UInt8(ascii: "@"), UInt8(ascii: "!"), UInt8(ascii: "+"), UInt8(ascii: "*"), UInt8(ascii: "?")]
                .contains(bytes[pos - 1])
        {
            note(.extglob, pos - 1, pos + 1)
            try skipBalanced(open: pos)
            w.expands = true
            return true
        }
        return false
    }

    /// One part of a word starting with the byte `c` at `pos`: an escape, a quoted string, an expansion,
    /// a brace or glob character, or a plain byte.
    mutating func readWordPart(_ c: UInt8, _ w: inout WordBuilder) throws {
        switch c {
        case UInt8(ascii: "\\"):
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
    }

    /// The word read from `start` to `pos`: an IO number when a redirection follows it, else the word.
    mutating func finishWord(_ w: WordBuilder, start: Int) -> Token {
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

    func isAssignmentPrefix(_ s: [UInt8]) -> Bool {
        guard let first = s.first, Self.isNameStart(first), s.last == UInt8(ascii: "=") else { return false }
        var body = s.dropLast()
        if body.last == UInt8(ascii: "+") { body = body.dropLast() }
        return body.allSatisfy(Self.isNameChar)
    }

    /// One step over `byte` at `pos` while skipping to a closing bracket: an escape, a quoted string, a `$`
    /// expansion or backquotes as a whole (their insides never close anything), else the byte alone.
    mutating func skipQuotedOrExpansion(_ byte: UInt8, inDoubleQuotes: Bool) throws {
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
    mutating func skipBalanced(open: Int) throws {
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

    mutating func readDoubleQuoted(_ w: inout WordBuilder) throws {
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

    mutating func readDollar(_ w: inout WordBuilder, inDoubleQuotes: Bool) throws {
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

    mutating func recordVariable(_ range: Range<Int>, at offset: Int) {
        let name = String(decoding: bytes[range], as: UTF8.self)
        if script.variables[name] == nil { script.variables[name] = offset }
    }

    /// `$((…))`: true when the parentheses close as `))`; otherwise the caller treats `$(` as a command
    /// substitution that starts with a subshell, as bash does.
    mutating func readArithmetic(open: Int) throws -> Bool {
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

    mutating func readBraceParameter() throws {
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
    mutating func readCommandSubstitution(open: Int) throws {
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
        try parseList(stopWords: [], stopOps: Self.untilParen)
        // Only a lone redirection is bash's file read: `$(< f grep x)` runs grep in both shells.
        if fileRead && script.commands.count == commandsBefore { note(.fileSubstitution, open - 1, probe + 1) }
        guard case .op(.rparen, _) = try next() else { try fail(open, "unterminated $(…)") }
        peeked = saved
    }

    /// `` `…` ``: the text between the backticks, unescaped, is parsed as a script of its own.
    mutating func readBackticks() throws {
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

    mutating func readHereDocuments() throws {
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
    mutating func readSubstitutions(_ body: Range<Int>) throws {
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
}
