#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

// Reading the embedded data files into the knowledge base, one function per file or family of files.
// Each file is recorded (name, entries, provenance header) for `muslcheck kb`, in the order read.

/// Reads the data files and keeps the record of each.
struct DataLoader {
    private(set) var sources: [KnowledgeBase.DataSource] = []

    /// `columns`: the file's first row names its columns, so it is not an entry.
    mutating func load(_ file: String, _ bytes: [UInt8], columns: Bool = false) -> DataFile {
        let data = DataFile(file: file, bytes: bytes)
        sources.append(
            KnowledgeBase.DataSource(
                file: file, entries: max(0, data.rows.count - (columns ? 1 : 0)), provenance: data.header))
        return data
    }

    mutating func record(_ source: KnowledgeBase.DataSource) { sources.append(source) }
}

extension KnowledgeBase {
    /// The names of the releases the data knows, read from their one file: argument parsing asks for them
    /// (shell completion) and must not wait for the rest, which a run loads beside its walk.
    public static func releaseNames() -> [String] {
        var loader = DataLoader()
        return ((try? readReleases(&loader)) ?? []).map(\.name)
    }

    /// The releases; one whose gcompat version was not checked has gcompat "" (`readAssumedGcompat` fills it).
    static func readReleases(_ loader: inout DataLoader) throws -> [AlpineRelease] {
        let releaseFile = loader.load("alpine-releases.tsv", PackageResources.alpine_releases_tsv, columns: true)
        return try releaseFile.records(header: "release").map { r in
            guard let musl = r["musl_base"], let compat = AlpineRelease.LibcCompat(rawValue: r["libc6_compat"] ?? "")
            else {
                throw KnowledgeError(description: "alpine-releases.tsv: bad row \(r)")
            }
            let gcompat = r["gcompat"] ?? ""
            return AlpineRelease(
                name: r["release"] ?? "", musl: musl, gcompat: gcompat,
                gcompatChecked: !gcompat.isEmpty, libc6Compat: compat,
                lfs64Exported: r["lfs64_exported"] == "yes", notes: r["notes"] ?? "")
        }
    }

    /// The gcompat version a release whose own was not checked is judged against: the one row of
    /// gcompat-versions.tsv marked assumed (each row with its public source).
    static func readAssumedGcompat(_ loader: inout DataLoader) throws -> String {
        try assumedGcompat(
            in: loader.load("gcompat-versions.tsv", PackageResources.gcompat_versions_tsv, columns: true))
    }

    static func assumedGcompat(in file: DataFile) throws -> String {
        let rows = try file.records(header: "version")
        for r in rows {
            guard let version = r["version"], !version.isEmpty, ["yes", "no"].contains(r["assumed"] ?? ""),
                let source = r["source"], !source.isEmpty
            else {
                throw KnowledgeError(description: "gcompat-versions.tsv: bad row \(r)")
            }
        }
        let assumed = rows.filter { $0["assumed"] == "yes" }.compactMap { $0["version"] }
        guard assumed.count == 1, let version = assumed.first else {
            throw KnowledgeError(description: "gcompat-versions.tsv: exactly one row must be assumed, not \(assumed)")
        }
        return version
    }

    /// musl's exports per "version/arch".
    static func readMuslExports(_ loader: inout DataLoader) -> [String: Set<String>] {
        var musl: [String: Set<String>] = [:]
        let muslFiles: [(String, String, [UInt8])] = [
            ("1.2.2", "x86_64", PackageResources.musl_1_2_2_x86_64_txt),
            ("1.2.3", "x86_64", PackageResources.musl_1_2_3_x86_64_txt),
            ("1.2.4", "x86_64", PackageResources.musl_1_2_4_x86_64_txt),
            ("1.2.5", "x86_64", PackageResources.musl_1_2_5_x86_64_txt),
            ("1.2.6", "x86_64", PackageResources.musl_1_2_6_x86_64_txt),
            ("1.2.2", "aarch64", PackageResources.musl_1_2_2_aarch64_txt),
            ("1.2.3", "aarch64", PackageResources.musl_1_2_3_aarch64_txt),
            ("1.2.4", "aarch64", PackageResources.musl_1_2_4_aarch64_txt),
            ("1.2.5", "aarch64", PackageResources.musl_1_2_5_aarch64_txt),
            ("1.2.6", "aarch64", PackageResources.musl_1_2_6_aarch64_txt),
        ]
        for (version, arch, bytes) in muslFiles {
            musl["\(version)/\(arch)"] = Set(loader.load("musl-\(version)-\(arch).txt", bytes).rows.map { $0[0] })
        }
        return musl
    }

