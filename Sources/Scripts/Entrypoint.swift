// An image's Entrypoint, Cmd and Shell (from its config) → the program the container starts, the script file to
// look for inside the image, or the shell text a shell-form instruction runs; and that judged against the
// image's files.
import Knowledge

public struct ImageEntrypoint: Sendable, Hashable {
    /// Docker's default PATH, used when the image's Env sets none.
    public static let defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    /// Init wrappers that run the rest of the command line: `tini -- /entrypoint.sh`.
    static let initWrappers: Set<String> = ["tini", "tini-static", "dumb-init", "su-exec", "gosu", "catatonit"]

    /// The full command line: Entrypoint followed by Cmd (Cmd alone when there is no Entrypoint).
    public var argv: [String]
    /// The program the kernel runs (argv[0]), and where to look for it inside the image: itself when it holds
    /// a `/`, otherwise each PATH directory joined with it, in order.
    public var program: String
    public var candidates: [String]
    /// Init wrappers passed on the way (`tini`, `su-exec`): each must exist too.
    public var wrappers: [String]
    /// A script path handed to an interpreter (`sh /entrypoint.sh`, `bash -e run.sh`), or the program itself
    /// after the wrappers (any file it names may be a script: read its first bytes to see).
    public var script: String?
    /// The interpreter of `script` when named explicitly (`bash` in `bash /run.sh`).
    public var interpreter: String?
    /// Shell form: `sh -c "text"` — parse `text` with `ScriptFacts.inline(text, shell:, path:)`.
    public var inlineShell: [String]?
    public var inlineText: String?

    /// nil when neither Entrypoint nor Cmd says anything.
    public static func resolve(entrypoint: [String]?, cmd: [String]?, path: String? = nil) -> ImageEntrypoint? {
        let ep = entrypoint ?? []
        let argv = ep.isEmpty ? (cmd ?? []) : ep + (cmd ?? [])
        guard let first = argv.first, !first.isEmpty else { return nil }
        var result = ImageEntrypoint(
            argv: argv, program: first, candidates: candidates(first, path: path ?? defaultPath), wrappers: [])
        var rest = argv[...]
        // Skip init wrappers and their options (`tini -g --`, `su-exec user`, `gosu user`).
        while let head = rest.first, initWrappers.contains(Shebang.basename(head)) {
            let name = Shebang.basename(head)
            result.wrappers.append(head)
            rest = rest.dropFirst()
            while let o = rest.first, o.hasPrefix("-") {
                rest = rest.dropFirst()
                if o == "--" { break }
            }
            if name == "su-exec" || name == "gosu" { rest = rest.dropFirst() }
        }
        guard let program = rest.first else { return result }
        let base = Shebang.basename(program)
        let dialect = ShellDialect(program: base)
        var args = rest.dropFirst()
        if dialect != .other || ["python", "python3", "perl", "node", "ruby", "php"].contains(base) {
            // An interpreter: `-c TEXT` or a script file after its options.
            while let o = args.first, o.hasPrefix("-") {
                args = args.dropFirst()
                if o == "-c" || (o.hasPrefix("-") && !o.hasPrefix("--") && o.hasSuffix("c") && dialect != .other) {
                    if let text = args.first {
                        result.inlineShell = Array(rest.prefix(rest.count - args.count))
                        result.inlineText = text
                    }
                    return result
                }
            }
            if let script = args.first {
                result.script = script
                result.interpreter = program
            }
            return result
        }
        result.script = program
        return result
    }

    static func candidates(_ program: String, path: String) -> [String] {
        if program.contains("/") { return [program] }
        return path.split(separator: ":").map { dir in dir.hasSuffix("/") ? "\(dir)\(program)" : "\(dir)/\(program)" }
    }
}

/// What an image's configuration starts, as the image's files say: `Entrypoint`/`Cmd` and `Shell` with the
/// image's PATH and working directory.
public struct ImageRunConfig: Sendable, Hashable {
    public var entrypoint: [String]?
    public var cmd: [String]?
    public var shell: [String]?
    /// The PATH the image's Env sets (Docker's default when nil).
    public var path: String?
    public var workingDir: String?

