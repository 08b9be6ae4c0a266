// The policy file's own YAML reader against Yams (libyaml), which the product no longer links: on every
// documented policy, on tricky snippets and on mutations of the documented policy, what the reader
// accepts Yams reads as the same tree (same strings, same shape, same line and column); what lies outside
// the subset is refused with the place and the reason, and nothing crashes it.
import Foundation
import TestSupport
import Testing
import Yams

@testable import Archives
@testable import Engine

@Suite struct PolicyYAMLReader {
    /// Yams' tree in the reader's terms (nil for an alias, which the subset never has).
    static func tree(_ node: Yams.Node) -> YAMLNode? {
        let mark = YAMLMark(line: node.mark?.line ?? 0, column: node.mark?.column ?? 0)
        switch node {
        case .scalar(let s): return .scalar(s.string, mark)
        case .sequence(let s):
            let items = s.compactMap(tree)
            return items.count == s.count ? .sequence(items, mark) : nil
        case .mapping(let m):
            var pairs: [(key: YAMLNode, value: YAMLNode)] = []
            for (k, v) in m {
                guard let key = tree(k), let value = tree(v) else { return nil }
                pairs.append((key, value))
            }
            return .mapping(pairs, mark)
        case .alias: return nil
        }
    }

    /// Both readers on `text`: the reader's tree (or its error) and Yams' tree (or nil when it refused).
    static func both(_ text: String) -> (ours: Result<YAMLNode?, YAMLError>, yams: Result<YAMLNode?, Error>) {
        let ours = Result { () throws(YAMLError) -> YAMLNode? in try PolicyYAML.parse(text) }
        let yams = Result { () throws -> YAMLNode? in try Yams.compose(yaml: text).flatMap(tree) }
        return (ours, yams)
    }

