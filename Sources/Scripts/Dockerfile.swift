// Dockerfiles and Containerfiles: stages, RUN instructions (shell form with `\` continuations, exec form,
// here-documents), SHELL, ENTRYPOINT and CMD, and the packages each stage has installed at each RUN.
// The shell text of a RUN is parsed in place, so every offset is an offset into the Dockerfile itself.
import TextSupport

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

enum Dockerfile {
    static let defaultShell = ["/bin/sh", "-c"]

    /// Official images whose untagged or non-alpine tags are Debian or Ubuntu based.
    static let glibcImages: Set<String> = [
        "debian", "ubuntu", "fedora", "centos", "rockylinux", "almalinux", "amazonlinux", "oraclelinux", "archlinux",
        "opensuse", "leap", "tumbleweed", "ubi", "ubi8", "ubi9", "ubi-minimal", "ubi8-minimal", "ubi9-minimal",
        "photon",
        "clearlinux", "python", "node", "ruby", "golang", "openjdk", "eclipse-temurin", "amazoncorretto", "php", "perl",
        "rust", "gcc", "buildpack-deps", "postgres", "mysql", "mariadb", "nginx", "httpd", "redis", "maven", "gradle",
    ]
    /// Tag words that name a glibc distribution release.
    static let glibcTagWords = [
        "bookworm", "bullseye", "buster", "stretch", "trixie", "jammy", "focal", "noble", "bionic",
        "slim", "ubuntu", "centos", "ubi", "fedora",
    ]

    private struct Instruction {
        var keyword: String
        /// Where the arguments start (after the keyword) and where the instruction ends (heredocs included).
        var argsStart: Int
        var end: Int
        var offset: Int
        /// Here-document bodies (`RUN <<EOF`), in order.
        var heredocs: [(delimiter: String, body: Range<Int>)]
    }

    static func read(path: String, bytes original: [UInt8]) -> ScriptFacts {
        var bytes = original
        let escape = escapeCharacter(bytes)
        let instructions = split(&bytes, escape: escape)
        var stages: [DockerStage] = []
        var units: [ShellUnit] = []
        var virtualGroups: [String: [String]] = [:]
        for ins in instructions {
            let args = text(bytes, ins.argsStart..<lineEnd(bytes, ins.argsStart, ins.end)).trimmed()
            switch ins.keyword {
            case "FROM":
                stages.append(stage(from: args, index: stages.count, offset: ins.offset, earlier: stages))
            case "SHELL":
                if let shell = jsonArray(args), !shell.isEmpty, !stages.isEmpty {
                    stages[stages.count - 1].shell = shell
                }
            case "ENTRYPOINT", "CMD":
                guard !stages.isEmpty else { continue }
                let value = jsonArray(args) ?? (stages[stages.count - 1].shell + [args])
                if ins.keyword == "CMD" {
                    stages[stages.count - 1].cmd = value
                } else {
                    stages[stages.count - 1].entrypoint = value
                }
            case "RUN":
                if stages.isEmpty { stages.append(stage(from: "scratch", index: 0, offset: 0, earlier: [])) }
                let s = stages.count - 1
                for var unit in runUnits(bytes, ins, shell: stages[s].shell) {
                    unit.stage = s
                    unit.installedBefore = stages[s].installed
                    for install in unit.installs where install.manager == .apk {
                        if install.removes {
                            for p in install.packages {
                                stages[s].installed.remove(p)
                                for member in virtualGroups[p] ?? [] { stages[s].installed.remove(member) }
                            }
                        } else {
                            stages[s].installed.formUnion(install.packages)
                            if let v = install.virtualName { virtualGroups[v, default: []] += install.packages }
                        }
                    }
                    units.append(unit)
                }
            default: continue
            }
        }
        let dialect = units.first?.dialect ?? .sh
        return ScriptFacts(
            path: path, kind: .dockerfile, shebang: nil, dialect: dialect, units: units, stages: stages,
            overLimit: nil, lines: LineMap(original))
    }

    // MARK: Lines

