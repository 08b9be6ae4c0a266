// `muslcheck kb`: what the knowledge base knows and where each part came from.
import Knowledge

public struct KnowledgeReport: Encodable, Sendable {
    public struct Release: Encodable, Sendable {
        var release: String, musl: String, gcompat: String, gcompatChecked: Bool, libc6Compat: String,
            lfs64Exported: Bool, notes: String
    }
    public struct Source: Encodable, Sendable { var file: String, entries: Int, provenance: String }
    public struct RuleInfo: Encodable, Sendable { var id: String, severity: String, title: String }

    public var schemaVersion = 1
    public var knowledgeBase: String
    public var defaultTarget: String
    public var releases: [Release]
    public var rules: [RuleInfo]
    public var sources: [Source]

    public init(kb: KnowledgeBase) {
        knowledgeBase = KnowledgeBase.dataVersion
        defaultTarget = "alpine:" + (kb.newestStable?.name ?? "")
        releases = kb.releases.map {
            Release(
                release: $0.name, musl: $0.musl, gcompat: $0.gcompat, gcompatChecked: $0.gcompatChecked,
                libc6Compat: $0.libc6Compat == .subpackage
                    ? "musl subpackage (symlinks to musl)" : "provided by gcompat",
                lfs64Exported: $0.lfs64Exported, notes: $0.notes)
        }
        rules = kb.rules.map { RuleInfo(id: $0.id, severity: $0.severity.rawValue, title: $0.title) }
        sources = kb.sources.map { Source(file: $0.file, entries: $0.entries, provenance: $0.provenance) }
    }
}

public enum KnowledgeText {
    public static func render(_ r: KnowledgeReport) -> String {
        var out = "Knowledge base \(r.knowledgeBase); default target \(r.defaultTarget)\n\nReleases:\n"
        for rel in r.releases {
            out +=
                "  alpine:\(rel.release)".padded(16)
                + "musl \(rel.musl), gcompat \(rel.gcompat)\(rel.gcompatChecked ? "" : " (assumed)"), libc6-compat \(rel.libc6Compat)\(rel.lfs64Exported ? ", LFS64 names exported" : "")\n"
        }
        out += "\nRules:\n"
        for rule in r.rules { out += "  \(rule.id)".padded(30) + "\(rule.severity.padded(8))\(rule.title)\n" }
        out += "\nData:\n"
        for s in r.sources { out += "  \(s.file)".padded(34) + "\(s.entries) entries. \(s.provenance)\n" }
        return out
    }
}

extension String {
    /// Left-aligned in a column of `width` characters, with at least one space after it.
    public func padded(_ width: Int) -> String {
        count >= width ? self + " " : self + String(repeating: " ", count: width - count)
    }
}
