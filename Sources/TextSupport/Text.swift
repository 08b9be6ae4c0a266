// The few string and path operations muslcheck took from full Foundation, which FoundationEssentials lacks.
// The product links FoundationEssentials only: full Foundation brings ICU and its data (37 MB of the 62 MB
// static executable, Package.swift). Tests/CLITests/TextSupportTests.swift checks these against Foundation.

/// A set of Unicode scalars to trim, like Foundation's CharacterSet for the sets muslcheck uses.
package struct ScalarSet: Sendable {
    private let test: @Sendable (Unicode.Scalar) -> Bool

    package init(charactersIn characters: String) {
        let scalars = Set(characters.unicodeScalars)
        test = { scalars.contains($0) }
    }

    private init(_ test: @escaping @Sendable (Unicode.Scalar) -> Bool) { self.test = test }

    package func contains(_ scalar: Unicode.Scalar) -> Bool { test(scalar) }

    /// Unicode's space separators (general category Zs), the tab, and U+200B (ZERO WIDTH SPACE, Zs until
    /// Unicode 4.0.1, still in Foundation's set): Foundation's `CharacterSet.whitespaces`, scalar for scalar.
    package static let whitespaces = ScalarSet { isSpace($0) }

    /// Those, the line and paragraph separators (U+2028, U+2029), U+000A to U+000D and U+0085:
    /// Foundation's `CharacterSet.whitespacesAndNewlines`.
    package static let whitespacesAndNewlines = ScalarSet { s in
        isSpace(s) || (0x0A...0x0D).contains(s.value) || s.value == 0x85 || s.value == 0x2028 || s.value == 0x2029
    }

    private static func isSpace(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x09, 0x20, 0xA0, 0x1680, 0x2000...0x200B, 0x202F, 0x205F, 0x3000: return true
        default: return false
        }
    }
}

extension StringProtocol {
    /// Without the leading and trailing scalars in `set` (spaces and tabs unless told).
    package func trimmed(_ set: ScalarSet = .whitespaces) -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !set.contains($0) }) else { return "" }
        var end = scalars.endIndex
        while end > first {
            let before = scalars.index(before: end)
            if !set.contains(scalars[before]) { break }
            end = before
        }
        var out = String.UnicodeScalarView()
        out.append(contentsOf: scalars[first..<end])
        return String(out)
    }

    /// The first occurrence of `needle`, compared as UTF-8 bytes (a match always starts and ends on a
    /// scalar boundary). Unlike String's own `firstRange(of:)`, which compares whole characters, "\n"
    /// is found inside "\r\n", as with Foundation's `range(of:)`. Nil for an empty needle.
    package func literalRange(of needle: String) -> Range<Index>? {
        findLiteral(needle, backwards: false)
    }

    /// The last occurrence of `needle`, compared as UTF-8 bytes. Nil for an empty needle.
    package func lastLiteralRange(of needle: String) -> Range<Index>? {
        findLiteral(needle, backwards: true)
    }

    /// Every occurrence of `needle` replaced by `replacement`, matched as UTF-8 bytes, left to right,
    /// without overlaps; an empty needle changes nothing. Foundation's `replacingOccurrences(of:with:)`
    /// on the text muslcheck escapes, except that a needle followed by a combining mark is replaced too
    /// (Foundation left "<" followed by U+0301 alone, which defeats HTML escaping).
    package func replacingLiteral(_ needle: String, with replacement: String) -> String {
        let n = Array(needle.utf8)
        guard !n.isEmpty else { return String(self) }
        let h = Array(utf8)
        var out: [UInt8] = []
        out.reserveCapacity(h.count)
        var i = 0
        while i < h.count {
            if h[i] == n[0], i + n.count <= h.count, h[i..<(i + n.count)].elementsEqual(n) {
                out.append(contentsOf: replacement.utf8)
                i += n.count
            } else {
                out.append(h[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private func findLiteral(_ needle: String, backwards: Bool) -> Range<Index>? {
        let n = Array(needle.utf8)
        let view = utf8
        guard !n.isEmpty, view.count >= n.count else { return nil }
        let h = Array(view)
        let last = h.count - n.count
        var s = backwards ? last : 0
        while s >= 0 && s <= last {
            if h[s] == n[0] && h[s..<(s + n.count)].elementsEqual(n) {
                let lower = view.index(view.startIndex, offsetBy: s)
                return lower..<view.index(lower, offsetBy: n.count)
            }
            s += backwards ? -1 : 1
        }
        return nil
    }
}

/// Path arithmetic on strings, as NSString did it: '/'-separated, no file system access, no "~" expansion.
package enum PathText {
    /// The path without its last component: "/a/b" → "/a", "/a" → "/", "a" → "", "a/b/" → "a", "a//b/c" → "a/b".
    /// Repeated slashes are read as one and a trailing slash is dropped first, as NSString does (whose
    /// version stops the program on a relative path of one component, such as "policy.yml").
    package static func deletingLastComponent(_ path: String) -> String {
        let fixed = fixingSlashes(path)
        if fixed == "/" || fixed.isEmpty { return fixed }
        guard let slash = fixed.utf8.lastIndex(of: UInt8(ascii: "/")) else { return "" }
        if slash == fixed.utf8.startIndex { return "/" }
        return String(fixed[..<slash])
    }

    /// `component` appended to `path` with a slash between them unless `path` ends with one:
    /// "a" + "b" → "a/b", "a/" + "b" → "a/b", "" + "b" → "b", "a" + "" → "a"; otherwise unchanged, as NSString.
    package static func appending(_ path: String, _ component: String) -> String {
        if component.isEmpty { return path }
        if path.isEmpty { return component }
        return path.hasSuffix("/") ? path + component : path + "/" + component
    }

    /// Runs of slashes collapsed to one, and a trailing slash dropped (but "/" stays "/").
    private static func fixingSlashes(_ path: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(path.utf8.count)
        for byte in path.utf8 where !(byte == UInt8(ascii: "/") && out.last == UInt8(ascii: "/")) { out.append(byte) }
        if out.count > 1, out.last == UInt8(ascii: "/") { out.removeLast() }
        return String(decoding: out, as: UTF8.self)
    }
}
