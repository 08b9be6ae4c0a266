// The entrypoint chain: what the image's Entrypoint and Cmd (from its configuration, else from the Dockerfile)
// start — init wrappers, a shell's `-c` text, an interpreter and its script, or a program — found inside the
// root the way the kernel and the shell would (PATH, symbolic links), and what each needs on Alpine.
import Archives
import Reporting
import Scripts

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// What started the container, as the configuration or the Dockerfile says.
struct StartCommand {
    /// "image configuration" or "Dockerfile".
    var from: String
    var entrypoint: [String]?
    var cmd: [String]?
    var user: String?
    var workingDir: String?
    /// KEY → value, the last setting winning.
    var environment: [String: String]

    init(config: ImageConfig) {
        from = "image configuration"
        entrypoint = config.entrypoint
        cmd = config.cmd
        user = config.user
        workingDir = config.workingDir
        var env: [String: String] = [:]
        for pair in config.env ?? [] {
            guard let eq = pair.firstIndex(of: "=") else { continue }
            env[String(pair[..<eq])] = String(pair[pair.index(after: eq)...])
        }
        environment = env
    }

    init(dockerfile: DockerfileText) {
        from = "Dockerfile"
        entrypoint = dockerfile.entrypointWords
        cmd = dockerfile.cmdWords
        user = dockerfile.lastInFinalStage("USER")
        workingDir = dockerfile.lastInFinalStage("WORKDIR")
        environment = dockerfile.environment
    }
}

extension Migration {
    /// The interpreters and init wrappers table (interpreters.tsv): command → Alpine packages ([] for BusyBox).
    static let interpreters: [String: (alpine: [String], note: String, source: String)] = {
        var map: [String: (alpine: [String], note: String, source: String)] = [:]
        let text = String(decoding: PackageResources.interpreters_tsv, as: UTF8.self)
        for line in text.split(separator: "\n") where !line.hasPrefix("#") && !line.hasPrefix("command\t") {
            let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard f.count >= 4 else { continue }
            map[f[0]] = (f[1] == "-" ? [] : f[1].split(separator: " ").map(String.init), f[2], f[3])
        }
        return map
    }()

    /// What a command named `name` needs installed on Alpine: the table's packages, else `cmd:NAME`.
    static func packages(forCommand name: String) -> [String] {
        let base = name.split(separator: "/").last.map(String.init) ?? name
        // python3.11 → python3: versioned interpreter names.
        for (prefix, key) in [("python3.", "python3"), ("python2.", "python")] where base.hasPrefix(prefix) {
            return interpreters[key]?.alpine ?? []
        }
        return interpreters[base]?.alpine ?? ["cmd:" + base]
    }

    /// Symbolic links followed while finding one program (a longer chain is a loop, and said).
    static let maxLinkHops = 32
    /// Programs followed from one command line (a wrapper, a shell's text, an interpreter, its script).
    static let maxChainSteps = 8

    /// `path` with every symbolic link on the way replaced by its target; nil past `maxLinkHops`.
    static func realPath(_ path: String, files: RootFiles) -> String? {
        var pending = path.split(separator: "/").map(String.init)
        var done: [String] = []
        var hops = 0
        while !pending.isEmpty {
            let part = pending.removeFirst()
            if part == "." || part.isEmpty { continue }
            if part == ".." {
                _ = done.popLast()
                continue
            }
            let here = "/" + (done + [part]).joined(separator: "/")
            if let target = files.link(here) {
                hops += 1
                guard hops <= maxLinkHops else { return nil }
                if target.hasPrefix("/") { done = [] }
                pending = target.split(separator: "/").map(String.init) + pending
                continue
            }
            done.append(part)
        }
        return "/" + done.joined(separator: "/")
    }

    /// Where a command is inside the root: itself when it holds a `/` (relative to the working directory),
    /// else the first PATH directory holding it. The path the kernel would reach, links followed; nil when none.
    /// `elf`: ELF files judged (an image keeps no bytes of them, and a library need not be executable).
    static func locate(
        _ command: String, path: String, workingDir: String?, files: RootFiles, elf: [String: CheckResult] = [:]
    ) -> String? {
        let candidates: [String]
        if command.hasPrefix("/") {
            candidates = [command]
        } else if command.contains("/") {
            candidates = [
                ((workingDir ?? "/").hasSuffix("/") ? (workingDir ?? "/") : (workingDir ?? "") + "/") + command
            ]
        } else {
            candidates = path.split(separator: ":").map { "\($0)/\(command)" }
        }
        for c in candidates {
            if let real = realPath(c, files: files), elf[real] != nil || files.head(real) != nil { return real }
        }
        return nil
    }

