// The verdict engine's library checks: each NEEDED name against what musl answers itself, the compat packages,
// the files found where musl's loader looks (Dependencies) and the knowledge base's packages.
import ELF
import Knowledge

extension Assessor {
    func checkLibraries(_ state: inout State) {
        let loaderSonames = Set(kb.loaders.values.map(\.gcompatSoname))
        var unknown: [String] = []
        for soname in state.facts.needed {
            let entry = kb.library(soname)
            if entry?.kind == .muslSelf { continue }
            if let reason = state.dependencies.unusable[soname] {
                // musl stops at the first file of that name on its path: installing a package elsewhere does not help.
                state.raise(.needsRebuild)
                state.missingLibraries.append(MissingLibrary(soname: soname, reason: reason))
                state.find(.libraryUnloadable, "NEEDED \(soname): \(reason)", libraries: [soname])
                continue
            }
            if loaderSonames.contains(soname) || soname.hasPrefix("ld-linux") {
                checkLoaderName(soname, &state)
                continue
            }
            switch entry?.kind {
            case .compat?:
                checkCompat(soname, entry, &state)
            case .absent?:
                if state.dependencies.found[soname] != nil { continue }  // shipped with the binary
                state.raise(.needsRebuild)
                state.missingLibraries.append(
                    MissingLibrary(soname: soname, reason: entry?.note ?? "Alpine ships no such library"))
                state.find(
                    .libraryNotOnAlpine, "NEEDED \(soname): \(entry?.note ?? "Alpine ships no such library")",
                    libraries: [soname])
            case .glibcOnly?:
                state.raise(.needsRebuild)
                state.missingLibraries.append(
                    MissingLibrary(soname: soname, reason: entry?.note ?? "only glibc ships it"))
                state.find(
                    .glibcOnlyLibrary, "NEEDED \(soname): \(entry?.note ?? "only glibc ships it")", libraries: [soname])
            case .package?:
                if state.dependencies.found[soname] != nil { continue }  // shipped with the binary: no package needed
                if !checkPackage(soname, entry, &state) { unknown.append(soname) }
            case .muslSelf?, nil:
                if state.dependencies.found[soname] != nil { continue }
                state.missingLibraries.append(
                    MissingLibrary(soname: soname, reason: "not in the knowledge base and not found beside the binary"))
                unknown.append(soname)
            }
        }
        reportUnknown(unknown, &state)
        checkUnusableThroughLibraries(&state)
    }

    /// A name a library it loads needs, for which the binary's own search (the library's path, then the
    /// binary's) meets a file musl cannot map: the search ends there, so loading the binary fails, whatever
    /// the library's search alone finds.
    func checkUnusableThroughLibraries(_ state: inout State) {
        let own = Set(state.facts.needed)
        for (soname, reason) in state.dependencies.unusable.sorted(by: { $0.key < $1.key })
        where !own.contains(soname) {
            let why = state.dependencies.neededBy[soname].map { "needed by \($0): " + reason } ?? reason
            state.raise(.needsRebuild)
            state.missingLibraries.append(MissingLibrary(soname: soname, reason: why))
            state.find(.libraryUnloadable, "\(soname), \(why)", libraries: [soname])
        }
    }

    /// A NEEDED name of a glibc loader: gcompat's loader answers to it where gcompat installs one.
    func checkLoaderName(_ soname: String, _ state: inout State) {
        let arch = state.facts.arch
        if soname == loader(arch)?.gcompatSoname, !compatPaths(arch).gcompat.isEmpty {
            state.raise(.needsGcompat)
            // Why a library names the loader: what it takes from it (aarch64's __stack_chk_guard, __tls_get_addr).
            let taken = state.facts.imports.filter { $0.library == soname }.map(\.name)
            let why =
                taken.isEmpty
                ? ""
                : "; it takes "
                    + taken.map { name in kb.note(for: name).map { "\(name) (\($0.note))" } ?? name }.joined(
                        separator: ", ") + " from the loader"
            state.find(
                .loaderNeeded,
                "NEEDED \(soname): only gcompat's loader answers to the glibc loader's name" + why,
                symbols: taken, libraries: [soname])
        } else {
            state.raise(.needsRebuild)
            state.missingLibraries.append(
                MissingLibrary(
                    soname: soname,
                    reason: "glibc loader of another architecture or one gcompat does not install here"))
            state.find(
                .glibcOnlyLibrary,
                "NEEDED \(soname): no Alpine \(release.name) package provides it for \(arch)",
                libraries: [soname])
        }
    }

