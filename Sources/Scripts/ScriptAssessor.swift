import Knowledge

// ScriptFacts + knowledge + target release → ScriptAssessment: the findings (rule, severity, line, column,
// the offending word, the packages that fix it) and a verdict. Pure: nothing is run or read.
#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// How far a script is from running on the target, cheapest remedy first.
public enum ScriptVerdict: String, Sendable, Hashable, Codable, Comparable, CaseIterable {
    case runs
    /// Runs once the listed packages are installed (`apk add bash coreutils`).
    case needsPackages = "needs-packages"
    /// Must be changed: ash refuses its syntax, or an option has no package that brings it.
    case needsChanges = "needs-changes"

    public static func < (a: ScriptVerdict, b: ScriptVerdict) -> Bool {
        (allCases.firstIndex(of: a) ?? 0) < (allCases.firstIndex(of: b) ?? 0)
    }

    /// The rung of the binary ladder (Assessment.Verdict raw values) the gate compares a script against:
    /// an `apk add` fixes it like the cheapest binary remedy; a change to the script is like a rebuild.
    public var gateVerdict: String {
        switch self {
        case .runs: "runs"
        case .needsPackages: "needs-libc6-compat"
        case .needsChanges: "needs-rebuild"
        }
    }
}

public struct ScriptFinding: Sendable, Hashable {
    public var rule: RuleID
    public var severity: Rule.Severity
    public var message: String
    /// 1-based; the column counts bytes. `length` is the offending word's length in bytes (for SARIF regions).
    public var line: Int
    public var column: Int
    public var length: Int
    public var word: String
    /// Packages whose installation fixes it (empty when only a change to the script does).
    public var packages: [String]
}

public struct ScriptAssessment: Sendable {
    public var verdict: ScriptVerdict
    public var findings: [ScriptFinding]
    /// The `apk add` line: every package some finding needs, sorted.
    public var packages: [String]
    /// The BusyBox version judged against.
    public var busybox: String?
    /// Set when the script could not be judged (over the size limit).
    public var unassessable: String?
}

public struct ScriptAssessor: Sendable {
    /// Commands that run the command named by a later argument.
    static let wrappers: Set<String> = [
        "exec", "nohup", "env", "sudo", "time", "nice", "busybox", "command", "xargs", "su-exec", "gosu", "chroot",
    ]

    public let kb: KnowledgeBase
    public let scripts: ScriptKnowledge
    public let release: AlpineRelease
    /// ash-syntax.tsv rows by parser feature, by command name (builtins, options, local), and the variables.
    let syntaxByFeature: [String: [ScriptKnowledge.SyntaxRow]]
    let syntaxByCommand: [String: [ScriptKnowledge.SyntaxRow]]
    let variableRows: [ScriptKnowledge.SyntaxRow]
    let patterns: Patterns

    /// The option table's regular expressions, compiled once (the standard library's Regex: FoundationEssentials
    /// has no NSRegularExpression). They match Unicode scalars, as ICU's did, not whole characters. Each is
    /// matched once here, which builds the program Regex otherwise builds lazily on first use, so that from
    /// then on the threads that share it only read it; hence the unchecked conformance.
    final class Patterns: @unchecked Sendable {
        let compiled: [String: Regex<AnyRegexOutput>]
        init(_ sources: Set<String>) {
            var compiled: [String: Regex<AnyRegexOutput>] = [:]
            for s in sources where !s.isEmpty {
                guard let re = try? Regex(s).matchingSemantics(.unicodeScalar) else { continue }
                _ = "".firstMatch(of: re)
                compiled[s] = re
            }
            self.compiled = compiled
        }
        func matches(_ pattern: String, _ text: String) -> Bool {
            guard let re = compiled[pattern] else { return false }
            return (try? re.firstMatch(in: text)) != nil
        }
    }