    /// Accepted by the reader, and then exactly as Yams reads it.
    func expectSame(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let (ours, yams) = Self.both(text)
        guard case .success(let mine) = ours else {
            Issue.record("refused \(text.debugDescription): \(ours)", sourceLocation: sourceLocation)
            return
        }
        guard case .success(let theirs) = yams else {
            Issue.record(
                "Yams refused \(text.debugDescription), which the reader accepted", sourceLocation: sourceLocation)
            return
        }
        #expect(
            mine == theirs,
            "\(text.debugDescription)\n ours: \(String(describing: mine))\n Yams: \(String(describing: theirs))",
            sourceLocation: sourceLocation)
    }

    /// Refused by the reader at `line:column` with a problem that contains `words`.
    func expectRefused(
        _ text: String, at place: String, _ words: String, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        do {
            let node = try PolicyYAML.parse(text)
            Issue.record(
                "accepted \(text.debugDescription) as \(String(describing: node))", sourceLocation: sourceLocation)
        } catch {
            #expect(
                error.mark.description == place && error.problem.contains(words), "\(text.debugDescription): \(error)",
                sourceLocation: sourceLocation)
        }
    }

    /// The ```yaml blocks of the README and docs that are policy files (their top-level keys are policy keys).
    static func documentedPolicies() throws -> [String] {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        var files = [root.appendingPathComponent("README.md")]
        let docs = root.appendingPathComponent("docs")
        for name in (try? FileManager.default.contentsOfDirectory(atPath: docs.path)) ?? [] where name.hasSuffix(".md")
        {
            files.append(docs.appendingPathComponent(name))
        }
        var policies: [String] = []
        for file in files {
            let text = try String(contentsOf: file, encoding: .utf8)
            for block in text.components(separatedBy: "```yaml\n").dropFirst() {
                guard let body = block.components(separatedBy: "```").first else { continue }
                let keys = body.split(separator: "\n").filter {
                    !$0.hasPrefix(" ") && !$0.hasPrefix("#") && $0.contains(":")
                }
                .map { String($0.prefix { $0 != ":" }) }
                if !keys.isEmpty, keys.allSatisfy(Policy.topKeys.contains) { policies.append(body) }
            }
        }
        // The policy scripts/test-static.sh writes.
        policies.append(
            "target: alpine:3.20\nfail-on: needs-rebuild\ninstalled: [gcompat]\nignore:\n  paths:\n    - path: \"**/recent\"\n      reason: checked by hand\n  rules:\n    - rule: nss-lookups\n      reason: files only\n"
        )
        return policies
    }

    @Test func everyDocumentedPolicyReadsAsYamsReadsIt() throws {
        let policies = try Self.documentedPolicies()
        #expect(policies.count >= 2, "the README's policy example was not found")
        for text in policies {
            expectSame(text)
            #expect(throws: Never.self) { try Policy.parse(text, file: "doc.yml", ruleIDs: []) }
        }
    }

    @Test func trickySnippetsReadAsYamsReadsThem() {
        let snippets = [
            "", "# only a comment\n", "\n\n   \n", "target: alpine:3.20", "target: alpine:3.20\n",
            "---\ntarget: x\n", "--- # a comment\ntarget: x\n", "\u{FEFF}target: x\n",
            "target: alpine:3.20\r\nfail-on: never\r\n",
            "installed: [gcompat, libstdc++]\n", "installed: []\n", "installed: [ a , 'b c',\"d\\te\" ]\n",
            "installed: [a, ]\n", "installed: [a, [b, [c]], 'd,e']\n", "installed:\n", "installed:   # none\n",
            "installed:\n- a\n- b\n", "installed:\n  - a\n  -   b   # c\n", "installed:\n    - a\n",
            "a:\nb: c\n", "a:\n  b:\n    c: [x, y]\n  d: e\nf: g\n",
            "ignore:\n  paths:\n    - path: \"vendor/**/legacy-*.so\"  # relative\n      reason: replaced in the next release\n",
            "ignore:\n  rules:\n  - rule: tzdata\n    reason: UTC\n  - rule: x\n    reason: y\n",
            "- a\n- b\n", "- - a\n  - b\n- c\n", "-\n  x: y\n", "- \n- x\n", "-\n-\n",
            "a: -x\n", "a: x:y\n", "a: 'x: y'\n", "a: \"x # y\"\n", "a: b#c\n", "a: b #c\n", "a: ~\n", "a: null\n",
            "a: 1.0\n", "a: yes\n", "a: 0x1F\n", "a: 2001-12-14\n", "a: ?x\n", "a: :x\n",
            "target: 'it''s'\n", "target: \"\\u00e9\\x41\\n\\\\ \\\" \\/\"\n", "target: ''\n", "target: \"\"\n",
            "'quoted key': v\n", "\"key\": v\n", "k e y: v a l\n", "a b: c d   \n", "a:    spaced    out   \n",
            "a: é ü 漢字 🙂\n", "a: [é, 🙂]\n", "a: b\t# tab before a comment\n", "a: b\t\n", "a:\tb\n",
            "  a: b\n  c: d\n", "a:\n  - b\n  -\n    c: d\n",
        ]
        for s in snippets { expectSame(s) }
    }

    @Test func whatLiesOutsideTheSubsetIsRefusedWithItsPlace() {
        expectRefused("ignore:\n\t- x\n", at: "2:1", "tab")
        expectRefused("a: b\n\t\nc: d\n", at: "2:1", "tab")
        expectRefused("a:\n  - b\n    \t # c\n  - c\n", at: "3:5", "tab")
        expectRefused("target: [alpine:3.20\nfail-on: x\n", at: "1:9", "']' missing")
        expectRefused("a: &x b\n", at: "1:4", "anchors")
        expectRefused("a: *x\n", at: "1:4", "aliases")
        expectRefused("a: **/legacy\n", at: "1:4", "quote")
        expectRefused("a: !!str b\n", at: "1:4", "tags")
        expectRefused("a: |\n  b\n", at: "1:4", "block scalars")
        expectRefused("a: >\n  b\n", at: "1:4", "block scalars")
        expectRefused("a: {b: c}\n", at: "1:4", "flow mappings")
        expectRefused("a: [b, {c: d}]\n", at: "1:8", "flow mappings")
        expectRefused("a: [b: c]\n", at: "1:6", "mappings inside a flow sequence")
        expectRefused("a: b\n---\nc: d\n", at: "2:1", "one YAML document")
        expectRefused("a: b\n...\n", at: "2:1", "one YAML document")
        expectRefused("%YAML 1.2\n---\na: b\n", at: "1:1", "directives")
        expectRefused("? a\n: b\n", at: "1:1", "explicit keys")
        expectRefused("a: b\na: c\n", at: "2:1", "key given twice: a")
        expectRefused("a: b: c\n", at: "1:5", "mapping cannot start inside a value")
        expectRefused("a: b\n  c\n", at: "2:3", "several lines")
        expectRefused("a:\n  b\n  c\n", at: "3:3", "several lines")
        expectRefused("a: 'b\n  c'\n", at: "1:4", "does not end on this line")
        expectRefused("a: \"b\n", at: "1:4", "does not end on this line")
        expectRefused("a: \"\\q\"\n", at: "1:5", "unknown escape")
        expectRefused("a: \"\\u12\"\n", at: "1:5", "hexadecimal")
        expectRefused("a: \"\\uD800\"\n", at: "1:5", "Unicode scalar")
        expectRefused("a: 'b' c\n", at: "1:8", "unexpected text")
        expectRefused("a: 'b'#c\n", at: "1:7", "space before '#'")
        expectRefused("a\u{7}: b\n", at: "1:2", "control character U+7")
        expectRefused("a: b\n c: d\n", at: "2:2", "several lines")
        expectRefused("a:\n    b: c\n  d: e\n", at: "3:3", "matches none of the blocks")
        expectRefused("a:\n- b\nc\n", at: "3:1", "key followed by ':'")
        expectRefused("- a\nb: c\n", at: "2:1", "matches none of the blocks")
        expectRefused("a: b\n- c\n", at: "2:1", "list entry")
        expectRefused("a: [b,,c]\n", at: "1:7", "empty entry")
        expectRefused("a: [b c d\n", at: "1:4", "']' missing")
        expectRefused("a: [b] c\n", at: "1:8", "unexpected text")
        expectRefused("-\tx\n", at: "1:2", "tab after '-'")
        expectRefused("- \tx: y\n  z: w\n", at: "1:3", "tab after '-'")
        expectRefused(": b\n", at: "1:1", "empty key")
        expectRefused("a: ,b\n", at: "1:4", "cannot start")
        expectRefused("a: @b\n", at: "1:4", "quote it")
        expectRefused("--- a: b\n", at: "1:5", "content after '---'")
        expectRefused(String(repeating: "- ", count: 40) + "x\n", at: "1:65", "deeper than 32")
        expectRefused(
            "a: " + String(repeating: "[", count: 40) + String(repeating: "]", count: 40) + "\n", at: "1:35",
            "deeper than 32")
        expectRefused("a: " + String(repeating: "x", count: PolicyYAML.maxBytes) + "\n", at: "1:1", "larger than")
    }

    @Test func policyErrorsNameTheFileLineAndColumn() {
        func problem(_ yaml: String) -> String? {
            do {
                _ = try Policy.parse(yaml, file: "p.yml", ruleIDs: [])
                return nil
            } catch { return "\(error)" }
        }
        #expect(
            problem("target: [alpine:3.20\nfail-on: x\n")
                == "p.yml:1:9: ']' missing: a flow sequence [ … ] must end on the line it starts")
        #expect(
            problem("ignore:\n  paths:\n    - path: *x\n      reason: y\n")?.hasPrefix(
                "p.yml:3:13: aliases (*) are not supported") == true)
        #expect(problem("target: a\ntarget: b\n") == "p.yml:2:1: key given twice: target")
    }

    /// The documented policy with characters deleted, doubled or replaced by YAML's indicators: the reader
    /// never crashes, and whatever it accepts, Yams reads the same way (POLICY_YAML_MUTATIONS rounds, 1500; POLICY_YAML_SEED).
    @Test func mutationsNeverCrashAndAgreeWithYams() throws {
        let bases = try Self.documentedPolicies().map { Array($0.unicodeScalars) }
        let alphabet = Array(" \t\n-:#'\"[],{}&*!|>%?@`\\x".unicodeScalars)
        let environment = ProcessInfo.processInfo.environment
        var rng = SplitMix64(seed: environment["POLICY_YAML_SEED"].flatMap { UInt64($0) } ?? 0x5EED)
        var accepted = 0
        let rounds = environment["POLICY_YAML_MUTATIONS"].flatMap(Int.init) ?? 1500
        for round in 0..<rounds {
            var s = bases[round % bases.count]
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                let i = Int.random(in: 0..<s.count, using: &rng)
                switch Int.random(in: 0..<3, using: &rng) {
                case 0: s.remove(at: i)
                case 1: s.insert(s[i], at: i)
                default: s[i] = alphabet[Int.random(in: 0..<alphabet.count, using: &rng)]
                }
            }
            var view = String.UnicodeScalarView()
            view.append(contentsOf: s)
            let text = String(view)
            let (ours, yams) = Self.both(text)
            guard case .success(let mine) = ours else { continue }
            accepted += 1
            guard case .success(let theirs) = yams else {
                Issue.record("Yams refused \(text.debugDescription)")
                continue
            }
            #expect(mine == theirs, "\(text.debugDescription)")
        }
        #expect(accepted > 100, "too few mutations accepted (\(accepted)) to compare anything")
    }
}