    /// What a gcompat install adds per "version/arch": libgcompat's exports less its private names, plus
    /// musl-obstack and libucontext, which gcompat pulls in.
    static func readGcompatExports(_ loader: inout DataLoader) -> [String: Set<String>] {
        let companions = Set(
            loader.load("musl-obstack-1.2.3-x86_64.txt", PackageResources.musl_obstack_1_2_3_x86_64_txt).rows.map {
                $0[0]
            }
        )
        .union(
            loader.load("libucontext-1.3.2-x86_64.txt", PackageResources.libucontext_1_3_2_x86_64_txt).rows.map {
                $0[0]
            })
        let privateNames = Set(
            loader.load("gcompat-private.txt", PackageResources.gcompat_private_txt).rows.map { $0[0] })
        func exports(_ file: String, _ bytes: [UInt8]) -> Set<String> {
            Set(loader.load(file, bytes).rows.map { $0[0] }).union(companions).subtracting(privateNames)
        }
        return [
            "1.0.0/x86_64": exports("gcompat-1.0.0-x86_64.txt", PackageResources.gcompat_1_0_0_x86_64_txt),
            "1.1.0/x86_64": exports("gcompat-1.1.0-x86_64.txt", PackageResources.gcompat_1_1_0_x86_64_txt),
            "1.1.0/aarch64": exports("gcompat-1.1.0-aarch64.txt", PackageResources.gcompat_1_1_0_aarch64_txt),
        ]
    }

    static func readMuslReleases(_ loader: inout DataLoader) throws -> [MuslRelease] {
        try loader.load("musl-versions.tsv", PackageResources.musl_versions_tsv, columns: true).records(
            header: "version"
        ).map { r in
            guard let version = r["version"], let exported = r["lfs64_exported"], let remap = r["lfs64_remap"],
                let longest = r["lfs64_longest"], let source = r["source"], !source.isEmpty
            else {
                throw KnowledgeError(description: "musl-versions.tsv: bad row \(r)")
            }
            return MuslRelease(
                version: version, lfs64Exported: exported == "yes", lfs64Remap: remap == "yes",
                lfs64LongestName: Int(longest), source: source)
        }
    }

    static func readGlibc(_ loader: inout DataLoader) -> [String: GlibcSymbol] {
        var glibc: [String: GlibcSymbol] = [:]
        let files = [
            loader.load("glibc-2.36-x86_64.tsv", PackageResources.glibc_2_36_x86_64_tsv),
            loader.load("glibc-later.tsv", PackageResources.glibc_later_tsv),
        ]
        for file in files {
            for row in file.rows where row.count >= 3 { glibc[row[0]] = GlibcSymbol(library: row[1], version: row[2]) }
        }
        return glibc
    }

    static func readGlibcBesideMusl(_ loader: inout DataLoader) throws -> [GlibcBesideMusl] {
        try loader.load("glibc-beside-musl.tsv", PackageResources.glibc_beside_musl_tsv, columns: true).records(
            header: "provider"
        ).map { r in
            guard let provider = r["provider"], let version = r["version"], let arch = r["arch"],
                let glibc = r["glibc"],
                let source = r["source"], !source.isEmpty
            else {
                throw KnowledgeError(description: "glibc-beside-musl.tsv: bad row \(r)")
            }
            return GlibcBesideMusl(
                provider: provider, package: r["package"] ?? "", version: version, released: r["released"] ?? "",
                arch: arch, glibc: glibc, prefix: r["prefix"] ?? "", instructions: r["instructions"] ?? "",
                caveats: (r["caveats"] ?? "").components(separatedBy: " | ").filter { !$0.isEmpty }, source: source)
        }
    }

