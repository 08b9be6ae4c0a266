// The policy file's YAML reader, continued: values on one line (flow sequences, quoted and plain scalars).
// PolicyYAML.swift has the subset it reads, the lines, the documents and the blocks.

extension YAMLReader {
    // MARK: Values on one line

    /// A flow sequence, quoted or plain scalar starting at `i`; returns it and the index after it.
    func inlineValue(_ line: YAMLLine, _ i: Int, depth: Int) throws(YAMLError) -> (YAMLNode, Int) {
        let s = line.scalars
        let mark = line.mark(i)
        switch s[i] {
        case "[": return try flowSequence(line, i, depth: depth)
        case "'", "\"":
            let (text, end) = try quoted(line, i)
            return (.scalar(text, mark), end)
        default:
            try checkPlainStart(line, i, flow: false)
            var j = i
            var end = i
            while j < s.count {
                if s[j] == "#" && j > i && (s[j - 1] == " " || s[j - 1] == "\t") { break }
                if s[j] == ":" && (j + 1 == s.count || s[j + 1] == " " || s[j + 1] == "\t") {
                    throw Self.fail(
                        line, j,
                        "a mapping cannot start inside a value on the same line (quote the value if it holds ': ')")
                }
                if s[j] != " " && s[j] != "\t" { end = j + 1 }
                j += 1
            }
            var text = String.UnicodeScalarView()
            text.append(contentsOf: s[i..<end])
            return (.scalar(String(text), mark), end)
        }
    }

    /// `[a, 'b', "c", [d]]` on one line; a trailing comma is allowed, as in YAML.
    func flowSequence(_ line: YAMLLine, _ open: Int, depth: Int) throws(YAMLError) -> (YAMLNode, Int) {
        guard depth <= PolicyYAML.maxDepth else {
            throw Self.fail(line, open, "nested deeper than \(PolicyYAML.maxDepth) levels")
        }
        let s = line.scalars
        var items: [YAMLNode] = []
        var i = skipSpaces(line, open + 1)
        while true {
            guard i < s.count, s[i] != "#" || s[i - 1] != " " else {
                throw Self.fail(line, open, "']' missing: a flow sequence [ … ] must end on the line it starts")
            }
            if s[i] == "]" { return (.sequence(items, line.mark(open)), i + 1) }
            let item: YAMLNode
            let mark = line.mark(i)
            switch s[i] {
            case "[": (item, i) = try flowSequence(line, i, depth: depth + 1)
            case "'", "\"":
                let (text, end) = try quoted(line, i)
                (item, i) = (.scalar(text, mark), end)
            case ",": throw Self.fail(line, i, "an empty entry in a flow sequence")
            default:
                try checkPlainStart(line, i, flow: true)
                var j = i
                var end = i
                while j < s.count, s[j] != ",", s[j] != "]", s[j] != "[" {
                    if s[j] == "#" && j > i && (s[j - 1] == " " || s[j - 1] == "\t") { break }
                    if s[j] == ":" && (j + 1 == s.count || " \t,]".unicodeScalars.contains(s[j + 1])) {
                        throw Self.fail(line, j, "mappings inside a flow sequence are not supported")
                    }
                    if s[j] == "{" || s[j] == "}" { throw Self.fail(line, j, "flow mappings { … } are not supported") }
                    if s[j] != " " && s[j] != "\t" { end = j + 1 }
                    j += 1
                }
                var text = String.UnicodeScalarView()
                text.append(contentsOf: s[i..<end])
                (item, i) = (.scalar(String(text), mark), j)
            }
            items.append(item)
            i = skipSpaces(line, i)
            if i < s.count, s[i] == "," {
                i = skipSpaces(line, i + 1)
                continue
            }
            if i < s.count, s[i] == "]" { continue }
            if i < s.count, s[i] != "#" { throw Self.fail(line, i, "',' or ']' expected in the flow sequence") }
        }
    }

