// The knowledge base: what each Alpine release's musl, libc6-compat and gcompat provide, which libraries
// and symbols are glibc's, and the rules that explain findings. Built once from the data files embedded in
// the executable (Sources/Knowledge/data, each with a provenance header), then only read: every lookup
// on the per-file path is a hash lookup.
#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
#if canImport(Glibc)
    import Glibc
#endif

public struct AlpineRelease: Sendable, Hashable {
    public enum LibcCompat: String, Sendable { case subpackage, gcompat }
    public var name: String
    public var musl: String
    /// The gcompat version the release ships, and whether that was checked (3.24 and edge were not: they
    /// get gcompat-versions.tsv's assumed version).
    public var gcompat: String
    public var gcompatChecked: Bool
    public var libc6Compat: LibcCompat
    /// libc.so still exports the *64 names (musl ≤ 1.2.3, or Alpine's revert patches on 3.18).
    public var lfs64Exported: Bool
    public var notes: String

    /// "3.18" → (3, 18); edge sorts after every numbered release.
    public var order: [Int] { name == "edge" ? [99, 99] : name.split(separator: ".").compactMap { Int($0) } }
    public var isEdge: Bool { name == "edge" }
}

public struct GlibcSymbol: Sendable, Hashable {
    public var library: String
    public var version: String
}

public struct Loader: Sendable, Hashable {
    public var arch: String
    public var glibcInterpreter: String
    public var libc6Compat: [String]
    public var gcompatOld: [String]
    public var gcompatNew: [String]
    public var muslLoader: String
    public var gcompatSoname: String
    public var note: String
}

public struct LibraryEntry: Sendable, Hashable {
    public enum Kind: String, Sendable {
        case muslSelf = "musl-self"
        case compat
        case glibcOnly = "glibc-only"
        case absent, package
    }
    public struct Provider: Sendable, Hashable {
        public var package: String
        public var first: String?
        public var last: String?
    }
    public var pattern: String
    public var kind: Kind
    public var providers: [Provider]
    public var note: String
    public var source: String
}

/// A package that installs real glibc beside musl (glibc-beside-musl.tsv): a remedy rung with conditions.
public struct GlibcBesideMusl: Sendable, Hashable {
    public var provider: String
    public var package: String
    public var version: String
    public var released: String
    public var arch: String
    /// The glibc version it installs: a file needing a newer GLIBC_x.y does not load (glibc checks versions).
    public var glibc: String
    public var prefix: String
    public var instructions: String
    public var caveats: [String]
    public var source: String
}

public struct SymbolNote: Sendable, Hashable {
    public var pattern: String
    public var note: String
    public var source: String
}

public struct KnowledgeError: Error, CustomStringConvertible {
    public var description: String
}

/// How a musl release binds the LFS64 (`*64`) names glibc programs import (musl-versions.tsv).
public struct MuslRelease: Sendable, Hashable {
    public var version: String
    /// libc.so exports the `*64` names itself.
    public var lfs64Exported: Bool
    /// The dynamic linker retries a failed `NAME64` as `NAME` (for the names in musl-lfs64-remap.txt).
    public var lfs64Remap: Bool
    /// The longest `NAME64` the remap handles; nil when there is no remap.
    public var lfs64LongestName: Int?
    public var source: String
}

public final class KnowledgeBase: Sendable {
    public let releases: [AlpineRelease]
    /// The gcompat version a release whose own was not checked is judged against (gcompat-versions.tsv).
    public let assumedGcompat: String
    public let loaders: [String: Loader]
    /// The sonames gcompat installs as a loader (ld-linux-*), asked for every NEEDED name.
    public let gcompatSonames: Set<String>
    public let libraries: [LibraryEntry]
    public let symbolNotes: [SymbolNote]
    /// `symbolNotes` by exact name, and the wildcard patterns cut into UTF-8 prefix and suffix, with each
    /// note's position so that the first matching row still wins. Asked for every missing symbol.
    private let noteIndex: (exact: [String: Int], wildcard: [(prefix: [UInt8], suffix: [UInt8], position: Int)])
    public let glibc: [String: GlibcSymbol]
    public let glibcBesideMusl: [GlibcBesideMusl]
    public let lfs64Bases: Set<String>
    /// Per measured musl version, in order.
    public let muslReleases: [MuslRelease]
    public let rules: [Rule]
    private let libraryIndex: (exact: [String: LibraryEntry], prefixed: [(prefix: [UInt8], entry: LibraryEntry)])
    /// musl exports per "version/arch" (x86_64 and aarch64 measured).
    private let musl: [String: Set<String>]
    /// Per "gcompat version/arch": libgcompat plus musl-obstack and libucontext, which gcompat pulls in.
    private let gcompat: [String: Set<String>]
    public let muslVersions: [String]
    /// Data file names and their provenance headers, for `muslcheck kb`.
    public let sources: [DataSource]

