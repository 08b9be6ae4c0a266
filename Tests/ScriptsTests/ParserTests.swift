import Scripts
import Testing

/// Parses shell text as a `#!/bin/sh` script.
func parse(_ text: String) -> ShellScript {
    ScriptFacts.read(path: "t.sh", bytes: Array(("#!/bin/sh\n" + text).utf8))?.units.first?.script ?? ShellScript()
}

func names(_ text: String) -> [String] { parse(text).commands.map { $0.name.literal ?? "?" } }

@Suite struct ParserTests {
    @Test func commandsNotInStringsCommentsOrHereDocuments() {
        let text = """
            echo "useradd $(id -u) `whoami`" 'curl x' # sudo here
            cat <<EOF
            useradd in a here-document
            EOF
            cat <<-'END'
            \tsudo
            \tEND
            printf '%s' "$(grep -P x <<< y)"
            """
        #expect(names(text) == ["echo", "id", "whoami", "cat", "cat", "printf", "grep"])
    }

    @Test func substitutionsInUnquotedHereDocumentsRun() {
        let text = """
            cat <<EOF > f
            version $(git describe) `uname -r` ${x:-$(id)} \\$(not)
            EOF
            cat <<'EOF'
            $(quoted)
            EOF
            tail f
            """
        #expect(names(text) == ["cat", "git", "uname", "id", "cat", "tail"])
        #expect(parse(text).error == nil)
    }

    @Test func argumentsAreQuoteRemovedAndDynamicWordsHaveNoLiteral() throws {
        let s = parse(#"grep "-P" 'a b' $x "a$(b)c" \-z"#)
        let args = try #require(s.commands.first { $0.name.literal == "grep" }).arguments
        #expect(args.map(\.literal) == ["-P", "a b", nil, nil, "-z"])
    }

    @Test func compoundCommands() {
        let text = """
            f() { local a=1; g; }
            function h { i; }
            if a; then b; elif c; then d; else e; fi
            while j; do k; done; until l; do m; done
            for x in 1 2; do n; done
            case $1 in
              (a|b) o ;;
              *) p; q ;;
            esac
            ( r ) && { s; } || t | u & v
            [[ $x == y ]] && w
            """
        #expect(
            names(text) == [
                "local", "g", "i", "a", "b", "c", "d", "e", "j", "k", "l", "m", "n", "o", "p", "q", "r", "s", "t", "u",
                "v", "[[", "w",
            ])
        #expect(parse(text).functions == ["f", "h"])
        #expect(parse(text).error == nil)
    }

    @Test func featuresFound() {
        let s = parse(
            """
            a=(1 2); echo ${a[0]} ${b^^} ${!c} {1..3} $'x' $(<f) <(ls)
            for ((i=0;i<2;i++)); do :; done
            cat <<< x |& cat
            x+=1
            ((n++))
            """)
        let found = Set(s.features.map(\.feature))
        let expected: Set<ShellFeature> = [
            .arrayAssignment, .arraySubscript, .caseModification, .indirectExpansion, .braceExpansion,
            .ansiCQuote, .fileSubstitution, .processSubstitution, .arithmeticFor, .hereString,
            .pipeStderr, .appendAssignment, .arithmeticCommand,
        ]
        #expect(found == expected)
        #expect(s.error == nil)
    }

    @Test func fileReadOnlyWhenTheSubstitutionIsALoneRedirection() {
        #expect(parse("x=$(< f)").features.map(\.feature) == [.fileSubstitution])
        #expect(parse("x=$(< f grep -v y | sort)").features.isEmpty)
    }