    public init(kb: KnowledgeBase, scripts: ScriptKnowledge, release: AlpineRelease) {
        self.kb = kb
        self.scripts = scripts
        self.release = release
        syntaxByFeature = Dictionary(grouping: scripts.syntax.filter { $0.kind == .syntax }, by: \.feature)
        syntaxByCommand = Dictionary(
            grouping: scripts.syntax.filter {
                $0.kind == .command || $0.kind == .option || $0.kind == .outsideFunction
            },
            by: { $0.words.first ?? "" })
        variableRows = scripts.syntax.filter { $0.kind == .variable }
        patterns = Patterns(Set(scripts.options.values.flatMap { $0.map(\.pattern) }))
    }

    /// `installed`: packages the target image has (names, or `cmd:NAME` for a command known to be there).
    public func assess(_ facts: ScriptFacts, installed: Set<String> = []) -> ScriptAssessment {
        var context = ScriptContext(assessor: self, facts: facts)
        if let size = facts.overLimit {
            let reason = "\(size) bytes, over the \(Scripts.maxScriptBytes)-byte limit: not checked"
            context.add(RuleID.scriptOverLimit, reason, offset: 0, length: 0, word: facts.path)
            return context.finish(unassessable: reason, busybox: nil)
        }
        var judgedBusyBox: BusyBoxVersion?
        // A script's own interpreter.
        if let shebang = facts.shebang {
            context.checkInterpreter(
                shebang.program, installed: installed, offset: 0, length: min(shebang.interpreter.utf8.count + 2, 80))
        }
        for unit in facts.units {
            var releaseName = release.name
            if let s = unit.stage, s < facts.stages.count {
                let stage = facts.stages[s]
                guard stage.baseKind == .alpine || stage.baseKind == .unknown else { continue }
                if let r = stage.alpineRelease, scripts.busybox(release: r) != nil { releaseName = r }
            }
            guard let busybox = scripts.busybox(release: releaseName)?.version else { continue }
            judgedBusyBox = judgedBusyBox ?? busybox
            let base = installed.union(unit.installedBefore)
            if unit.stage != nil, !unit.execForm, let shell = unit.shell.first {
                context.checkInterpreter(
                    Shebang.basename(shell), installed: base, offset: unit.instructionOffset ?? 0, length: 3)
            }
            context.checkUnit(unit, busybox: busybox, installed: base)
        }
        return context.finish(unassessable: nil, busybox: judgedBusyBox?.description)
    }

    func severity(_ rule: RuleID, default fallback: Rule.Severity) -> Rule.Severity {
        kb.rule(rule)?.severity ?? fallback
    }
}

/// The findings of one assessment while they are collected.
struct ScriptContext {
    let assessor: ScriptAssessor
    let facts: ScriptFacts
    var findings: [ScriptFinding] = []
    var seen: Set<String> = []
    var needsChange = false

    init(assessor: ScriptAssessor, facts: ScriptFacts) {
        self.assessor = assessor
        self.facts = facts
    }

    var scripts: ScriptKnowledge { assessor.scripts }

    mutating func add(
        _ rule: RuleID, _ message: String, offset: Int, length: Int, word: String, packages: [String] = [],
        severity: Rule.Severity? = nil
    ) {
        let (line, column) = facts.position(of: offset)
        let key = "\(rule)|\(line)|\(column)|\(word)"
        guard seen.insert(key).inserted else { return }
        let s = severity ?? assessor.severity(rule, default: .error)
        if s == .error && packages.isEmpty { needsChange = true }
        findings.append(
            ScriptFinding(
                rule: rule, severity: s, message: message, line: line, column: column, length: length,
                word: word, packages: packages))
    }

    func finish(unassessable: String?, busybox: String?) -> ScriptAssessment {
        let errors = findings.filter { $0.severity == .error }
        let verdict: ScriptVerdict = needsChange ? .needsChanges : errors.isEmpty ? .runs : .needsPackages
        let packages = Set(errors.flatMap(\.packages)).sorted()
        return ScriptAssessment(
            verdict: verdict, findings: findings, packages: packages, busybox: busybox, unassessable: unassessable)
    }

    // MARK: Commands