    /// `# escape=` parser directive (only before the first instruction or comment that is not a directive).
    static func escapeCharacter(_ bytes: [UInt8]) -> UInt8 {
        for line in bytes.prefix(4096).split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            let s = String(decoding: line, as: UTF8.self).trimmed()
            guard s.hasPrefix("#") else { break }
            let body = s.dropFirst().replacingLiteral(" ", with: "").lowercased()
            if body.hasPrefix("escape="), let c = body.dropFirst(7).utf8.first { return c }
            if !body.contains("=") { break }
        }
        return UInt8(ascii: "\\")
    }

    private static func lineEnd(_ bytes: [UInt8], _ from: Int, _ limit: Int) -> Int {
        var i = from
        while i < limit && bytes[i] != UInt8(ascii: "\n") { i += 1 }
        return i
    }

    private static func text(_ bytes: [UInt8], _ r: Range<Int>) -> String { String(decoding: bytes[r], as: UTF8.self) }

    /// Cuts the file into instructions. Comment lines inside a continuation are blanked in `bytes` (Docker drops
    /// them) and a backquote escape is turned into a backslash, so the shell parser sees what the shell gets.
    private static func split(_ bytes: inout [UInt8], escape: UInt8) -> [Instruction] {
        var result: [Instruction] = []
        var i = 0
        let n = bytes.count
        while i < n {
            let start = i
            var e = lineEnd(bytes, i, n)
            var first = i
            while first < e && (bytes[first] == UInt8(ascii: " ") || bytes[first] == UInt8(ascii: "\t")) { first += 1 }
            if first == e || bytes[first] == UInt8(ascii: "#") {
                i = e + 1
                continue
            }
            var k = first
            while k < e && bytes[k] != UInt8(ascii: " ") && bytes[k] != UInt8(ascii: "\t") { k += 1 }
            let keyword = text(bytes, first..<k).uppercased()
            // Continuations.
            while continues(bytes, start, e, escape) && e < n {
                if escape != UInt8(ascii: "\\"), let last = lastNonBlank(bytes, start, e) {
                    bytes[last] = UInt8(ascii: "\\")
                }
                var next = e + 1
                while next < n {
                    let ne = lineEnd(bytes, next, n)
                    var f = next
                    while f < ne && (bytes[f] == UInt8(ascii: " ") || bytes[f] == UInt8(ascii: "\t")) { f += 1 }
                    if f < ne && bytes[f] == UInt8(ascii: "#") {
                        for j in next..<min(ne + 1, n) { bytes[j] = UInt8(ascii: " ") }
                        next = ne + 1
                        continue
                    }
                    break
                }
                if next >= n {
                    e = n
                    break
                }
                e = lineEnd(bytes, next, n)
            }
            var ins = Instruction(keyword: keyword, argsStart: k, end: e, offset: first, heredocs: [])
            // Here-documents (BuildKit): bodies follow the instruction's last line.
            if ["RUN", "COPY", "ADD"].contains(keyword) { readHeredocs(bytes, into: &ins) }
            result.append(ins)
            i = ins.end + 1
        }
        return result
    }

    /// The here-document bodies that follow an instruction's last line, one per `<<WORD` in its arguments;
    /// the instruction then ends after the last body.
    private static func readHeredocs(_ bytes: [UInt8], into ins: inout Instruction) {
        let n = bytes.count
        var bodyStart = min(ins.end + 1, n)
        for (delimiter, stripTabs) in heredocMarkers(text(bytes, ins.argsStart..<ins.end)) {
            var j = bodyStart
            var bodyEnd = n
            var after = n
            while j < n {
                let le = lineEnd(bytes, j, n)
                var ls = j
                if stripTabs { while ls < le && bytes[ls] == UInt8(ascii: "\t") { ls += 1 } }
                if text(bytes, ls..<le).trimmed(ScalarSet(charactersIn: "\r")) == delimiter {
                    bodyEnd = j
                    after = le
                    break
                }
                j = le + 1
            }
            ins.heredocs.append((delimiter, bodyStart..<max(bodyStart, bodyEnd)))
            ins.end = min(after, n)
            bodyStart = min(after + 1, n)
        }
    }

    private static func lastNonBlank(_ bytes: [UInt8], _ from: Int, _ to: Int) -> Int? {
        var j = to - 1
        while j >= from
            && (bytes[j] == UInt8(ascii: " ") || bytes[j] == UInt8(ascii: "\t") || bytes[j] == UInt8(ascii: "\r"))
        { j -= 1 }
        return j >= from ? j : nil
    }

    private static func continues(_ bytes: [UInt8], _ from: Int, _ to: Int, _ escape: UInt8) -> Bool {
        guard let j = lastNonBlank(bytes, from, to) else { return false }
        return bytes[j] == escape
    }

    /// `<<EOF`, `<<-EOF`, `<<"EOF"`, `<<'EOF'` in an instruction line.
    static func heredocMarkers(_ line: String) -> [(String, Bool)] {
        var found: [(String, Bool)] = []
        var rest = Substring(line)
        while let r = rest.literalRange(of: "<<") {
            var s = rest[r.upperBound...]
            if s.hasPrefix("<") {
                rest = s.dropFirst()
                continue
            }  // <<< here-string
            let strip = s.hasPrefix("-")
            if strip { s = s.dropFirst() }
            var quote: Character?
            if let q = s.first, q == "\"" || q == "'" {
                quote = q
                s = s.dropFirst()
            }
            let name = s.prefix { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == "." }
            guard !name.isEmpty else {
                rest = s
                continue
            }
            found.append((String(name), strip))
            s = s.dropFirst(name.count)
            if let quote, s.first == quote { s = s.dropFirst() }
            rest = s
        }
        return found
    }

    static func jsonArray(_ args: String) -> [String]? {
        guard args.hasPrefix("["), let data = args.data(using: .utf8),
            let array = try? JSONDecoder().decode([String].self, from: data)
        else { return nil }
        return array
    }

    // MARK: Stages

    static func stage(from args: String, index: Int, offset: Int, earlier: [DockerStage]) -> DockerStage {
        let words = args.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init).filter {
            !$0.hasPrefix("--")
        }
        let image = words.first ?? "scratch"
        var name: String?
        if words.count >= 3, words[1].lowercased() == "as" { name = words[2] }
        var stage = DockerStage(
            index: index, name: name, base: image, baseKind: .unknown, alpineRelease: nil, offset: offset,
            installed: [], shell: defaultShell, entrypoint: nil, cmd: nil)
        if let parent = earlier.last(where: { $0.name?.lowercased() == image.lowercased() }) {
            stage.baseKind = parent.baseKind
            stage.alpineRelease = parent.alpineRelease
            stage.installed = parent.installed
            stage.shell = parent.shell
            return stage
        }
        let (repository, tag) = splitImage(image.lowercased())
        let last = repository.split(separator: "/").last.map(String.init) ?? repository
        if repository == "scratch" {
            stage.baseKind = .scratch
        } else if last == "alpine" {
            stage.baseKind = .alpine
            stage.alpineRelease = release(inTag: tag)
        } else if let tag, let r = tag.literalRange(of: "alpine") {
            stage.baseKind = .alpine
            let after = tag[r.upperBound...]
            stage.alpineRelease = after.isEmpty ? nil : release(inTag: String(after))
        } else if glibcImages.contains(last) || glibcTagWords.contains(where: { tag?.contains($0) == true }) {
            stage.baseKind = .foreign
        }
        return stage
    }

    /// `registry:5000/ns/name:tag@sha256:…` → (`ns/name`, `tag`).
    static func splitImage(_ image: String) -> (String, String?) {
        var s = Substring(image)
        if let at = s.firstIndex(of: "@") { s = s[..<at] }
        var parts = s.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        if parts.count > 1, let first = parts.first, first.contains(".") || first.contains(":") || first == "localhost"
        {
            parts.removeFirst()
        }
        var last = parts.popLast() ?? ""
        var tag: String?
        if let colon = last.firstIndex(of: ":") {
            tag = String(last[last.index(after: colon)...])
            last = String(last[..<colon])
        }
        return ((parts + [last]).joined(separator: "/"), tag)
    }

    /// `3.20`, `3.20.3`, `3.20-something` → `3.20`; `edge` → `edge`; anything else → nil.
    static func release(inTag tag: String?) -> String? {
        guard let tag else { return nil }
        if tag.hasPrefix("edge") { return "edge" }
        let numbers = tag.split(whereSeparator: { !$0.isNumber && $0 != "." }).first.map(String.init) ?? ""
        let parts = numbers.split(separator: ".")
        guard parts.count >= 2 else { return nil }
        return "\(parts[0]).\(parts[1])"
    }

    // MARK: RUN

    private static func runUnits(_ bytes: [UInt8], _ ins: Instruction, shell: [String]) -> [ShellUnit] {
        // Flags: --mount=…, --network=…, --security=…
        var i = ins.argsStart
        while true {
            while i < ins.end && (bytes[i] == UInt8(ascii: " ") || bytes[i] == UInt8(ascii: "\t")) { i += 1 }
            guard i + 1 < ins.end, bytes[i] == UInt8(ascii: "-"), bytes[i + 1] == UInt8(ascii: "-") else { break }
            while i < ins.end && bytes[i] != UInt8(ascii: " ") && bytes[i] != UInt8(ascii: "\t")
                && bytes[i] != UInt8(ascii: "\n")
            { i += 1 }
        }
        let firstLineEnd = lineEnd(bytes, i, ins.end)
        let argsLine = text(bytes, i..<firstLineEnd).trimmed()
        let dialect = ShellDialect(program: Shebang.basename(shell.first ?? "sh"))

        func unit(_ script: ShellScript, _ dialect: ShellDialect, _ shell: [String], exec: Bool) -> ShellUnit {
            ShellUnit(
                script: script, dialect: dialect, shell: shell, stage: nil, instructionOffset: ins.offset,
                installedBefore: [],
                installs: PackageInstall.find(in: script), execForm: exec)
        }

        if argsLine.hasPrefix("["), ins.heredocs.isEmpty,
            let argv = jsonArray(text(bytes, i..<ins.end).trimmed(.whitespacesAndNewlines))
        {
            // `["sh", "-c", "…"]` runs shell text like the shell form; anything else is one program, no shell.
            let inner = argv.count >= 3 && argv[1] == "-c" ? ShellDialect(program: Shebang.basename(argv[0])) : .other
            return [
                unit(
                    execScript(argv, offset: i), inner, inner == .other ? [] : Array(argv.prefix(2)),
                    exec: inner == .other)
            ]
        }
        guard dialect.isParsed else { return [] }
        // `RUN <<EOF` alone: each body is a script (its own `#!` line chooses the interpreter).
        if !ins.heredocs.isEmpty, argsLine.hasPrefix("<<"),
            argsLine.replacing(#/<<-?["']?[A-Za-z0-9_.-]+["']?/#.matchingSemantics(.unicodeScalar), with: "")
                .trimmed().isEmpty
        {
            return ins.heredocs.map { doc in
                let head = Array(bytes[doc.body.prefix(Scripts.headBytes)])
                if let shebang = Shebang(head: head) {
                    let d = ShellDialect(program: shebang.program)
                    let script = d.isParsed ? ShellParser.parse(bytes, range: doc.body) : ShellScript()
                    return unit(script, d, [shebang.interpreter] + shebang.arguments, exec: false)
                }
                return unit(ShellParser.parse(bytes, range: doc.body), dialect, shell, exec: false)
            }
        }
        return [unit(ShellParser.parse(bytes, range: i..<ins.end), dialect, shell, exec: false)]
    }

    /// An exec-form RUN as one command; `["sh", "-c", "…"]` is parsed as the shell text it is.
    private static func execScript(_ argv: [String], offset: Int) -> ShellScript {
        if argv.count >= 3, ShellDialect(program: Shebang.basename(argv[0])).isParsed, argv[1] == "-c" {
            var inner = ShellParser.parse(Array(argv[2].utf8))
            // Offsets into the JSON string cannot be mapped back exactly: point at the instruction.
            for k in inner.commands.indices {
                inner.commands[k].name.offset = offset
                for a in inner.commands[k].arguments.indices { inner.commands[k].arguments[a].offset = offset }
            }
            for k in inner.features.indices { inner.features[k].offset = offset }
            inner.error = inner.error.map { ShellParseError(offset: offset, message: $0.message) }
            return inner
        }
        var script = ShellScript()
        guard let first = argv.first else { return script }
        let word = { (s: String) in ShellWord(offset: offset, length: 0, literal: s, text: s) }
        script.commands = [ShellCommand(name: word(first), arguments: argv.dropFirst().map(word), inFunction: false)]
        return script
    }
}
