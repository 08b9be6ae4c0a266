// What the engine says about one binary for one Alpine release.
import ELF
import Knowledge

/// The remedy ladder, cheapest first (README, the verdict table).
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
    /// Encoded as the bare id string, as rules.json and every report write it.
    public var rule: RuleID
    public var severity: Rule.Severity
    public var message: String
    public var symbols: [String]
    public var libraries: [String]
    /// Where in a script or Dockerfile (1-based; the column counts bytes); nil for ELF findings.
    public var line: Int?
    public var column: Int?
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
    /// From build info, .comment and libraries (a script: its shell, or Dockerfile); nil when nothing tells.
    public var language: Language?
    public var fix: Fix?
    /// Set when the file could be read but not judged (its dynamic segment or symbols are damaged).
    public var unassessable: String?
    /// Set for a file that is never loaded (a separate debug file): skipped and counted, neither judged
    /// nor an error.
    public var notLoaded: String?
}

/// What a file is written in, as the reports name it (`language` in the JSON report).
public enum Language: String, Sendable, Hashable, Codable, CaseIterable {
    // Binaries.
    case go, rust
    case cxx = "c++"
    case c
    // Scripts: the shell a script is written for (`other`: an interpreter that is no shell), or a Dockerfile.
    case sh, ash, bash, dash, ksh, zsh, other, dockerfile
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
    /// For a name reached through a library (not the binary's own NEEDED): that library, where it was found.
    public var neededBy: [String: String] = [:]
    /// Search-path entries and links that lead outside the scanned paths, each with what was not searched
    /// (never opened: the host's files there say nothing of the target system).
    public var notSearched: [String] = []
    public init() {}

    /// Whether a library found for the binary exports `name` for musl to bind.
    public func exports(_ name: String) -> Bool { exportSets.contains { $0.contains(name) } }
    public static let none = Dependencies()
}

// Reading saved results back (`muslcheck merge`, the result cache): the same values the report writes.
extension Assessment: Codable {
    public init(
        verdict: Verdict, ownVerdict: Verdict? = nil, libc: Libc, linkage: Linkage, arch: String,
        missingSymbols: [MissingSymbol] = [], missingLibraries: [MissingLibrary] = [], packages: [String] = [],
        minimumGlibc: String? = nil, findings: [Finding] = [], language: Language? = nil, fix: Fix? = nil
    ) {
        self.verdict = verdict
        self.ownVerdict = ownVerdict
        self.libc = libc
        self.linkage = linkage
        self.arch = arch
        self.missingSymbols = missingSymbols
        self.missingLibraries = missingLibraries
        self.packages = packages
        self.minimumGlibc = minimumGlibc
        self.findings = findings
        self.language = language
        self.fix = fix
    }
}

/// A fix as the report writes it; what it was made for is not in the report, so a fix read back from one
/// is made again (when a verdict changes) for the default subject.
extension Fix: Decodable {
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        apk = try c.decodeIfPresent(String.self, forKey: .apk)
        rebuild = try c.decodeIfPresent(String.self, forKey: .rebuild)
        dockerfile = try c.decode(String.self, forKey: .dockerfile)
        glibcBesideMusl = try c.decodeIfPresent(GlibcBesideOffer.self, forKey: .glibcBesideMusl)
    }
}

/// A fix with what it was made for (the program's name and directory, the Go image), for a cache whose
/// results must fold exactly as freshly made ones do.
public struct StoredFix: Codable, Sendable {
    public var apk: String?, rebuild: String?, dockerfile: String
    public var glibcBesideMusl: GlibcBesideOffer?
    public var app: String, dir: String, goImage: String?
    public init(
        apk: String?, rebuild: String?, dockerfile: String, glibcBesideMusl: GlibcBesideOffer? = nil, app: String,
        dir: String, goImage: String?
    ) {
        self.apk = apk
        self.rebuild = rebuild
        self.dockerfile = dockerfile
        self.glibcBesideMusl = glibcBesideMusl
        self.app = app
        self.dir = dir
        self.goImage = goImage
    }
    public init(_ fix: Fix) {
        apk = fix.apk
        rebuild = fix.rebuild
        dockerfile = fix.dockerfile
        glibcBesideMusl = fix.glibcBesideMusl
        app = fix.subject.app
        dir = fix.subject.dir
        goImage = fix.subject.goImage
    }
    public var fix: Fix {
        Fix(
            apk: apk, rebuild: rebuild, dockerfile: dockerfile, glibcBesideMusl: glibcBesideMusl,
            subject: Fix.Subject(app: app, dir: dir, goImage: goImage))
    }
}

// Read back from a cache: the memberwise initialisers are internal to this module.
extension MissingSymbol {
    public static func restored(name: String, version: String?, providedBy: String?, note: String?, firstMusl: String?)
        -> MissingSymbol
    {
        MissingSymbol(name: name, version: version, providedBy: providedBy, note: note, firstMusl: firstMusl)
    }
}

extension MissingLibrary {
    public static func restored(soname: String, package: String?, foundAt: String?, reason: String) -> MissingLibrary {
        MissingLibrary(soname: soname, package: package, foundAt: foundAt, reason: reason)
    }
}

extension Finding {
    public static func restored(
        rule: RuleID, severity: Rule.Severity, message: String, symbols: [String], libraries: [String],
        line: Int? = nil, column: Int? = nil
    ) -> Finding {
        Finding(
            rule: rule, severity: severity, message: message, symbols: symbols, libraries: libraries, line: line,
            column: column)
    }
}