    public struct DataSource: Sendable, Hashable {
        public var file: String
        public var entries: Int
        public var provenance: String
    }

    /// Loaded once on first use. The data is part of the executable, so a failure here is a build defect,
    /// which tests catch; callers still get an error rather than a crash.
    public static let shared: Result<KnowledgeBase, KnowledgeError> = Result { try KnowledgeBase() }
        .mapError { $0 as? KnowledgeError ?? KnowledgeError(description: "\($0)") }

    /// Names this edition of the data: bump it with every data change.
    public static let dataVersion = "2026.11.30"

    public static let muslVersionsMeasured = ["1.2.2", "1.2.3", "1.2.4", "1.2.5", "1.2.6"]
    public static let measuredArchitectures = ["x86_64", "aarch64"]

    init() throws {
        var loader = DataLoader()
        let listed = try Self.readReleases(&loader)
        musl = Self.readMuslExports(&loader)
        muslVersions = Self.muslVersionsMeasured
        gcompat = Self.readGcompatExports(&loader)
        let assumedGcompat = try Self.readAssumedGcompat(&loader)
        self.assumedGcompat = assumedGcompat
        releases = listed.map { r in
            var r = r
            if !r.gcompatChecked { r.gcompat = assumedGcompat }
            return r
        }
        lfs64Bases = Set(loader.load("musl-lfs64-remap.txt", PackageResources.musl_lfs64_remap_txt).rows.map { $0[0] })
        muslReleases = try Self.readMuslReleases(&loader)
        glibc = Self.readGlibc(&loader)
        glibcBesideMusl = try Self.readGlibcBesideMusl(&loader)
        let loaders = try Self.readLoaders(&loader)
        self.loaders = loaders
        gcompatSonames = Set(loaders.values.map(\.gcompatSoname).filter { !$0.isEmpty })
        let libraries = try Self.readLibraries(&loader)
        self.libraries = libraries
        libraryIndex = Self.index(libraries)
        let symbolNotes = try Self.readSymbolNotes(&loader)
        self.symbolNotes = symbolNotes
        noteIndex = Self.index(symbolNotes)
        rules = try Self.readRules(&loader)
        sources = loader.sources
        try validate()
    }

    private func validate() throws {
        for r in releases {
            guard Self.muslVersionsMeasured.contains(r.musl) else {
                throw KnowledgeError(description: "release \(r.name) uses musl \(r.musl), which has no export list")
            }
            guard gcompat["\(r.gcompat)/x86_64"] != nil else {
                throw KnowledgeError(
                    description: "release \(r.name) uses gcompat \(r.gcompat), which has no export list")
            }
        }
        guard Set(rules.map(\.id)).count == rules.count else { throw KnowledgeError(description: "duplicate rule ids") }
        guard muslReleases.map(\.version) == Self.muslVersionsMeasured else {
            throw KnowledgeError(
                description:
                    "musl-versions.tsv must have one row per measured musl version, in order: \(Self.muslVersionsMeasured)"
            )
        }
        guard muslReleases.allSatisfy({ $0.lfs64Remap == ($0.lfs64LongestName != nil) }) else {
            throw KnowledgeError(
                description: "musl-versions.tsv: lfs64_longest is given exactly where lfs64_remap is yes")
        }
        try RuleID.check(catalogue: Set(rules.map(\.id)))
    }

    // MARK: Lookups

    /// Newest numbered release: the default target.
    public var newestStable: AlpineRelease? {
        releases.filter { !$0.isEdge }.max { $0.order.lexicographicallyPrecedes($1.order) }
    }

    public func release(named name: String) -> AlpineRelease? {
        let bare = name.hasPrefix("alpine:") ? String(name.dropFirst(7)) : name
        return releases.first { $0.name == bare }
    }

    /// musl's exports for a version; architectures not measured use the x86_64 list (`approximate`).
    public func muslExports(version: String, arch: String) -> (names: Set<String>, approximate: Bool) {
        if let set = musl["\(version)/\(arch)"] { return (set, false) }
        return (musl["\(version)/x86_64"] ?? [], true)
    }

    /// Everything a gcompat install adds on `arch`: libgcompat plus musl-obstack and libucontext.
    /// A list measured for that architecture when there is one; otherwise x86_64's, less the names gcompat
    /// builds only where musl's headers define the syscall behind them (`approximate`).
    public func gcompatExports(version: String, arch: String) -> (names: Set<String>, approximate: Bool) {
        if let set = gcompat["\(version)/\(arch)"] { return (set, false) }
        let base = gcompat["\(version)/x86_64"] ?? []
        return (Self.noSysctlArchitectures.contains(arch) ? base.subtracting(["sysctl"]) : base, true)
    }

