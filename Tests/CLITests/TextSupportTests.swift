// The string and path operations that replace full Foundation's in the product give Foundation's results
// (the tests link Foundation; the product does not).
import Foundation
import Testing
import TextSupport

@Suite struct TextSupportAgainstFoundation {
    static let texts = [
        "", " ", "\t", "a", " a ", "\ta b\t", "  \n a \r\n", "\u{A0}x\u{3000}", "\u{2028}x\u{85}", "\u{200B}x\u{200B}",
        "\r\n\r\n", "a\r\nb", "x.so.1", "libfoo.so.1.2", "a!/b!/c", "a!/", "!/", "ab|c`d", "<e\u{301}>", "é🙂|漢",
        "\"quoted\"", "'single'", "\u{1680}\u{2000}\u{200A}\u{202F}\u{205F}mid\u{2009}",
    ]

    @Test func trimmingMatchesFoundation() {
        for t in Self.texts {
            #expect(t.trimmed() == t.trimmingCharacters(in: .whitespaces), "\(t.debugDescription)")
            #expect(
                t.trimmed(.whitespacesAndNewlines) == t.trimmingCharacters(in: .whitespacesAndNewlines),
                "\(t.debugDescription)")
            #expect(
                t.trimmed(ScalarSet(charactersIn: "\"'"))
                    == t.trimmingCharacters(in: CharacterSet(charactersIn: "\"'")), "\(t.debugDescription)")
        }
    }

    /// Every scalar of the Basic Multilingual Plane and a few beyond: the two sets are Foundation's.
    @Test func theWhitespaceSetsAreFoundations() {
        for value in Array(0...0xFFFF) + [0x1F600, 0xE0020, 0x10FFFF] {
            guard let s = Unicode.Scalar(value) else { continue }
            #expect(
                ScalarSet.whitespaces.contains(s) == CharacterSet.whitespaces.contains(s),
                "U+\(String(value, radix: 16))")
            #expect(
                ScalarSet.whitespacesAndNewlines.contains(s) == CharacterSet.whitespacesAndNewlines.contains(s),
                "U+\(String(value, radix: 16))")
        }
    }

    @Test func literalSearchAndReplaceMatchFoundation() {
        for t in Self.texts {
            for needle in ["!/", "\n", "\r", ".so.", "|", "a", "🙂", "x"] {
                let ours = t.literalRange(of: needle).map { t.utf8.distance(from: t.startIndex, to: $0.lowerBound) }
                let theirs = t.range(of: needle).map { t.utf8.distance(from: t.startIndex, to: $0.lowerBound) }
                #expect(ours == theirs, "\(t.debugDescription) \(needle.debugDescription)")
                let oursLast = t.lastLiteralRange(of: needle).map {
                    t.utf8.distance(from: t.startIndex, to: $0.lowerBound)
                }
                let theirsLast = t.range(of: needle, options: .backwards).map {
                    t.utf8.distance(from: t.startIndex, to: $0.lowerBound)
                }
                #expect(oursLast == theirsLast, "\(t.debugDescription) \(needle.debugDescription)")
                #expect(
                    t.replacingLiteral(needle, with: "<\(needle)>")
                        == t.replacingOccurrences(of: needle, with: "<\(needle)>"),
                    "\(t.debugDescription) \(needle.debugDescription)")
            }
            #expect(t.replacingLiteral("", with: "x") == t)
        }
        // Where Foundation keeps a needle that a combining mark follows, escaping must not.
        #expect("<\u{301}b".replacingLiteral("<", with: "&lt;") == "&lt;\u{301}b")
    }

    @Test func pathArithmeticMatchesNSString() {
        // NSString's deletingLastPathComponent stops the program on "a" and "a/" (one relative component),
        // which PathText answers with "" (the directory part of "policy.yml" is nothing).
        let paths = [
            "", "/", "/a", "/a/", "a/b", "/a/b", "a//b", "/a//b/", "a/b//", "./a", "../x/y", "~/x", "///a", "/a//b/c",
            "a//b//c",
        ]
        for p in paths {
            #expect(
                PathText.deletingLastComponent(p) == (p as NSString).deletingLastPathComponent, "\(p.debugDescription)")
            for c in ["", "b", "/b", "b/", "../c", "b//c"] {
                #expect(
                    PathText.appending(p, c) == (p as NSString).appendingPathComponent(c),
                    "\(p.debugDescription) + \(c.debugDescription)")
            }
        }
        #expect(PathText.deletingLastComponent("policy.yml") == "")
        #expect(PathText.deletingLastComponent("dir/") == "")
    }
}