    /// A library a compat package provides: libc6-compat where the release has it, else gcompat.
    func checkCompat(_ soname: String, _ entry: LibraryEntry?, _ state: inout State) {
        let providers = (entry?.providers ?? []).filter(inRange)
        if providers.contains(where: { $0.package == "libc6-compat" }) && release.libc6Compat == .subpackage {
            state.raise(.needsLibc6Compat)
            state.libc6CompatFile = true
            state.find(
                .compatLibrary, "NEEDED \(soname) comes from libc6-compat on Alpine \(release.name)",
                libraries: [soname])
        } else if providers.contains(where: { $0.package == "gcompat" || $0.package == "libc6-compat" }) {
            state.raise(.needsGcompat)
            state.find(
                .compatLibrary, "NEEDED \(soname) comes from gcompat on Alpine \(release.name)",
                libraries: [soname])
        } else {
            state.raise(.needsRebuild)
            state.missingLibraries.append(
                MissingLibrary(soname: soname, reason: entry?.note ?? "no package provides it"))
            state.find(
                .compatLibraryUnavailable,
                "NEEDED \(soname): no Alpine \(release.name) package provides it (\(entry?.note ?? ""))",
                libraries: [soname])
        }
    }

    /// A library an Alpine package ships (not found with the binary): false when no package provides it on
    /// the target release.
    func checkPackage(_ soname: String, _ entry: LibraryEntry?, _ state: inout State) -> Bool {
        let package = (entry?.providers ?? []).first(where: inRange)?.package
        let note = (entry?.note ?? "-") == "-" ? "" : ": \(entry?.note ?? "")"
        // A provider "so:NAME" is the package apk selects by the library it ships (its name is not pinned).
        let which = package.map {
            $0.hasPrefix("so:") ? "an Alpine package (apk add \($0) selects it)" : "the Alpine package \($0)"
        }
        let reason =
            which.map { "in " + $0 + note } ?? "no package provides it on Alpine \(release.name)" + note
        state.missingLibraries.append(MissingLibrary(soname: soname, package: package, reason: reason))
        guard let package, let which else { return false }
        state.addLibrary(package)
        state.find(.libraryPackage, "NEEDED \(soname) comes from \(which)", libraries: [soname])
        return true
    }

    /// The libraries no package is known for, and the directories the search would have left the scanned
    /// paths for.
    func reportUnknown(_ unknown: [String], _ state: inout State) {
        if !unknown.isEmpty {
            // Every Alpine package provides so:SONAME for its libraries, so apk finds the package if one exists.
            for soname in unknown { state.addLibrary(Remedy.soProvide(soname)) }
            state.find(
                .libraryUnknown,
                "\(unknown.count == 1 ? "library" : "libraries") \(unknown.joined(separator: ", ")) not found with the program, and the knowledge base knows no package with \(unknown.count == 1 ? "it" : "them") on Alpine \(release.name): \(unknown.map(Remedy.soProvide).joined(separator: " ")) installs the Alpine package that provides \(unknown.count == 1 ? "it" : "them"), if any; otherwise ship \(unknown.count == 1 ? "it" : "them") with the program",
                libraries: unknown)
        }
        // Where the search would have left the scanned paths: not looked at, said so (the library counts as not there).
        // A library then found nowhere may be the one that search would have reached: what it would bring is
        // unknown, so the file cannot pass on it (never a pass on what was not read).
        let unread = state.dependencies.notSearched.isEmpty ? [] : unknown
        if !unread.isEmpty { state.raise(.needsRebuild) }
        for message in state.dependencies.notSearched {
            let consequence =
                unread.isEmpty
                ? ""
                : "; \(unread.joined(separator: ", ")) not found elsewhere, so the file is not shown to load (needs-rebuild until the directory is given)"
            state.find(.libraryPathOutside, message + consequence)
        }
    }

    /// Names musl binds to itself or to a compat package: the libraries whose symbols musl/gcompat answer.
    func isLibcLibrary(_ library: String) -> Bool {
        switch kb.library(library)?.kind {
        case .muslSelf?, .compat?: return true
        default: return library.hasPrefix("ld-linux") || kb.loaders.values.contains { $0.gcompatSoname == library }
        }
    }
}