    public init(entrypoint: [String]?, cmd: [String]?, shell: [String]?, path: String?, workingDir: String?) {
        self.entrypoint = entrypoint
        self.cmd = cmd
        self.shell = shell
        self.path = path
        self.workingDir = workingDir
    }
}

extension ScriptAssessor {
    /// Judges what an image starts against the files it holds: the program (and any init wrapper) must exist,
    /// a script it runs needs its `#!` interpreter inside the image, and shell-form text is judged as a script
    /// whose commands are what the image's PATH offers. `script(path)` gives the facts of the script at a path
    /// inside the image (resolved, no leading `/`), when that file is one. nil when the configuration says
    /// nothing to run. Findings outside shell text have line 0.
    public func assessEntrypoint(_ run: ImageRunConfig, files: ImageFiles, script: (String) -> ScriptFacts?)
        -> ScriptAssessment?
    {
        guard let ep = ImageEntrypoint.resolve(entrypoint: run.entrypoint, cmd: run.cmd, path: run.path) else {
            return nil
        }
        var check = EntrypointCheck(
            assessor: self, files: files, searchPath: run.path ?? ImageEntrypoint.defaultPath,
            workingDir: run.workingDir.flatMap { $0.isEmpty ? nil : $0 } ?? "/",
            shown: ep.argv.prefix(4).joined(separator: " ") + (ep.argv.count > 4 ? " …" : ""))
        // The kernel runs argv[0]; each init wrapper runs the next word.
        var seen = Set<String>()
        for (i, wrapper) in ep.wrappers.enumerated() where seen.insert(wrapper).inserted {
            if check.located(wrapper) == nil {
                check.missing(wrapper, role: i == 0 ? "program" : "init wrapper's program")
            }
        }
        if let text = ep.inlineText, let shellWords = ep.inlineShell, let shellProgram = shellWords.first {
            if let unassessable = check.shellForm(text, shell: shellWords, program: shellProgram) {
                return unassessable
            }
        } else if let interpreter = ep.interpreter {
            check.interpreterForm(interpreter, script: ep.script)
        } else if let program = ep.script {
            check.program(program, wrappers: ep.wrappers, script: script)
        }
        if let shell = run.shell, let program = shell.first, check.located(program) == nil {
            check.add(
                RuleID.entrypointMissing,
                "the image's SHELL [\(shell.joined(separator: " "))] names '\(program)', which is not in the image: shell-form HEALTHCHECK, and RUN in images built on this one, fail",
                word: program, severity: .warning)
        }
        return check.finish()
    }

    /// A script the entrypoint runs: the kernel opens its `#!` interpreter inside the image (through `env`,
    /// the program on PATH).
    func checkShebang(_ shebang: Shebang, files: ImageFiles, path: String, missing: (String) -> Void) {
        guard
            files.first(of: [shebang.interpreter.hasPrefix("/") ? shebang.interpreter : "/" + shebang.interpreter])
                != nil
        else {
            missing(shebang.interpreter)
            return
        }
        if Shebang.basename(shebang.interpreter) == "env", shebang.program != "env",
            files.first(of: ImageEntrypoint.candidates(shebang.program, path: path)) == nil
        {
            missing(shebang.program)
        }
    }
}

/// The findings about what one image starts, while they are collected.
private struct EntrypointCheck {
    let assessor: ScriptAssessor
    let files: ImageFiles
    /// The image's PATH, and the working directory relative program paths start from.
    let searchPath: String
    let workingDir: String
    /// The command line as the messages quote it.
    let shown: String
    var findings: [ScriptFinding] = []
    var needsChange = false
    var packages = Set<String>()
    var busybox: String?

    var commands: [String: ScriptKnowledge.CommandPackage] { assessor.scripts.commands }

    mutating func add(
        _ rule: RuleID, _ message: String, word: String, package: String? = nil, severity: Rule.Severity? = nil
    ) {
        let s = severity ?? assessor.severity(rule, default: .error)
        if s == .error { if let package { packages.insert(package) } else { needsChange = true } }
        findings.append(
            ScriptFinding(
                rule: rule, severity: s, message: message, line: 0, column: 0, length: 0, word: word,
                packages: package.map { [$0] } ?? []))
    }