    /// Whether `name` exists on the target without installing anything more.
    func provided(_ name: String, installed: Set<String>) -> Bool {
        if let applet = scripts.applets[name], applet.state == .on || applet.state == .builtin { return true }
        if let c = scripts.commands[name] {
            if c.base { return true }
            if let p = c.package, installed.contains(p) { return true }
        }
        return !installed.isEmpty && installed.contains("cmd:\(name)")
    }

    mutating func checkInterpreter(_ program: String, installed: Set<String>, offset: Int, length: Int) {
        // An interpreter nothing knows about (a path of the image's own) is not judged.
        guard !provided(program, installed: installed),
            scripts.commands[program] != nil || scripts.applets[program] != nil
        else { return }
        let package = scripts.commands[program]?.package ?? (scripts.applets[program] != nil ? "cmd:\(program)" : nil)
        let fix = package.map { "apk add \($0)" } ?? "no Alpine package provides it"
        add(
            RuleID.scriptInterpreterMissing,
            "interpreter '\(program)' is not on Alpine \(assessor.release.name) unless installed: the shell reports 'not found'; \(fix)",
            offset: offset, length: length, word: program, packages: package.map { [$0] } ?? [])
    }

    mutating func checkUnit(_ unit: ShellUnit, busybox: BusyBoxVersion, installed base: Set<String>) {
        let script = unit.script
        if let e = script.error {
            add(
                RuleID.scriptParseError, "the script does not parse: \(e.message); the checks stop there",
                offset: e.offset, length: 1, word: "")
        }
        let ash = unit.dialect.isAsh
        for c in script.commands {
            var installed = base
            for i in unit.installs where i.offset < c.name.offset && i.manager == .apk {
                if i.removes { installed.subtract(i.packages) } else { installed.formUnion(i.packages) }
            }
            checkCommand(c, script: script, unit: unit, busybox: busybox, installed: installed, ash: ash)
        }
        guard ash else { return }
        for use in script.features {
            for row in assessor.syntaxByFeature[use.feature.rawValue] ?? [] where row.versions.contains(busybox) {
                reportSyntax(
                    row, offset: use.offset, length: use.excerpt.utf8.count, word: use.excerpt, busybox: busybox)
            }
        }
        for row in assessor.variableRows where row.versions.contains(busybox) {
            if let offset = script.variables[row.feature] {
                reportSyntax(
                    row, offset: offset, length: row.feature.utf8.count + 1, word: "$" + row.feature, busybox: busybox)
            }
        }
    }

    mutating func reportSyntax(
        _ row: ScriptKnowledge.SyntaxRow, offset: Int, length: Int, word: String, busybox: BusyBoxVersion
    ) {
        switch row.status {
        case .error, .rejected:
            add(
                RuleID.ashSyntaxError,
                "\(row.message) (BusyBox \(busybox) ash is /bin/sh on Alpine \(assessor.release.name))",
                offset: offset, length: length, word: word)
        case .silent:
            add(
                RuleID.ashSyntaxSilent, "\(row.message) (BusyBox \(busybox) ash)", offset: offset,
                length: length, word: word)
        case .works: break
        }
    }

    /// The command word and arguments actually run, through wrappers such as `exec`, `env` and `sudo`.
    func unwrap(_ c: ShellCommand) -> [(name: ShellWord, arguments: ArraySlice<ShellWord>)] {
        var result: [(ShellWord, ArraySlice<ShellWord>)] = [(c.name, c.arguments[...])]
        var name = c.name
        var args = c.arguments[...]
        for _ in 0..<4 {
            guard let n = name.literal.map(Shebang.basename), ScriptAssessor.wrappers.contains(n) else { break }
            if n == "command", args.first?.literal.map({ $0.hasPrefix("-v") || $0.hasPrefix("-V") }) == true { break }
            var rest = args
            // Options and VAR=value before the wrapped command; a few wrappers take a value or user first.
            while let first = rest.first, let lit = first.literal,
                lit.hasPrefix("-") || (n == "env" && lit.utf8.contains(UInt8(ascii: "=")))
            {
                rest = rest.dropFirst()
                if (n == "nice" && lit == "-n") || (n == "sudo" && ["-u", "-g", "-C"].contains(lit))
                    || (n == "env" && lit == "-u")
                    || (n == "xargs" && ["-n", "-s", "-E", "-I", "-P", "-a", "-d"].contains(lit))
                {
                    rest = rest.dropFirst()
                }
            }
            if n == "su-exec" || n == "gosu" || n == "chroot" { rest = rest.dropFirst() }
            guard let inner = rest.first else { break }
            name = inner
            args = rest.dropFirst()
            result.append((name, args))
        }
        return result
    }