/// Image index JSON, read without JSONSerialization (FoundationEssentials has none): the shapes the image
/// code casts, and a bounded nesting.
@Suite struct ImageIndexJSON {
    @Test func valuesComeInTheShapesJSONSerializationGave() throws {
        let text =
            #"{"manifests": [{"digest": "sha256:ab", "size": 12, "annotations": {"org.opencontainers.image.ref.name": "v1"}, "x": null, "y": true}]}"#
        let root = try #require(ImageIndex.json(Array(text.utf8)) as? [String: Any])
        let manifests = try #require(root["manifests"] as? [[String: Any]])
        #expect(manifests.first?["digest"] as? String == "sha256:ab")
        #expect(manifests.first?["size"] as? Double == 12 && manifests.first?["size"] as? String == nil)
        #expect(
            (manifests.first?["annotations"] as? [String: Any])?["org.opencontainers.image.ref.name"] as? String == "v1"
        )
        #expect(manifests.first?["y"] as? Bool == true)
        #expect(ImageIndex.json(Array(#"[["a", "b"]]"#.utf8)) as? [[String]] == [["a", "b"]])
        #expect(ImageIndex.json(Array("{not json".utf8)) == nil)
        #expect(ImageIndex.json(nil) == nil)
    }

    @Test func deepNestingIsRefusedBeforeDecoding() {
        func nested(_ n: Int) -> [UInt8] {
            Array((String(repeating: "[", count: n) + String(repeating: "]", count: n)).utf8)
        }
        #expect(ImageIndex.json(nested(ImageIndex.maxJSONNesting)) != nil)
        #expect(ImageIndex.json(nested(ImageIndex.maxJSONNesting + 1)) == nil)
        #expect(ImageIndex.json(nested(100_000)) == nil)
        // Brackets inside strings are not nesting.
        #expect(ImageIndex.json(Array(("[\"" + String(repeating: "[", count: 1000) + "\\\"\"]").utf8)) != nil)
    }
}
