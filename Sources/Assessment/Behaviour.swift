// Behaviour differences: findings that never change the verdict. Each rule's condition is data (rules.json
// "when", each rule with its public sources); this file only evaluates conditions against a binary's imports
// and libraries.
import ELF
import Knowledge

struct BehaviourRules: Sendable {
    let rules: [(rule: Rule, condition: Rule.Condition)]
    /// Every symbol a condition names: only these of a binary's imports need looking at.
    let symbols: Set<String>

    /// The rules that can apply on `release` (a `sinceRelease` later than it leaves the rule out).
    init(kb: KnowledgeBase, release: AlpineRelease) {
        rules = kb.rules.compactMap { rule in rule.when.map { (rule, $0) } }.filter { _, c in
            c.sinceRelease.map { releaseAtLeast(release, $0) } ?? true
        }
        symbols = Set(rules.flatMap { ($0.condition.importsAny ?? []) + ($0.condition.importsNone ?? []) })
    }

    /// (rule, evidence) for every behaviour rule the binary triggers.
    func evaluate(_ facts: BinaryFacts, libc: Libc, imported: Set<String>) -> [(Rule, [String])] {
        var out: [(Rule, [String])] = []
        for (rule, c) in rules {
            if let libcs = c.libc, !libcs.contains(libc.rawValue) { continue }
            if c.is64 == true && !facts.is64 { continue }
            if c.noStackSize == true && (facts.stackSize ?? 0) > 0 { continue }
            if let none = c.importsNone, none.contains(where: { imported.contains($0) }) { continue }
            var evidence: [String] = []
            evidence += (c.importsAny ?? []).filter { imported.contains($0) }
            evidence += facts.needed.filter { n in (c.neededAny ?? []).contains { KnowledgeBase.matches($0, n) } }
            evidence += (c.goUsesAny ?? []).filter { facts.goUses.contains($0) }
            if let without = c.goCgoWithout, let go = facts.goBuildInfo, go.cgoEnabled == true,
                !without.contains(where: { go.tags.contains($0) })
            {
                evidence.append("CGO_ENABLED=1")
            }
            guard !evidence.isEmpty else { continue }
            out.append((rule, evidence))
        }
        return out
    }
}