    static func readLoaders(_ loader: inout DataLoader) throws -> [String: Loader] {
        var loaders: [String: Loader] = [:]
        for r in try loader.load("loaders.tsv", PackageResources.loaders_tsv, columns: true).records(header: "arch") {
            func paths(_ key: String) -> [String] {
                (r[key] ?? "-") == "-" ? [] : (r[key] ?? "").split(separator: ",").map(String.init)
            }
            let arch = r["arch"] ?? ""
            loaders[arch] = Loader(
                arch: arch, glibcInterpreter: r["glibc_interp"] ?? "", libc6Compat: paths("libc6_compat"),
                gcompatOld: paths("gcompat_old"), gcompatNew: paths("gcompat_new"),
                muslLoader: r["musl_loader"] ?? "", gcompatSoname: r["gcompat_ld"] ?? "", note: r["note"] ?? "")
        }
        return loaders
    }

    static func readLibraries(_ loader: inout DataLoader) throws -> [LibraryEntry] {
        try loader.load("libraries.tsv", PackageResources.libraries_tsv, columns: true).records(header: "soname").map {
            r in
            guard let kind = LibraryEntry.Kind(rawValue: r["kind"] ?? "") else {
                throw KnowledgeError(description: "libraries.tsv: unknown kind in \(r)")
            }
            let providers =
                (r["providers"] ?? "-") == "-"
                ? []
                : (r["providers"] ?? "").split(separator: " ").map { spec -> LibraryEntry.Provider in
                    let parts = spec.split(separator: "@", maxSplits: 1)
                    let range = parts.count > 1 ? parts[1].split(separator: "-", omittingEmptySubsequences: false) : []
                    return LibraryEntry.Provider(
                        package: String(parts[0]),
                        first: range.first.flatMap { $0.isEmpty ? nil : String($0) },
                        last: range.count > 1 && !range[1].isEmpty ? String(range[1]) : nil)
                }
            return LibraryEntry(
                pattern: r["soname"] ?? "", kind: kind, providers: providers, note: r["note"] ?? "",
                source: r["source"] ?? "")
        }
    }

    /// Library rows by exact name, and the `prefix*` patterns in file order.
    static func index(_ libraries: [LibraryEntry]) -> (
        exact: [String: LibraryEntry], prefixed: [(prefix: [UInt8], entry: LibraryEntry)]
    ) {
        var exact: [String: LibraryEntry] = [:]
        var prefixed: [(prefix: [UInt8], entry: LibraryEntry)] = []
        for entry in libraries {
            if entry.pattern.hasSuffix("*") {
                prefixed.append((Array(entry.pattern.utf8.dropLast()), entry))
            } else if exact[entry.pattern] == nil {
                exact[entry.pattern] = entry
            }
        }
        return (exact, prefixed)
    }

    static func readSymbolNotes(_ loader: inout DataLoader) throws -> [SymbolNote] {
        try loader.load("symbols.tsv", PackageResources.symbols_tsv, columns: true).records(header: "pattern").map {
            SymbolNote(pattern: $0["pattern"] ?? "", note: $0["note"] ?? "", source: $0["source"] ?? "")
        }
    }

    /// Symbol notes by exact name, and the wildcard patterns cut into UTF-8 prefix and suffix with each note's
    /// position, so that the first matching row still wins.
    static func index(_ notes: [SymbolNote]) -> (
        exact: [String: Int], wildcard: [(prefix: [UInt8], suffix: [UInt8], position: Int)]
    ) {
        var exactNotes: [String: Int] = [:]
        var wildcardNotes: [(prefix: [UInt8], suffix: [UInt8], position: Int)] = []
        for (i, note) in notes.enumerated() {
            if let star = note.pattern.firstIndex(of: "*") {
                wildcardNotes.append(
                    (Array(note.pattern[..<star].utf8), Array(note.pattern[note.pattern.index(after: star)...].utf8), i)
                )
            } else if exactNotes[note.pattern] == nil {
                exactNotes[note.pattern] = i
            }
        }
        return (exactNotes, wildcardNotes)
    }

    static func readRules(_ loader: inout DataLoader) throws -> [Rule] {
        let catalogue = try JSONDecoder().decode(RuleCatalogue.self, from: Data(PackageResources.rules_json))
        loader.record(DataSource(file: "rules.json", entries: catalogue.rules.count, provenance: catalogue.about))
        return catalogue.rules
    }
}
