// The policy file's YAML: a strict reader for exactly the subset the documented format uses, so that the
// shipped executable needs no YAML library (Yams needs full Foundation, and with it ICU: 37 MB of the
// static executable, Package.swift). It reads block mappings, block sequences, one-line flow sequences
// `[a, b]`, plain, single- and double-quoted one-line scalars and comments, and rejects everything else
// (anchors, aliases, tags, directives, several documents, flow mappings, block scalars, explicit keys,
// multi-line scalars, tabs in indentation, duplicate keys) with `line:column: problem`. Every scalar is
// kept as its text: the policy only reads strings. Tests/CLITests/PolicyYAMLTests.swift compares its
// trees with Yams' on every documented policy and on tricky snippets.

/// Where a node starts: 1-based line and column (in Unicode scalars), as libyaml counts them.
public struct YAMLMark: Sendable, Equatable, CustomStringConvertible {
    public var line: Int
    public var column: Int
    public var description: String { "\(line):\(column)" }
}

/// A YAML node of the policy subset.
public indirect enum YAMLNode: Sendable, Equatable {
    case scalar(String, YAMLMark)
    case sequence([YAMLNode], YAMLMark)
    case mapping([(key: YAMLNode, value: YAMLNode)], YAMLMark)

    public var mark: YAMLMark {
        switch self {
        case .scalar(_, let m), .sequence(_, let m), .mapping(_, let m): return m
        }
    }
    public var scalar: String? { if case .scalar(let s, _) = self { return s } else { return nil } }
    public var sequence: [YAMLNode]? { if case .sequence(let items, _) = self { return items } else { return nil } }
    public var mapping: [(key: YAMLNode, value: YAMLNode)]? {
        if case .mapping(let pairs, _) = self { return pairs } else { return nil }
    }

    public static func == (a: YAMLNode, b: YAMLNode) -> Bool {
        switch (a, b) {
        case (.scalar(let x, let m), .scalar(let y, let n)): return x == y && m == n
        case (.sequence(let x, let m), .sequence(let y, let n)): return x == y && m == n
        case (.mapping(let x, let m), .mapping(let y, let n)):
            return m == n && x.count == y.count && zip(x, y).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: return false
        }
    }
}

/// Why the text is not a policy-subset YAML document, and where.
public struct YAMLError: Error, Sendable, Equatable, CustomStringConvertible {
    public var mark: YAMLMark
    public var problem: String
    public var description: String { "\(mark): \(problem)" }
}

public enum PolicyYAML {
    /// A policy file is a few lines; past these the text is not one.
    public static let maxBytes = 1 << 20
    public static let maxDepth = 32

    /// The document's root node; nil when it holds nothing but comments and blank lines.
    public static func parse(_ text: String) throws(YAMLError) -> YAMLNode? {
        guard text.utf8.count <= maxBytes else {
            throw YAMLError(
                mark: YAMLMark(line: 1, column: 1), problem: "larger than \(maxBytes) bytes: not a policy file")
        }
        var reader = try YAMLReader(text)
        return try reader.document()
    }
}

/// One line of the text: its scalars without the line break, and where its content starts.
struct YAMLLine {
    var number: Int
    var scalars: [Unicode.Scalar]
    /// Index in `scalars` where this line's block content starts (after indentation, or after a "- "
    /// whose rest is read as a line of its own).
    var start: Int
    /// The column of `scalars[0]`: 2 on a first line after a byte order mark, which libyaml counts.
    var firstColumn = 1

    func mark(_ index: Int) -> YAMLMark { YAMLMark(line: number, column: index + firstColumn) }
}

struct YAMLReader {
    var lines: [YAMLLine] = []
    /// The next line not yet read.
    var next = 0

    init(_ text: String) throws(YAMLError) {
        var number = 1
        var current: [Unicode.Scalar] = []
        var scalars = Array(text.unicodeScalars)
        var firstColumn = 1
        if scalars.first == "\u{FEFF}" {
            scalars.removeFirst()
            firstColumn = 2
        }  // a byte order mark, as libyaml allows
        var i = 0
        while i < scalars.count {
            let s = scalars[i]
            if s == "\n" || s == "\r" {
                if s == "\r", i + 1 < scalars.count, scalars[i + 1] == "\n" { i += 1 }
                lines.append(
                    YAMLLine(number: number, scalars: current, start: 0, firstColumn: number == 1 ? firstColumn : 1))
                current = []
                number += 1
            } else {
                guard Self.printable(s) else {
                    throw YAMLError(
                        mark: YAMLMark(line: number, column: current.count + (number == 1 ? firstColumn : 1)),
                        problem: "control character U+\(String(s.value, radix: 16, uppercase: true)) is not allowed")
                }
                current.append(s)
            }
            i += 1
        }
        lines.append(YAMLLine(number: number, scalars: current, start: 0, firstColumn: number == 1 ? firstColumn : 1))
    }

