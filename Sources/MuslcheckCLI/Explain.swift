import ArgumentParser
import Assessment
import Knowledge
import Reporting

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

struct Explain: OutputCommand {
    static let configuration = CommandConfiguration(
        abstract: "What a rule means, why it matters, how to fix it, and the sources behind it.")

    @Argument(help: "A rule id (see `muslcheck kb`), or a library or symbol name to look up.")
    var id: String

    func execute() throws -> CommandOutput {
        let kb = try loadKnowledge()
        if let rule = kb.rule(id) {
            var out = "\(rule.id) (\(rule.severity.rawValue)): \(rule.title)\n\n"
            out += "What:   \(rule.summary)\n"
            out += "Why:    \(rule.rationale)\n"
            out += "Fix:    \(rule.remedy)\n"
            out += "Sources:\n" + rule.sources.map { "  \($0)\n" }.joined()
            return CommandOutput(stdout: out)
        }
        // A library name: how Alpine answers it, and where that comes from.
        if let entry = kb.library(id) {
            return CommandOutput(stdout: explainLibrary(id, entry))
        }
        // A symbol: where it stands in every release.
        if kb.glibc[id] != nil || kb.note(for: id) != nil || kb.isMuslName(id, arch: "x86_64") {
            return CommandOutput(stdout: explainSymbol(id, kb: kb))
        }
        let ids = kb.rules.map(\.id).joined(separator: ", ")
        throw UsageError(description: "no rule, known library or symbol '\(id)'; rules: \(ids)")
    }

    func explainLibrary(_ name: String, _ entry: LibraryEntry) -> String {
        var out = "\(name) (\(entry.kind.rawValue)\(entry.pattern == name ? "" : ", row \(entry.pattern)"))\n"
        for p in entry.providers {
            let range = p.first.map { "Alpine \($0)" + (p.last.map { " to \($0)" } ?? " and later") } ?? "every release"
            out += "  \(p.package): \(range)\n"
        }
        if entry.note != "-" && !entry.note.isEmpty { out += "  \(entry.note)\n" }
        out += "Source: \(entry.source)\n"
        return out
    }

    func explainSymbol(_ name: String, kb: KnowledgeBase) -> String {
        var out = "\(name)"
        if let g = kb.glibc[name] { out += ": glibc \(g.library) \(g.version)" }
        out += "\n"
        if let note = kb.note(for: name) { out += "  \(note.note) (\(note.source))\n" }
        if let first = kb.muslFirstVersion(of: name, arch: "x86_64") { out += "  musl exports it from \(first) on\n" }
        // Per release, for each measured architecture; one line when they agree.
        for release in kb.releases {
            let states = KnowledgeBase.measuredArchitectures.map { arch -> String in
                if Assessor(kb: kb, release: release, arch: arch).muslProvidesSymbol(name) {
                    return "musl \(release.musl)"
                }
                if kb.gcompatExports(version: release.gcompat, arch: arch).names.contains(name) {
                    return "gcompat \(release.gcompat)"
                }
                return "missing"
            }
            let line =
                Set(states).count == 1
                ? states[0]
                : zip(KnowledgeBase.measuredArchitectures, states).map { "\($0): \($1)" }.joined(separator: "; ")
            out += "  alpine:\(release.name)".padded(16) + line + "\n"
        }
        return out
    }
}

struct KB: OutputCommand {
    static let configuration = CommandConfiguration(
        commandName: "kb", abstract: "The releases, data files and rules the knowledge base knows.")

    @Option(help: "text or json.")
    var format: OutputFormat = .text

    func execute() throws -> CommandOutput {
        let kb = try loadKnowledge()
        let report = KnowledgeReport(kb: kb)
        switch format {
        case .json: return CommandOutput(stdout: try JSON.encode(report))
        case .text: return CommandOutput(stdout: KnowledgeText.render(report))
        }
    }
}
