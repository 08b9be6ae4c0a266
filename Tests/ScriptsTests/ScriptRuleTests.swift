import Foundation
import Knowledge
import Scripts
import Testing

let kb: KnowledgeBase = {
    switch KnowledgeBase.shared {
    case .success(let kb): return kb
    case .failure(let error): fatalError("knowledge base does not load: \(error)")  // test-only: the data is broken
    }
}()

let scriptKnowledge: ScriptKnowledge = {
    switch ScriptKnowledge.shared {
    case .success(let k): return k
    case .failure(let error): fatalError("script knowledge does not load: \(error)")  // test-only
    }
}()

func assess(_ text: String, file: String = "run.sh", target: String = "3.21", installed: Set<String> = [])
    -> ScriptAssessment?
{
    guard let release = kb.release(named: target), let facts = ScriptFacts.read(path: file, bytes: Array(text.utf8))
    else { return nil }
    return ScriptAssessor(kb: kb, scripts: scriptKnowledge, release: release).assess(facts, installed: installed)
}

struct ScriptRuleExample: CustomTestStringConvertible, Sendable {
    var rule: RuleID
    var example: Rule.Example
    var triggers: Bool
    var testDescription: String {
        "\(rule) \(triggers ? "triggers" : "ignores") \((example.script ?? "").prefix(50).debugDescription)"
    }
}

/// Script rules: examples with a `script` and no image (entrypoint rules: EntrypointTests).
let scriptExamples: [ScriptRuleExample] = kb.rules.filter { rule in
    rule.examples.trigger.contains { $0.script != nil } && !rule.examples.trigger.contains { $0.imageFiles != nil }
}.flatMap { rule in
    rule.examples.trigger.map { ScriptRuleExample(rule: rule.ruleID, example: $0, triggers: true) }
        + rule.examples.ignore.map { ScriptRuleExample(rule: rule.ruleID, example: $0, triggers: false) }
}

@Suite struct ScriptRules {
    @Test func everyScriptRuleIsInTheCatalogue() {
        let ids = RuleID.raisedByScripts
        for id in ids { #expect(kb.rule(id) != nil, "\(id) has no entry in rules.json") }
        #expect(Set(scriptExamples.map(\.rule)) == Set(ids))
    }

    @Test(arguments: scriptExamples)
    func example(_ e: ScriptRuleExample) throws {
        var text = try #require(e.example.script)
        if let size = e.example.size, size > text.utf8.count {
            let line = "# " + String(repeating: "x", count: 97) + "\n"
            text += String(repeating: line, count: (size - text.utf8.count) / line.utf8.count + 1)
        }
        let a = try #require(
            assess(
                text, file: e.example.file ?? "run.sh", target: e.example.target,
                installed: Set(e.example.installed ?? [])))
        let hits = a.findings.filter { $0.rule == e.rule }
        if e.triggers {
            #expect(
                !hits.isEmpty, "\(e.rule) did not fire; findings: \(a.findings.map { "\($0.rule): \($0.message)" })")
            #expect(
                a.verdict != .runs || hits.allSatisfy { $0.severity != .error },
                "an error finding left the verdict at runs")
            if e.rule == RuleID.scriptOverLimit { #expect(a.unassessable != nil) }
        } else {
            #expect(hits.isEmpty, "\(e.rule) fired: \(hits.map(\.message))")
        }
    }

    @Test func findingPositionsAndPackages() throws {
        let a = try #require(assess("#!/bin/sh\nset -e\n  useradd -m app && grep -rP x .\n"))
        let user = try #require(a.findings.first { $0.rule == RuleID.scriptCommandMissing })
        #expect((user.line, user.column, user.length, user.word) == (3, 3, 7, "useradd"))
        let grep = try #require(a.findings.first { $0.rule == RuleID.busyboxOptionRejected })
        #expect((grep.line, grep.column, grep.word) == (3, 26, "-rP"))
        #expect(a.packages == ["grep", "shadow"])
        #expect(a.verdict == .needsPackages)
        #expect(a.verdict.gateVerdict == "needs-libc6-compat")
        #expect(a.busybox == "1.37.0")
    }

    @Test func syntaxErrorsNeedChanges() throws {
        let a = try #require(assess("#!/bin/sh\nx=(1 2)\n"))
        #expect(a.verdict == .needsChanges)
        #expect(a.verdict.gateVerdict == "needs-rebuild")
        #expect(try #require(assess("#!/bin/sh\necho ok\n")).verdict == .runs)
    }

    @Test func processSubstitutionDependsOnTheRelease() throws {
        let text = "#!/bin/sh\ndiff <(ls a) <(ls b)\n"
        #expect(
            try #require(assess(text, target: "3.14")).findings.contains { $0.rule == RuleID.ashSyntaxError })
        #expect(try #require(assess(text, target: "3.15")).findings.isEmpty)
    }

    @Test func installsInTheSameRunCountOnlyAfterwards() throws {
        let before = try #require(assess("FROM alpine:3.20\nRUN bash -c true && apk add bash\n", file: "Dockerfile"))
        #expect(before.findings.contains { $0.word == "bash" })
        let after = try #require(
            assess("FROM alpine:3.20\nRUN apk add --no-cache bash && bash -c true\n", file: "Dockerfile"))
        #expect(after.findings.isEmpty)
    }

    @Test func dataVersionsCoverEveryRelease() {
        for r in kb.releases {
            #expect(scriptKnowledge.busybox(release: r.name) != nil, "no BusyBox version for \(r.name)")
        }
    }
}