    /// Where the kernel looks for a program named in argv: PATH for a bare name, the working directory for
    /// a relative path.
    func candidates(_ program: String) -> [String] {
        if program.hasPrefix("/") { return [program] }
        if program.contains("/") { return [workingDir + (workingDir.hasSuffix("/") ? "" : "/") + program] }
        return ImageEntrypoint.candidates(program, path: searchPath)
    }

    func located(_ program: String) -> String? { files.first(of: candidates(program)).flatMap(files.resolve) }

    mutating func missing(_ program: String, role: String) {
        let package = commands[Shebang.basename(program)]?.package
        let interpreter = role.contains("interpreter")
        let place = program.contains("/") ? "" : " on the image's PATH (\(searchPath))"
        add(
            interpreter ? RuleID.entrypointInterpreterMissing : RuleID.entrypointMissing,
            "the \(role) '\(program)' of the image's command line [\(shown)] is not in the image\(place): the container cannot start"
                + (interpreter
                    ? (package.map { "; apk add \($0)" } ?? "; no Alpine package is known to provide it") : ""),
            word: program, package: interpreter ? package : nil)
    }

    /// Shell form (`/bin/sh -c TEXT`): the shell must exist, and TEXT is a script run by it, whose commands
    /// are what the image's PATH offers. The assessment when TEXT could not be judged.
    mutating func shellForm(_ text: String, shell: [String], program: String) -> ScriptAssessment? {
        if located(program) == nil { missing(program, role: "shell interpreter") }
        let facts = ScriptFacts.inline(text, shell: shell, path: "Cmd")
        let installed = Set(files.commands(path: searchPath).map { "cmd:" + $0 })
        let inner = assessor.assess(facts, installed: installed)
        busybox = inner.busybox
        for f in inner.findings {
            if f.severity == .error {
                if f.packages.isEmpty { needsChange = true } else { packages.formUnion(f.packages) }
            }
            findings.append(f)
        }
        guard let reason = inner.unassessable else { return nil }
        return ScriptAssessment(
            verdict: .needsChanges, findings: findings, packages: [], busybox: nil, unassessable: reason)
    }

    /// `bash /run.sh`: the interpreter, then the script it reads.
    mutating func interpreterForm(_ interpreter: String, script: String?) {
        if located(interpreter) == nil {
            missing(interpreter, role: "interpreter")
        }
        if let s = script, files.first(of: [s.hasPrefix("/") ? s : workingDir + "/" + s]) == nil {
            add(
                RuleID.entrypointMissing,
                "the script '\(s)' that '\(Shebang.basename(interpreter))' is to run is not in the image: the container cannot start",
                word: s)
        }
    }

    /// The program itself (after any wrappers): it exists, and when it is a script its interpreter does too.
    mutating func program(_ program: String, wrappers: [String], script: (String) -> ScriptFacts?) {
        guard let found = located(program) else {
            if !wrappers.contains(program) {
                missing(program, role: wrappers.isEmpty ? "program" : "program the init wrapper runs")
            }
            return
        }
        guard let facts = script(found), let shebang = facts.shebang else { return }
        var absent: [String] = []
        assessor.checkShebang(shebang, files: files, path: searchPath) { absent.append($0) }
        for interpreter in absent {
            let package = commands[Shebang.basename(interpreter)]?.package
            add(
                RuleID.entrypointInterpreterMissing,
                "'\(program)' (/\(found)) starts with #!\(([shebang.interpreter] + shebang.arguments).joined(separator: " ")), and the image has no '\(interpreter)'"
                    + (interpreter.contains("/") ? "" : " on its PATH (\(searchPath))")
                    + ": the container cannot start ('no such file or directory')"
                    + (package.map { "; apk add \($0)" } ?? "; no Alpine package is known to provide it"),
                word: interpreter, package: package)
        }
    }

    func finish() -> ScriptAssessment {
        let verdict: ScriptVerdict =
            needsChange
            ? .needsChanges : packages.isEmpty && !findings.contains { $0.severity == .error } ? .runs : .needsPackages
        return ScriptAssessment(
            verdict: verdict, findings: findings, packages: packages.sorted(), busybox: busybox, unassessable: nil)
    }
}
