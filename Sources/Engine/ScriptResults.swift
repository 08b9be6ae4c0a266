// Shell scripts and Dockerfiles in the batch: judged against the target's BusyBox and ash (Sources/Scripts)
// and reported on the same scale and in the same formats as ELF files, each finding with its line and column.
import Assessment
import ELF
import Knowledge
import Reporting
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
            Finding.restored(rule: f.rule, severity: f.severity, message: "line \(f.line):\(f.column): \(f.word.isEmpty ? "" : "`\(f.word)`: ")\(f.message)",
                             symbols: [], libraries: [], line: f.line, column: f.column)
        }
        let apk = s.packages.isEmpty ? nil : "apk add --no-cache " + s.packages.joined(separator: " ")
        let change = s.verdict == .needsChanges ? "change the script where the findings say (BusyBox \(s.busybox ?? "?") ash and applets)" : nil
        let fix = Fix.script(apk: apk, change: change, dockerfile: ["FROM alpine:\(release.name)", apk.map { "RUN " + $0 }].compactMap { $0 }.joined(separator: "\n"))
        let language: Language = facts.kind == .dockerfile ? .dockerfile : Language(facts.dialect)
        let a = Assessment(verdict: verdict, libc: .none, linkage: .dynamic, arch: "script", packages: s.packages,
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
