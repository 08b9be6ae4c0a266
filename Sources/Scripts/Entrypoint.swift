// An image's Entrypoint, Cmd and Shell (from its config) → the program the container starts, the script file to
// look for inside the image, or the shell text a shell-form instruction runs.

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
        var result = ImageEntrypoint(argv: argv, program: first, candidates: candidates(first, path: path ?? defaultPath), wrappers: [])
        var rest = argv[...]
        // Skip init wrappers and their options (`tini -g --`, `su-exec user`, `gosu user`).
        while let head = rest.first, initWrappers.contains(Shebang.basename(head)) {
            let name = Shebang.basename(head)
            result.wrappers.append(head)
            rest = rest.dropFirst()
            while let o = rest.first, o.hasPrefix("-") { rest = rest.dropFirst(); if o == "--" { break } }
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
