// The verdict engine's symbol checks: glibc imports against the release's musl and gcompat exports, and
// imports of a musl newer than the release's.
import ELF
import Knowledge

extension Assessor {
    /// Whether the release's musl binds `name` at load time (for `explain`).
    public func muslProvidesSymbol(_ name: String) -> Bool { muslProvides(name) }

    /// Whether the release's musl binds `name` at load time, directly or through the LFS64 remap.
    func muslProvides(_ name: String) -> Bool {
        if musl.contains(name) { return true }
        if release.lfs64Exported, let exporting = kb.newestMuslExportingLFS64,
            kb.muslExports(version: exporting, arch: "x86_64").names.contains(name), name.contains("64")
        {
            return true  // Alpine 3.18 still exports the LFS64 names
        }
        guard let muslRelease = kb.muslRelease(release.musl), muslRelease.lfs64Remap else { return false }
        let base: String
        if name == "readdir64_r" {
            base = "readdir_r"
        } else if name.hasSuffix("64") {
            base = String(name.dropLast(2))
        } else {
            return false
        }
        let lookup = name == "readdir64_r" ? "readdir" : base
        guard kb.lfs64Bases.contains(lookup), musl.contains(base) else { return false }
        // musl 1.2.4 and 1.2.5 copy the name into a 16-byte buffer: 16 characters or more are not remapped.
        return muslRelease.lfs64LongestName.map { name.utf8.count <= $0 } ?? false
    }

    func checkGlibcSymbols(_ state: inout State) {
        var viaGcompat: [MissingSymbol] = []
        var missing: [MissingSymbol] = []
        var weakMissing: [String] = []
        var unreferenced: [String] = []
        let gcompatHere = !compatPaths(state.facts.arch).gcompat.isEmpty
        let dependsOnLibc = state.facts.needed.contains { isLibcLibrary($0) }
        let unplacedLibraries = unplacedLibraries(state)
        var deferred: [String] = []
        var libcLibrary: [String: Bool] = [:]  // a file names few libraries but has many imports
        for symbol in state.facts.imports + state.facts.copyImports {
            let isLibc: Bool
            if let library = symbol.library {
                if let known = libcLibrary[library] {
                    isLibc = known
                } else {
                    isLibc = isLibcLibrary(library)
                    libcLibrary[library] = isLibc
                }
            } else {
                isLibc = dependsOnLibc && (kb.glibc[symbol.name] != nil)
            }
            guard isLibc, !muslProvides(symbol.name), !state.dependencies.exports(symbol.name) else { continue }
            guard symbol.referenced else {
                unreferenced.append(symbol.name)
                continue
            }
            if symbol.library == nil, symbol.version == nil, !unplacedLibraries.isEmpty {
                deferred.append(symbol.name)
                continue
            }
            let inGcompat = gcompatHere && gcompat.contains(symbol.name)
            if symbol.weak {
                weakMissing.append(symbol.name + (inGcompat ? " (gcompat has it)" : ""))
                continue
            }
            let entry = MissingSymbol(
                name: symbol.name, version: symbol.version, providedBy: inGcompat ? "gcompat" : nil,
                note: kb.note(for: symbol.name)?.note)
            if inGcompat { viaGcompat.append(entry) } else { missing.append(entry) }
        }
        reportGlibcSymbols(
            &state, viaGcompat: viaGcompat, missing: missing, weakMissing: weakMissing, deferred: deferred,
            unplacedLibraries: unplacedLibraries)
        noteUnreferenced(&state, unreferenced)
    }

    /// In a file that requires GLIBC_ versions, an import without a version was bound at link time to
    /// some other, unversioned library (glibc versions every symbol it exports). While one of the other
    /// NEEDED libraries is not found, that is where musl would look for it: the library is what is
    /// missing (reported with the libraries), not a libc symbol. Those libraries.
    func unplacedLibraries(_ state: State) -> [String] {
        let glibcVersioned = state.facts.versionRequirements.contains {
            $0.versions.contains { $0.name.hasPrefix("GLIBC_") }
        }
        guard glibcVersioned else { return [] }
        return state.facts.needed.filter {
            !isLibcLibrary($0) && !Self.isMuslReserved($0) && state.dependencies.found[$0] == nil
        }
    }

    /// The findings for the glibc imports musl lacks: gcompat's, missing, weak, and those left to a library
    /// not found.
    func reportGlibcSymbols(
        _ state: inout State, viaGcompat: [MissingSymbol], missing: [MissingSymbol], weakMissing: [String],
        deferred: [String], unplacedLibraries: [String]
    ) {
        if !viaGcompat.isEmpty {
            state.raise(.needsGcompat)
            state.find(
                .symbolGcompat,
                "\(viaGcompat.count) \(viaGcompat.count == 1 ? "import" : "imports") musl \(release.musl) lacks but gcompat \(release.gcompat) provides",
                symbols: viaGcompat.map(\.name))
        }
        if !missing.isEmpty {
            state.raise(.needsRebuild)
            state.find(
                .symbolMissing,
                "\(missing.count) \(missing.count == 1 ? "import" : "imports") neither musl \(release.musl) nor gcompat \(release.gcompat) provides on Alpine \(release.name)",
                symbols: missing.map(\.name))
        }
        if !weakMissing.isEmpty {
            state.find(
                .weakSymbolMissing,
                "weak \(weakMissing.count == 1 ? "import" : "imports") musl \(release.musl) lacks; the feature behind \(weakMissing.count == 1 ? "it" : "them") is silently off",
                symbols: weakMissing)
        }
        state.missingSymbols = missing + viaGcompat
        if !deferred.isEmpty {
            state.find(
                .symbolFromLibrary,
                "\(deferred.count) unversioned \(deferred.count == 1 ? "import" : "imports") of glibc names come from \(unplacedLibraries.joined(separator: ", ")) (not found here), not from libc: \(unplacedLibraries.count == 1 ? "that library" : "those libraries") must provide \(deferred.count == 1 ? "it" : "them")",
                symbols: deferred, libraries: unplacedLibraries)
        }
    }

    func checkMuslSymbols(_ state: inout State) {
        var newer: [MissingSymbol] = []
        var unreferenced: [String] = []
        defer { noteUnreferenced(&state, unreferenced) }
        for symbol in state.facts.imports + state.facts.copyImports where !symbol.weak {
            guard kb.isMuslName(symbol.name, arch: state.facts.arch), !muslProvides(symbol.name),
                !state.dependencies.exports(symbol.name)
            else { continue }
            guard symbol.referenced else {
                unreferenced.append(symbol.name)
                continue
            }
            newer.append(
                MissingSymbol(
                    name: symbol.name, version: symbol.version, providedBy: nil,
                    note: kb.note(for: symbol.name)?.note,
                    firstMusl: kb.muslFirstVersion(of: symbol.name, arch: state.facts.arch)))
        }
        guard !newer.isEmpty else { return }
        state.raise(.needsRebuild)
        state.missingSymbols = newer
        let detail = newer.map { "\($0.name) (musl \($0.firstMusl ?? "?"))" }.joined(separator: ", ")
        state.find(
            .muslSymbolNewer, "built against a newer musl than Alpine \(release.name)'s \(release.musl): \(detail)",
            symbols: newer.map(\.name))
    }
}