    /// The chain `start` sets off, with what each step needs on Alpine. `elf`: the judged ELF files by path.
    /// `owned`: for a file a package owns, the Alpine packages that stand in for that package.
    static func entrypoint(
        _ start: StartCommand, files: RootFiles, elf: [String: CheckResult], owned: (String) -> [String]?
    ) -> Entrypoint? {
        let path = start.environment["PATH"] ?? ImageEntrypoint.defaultPath
        guard var step = ImageEntrypoint.resolve(entrypoint: start.entrypoint, cmd: start.cmd, path: path) else {
            return nil
        }
        var entry = Entrypoint(
            from: start.from, command: step.argv, user: start.user, workingDir: start.workingDir,
            program: nil, kind: "missing", interpreter: nil, verdict: nil, needs: [])
        let chain = ChainWalk(start: start, path: path, files: files, elf: elf)
        func need(_ names: [String]) { ChainWalk.need(names, in: &entry) }
        func follow(_ command: String, as role: String) -> String? {
            chain.follow(command, as: role, into: &entry, owned: owned)
        }
        for _ in 0..<maxChainSteps {
            for wrapper in step.wrappers { _ = follow(wrapper, as: "init wrapper") }
            if let shell = step.inlineShell?.first, let text = step.inlineText {
                // `sh -c "exec prog …"`: the shell, then the first command its text runs.
                _ = follow(shell, as: "shell")
                need(packages(forCommand: shell))
                let words = text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).map(String.init)
                    .drop { $0 == "exec" || ($0.contains("=") && !$0.hasPrefix("=")) }
                guard let first = words.first, !first.hasPrefix("$"), !first.contains("`"),
                    let next = ImageEntrypoint.resolve(entrypoint: Array(words.prefix(16)), cmd: nil, path: path)
                else {
                    entry.kind = "shell"
                    return entry
                }
                step = next
                continue
            }
            if let interpreter = step.interpreter, let script = step.script {
                // `python3 app.py`, `bash /run.sh`: the interpreter is the program; the script is its input.
                entry.program = follow(interpreter, as: "program")
                need(packages(forCommand: interpreter))
                entry.interpreter = interpreter
                entry.script = script
                let relative = script.contains("/") ? script : "./" + script
                if locate(relative, path: "", workingDir: start.workingDir, files: files) == nil,
                    !files.isImage || keepsHead(String(relative.drop { $0 == "/" || $0 == "." }), executable: false)
                {
                    entry.notes.append("script \(script): not found in the image")
                }
                return entry
            }
            entry.program = follow(step.script ?? step.program, as: "program")
            // An entrypoint script that ends in `exec "$@"` runs the Cmd: followed too (its needs count).
            // Only when it names a program there: a script's Cmd may as well be its arguments.
            if entry.kind == "script", !(start.entrypoint ?? []).isEmpty, let command = start.cmd?.first,
                !command.hasPrefix("-"),
                locate(command, path: path, workingDir: start.workingDir, files: files, elf: elf) != nil
            {
                _ = follow(command, as: "Cmd program")
            }
            return entry
        }
        entry.notes.append(
            "the command line starts more than \(maxChainSteps) programs in a row; the rest not followed")
        return entry
    }
}

/// What following one program of the entrypoint chain needs: the start command, PATH, the root's files and
/// the judged ELF files.
struct ChainWalk {
    let start: StartCommand
    let path: String
    let files: RootFiles
    let elf: [String: CheckResult]

    static func need(_ names: [String], in entry: inout Entrypoint) {
        for n in names where !entry.needs.contains(n) { entry.needs.append(n) }
    }

    /// One program: found, its kind, and what it needs (its verdict's packages, or its #! interpreter's),
    /// recorded in `entry`; its path inside the root. `owned`: for a file a package owns, the Alpine packages
    /// that stand in for that package.
    func follow(
        _ command: String, as role: String, into entry: inout Entrypoint, owned: (String) -> [String]?
    ) -> String? {
        guard let found = Migration.locate(command, path: path, workingDir: start.workingDir, files: files, elf: elf)
        else {
            entry.notes.append(
                "\(role) \(command): not found in the image" + (command.contains("/") ? "" : " (PATH=\(path))"))
            if !command.contains("/") { Self.need(Migration.packages(forCommand: command), in: &entry) }
            return nil
        }
        entry.chain.append(found)
        let head = files.head(found) ?? []
        if elf[found] != nil || head.starts(with: [0x7F, 0x45, 0x4C, 0x46]) {
            let r = elf[found]
            if role == "program" {
                entry.kind = "elf"
                entry.verdict = r?.assessment?.verdict.rawValue
            }
            // The distribution's program comes with the Alpine package; the application's needs what its verdict says.
            Self.need(owned(found) ?? r.map { Migration.applicationFile($0, inside: found).packages } ?? [], in: &entry)
        } else if let shebang = Shebang(head: head) {
            if role == "program" { entry.kind = "script" }
            entry.interpreter =
                entry.interpreter
                ?? ([shebang.interpreter] + (shebang.interpreter.hasSuffix("/env") ? [shebang.program] : []))
                .joined(separator: " ")
            Self.need(Migration.packages(forCommand: shebang.program), in: &entry)
        } else if role == "program" {
            entry.kind = "other"
        }
        return found
    }
}