    /// YAML's printable characters (tab included); C0 and C1 controls, DEL and surrogates are not.
    static func printable(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x09, 0x20...0x7E, 0x85, 0xA0...0xD7FF, 0xE000...0xFFFD, 0x10000...0x10FFFF: return true
        default: return false
        }
    }

    static func fail(_ line: YAMLLine, _ index: Int, _ problem: String) -> YAMLError {
        YAMLError(mark: line.mark(index), problem: problem)
    }

    // MARK: Lines

    /// Skips blank and comment-only lines; checks the indentation of the next line with content and sets its
    /// `start`. Nil at the end of the text.
    mutating func nextContent() throws(YAMLError) -> YAMLLine? {
        while next < lines.count {
            var line = lines[next]
            if line.start == 0 {
                var i = 0
                while i < line.scalars.count, line.scalars[i] == " " { i += 1 }
                let rest = i < line.scalars.count ? line.scalars[i] : nil
                if rest == nil || rest == "#" {
                    next += 1
                    continue
                }
                // Even on a blank or comment line: libyaml refuses some of those, and the subset refuses all.
                if rest == "\t" { throw Self.fail(line, i, "a tab cannot indent (YAML indents with spaces only)") }
                line.start = i
                lines[next] = line
            }
            return line
        }
        return nil
    }

    /// The indentation (column of the content, 0-based) of the next line with content, or -1 at the end.
    mutating func nextIndent() throws(YAMLError) -> Int {
        try nextContent()?.start ?? -1
    }

    // MARK: Documents and blocks

    mutating func document() throws(YAMLError) -> YAMLNode? {
        guard var first = try nextContent() else { return nil }
        if first.start == 0, isMarker(first, "---") {
            // One leading document start is allowed (it changes nothing); content on its line is not.
            let after = skipSpaces(first, 3)
            guard after == first.scalars.count || first.scalars[after] == "#" else {
                throw Self.fail(first, after, "content after '---' is not supported: start the policy on the next line")
            }
            next += 1
            guard let line = try nextContent() else { return nil }
            first = line
        }
        if isDocumentMarker(first) {
            throw Self.fail(
                first, 0,
                "'\(String(String.UnicodeScalarView(first.scalars[0..<3])))' here is not supported (one document per file)"
            )
        }
        if first.scalars[first.start] == "%" {
            throw Self.fail(first, first.start, "YAML directives are not supported")
        }
        let root = try block(indent: first.start, depth: 1)
        if let extra = try nextContent() {
            if extra.start == 0, isMarker(extra, "---") || isMarker(extra, "...") {
                throw Self.fail(
                    extra, 0, "a policy file holds one YAML document; a second one (or '...') is not supported")
            }
            throw Self.fail(extra, extra.start, "this line's indentation matches none of the blocks above it")
        }
        return root
    }

    /// "---" or "..." at the start of a line: a document starts or ends there, and no block goes on.
    func isDocumentMarker(_ line: YAMLLine) -> Bool {
        line.start == 0 && (isMarker(line, "---") || isMarker(line, "..."))
    }

    func isMarker(_ line: YAMLLine, _ marker: String) -> Bool {
        let m = Array(marker.unicodeScalars)
        guard line.scalars.count >= 3, Array(line.scalars[0..<3]) == m else { return false }
        return line.scalars.count == 3 || line.scalars[3] == " " || line.scalars[3] == "\t"
    }

    /// The block node whose first line is the next line with content, indented `indent`.
    mutating func block(indent: Int, depth: Int) throws(YAMLError) -> YAMLNode {
        guard let line = try nextContent() else { return .scalar("", YAMLMark(line: lines.count, column: 1)) }
        guard depth <= PolicyYAML.maxDepth else {
            throw Self.fail(line, line.start, "nested deeper than \(PolicyYAML.maxDepth) levels")
        }
        if isEntry(line, line.start) { return try sequence(indent: indent, depth: depth) }
        if try keyEnd(line, line.start) != nil { return try mapping(indent: indent, depth: depth) }
        // A value alone on its line.
        next += 1
        let (node, end) = try inlineValue(line, line.start, depth: depth)
        try expectEnd(line, end)
        // Siblings of a value alone on its line sit left of it: a line at its column or further goes on with it.
        try noContinuation(after: line, indent: indent - 1)
        return node
    }

    /// "-" followed by a space, a tab or the end of the line: a block sequence entry.
    func isEntry(_ line: YAMLLine, _ i: Int) -> Bool {
        line.scalars[i] == "-"
            && (i + 1 == line.scalars.count || line.scalars[i + 1] == " " || line.scalars[i + 1] == "\t")
    }

    mutating func sequence(indent: Int, depth: Int) throws(YAMLError) -> YAMLNode {
        var items: [YAMLNode] = []
        var mark: YAMLMark?
        while var line = try nextContent(), line.start == indent, !isDocumentMarker(line), isEntry(line, indent) {
            if mark == nil { mark = line.mark(indent) }
            let after = indent + 1
            let content = skipSpaces(line, after)
            // The entry's content sets the indentation of what follows it: only spaces may come before it.
            if let tab = line.scalars[after..<content].firstIndex(of: "\t") {
                throw Self.fail(line, tab, "a tab after '-' is not supported: use a space")
            }
            if content == line.scalars.count || line.scalars[content] == "#" {
                // The entry's node is on the following lines, indented more than the '-'.
                next += 1
                let inner = try nextIndent()
                if inner > indent {
                    items.append(try block(indent: inner, depth: depth + 1))
                } else {
                    items.append(.scalar("", line.mark(after)))
                }
            } else {
                // The rest of the line is read as a line of its own, indented where its content starts.
                line.start = content
                lines[next] = line
                items.append(try block(indent: content, depth: depth + 1))
            }
        }
        try checkEndOfBlock(indent: indent)
        return .sequence(items, mark ?? YAMLMark(line: 1, column: 1))
    }

    mutating func mapping(indent: Int, depth: Int) throws(YAMLError) -> YAMLNode {
        var pairs: [(key: YAMLNode, value: YAMLNode)] = []
        var mark: YAMLMark?
        var seen: Set<String> = []
        while let line = try nextContent(), line.start == indent, !isDocumentMarker(line) {
            if isEntry(line, indent) {
                throw Self.fail(line, indent, "a list entry where this mapping expects a key")
            }
            guard let (key, colon) = try keyEnd(line, indent) else {
                throw Self.fail(
                    line, indent, "a key followed by ':' expected here (values longer than one line are not supported)")
            }
            if mark == nil { mark = key.mark }
            if let k = key.scalar {
                guard seen.insert(k).inserted else { throw Self.fail(line, indent, "key given twice: \(k)") }
            }
            let content = skipSpaces(line, colon + 1)
            let value: YAMLNode
            if content == line.scalars.count || line.scalars[content] == "#" {
                next += 1
                let inner = try nextIndent()
                if inner > indent {
                    value = try block(indent: inner, depth: depth + 1)
                } else if inner == indent, let entry = try nextContent(), isEntry(entry, indent) {
                    // A list under a key may start in the key's own column.
                    value = try sequence(indent: indent, depth: depth + 1)
                } else {
                    value = .scalar("", line.mark(colon + 1))
                }
            } else {
                next += 1
                let (node, end) = try inlineValue(line, content, depth: depth + 1)
                try expectEnd(line, end)
                try noContinuation(after: line, indent: indent)
                value = node
            }
            pairs.append((key, value))
        }
        try checkEndOfBlock(indent: indent)
        return .mapping(pairs, mark ?? YAMLMark(line: 1, column: 1))
    }

    /// After a block at `indent`: the next line must belong to an enclosing block (indented less).
    mutating func checkEndOfBlock(indent: Int) throws(YAMLError) {
        guard let line = try nextContent() else { return }
        if line.start > indent {
            throw Self.fail(line, line.start, "this line's indentation matches none of the blocks above it")
        }
    }

    /// A value on its line must not go on over the next lines (multi-line scalars are not supported).
    mutating func noContinuation(after line: YAMLLine, indent: Int) throws(YAMLError) {
        guard let following = try nextContent(), following.start > indent, following.number > line.number else {
            return
        }
        throw Self.fail(
            following, following.start,
            "a value cannot go on over several lines here (or this line is indented too far)")
    }

    /// When the line's content at `i` is a key (a one-line scalar followed by ':' and a space or the end):
    /// the key and the index of its ':'.
    func keyEnd(_ line: YAMLLine, _ i: Int) throws(YAMLError) -> (YAMLNode, Int)? {
        let s = line.scalars
        let mark = line.mark(i)
        if s[i] == "'" || s[i] == "\"" {
            let (text, end) = try quoted(line, i)
            let colon = skipSpaces(line, end)
            guard colon < s.count, s[colon] == ":", colon + 1 == s.count || s[colon + 1] == " " || s[colon + 1] == "\t"
            else { return nil }
            return (.scalar(text, mark), colon)
        }
        if s[i] == "?" && (i + 1 == s.count || s[i + 1] == " ") {
            throw Self.fail(line, i, "explicit keys ('? ') are not supported")
        }
        if s[i] == "[" || s[i] == "{" || s[i] == "&" || s[i] == "*" || s[i] == "!" { return nil }
        var j = i
        while j < s.count {
            if s[j] == ":" && (j + 1 == s.count || s[j + 1] == " " || s[j + 1] == "\t") {
                var end = j
                while end > i, s[end - 1] == " " || s[end - 1] == "\t" { end -= 1 }
                guard end > i else { throw Self.fail(line, i, "an empty key is not supported") }
                try checkPlainStart(line, i, flow: false)
                var key = String.UnicodeScalarView()
                key.append(contentsOf: s[i..<end])
                return (.scalar(String(key), mark), j)
            }
            if s[j] == "#" && j > i && (s[j - 1] == " " || s[j - 1] == "\t") { return nil }
            j += 1
        }
        return nil
    }
}