    /// Indicators a plain scalar cannot start with, and what they would have meant.
    func checkPlainStart(_ line: YAMLLine, _ i: Int, flow: Bool) throws(YAMLError) {
        let s = line.scalars
        let c = s[i]
        let spaceAfter =
            i + 1 == s.count || s[i + 1] == " " || s[i + 1] == "\t" || (flow && (s[i + 1] == "," || s[i + 1] == "]"))
        let problem: String?
        switch c {
        case "&": problem = "anchors (&) are not supported"
        case "*": problem = "aliases (*) are not supported (quote a value that starts with '*', such as a glob)"
        case "!": problem = "tags (!) are not supported"
        case "|", ">": problem = "block scalars (| and >) are not supported: write the value on one line"
        case "{", "}": problem = "flow mappings { … } are not supported"
        case "%": problem = "directives (%) are not supported (quote a value that starts with '%')"
        case "@", "`": problem = "'\(c)' cannot start a plain value (quote it)"
        case ",", "]": problem = "'\(c)' cannot start a value"
        case "#": problem = "a value expected before the comment"
        case "?" where flow, ":" where flow: problem = "'\(c)' cannot start a value inside [ … ] (quote it)"
        case "-", "?", ":": problem = spaceAfter ? "'\(c)' followed by a space cannot start a value here" : nil
        default: problem = nil
        }
        if let problem { throw Self.fail(line, i, problem) }
    }

    /// A single- or double-quoted scalar starting at `open` and ending on the same line.
    func quoted(_ line: YAMLLine, _ open: Int) throws(YAMLError) -> (String, Int) {
        let s = line.scalars
        let quote = s[open]
        var out = String.UnicodeScalarView()
        var i = open + 1
        while i < s.count {
            let c = s[i]
            if quote == "'" {
                if c == "'" {
                    if i + 1 < s.count, s[i + 1] == "'" {
                        out.append("'")
                        i += 2
                        continue
                    }
                    return (String(out), i + 1)
                }
                out.append(c)
                i += 1
                continue
            }
            if c == "\"" { return (String(out), i + 1) }
            if c != "\\" {
                out.append(c)
                i += 1
                continue
            }
            guard i + 1 < s.count else { break }
            let e = s[i + 1]
            let simple: [Unicode.Scalar: Unicode.Scalar] = [
                "0": "\u{0}", "a": "\u{7}", "b": "\u{8}", "t": "\t", "\t": "\t", "n": "\n", "v": "\u{B}", "f": "\u{C}",
                "r": "\r", "e": "\u{1B}", " ": " ", "\"": "\"", "/": "/", "\\": "\\", "N": "\u{85}", "_": "\u{A0}",
                "L": "\u{2028}", "P": "\u{2029}",
            ]
            if let r = simple[e] {
                out.append(r)
                i += 2
                continue
            }
            let digits: Int
            switch e {
            case "x": digits = 2
            case "u": digits = 4
            case "U": digits = 8
            default: throw Self.fail(line, i, "unknown escape '\\\(e)' in a double-quoted value")
            }
            guard i + 2 + digits <= s.count else {
                throw Self.fail(line, i, "'\\\(e)' needs \(digits) hexadecimal digits")
            }
            var hex = String.UnicodeScalarView()
            hex.append(contentsOf: s[(i + 2)..<(i + 2 + digits)])
            guard let value = UInt32(String(hex), radix: 16), hex.allSatisfy(\.properties.isASCIIHexDigit),
                let scalar = Unicode.Scalar(value)
            else {
                throw Self.fail(line, i, "'\\\(e)' needs \(digits) hexadecimal digits naming a Unicode scalar")
            }
            out.append(scalar)
            i += 2 + digits
        }
        throw Self.fail(
            line, open, "the quoted value does not end on this line (values longer than one line are not supported)")
    }

    /// After a value: only blanks and a comment may follow on the line.
    func expectEnd(_ line: YAMLLine, _ end: Int) throws(YAMLError) {
        let i = skipSpaces(line, end)
        guard i < line.scalars.count else { return }
        if line.scalars[i] == "#", i > end || end == 0 { return }
        if line.scalars[i] == "#" { throw Self.fail(line, i, "a comment needs a space before '#'") }
        if line.scalars[i] == ":" { throw Self.fail(line, i, "a mapping cannot start inside a value on the same line") }
        throw Self.fail(line, i, "unexpected text after the value")
    }

    func skipSpaces(_ line: YAMLLine, _ from: Int) -> Int {
        var i = from
        while i < line.scalars.count, line.scalars[i] == " " || line.scalars[i] == "\t" { i += 1 }
        return i
    }
}