    static let standardDirectories = ["/bin/", "/usr/bin/", "/sbin/", "/usr/sbin/", "/usr/local/bin/"]

    mutating func checkCommand(
        _ c: ShellCommand, script: ShellScript, unit: ShellUnit, busybox: BusyBoxVersion,
        installed: Set<String>, ash: Bool
    ) {
        for (nameWord, args) in unwrap(c) {
            guard let raw = nameWord.literal, !raw.isEmpty else { continue }
            // Absolute paths in the standard directories name the same command; other paths are the image's own.
            if raw.utf8.contains(UInt8(ascii: "/"))
                && !Self.standardDirectories.contains(where: {
                    raw.hasPrefix($0) && !raw.utf8.dropFirst($0.utf8.count).contains(UInt8(ascii: "/"))
                })
            {
                continue
            }
            let name = Shebang.basename(raw)
            if script.functions.contains(name) { continue }
            let word = nameWord.literal ?? nameWord.text
            if ash { checkAshCommand(name, nameWord, args, inFunction: c.inFunction, busybox: busybox) }
            if let manager = PackageInstall.Manager(rawValue: name), manager != .apk {
                add(
                    RuleID.foreignPackageManager,
                    "'\(name)' is not Alpine's package manager: use apk add (apk add --no-cache PACKAGE …); Debian names often differ",
                    offset: nameWord.offset, length: nameWord.length, word: word)
                continue
            }
            if !provided(name, installed: installed) {
                reportMissing(name, nameWord, installed: installed)
                continue
            }
            // Options: only when the BusyBox applet is what runs (no package with the GNU tool installed).
            if let rows = scripts.options[name], !gnuInstalled(name, installed: installed) {
                checkOptions(name, rows, args, busybox: busybox)
            }
        }
    }

    func gnuInstalled(_ name: String, installed: Set<String>) -> Bool {
        if let c = scripts.commands[name], c.overrides, let p = c.package, installed.contains(p) { return true }
        return false
    }

    mutating func reportMissing(_ name: String, _ w: ShellWord, installed: Set<String>) {
        let state = scripts.applets[name]?.state
        if state == .unverified {
            add(
                RuleID.busyboxAppletUnverified,
                "'\(name)' is a BusyBox applet only in newer BusyBox configurations: whether Alpine \(assessor.release.name) enables it is not verified; apk add cmd:\(name) if it is missing",
                offset: w.offset, length: w.length, word: name)
            return
        }
        guard let c = scripts.commands[name] else {
            if state == .off {
                add(
                    RuleID.scriptCommandMissing,
                    "'\(name)' is a BusyBox applet Alpine leaves out: apk add cmd:\(name)",
                    offset: w.offset, length: w.length, word: name, packages: ["cmd:\(name)"])
            }
            return
        }
        let note = c.note.isEmpty ? "" : " (\(c.note))"
        if let p = c.package {
            add(
                RuleID.scriptCommandMissing,
                "'\(name)' is no BusyBox applet on Alpine \(assessor.release.name) and is not installed: apk add \(p)\(note)",
                offset: w.offset, length: w.length, word: name, packages: [p])
        } else {
            add(
                RuleID.scriptCommandMissing, "'\(name)' does not exist on Alpine\(note)", offset: w.offset,
                length: w.length, word: name)
        }
    }
}
