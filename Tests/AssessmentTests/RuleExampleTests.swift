import Assessment
import ELF
import Knowledge
import Testing

let kb: KnowledgeBase = {
    switch KnowledgeBase.shared {
    case .success(let kb): return kb
    case .failure(let error): fatalError("knowledge base does not load: \(error)")  // test-only: the data is broken
    }
}()

/// Builds the binary a rule example describes: a plain dynamic glibc x86_64 executable unless it says otherwise.
func binary(_ e: Rule.Example) -> BinaryFacts {
    let arch = e.arch ?? "x86_64"
    let machines: [String: (UInt16, Bool, Bool)] = [
        "x86_64": (62, true, false), "aarch64": (183, true, false), "i386": (3, false, false),
        "s390x": (22, true, true), "arm": (40, false, false), "riscv64": (243, true, false),
    ]
    let (machine, is64, big) = machines[arch] ?? (62, true, false)
    var f = BinaryFacts(
        is64: is64, bigEndian: big, machine: Machine(rawValue: machine), type: .dyn, osABI: 0, entry: 0x1000)
    let musl = e.libc == "musl"
    let loader = kb.loaders[arch]
    switch e.interpreter {
    case .none: f.interpreter = musl ? loader?.muslLoader : loader?.glibcInterpreter
    case .some(let value): f.interpreter = value
    }
    f.needed = e.needed ?? (musl ? ["libc.musl-\(arch).so.1"] : ["libc.so.6"])
    f.linkage = Linkage(rawValue: e.linkage ?? "dynamic") ?? .dynamic
    f.hasIRelative = e.irelative ?? false
    if e.abiTag == true { f.abiTag = ABITag(os: "Linux", version: "3.2.0") }
    var versions: [String] = []
    // "~name": a weak import; "!name": one no relocation names.
    f.imports = (e.imports ?? []).map { spec in
        let weak = spec.hasPrefix("~")
        let unreferenced = spec.hasPrefix("!")
        let body = weak || unreferenced ? String(spec.dropFirst()) : spec
        let parts = body.split(separator: "@", maxSplits: 1).map(String.init)
        let version = parts.count > 1 ? parts[1] : nil
        if let version, !versions.contains(version) { versions.append(version) }
        return ImportedSymbol(
            name: parts[0], version: version, library: version?.hasPrefix("GLIBC_") == true ? "libc.so.6" : nil,
            weak: weak, type: .func, referenced: !unreferenced)
    }
    f.kindMarkers = e.exports ?? []
    if e.tlsOwn != nil || e.tlsExternal != nil {
        f.initialExecTLS = InitialExecTLS(own: e.tlsOwn ?? 0, ownSymbols: [], external: e.tlsExternal ?? [])
        f.hasTLS = (e.tlsOwn ?? 0) > 0
    }
    if e.sectionsDisagree == true {
        f.gaps.append(
            Gap(
                .sectionsDisagree,
                "section headers disagree with the dynamic segment (.dynsym holds 3 symbols, the hash table counts 9)"))
    }
    let glibc = versions.filter { $0.hasPrefix("GLIBC_") }
    let other = versions.filter { !$0.hasPrefix("GLIBC_") }
    if !glibc.isEmpty {
        f.versionRequirements.append(
            VersionRequirement(library: "libc.so.6", versions: glibc.map { VersionNeed(name: $0, weak: false) }))
    }
    if !other.isEmpty {
        f.versionRequirements.append(
            VersionRequirement(library: "libstdc++.so.6", versions: other.map { VersionNeed(name: $0, weak: false) }))
    }
    f.referencedIFuncs = e.ifuncs ?? []
    f.goUses = e.goUses ?? []
    if let cgo = e.goCgo {
        f.goBuildInfo = GoBuildInfo(
            goVersion: "go1.22.0", path: "example", cgoEnabled: cgo, tags: e.goTags ?? [], settings: [])
    }
    if e.damagedVersions == true { f.gaps.append(Gap(.versions, ".gnu.version runs past the end of the file")) }
    return f
}

struct RuleExample: CustomTestStringConvertible, Sendable {
    var rule: String
    var example: Rule.Example
    var triggers: Bool
    var testDescription: String {
        "\(rule) \(triggers ? "triggers" : "ignores") #\(example.target) \(example.imports ?? []) \(example.needed ?? [])"
    }
}

// Script and entrypoint rules (examples with a `script` or `imageFiles`) are run by ScriptsTests.
let allExamples: [RuleExample] = kb.rules.filter {
    !$0.examples.trigger.contains { $0.script != nil || $0.imageFiles != nil }
}.flatMap { rule in
    rule.examples.trigger.map { RuleExample(rule: rule.id, example: $0, triggers: true) }
        + rule.examples.ignore.map { RuleExample(rule: rule.id, example: $0, triggers: false) }
}

@Suite struct RuleExamples {
    @Test func everyRuleHasExamplesBothWays() {
        for rule in kb.rules {
            #expect(!rule.examples.trigger.isEmpty, "\(rule.id) has no example that triggers it")
            #expect(!rule.examples.ignore.isEmpty, "\(rule.id) has no example that must not trigger it")
        }
    }

    @Test(arguments: allExamples)
    func example(_ case_: RuleExample) throws {
        let release = try #require(kb.release(named: case_.example.target), "unknown release \(case_.example.target)")
        let assessor = Assessor(kb: kb, release: release)
        var found = Dependencies()
        found.unusable = case_.example.unusable ?? [:]
        found.notSearched = case_.example.notSearched ?? []
        var assessment = assessor.assess(
            binary(case_.example), path: case_.example.path ?? "/example", dependencies: found)
        if let dependencies = case_.example.dependencies {
            let libraries = dependencies.map { dep -> (path: String, assessment: Assessment) in
                var e = case_.example
                e.imports = dep.imports
                e.dependencies = nil
                var f = binary(e)
                f.interpreter = nil
                return (dep.path, assessor.assess(f, path: dep.path))
            }
            assessment = assessor.combine(assessment, with: libraries)
        }
        let fired = assessment.findings.contains { $0.rule.rawValue == case_.rule }
        #expect(fired == case_.triggers, "findings: \(assessment.findings.map(\.rule))")
    }

    /// Every rule the engine can emit is documented, so `muslcheck explain` answers for each.
    @Test func everyEmittedRuleIsDocumented() {
        for e in allExamples {
            guard let release = kb.release(named: e.example.target) else { continue }
            for finding in Assessor(kb: kb, release: release).assess(binary(e.example), path: e.example.path ?? "/x")
                .findings
            {
                #expect(kb.rule(finding.rule) != nil, "\(finding.rule) is not in rules.json")
            }
        }
    }
}
