// What the engine says about one binary for one Alpine release.
import ELF
import Knowledge

/// The remedy ladder, cheapest first (ARCHITECTURE.md §5).
public enum Verdict: String, Codable, Sendable, Comparable, CaseIterable {
    case runs
    case needsLibc6Compat = "needs-libc6-compat"
    case needsGcompat = "needs-gcompat"
    case needsRebuild = "needs-rebuild"

    var rank: Int { Verdict.allCases.firstIndex(of: self) ?? 0 }
    public static func < (a: Verdict, b: Verdict) -> Bool { a.rank < b.rank }
}

public enum Libc: String, Codable, Sendable { case glibc, musl, none, unknown }

public struct MissingSymbol: Codable, Sendable, Hashable {
    public var name: String
    public var version: String?
    /// "gcompat" when installing gcompat provides it; nil when nothing on the release does.
    public var providedBy: String?
    /// Why binaries import it and what fixes it, when the knowledge base knows.
    public var note: String?
    /// For a musl binary: the first musl version that exports it.
    public var firstMusl: String?

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(version, forKey: .version)
        try c.encode(providedBy, forKey: .providedBy)
        if let note { try c.encode(note, forKey: .note) }
        if let firstMusl { try c.encode(firstMusl, forKey: .firstMusl) }
    }
}

public struct MissingLibrary: Codable, Sendable, Hashable {
    public var soname: String
    /// The Alpine package that provides it on the target release, if any.
    public var package: String?
    /// Where it was found beside the binary, if it was.
    public var foundAt: String?
    public var reason: String

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(soname, forKey: .soname)
        try c.encode(package, forKey: .package)
        try c.encode(foundAt, forKey: .foundAt)
        try c.encode(reason, forKey: .reason)
    }
}

public struct Finding: Codable, Sendable, Hashable {
    public var rule: String
    public var severity: Rule.Severity
    public var message: String
    public var symbols: [String]
    public var libraries: [String]
}

public struct Assessment: Sendable {
    public var verdict: Verdict
    /// The verdict for the file alone, before the libraries it loads are folded in.
    public var ownVerdict: Verdict?
    public var libc: Libc
    public var linkage: Linkage
    public var arch: String
    public var missingSymbols: [MissingSymbol] = []
    public var missingLibraries: [MissingLibrary] = []
    /// The apk add line that makes it run (for needs-rebuild: what the rebuilt program still needs).
    public var packages: [String] = []
    public var minimumGlibc: String?
    public var findings: [Finding] = []
    /// go, rust, c++ or c, from build info, .comment and libraries; nil when nothing tells.
    public var language: String?
    public var fix: Fix?
    /// Set when the file could be read but not judged (its dynamic segment or symbols are damaged).
    public var unassessable: String?
    /// Set for a file that is never loaded (a separate debug file): skipped and counted, neither judged
    /// nor an error.
    public var notLoaded: String?
}

/// The libraries a binary loads, as found on disk by the scanner (the engine itself does no I/O).
public struct Dependencies: Sendable {
    /// soname → where it was found, for every library reached (directly or through other libraries).
    public var found: [String: String] = [:]
    /// Names musl can bind from those libraries (default-version, non-IFUNC exports), one set per
    /// library: shared with the resolver's cache rather than merged into a new set for every binary.
    public var exportSets: [Set<String>] = []
    /// soname → why the file musl would map for it cannot be loaded (another ELF class or machine, not
    /// ELF at all): to musl it is missing, whatever the knowledge base says of the name.
    public var unusable: [String: String] = [:]
    public init() {}

    /// Whether a library found for the binary exports `name` for musl to bind.
    public func exports(_ name: String) -> Bool { exportSets.contains { $0.contains(name) } }
    public static let none = Dependencies()
}