    @Test func noFeaturesFromQuotedText() {
        let s = parse(#"echo 'a=(1) ${x^^} {1..3}' "{a,b}" \{a,b\}; find . -exec rm {} +; echo $((1+2))"#)
        #expect(s.features.isEmpty)
        #expect(s.error == nil)
    }

    @Test func arithmeticAndSubshellAmbiguity() {
        #expect(parse("((cd a && make) || exit 1)").error == nil)
        #expect(names("((cd a && make) || exit 1)") == ["cd", "make", "exit"])
        #expect(parse("x=$( (a) )").error == nil)
    }

    @Test(arguments: [
        ("if true; then echo x\n", 2, 1),
        ("echo \"abc\n", 2, 6),
        ("echo 'abc\n", 2, 6),
        ("case x in a) echo;; \n", 2, 1),
        ("echo )\n", 2, 6),
        ("for x in a; do\n", 2, 1),
    ])
    func errorsHaveLineAndColumn(_ text: String, _ line: Int, _ column: Int) throws {
        let facts = try #require(ScriptFacts.read(path: "t.sh", bytes: Array(("#!/bin/sh\n" + text).utf8)))
        let error = try #require(facts.units.first?.script.error)
        let at = facts.position(of: error.offset)
        #expect(at.line == line && at.column == column, "\(error.message) at \(at)")
    }

    @Test func deepNestingIsAnErrorNotACrash() {
        let deep = String(repeating: "$(", count: 5000) + String(repeating: ")", count: 5000)
        #expect(parse("echo " + deep).error?.message.contains("nesting") == true)
        let braces = String(repeating: "{ ", count: 5000)
        #expect(parse(braces).error != nil)
    }

    @Test func arbitraryBytesNeverCrash() {
        var rng = SystemRandomNumberGenerator()
        let alphabet = Array("abc $()`'\"\\{}[];&|<>#\n\t=-+!*?@%^,.0123456789".utf8)
        for _ in 0..<2000 {
            let n = Int.random(in: 0..<200, using: &rng)
            let bytes = (0..<n).map { _ in alphabet.randomElement(using: &rng) ?? 0 }
            _ = ScriptFacts.read(path: "t.sh", bytes: Array("#!/bin/sh\n".utf8) + bytes)
            _ = ScriptFacts.read(path: "Dockerfile", bytes: Array("FROM alpine\nRUN ".utf8) + bytes)
        }
    }

    @Test func arbitraryTokenSequencesNeverCrash() {
        // Shell and Dockerfile tokens in random order: here-documents left open, unbalanced keywords, continuations.
        let tokens = [
            "<<EOF", "<<-'X'", "<<\"E\"", "EOF", "X", "E", "$(", ")", "(", "`", "case", "in", "esac", ";;", ";&", "if",
            "then",
            "fi", "for", "do", "done", "{", "}", "((", "))", "[[", "]]", "\n", " ", "\"", "'", "\\", "${", "$((", "<(",
            "RUN ", "FROM alpine AS a\n", "SHELL [\"/bin/bash\", \"-c\"]\n", "RUN [\"sh\", \"-c\", \"", "\\\n",
            "# c\n", "\t", "a=(", "x", "|", "&&", "&", ";", "function", "f()", "!", "2>&1", "{fd}>", "$'", "\r",
        ]
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<3000 {
            let text = (0..<Int.random(in: 0..<60, using: &rng)).map { _ in tokens.randomElement(using: &rng) ?? "" }
                .joined()
            let sh = ScriptFacts.read(path: "t.sh", bytes: Array(("#!/bin/sh\n" + text).utf8))
            let df = ScriptFacts.read(path: "Dockerfile", bytes: Array(text.utf8))
            for facts in [sh, df].compactMap({ $0 }) {
                for u in facts.units {
                    for c in u.script.commands { _ = facts.position(of: c.name.offset) }
                    if let e = u.script.error { _ = facts.position(of: e.offset) }
                }
            }
        }
    }

    @Test func notAScript() {
        #expect(ScriptFacts.read(path: "x.txt", bytes: Array("echo hi\n".utf8)) == nil)
        #expect(ScriptFacts.read(path: "x", bytes: [0x7f, 0x45, 0x4c, 0x46]) == nil)
        #expect(Scripts.isCandidate(head: Array("#!/bin/sh".utf8), name: "x"))
        #expect(Scripts.isCandidate(head: [], name: "build/Containerfile"))
        #expect(!Scripts.isCandidate(head: Array("echo".utf8), name: "x.sh"))
        #expect(!Scripts.isCandidate(head: Array("# comment".utf8), name: "x.sh"))
        #expect(!Scripts.isCandidate(head: Array("#".utf8), name: "x.sh"))
        #expect(!Scripts.isCandidate(head: Array("!#".utf8), name: "x.sh"))
    }

    @Test func shebangs() throws {
        let env = try #require(Shebang(head: Array("#!/usr/bin/env -S bash -e\n".utf8)))
        #expect(env.program == "bash" && env.arguments == ["-e"])
        #expect(Shebang(head: Array("#! /bin/sh -eu\n".utf8))?.program == "sh")
        #expect(Shebang(head: Array("#!/bin/busybox sh\n".utf8))?.program == "ash")
        #expect(ShellDialect(program: "python3") == .other)
    }
}