    /// gcompat builds `sysctl` only where musl's headers define SYS__sysctl (libgcompat/sysctl.c, `#ifdef
    /// SYS__sysctl`); musl v1.2.5's arch/*/bits/syscall.h.in lack __NR__sysctl on these architectures.
    static let noSysctlArchitectures: Set<String> = ["aarch64", "aarch64_be", "riscv64", "riscv32", "loongarch64"]

    /// Every name any gcompat build provides, for filters that must not miss one.
    public var gcompatNamesAnyArchitecture: Set<String> {
        gcompat.values.reduce(into: Set<String>()) { $0.formUnion($1) }
    }

    /// The first measured musl version that exports `name`, if any.
    public func muslFirstVersion(of name: String, arch: String) -> String? {
        muslVersions.first { muslExports(version: $0, arch: arch).names.contains(name) }
    }

    /// A measured musl release's row.
    public func muslRelease(_ version: String) -> MuslRelease? { muslReleases.first { $0.version == version } }

    /// The newest measured musl whose libc.so still exports the LFS64 names: its list has them all.
    public var newestMuslExportingLFS64: String? { muslReleases.last { $0.lfs64Exported }?.version }

    /// Whether any measured musl exports the name: used to tell musl's own imports from other libraries'.
    /// The newest list has every name musl still exports; the newest with LFS64 exports has those.
    public func isMuslName(_ name: String, arch: String) -> Bool {
        [muslVersions.last, newestMuslExportingLFS64].compactMap { $0 }.contains {
            muslExports(version: $0, arch: arch).names.contains(name)
        }
    }

    /// The entry for a NEEDED name: an exact name first, then the first matching `prefix*` pattern.
    /// Called for every import's library, so both are prepared once (see `libraryIndex`).
    public func library(_ soname: String) -> LibraryEntry? {
        if let exact = libraryIndex.exact[soname] { return exact }
        var soname = soname
        return soname.withUTF8 { bytes in
            libraryIndex.prefixed.first { p in
                p.prefix.count <= bytes.count
                    && p.prefix.withUnsafeBufferPointer { prefix in
                        guard let a = prefix.baseAddress, let b = bytes.baseAddress else { return prefix.isEmpty }
                        return memcmp(a, b, prefix.count) == 0
                    }
            }?.entry
        }
    }

    public func note(for symbol: String) -> SymbolNote? {
        var best = noteIndex.exact[symbol]
        let name = Array(symbol.utf8)
        for w in noteIndex.wildcard where w.position < (best ?? .max) {
            if name.count >= w.prefix.count + w.suffix.count, name.starts(with: w.prefix),
                name.suffix(w.suffix.count).elementsEqual(w.suffix)
            {
                best = w.position
                break
            }
        }
        return best.map { symbolNotes[$0] }
    }

    public func rule(_ id: String) -> Rule? { rules.first { $0.id == id } }
    public func rule(_ id: RuleID) -> Rule? { rule(id.rawValue) }

    public static func matches(_ pattern: String, _ name: String) -> Bool {
        guard let star = pattern.utf8.firstIndex(of: UInt8(ascii: "*")) else { return pattern == name }
        let prefix = pattern.utf8[..<star]
        let suffix = pattern.utf8[pattern.utf8.index(after: star)...]
        return name.utf8.count >= prefix.count + suffix.count && name.utf8.starts(with: prefix)
            && name.utf8.reversed().starts(with: suffix.reversed())
    }
}

/// Compares "3.18" < "3.19" < "edge".
public func releaseAtLeast(_ release: AlpineRelease, _ other: String) -> Bool {
    let o = other == "edge" ? [99, 99] : other.split(separator: ".").compactMap { Int($0) }
    return !release.order.lexicographicallyPrecedes(o)
}

/// One embedded data file: `#` lines are the provenance header, the rest are tab-separated rows.
struct DataFile {
    var file: String
    var header: String
    var rows: [[String]]

    init(file: String, bytes: [UInt8]) {
        self.file = file
        var header: [String] = []
        var rows: [[String]] = []
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: true) {
            if line.hasPrefix("#") {
                header.append(String(line.dropFirst().drop(while: { $0 == " " })))
            } else {
                rows.append(line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init))
            }
        }
        self.header = header.joined(separator: " ")
        self.rows = rows
    }

    /// Rows as dictionaries keyed by the column-name row (the first row, starting with `firstColumn`).
    func records(header firstColumn: String) throws -> [[String: String]] {
        guard let names = rows.first, names.first == firstColumn else {
            throw KnowledgeError(description: "\(file): no column row starting with \(firstColumn)")
        }
        return rows.dropFirst().map { row in
            var record: [String: String] = [:]
            for (i, name) in names.enumerated() where i < row.count { record[name] = row[i] }
            return record
        }
    }
}
