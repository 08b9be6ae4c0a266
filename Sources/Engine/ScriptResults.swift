// Shell scripts and Dockerfiles in the batch: judged against the target's BusyBox and ash (Sources/Scripts)
// and reported on the same scale and in the same formats as ELF files, each finding with its line and column.
import Archives
import Assessment
import ELF
import Knowledge
import Reporting
import Scanning
import Scripts

struct ScriptJudge: Sendable {
    let assessor: ScriptAssessor
    let release: AlpineRelease

    /// nil when the script knowledge cannot be loaded (then scripts are only counted, as before).
    init?(kb: KnowledgeBase, release: AlpineRelease) {
        guard case .success(let knowledge) = ScriptKnowledge.shared else { return nil }
        assessor = ScriptAssessor(kb: kb, scripts: knowledge, release: release)
        self.release = release
    }

    /// One script's result: its gate verdict as the verdict, its findings with line:column and the word.
    func judge(_ facts: ScriptFacts, path: String) -> CheckResult {
        let s = assessor.assess(facts)
        if let reason = s.unassessable {
            var r = CheckResult(path: path, status: .error, error: reason)
            r.kind = facts.kind.rawValue
            return r
        }
        let verdict = Verdict(rawValue: s.verdict.gateVerdict) ?? .needsRebuild
        let findings = s.findings.map { f in
            Finding.restored(
                rule: f.rule, severity: f.severity,
                message: "line \(f.line):\(f.column): \(f.word.isEmpty ? "" : "`\(f.word)`: ")\(f.message)",
                symbols: [], libraries: [], line: f.line, column: f.column)
        }
        let apk = s.packages.isEmpty ? nil : "apk add --no-cache " + s.packages.joined(separator: " ")
        let change =
            s.verdict == .needsChanges
            ? "change the script where the findings say (BusyBox \(s.busybox ?? "?") ash and applets)" : nil
        let fix = Fix.script(
            apk: apk, change: change,
            dockerfile: ["FROM alpine:\(release.name)", apk.map { "RUN " + $0 }].compactMap { $0 }.joined(
                separator: "\n"))
        let language: Language = facts.kind == .dockerfile ? .dockerfile : Language(facts.dialect)
        let a = Assessment(
            verdict: verdict, libc: .none, linkage: .dynamic, arch: "script", packages: s.packages,
            findings: findings, language: language, fix: fix)
        var r = CheckResult(path: path, status: .assessed, assessment: a)
        r.kind = facts.kind.rawValue
        return r
    }
}

extension Language {
    /// The shell a script is written for, as a report's language.
    init(_ dialect: ShellDialect) {
        switch dialect {
        case .sh: self = .sh
        case .ash: self = .ash
        case .bash: self = .bash
        case .dash: self = .dash
        case .ksh: self = .ksh
        case .zsh: self = .zsh
        case .other: self = .other
        }
    }
}

extension ScriptJudge {
    /// One result per image whose configuration says what runs: the program, wrappers and `#!` interpreter must
    /// be in the image, shell-form text is judged as a script. Named as the image, kind `entrypoint`.
    func judgeEntrypoints(_ images: [ExpandedImage], scanned: [ScannedFile]) -> [CheckResult] {
        var results: [CheckResult] = []
        for image in images {
            guard let config = image.config, let files = image.tree else { continue }
            let prefix = image.name + "!/"
            let run = ImageRunConfig(
                entrypoint: config.entrypoint, cmd: config.cmd, shell: config.shell,
                path: config.environment("PATH"), workingDir: config.workingDir)
            var scripts: [String: ScriptFacts] = [:]
            for file in scanned where file.script != nil && file.item.path.hasPrefix(prefix) {
                scripts[String(file.item.path.dropFirst(prefix.count))] = file.script
            }
            guard let s = assessor.assessEntrypoint(run, files: files, script: { scripts[$0] }) else { continue }
            results.append(result(s, path: image.name))
        }
        return results
    }

    func result(_ s: ScriptAssessment, path: String) -> CheckResult {
        if let reason = s.unassessable {
            var r = CheckResult(path: path, status: .error, error: reason)
            r.kind = Self.entrypointKind
            return r
        }
        let verdict = Verdict(rawValue: s.verdict.gateVerdict) ?? .needsRebuild
        let findings = s.findings.map { f in
            // Findings in shell-form text have the text's line and column; the others are about the command line.
            let place = f.line > 0 ? "shell text \(f.line):\(f.column): " + (f.word.isEmpty ? "" : "`\(f.word)`: ") : ""
            return Finding.restored(
                rule: f.rule, severity: f.severity, message: place + f.message, symbols: [], libraries: [])
        }
        let apk = s.packages.isEmpty ? nil : "apk add --no-cache " + s.packages.joined(separator: " ")
        let change =
            s.verdict == .needsChanges ? "change the image's command line or add what it runs to the image" : nil
        let fix = Fix.script(apk: apk, change: change, dockerfile: apk.map { "RUN " + $0 } ?? "")
        let a = Assessment(
            verdict: verdict, libc: .none, linkage: .dynamic, arch: "script", packages: s.packages,
            findings: findings, language: nil, fix: fix)
        var r = CheckResult(path: path, status: .assessed, assessment: a)
        r.kind = Self.entrypointKind
        return r
    }

    static let entrypointKind = "entrypoint"
}
