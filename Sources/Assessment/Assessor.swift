// The verdict engine: pure functions from (BinaryFacts, KnowledgeBase, release) to an Assessment.
// It never guesses: a file whose dynamic segment or symbol table is damaged is reported as unassessable.
import ELF
import Knowledge

public struct Assessor: Sendable {
    public let kb: KnowledgeBase
    public let release: AlpineRelease
    /// The architecture `musl` was taken for; a binary of another one is judged with its own list.
    var arch: String
    var musl: Set<String>
    var gcompat: Set<String>
    let behaviour: BehaviourRules

    public init(kb: KnowledgeBase, release: AlpineRelease, arch: String = "x86_64") {
        self.kb = kb
        self.release = release
        self.arch = arch
        musl = kb.muslExports(version: release.musl, arch: arch).names
        gcompat = kb.gcompatExports(version: release.gcompat, arch: arch).names
        behaviour = BehaviourRules(kb: kb, release: release)
    }

    /// Assesses one binary against musl's exports for the binary's own architecture (x86_64 and aarch64
    /// measured, the rest approximated by x86_64's).
    /// `dependencies`: the libraries found for the binary's NEEDED entries (see DependencyResolver).
    public func assess(_ facts: BinaryFacts, path: String, dependencies: Dependencies = .none) -> Assessment {
        guard facts.arch == arch else {
            var other = self  // only the export list changes; the rest was built once
            other.arch = facts.arch
            other.musl = kb.muslExports(version: release.musl, arch: facts.arch).names
            other.gcompat = kb.gcompatExports(version: release.gcompat, arch: facts.arch).names
            return other.run(facts, path: path, dependencies: dependencies)
        }
        return run(facts, path: path, dependencies: dependencies)
    }

    /// Every name a libc import could be missing on some release: the only exports of other libraries
    /// the engine ever asks about.
    public static func libcNames(_ kb: KnowledgeBase) -> NameFilter {
        var names = Set(kb.glibc.keys)
        for version in kb.muslVersions { names.formUnion(kb.muslExports(version: version, arch: "x86_64").names) }
        names.formUnion(kb.gcompatNamesAnyArchitecture)
        return NameFilter(names)
    }

    /// NEEDED names the scanner should not look for on disk: musl itself, compat packages, glibc-only libraries.
    public static func isProvidedBySystem(_ soname: String, kb: KnowledgeBase) -> Bool {
        if isMuslReserved(soname) { return true }
        switch kb.library(soname)?.kind {
        case .muslSelf?, .compat?, .glibcOnly?: return true
        default:
            return soname.hasPrefix("ld-linux") || soname.hasPrefix("ld-musl") || kb.gcompatSonames.contains(soname)
        }
    }

    /// Why a file is part of the C library itself (glibc's libc, loader, libm…, NSS and gconv modules,
    /// libthread_db; libxcrypt's libcrypt.so.1): Alpine replaces such files with musl, gcompat or
    /// libc6-compat instead of carrying them over. Told by content: a SONAME the knowledge base places
    /// with musl, the compat packages or glibc alone, or a glibc loader's name; or the GLIBC_PRIVATE
    /// version, which only glibc's own components define or require; or a gconv module. nil for any other file.
    public func cLibraryReason(_ facts: BinaryFacts, path: String) -> String? {
        if let soname = facts.soname {
            let kind = kb.library(soname)?.kind
            if kind == .muslSelf || kind == .compat || kind == .glibcOnly || soname.hasPrefix("ld-linux")
                || kb.loaders.values.contains(where: { $0.gcompatSoname == soname })
            {
                return
                    "part of the C library (SONAME \(soname)): replaced on Alpine by musl (gcompat or libc6-compat where a program needs it), not carried over"
            }
        }
        let privateVersion = "GLIBC_PRIVATE"
        if facts.versionDefinitions.contains(privateVersion)
            || facts.versionRequirements.contains(where: { $0.versions.contains { $0.name == privateVersion } })
        {
            return
                "part of glibc (it defines or requires GLIBC_PRIVATE, as only glibc's own modules do): replaced on Alpine by musl, not carried over"
        }
        // iconv's gconv modules: loaded only by glibc's iconv from its gconv directory, calling back through
        // DL_CALL_FCT (_dl_mcount_wrapper_check). musl's iconv is built in and loads no modules.
        if path.contains("/gconv/"), facts.imports.contains(where: { $0.name == "_dl_mcount_wrapper_check" }) {
            return "a glibc iconv (gconv) module: musl's iconv is built in and never loads one; not carried over"
        }
        return nil
    }

    /// The names musl's loader answers itself and never opens as files: "lib" followed by one of these
    /// and a dot (ldso/dynlink.c, load_library: "c.pthread.rt.m.dl.util.xnet.").
    static let muslReservedStems = ["c", "pthread", "rt", "m", "dl", "util", "xnet"]

    public static func isMuslReserved(_ soname: String) -> Bool {
        guard soname.hasPrefix("lib") else { return false }
        let rest = soname.dropFirst(3)
        return muslReservedStems.contains { rest.hasPrefix($0 + ".") }
    }

    func run(_ facts: BinaryFacts, path: String, dependencies: Dependencies) -> Assessment {
        var state = State(facts: facts, libc: libc(of: facts), dependencies: dependencies, path: path)
        if facts.isSeparateDebugFile {
            var a = state.assessment(.runs)
            a.notLoaded = Self.separateDebugFile
            return a
        }
        if let blocking = facts.gaps.first(where: { $0.part == .dynamic || $0.part == .symbols }) {
            var a = state.assessment(.runs)
            a.unassessable = "cannot judge a damaged file: \(blocking.message)"
            return a
        }
        if !KnowledgeBase.measuredArchitectures.contains(facts.arch) {
            state.find(
                .approximateArchitecture,
                "musl's exports were measured for x86_64 and aarch64; \(facts.arch) is judged with the x86_64 list")
        }
        checkSections(&state)
        if facts.gaps.contains(where: { $0.part == .versions }) {
            state.find(
                .versionsUnreadable,
                "symbol versions are damaged, so the minimum glibc is unknown; the verdict stands (musl decides by name)"
            )
        }
        // Static binaries carry their libc: they run. A static glibc still loads NSS and iconv modules at run time.
        if facts.linkage != .dynamic || (facts.interpreter == nil && facts.needed.isEmpty && facts.imports.isEmpty) {
            if state.libc == .glibc {
                state.find(
                    .staticGlibc,
                    "statically linked against glibc (ABI tag \(facts.abiTag?.version ?? "")): getpwnam, getaddrinfo, iconv and dlopen still look for glibc modules at run time"
                )
            }
            return finish(state)
        }
        checkInterpreter(&state)
        checkLibraries(&state)
        checkTLS(&state)
        checkStaticRuntime(&state)
        if state.libc == .musl {
            checkMuslSymbols(&state)
        } else {
            checkGlibcSymbols(&state)
            if facts.hasIRelative {
                state.raise(.needsRebuild)
                state.find(
                    .irelative,
                    "IRELATIVE relocations (GNU indirect functions): musl stops with 'unsupported relocation type'")
            }
        }
        checkIFuncs(&state)
        if state.level == .needsGcompat && !release.gcompatChecked {
            state.find(
                .unverifiedGcompat,
                "gcompat \(release.gcompat) is assumed for Alpine \(release.name); the release's package was not checked"
            )
        }
        return finish(state)
    }

    /// GNU indirect functions the file defines and refers to: musl never binds them.
    func checkIFuncs(_ state: inout State) {
        let ifuncs = state.facts.referencedIFuncs
        guard !ifuncs.isEmpty else { return }
        state.raise(.needsRebuild)
        state.missingSymbols += ifuncs.map {
            MissingSymbol(
                name: $0, version: nil, providedBy: nil,
                note: "GNU indirect function defined in this file; musl never binds STT_GNU_IFUNC symbols")
        }
        state.find(
            .ifuncSymbols,
            "\(ifuncs.count) GNU indirect \(ifuncs.count == 1 ? "function" : "functions") this file defines and refers to: musl never binds them ('symbol not found')",
            symbols: ifuncs)
    }

    // MARK: - Pieces

    struct State {
        var facts: BinaryFacts
        var libc: Libc
        var dependencies: Dependencies
        var path: String
        var level = Verdict.runs
        /// A NEEDED file only libc6-compat installs (libcrypt.so.1 on 3.14-3.18), needed even beside gcompat.
        var libc6CompatFile = false
        var libraryPackages: [String] = []
        var missingSymbols: [MissingSymbol] = []
        var missingLibraries: [MissingLibrary] = []
        var findings: [(rule: RuleID, message: String, symbols: [String], libraries: [String])] = []

        mutating func raise(_ verdict: Verdict) { level = max(level, verdict) }
        mutating func find(_ rule: RuleID, _ message: String, symbols: [String] = [], libraries: [String] = []) {
            findings.append((rule, message, symbols, libraries))
        }
        mutating func addLibrary(_ package: String) {
            if !libraryPackages.contains(package) { libraryPackages.append(package) }
        }

        func assessment(_ verdict: Verdict) -> Assessment {
            Assessment(verdict: verdict, libc: libc, linkage: facts.linkage, arch: facts.arch)
        }
    }

    func libc(of f: BinaryFacts) -> Libc {
        if let i = f.interpreter, i.contains("ld-musl-") { return .musl }
        if f.needed.contains(where: { $0.hasPrefix("libc.musl-") || $0 == "libc.so" }) { return .musl }
        if f.versionRequirements.contains(where: { $0.versions.contains { v in v.name.hasPrefix("GLIBC_") } }) {
            return .glibc
        }
        if f.abiTag != nil { return .glibc }
        if let i = f.interpreter,
            i.contains("ld-linux") || i.hasSuffix("/ld64.so.1") || i.hasSuffix("/ld64.so.2") || i.hasSuffix("/ld.so.1")
        {
            return .glibc
        }
        if f.needed.contains("libc.so.6") { return .glibc }
        if f.goBuildInfo != nil && f.linkage != .dynamic { return .none }
        if f.linkage == .dynamic && !f.needed.contains(where: { kb.library($0)?.kind == .muslSelf })
            && f.interpreter == nil
        {
            return .none
        }
        return .unknown
    }

    func loader(_ arch: String) -> Loader? { kb.loaders[arch] }

    /// Loader paths each compat package installs for this architecture on this release.
    func compatPaths(_ arch: String) -> (libc6Compat: [String], gcompat: [String]) {
        guard let l = loader(arch) else { return ([], []) }
        let old = release.libc6Compat == .subpackage
        return (old ? l.libc6Compat : [], old ? l.gcompatOld : l.gcompatNew)
    }

    func checkInterpreter(_ state: inout State) {
        guard let interp = state.facts.interpreter else { return }
        let arch = state.facts.arch
        if interp.hasPrefix("/lib/ld-musl-") || interp == loader(arch)?.muslLoader { return }
        let (libc6, gcompat) = compatPaths(arch)
        if libc6.contains(interp) {
            state.raise(.needsLibc6Compat)
            state.find(
                .glibcInterpreter,
                "program interpreter \(interp) is glibc's; libc6-compat links it to musl on Alpine \(release.name)")
        } else if gcompat.contains(interp) {
            state.raise(.needsGcompat)
            state.find(
                .glibcInterpreter,
                "program interpreter \(interp) is glibc's; on Alpine \(release.name) only gcompat installs it")
        } else {
            state.raise(.needsRebuild)
            state.find(
                .unknownInterpreter,
                "program interpreter \(interp) is installed by no Alpine \(release.name) package for \(arch)")
        }
    }

    func inRange(_ p: LibraryEntry.Provider) -> Bool {
        if let first = p.first, !releaseAtLeast(release, first) { return false }
        if let last = p.last, releaseAtLeast(release, last), last != release.name { return false }
        return true
    }

    func finish(_ state: State) -> Assessment {
        var state = state
        checkContainer(&state)
        // The imports behaviour rules ask about (a set of every import name cost a hash per import again).
        var imported = Set<String>()
        for symbol in state.facts.imports where symbol.referenced && behaviour.symbols.contains(symbol.name) {
            imported.insert(symbol.name)
        }
        for symbol in state.facts.copyImports where behaviour.symbols.contains(symbol.name) {
            imported.insert(symbol.name)
        }
        if let tag = newestTag("GLIBCXX_", in: state.facts) {
            state.find(
                .libstdcxxVersion,
                "needs libstdc++ symbol version \(tag); the names behind it must exist in Alpine \(release.name)'s libstdc++ (not checked)",
                symbols: [tag])
        }
        for (rule, evidence) in behaviour.evaluate(state.facts, libc: state.libc, imported: imported) {
            state.find(
                rule.ruleID, rule.summary,
                symbols: evidence.filter {
                    imported.contains($0) || state.facts.goUses.contains($0) || $0.hasPrefix("CGO_")
                },
                libraries: evidence.filter { state.facts.needed.contains($0) })
            for package in rule.packages ?? [] { state.addLibrary(package) }
        }
        var a = state.assessment(state.level)
        a.missingSymbols = state.missingSymbols
        a.missingLibraries = state.missingLibraries
        switch state.level {
        case .runs: a.packages = state.libraryPackages
        case .needsLibc6Compat: a.packages = ["libc6-compat"] + state.libraryPackages
        case .needsGcompat:
            a.packages = ["gcompat"] + (state.libc6CompatFile ? ["libc6-compat"] : []) + state.libraryPackages
        case .needsRebuild: a.packages = state.libraryPackages
        }
        a.minimumGlibc = minimumGlibc(state.facts)
        a.findings = state.findings.map { f in
            Finding(
                rule: f.rule, severity: kb.rule(f.rule)?.severity ?? .note, message: f.message,
                symbols: f.symbols, libraries: f.libraries)
        }
        a.language = Remedy.language(state.facts)
        a.fix = Remedy.fix(a, facts: state.facts, path: state.path, release: release, kb: kb)
        Remedy.noteGlibcBeside(&a, kb: kb)
        return a
    }

    /// What the file's container decides (its path names it: outer.whl!/pkg/mod.so): a manylinux wheel
    /// is never installed by pip on musl, a glibc-named extension module is never imported by CPython on
    /// musl, and a Debian package's program has an Alpine package of the same command.
    func checkContainer(_ state: inout State) {
        let path = state.path
        // Asked for every file: the name is cut without splitting the path, and only an archive member
        // (outer!/inner) can be in a wheel or a .deb.
        let name = path.utf8.lastIndex(of: UInt8(ascii: "/")).map { String(path[path.index(after: $0)...]) } ?? path
        if ContainerPath.isGlibcExtensionModule(name) {
            state.find(
                .pythonModuleGlibcName,
                "\(name): CPython on musl imports only *-linux-musl.so, .abi3.so and plain .so extension modules, so this one is never found"
            )
        }
        guard path.contains("!/") else { return }
        if let tag = ContainerPath.wheelPlatformTag(path), tag.contains("manylinux") || tag.hasPrefix("linux_") {
            state.find(
                .wheelNotForMusl,
                "in a wheel for glibc (platform tag \(tag)): pip on Alpine installs only musllinux wheels or builds the sdist, never this file"
            )
        }
        if let command = ContainerPath.debianCommand(path) {
            state.find(
                .debianPackageProgram,
                "a program of a Debian package: on Alpine, install the package that ships the same command (apk add cmd:\(command)) instead of copying this file",
                symbols: [])
        }
    }

    /// The newest GLIBC_x.y the file requires; nil for none or when versions are damaged.
    func minimumGlibc(_ f: BinaryFacts) -> String? {
        if f.gaps.contains(where: { $0.part == .versions }) { return nil }
        return newestTag("GLIBC_", in: f).map { String($0.dropFirst(6)) }
    }

    /// The newest version tag with this prefix (GLIBC_, GLIBCXX_) that the file requires.
    func newestTag(_ prefix: String, in f: BinaryFacts) -> String? {
        var best: (parts: [Int], name: String)?
        for requirement in f.versionRequirements {
            for v in requirement.versions where v.name.hasPrefix(prefix) {
                let numbers = v.name.dropFirst(prefix.count).split(separator: ".").map { Int($0) }
                guard !numbers.isEmpty, numbers.allSatisfy({ $0 != nil }) else { continue }
                let parts = numbers.compactMap { $0 }
                if best.map({ $0.parts.lexicographicallyPrecedes(parts) }) ?? true { best = (parts, v.name) }
            }
        }
        return best?.name
    }
}

/// Dotted version comparison: "1.2.10" is after "1.2.9".
func versionAtLeast(_ version: String, _ minimum: String) -> Bool {
    let a = version.split(separator: ".").map { Int($0) ?? 0 }
    let b = minimum.split(separator: ".").map { Int($0) ?? 0 }
    return !a.lexicographicallyPrecedes(b)
}

extension Assessor {
    /// A binary's verdict is the worst of what it loads: folds in the assessments of the libraries
    /// found for it (directly or through other libraries), keyed by where they were found.
    /// `unreadable`: libraries found for it that could not be read or judged; they are named, never ignored.
    /// `loaded`: the names the binary's own search found a usable library for, down the chain of what it
    /// loads (`Dependencies.found`); a library's lookup of one of those, judged alone, is not folded in.
    public func combine(
        _ own: Assessment, with libraries: [(path: String, assessment: Assessment)], unreadable: [String] = [],
        loaded: Set<String> = []
    ) -> Assessment {
        let libraries = libraries.map { (path: $0.path, assessment: Self.asLoaded($0.assessment, loaded: loaded)) }
        var a = own
        if !unreadable.isEmpty {
            a.findings.append(
                Finding(
                    rule: .dependency, severity: .warning,
                    message: "libraries it loads could not be read or judged: "
                        + unreadable.sorted().joined(separator: ", "),
                    symbols: [], libraries: unreadable.sorted()))
        }
        a.ownVerdict = own.verdict
        var blamed: [String] = []
        for (path, dep) in libraries.sorted(by: { $0.path < $1.path }) {
            if dep.verdict > .runs {
                let symbols = dep.missingSymbols.prefix(5).map(\.name)
                let why =
                    symbols.isEmpty
                    ? (dep.findings.first { $0.severity == .error || $0.severity == .warning }?.rule.rawValue ?? "")
                    : symbols.joined(separator: ", ") + (dep.missingSymbols.count > 5 ? ", …" : "")
                blamed.append("\(path) (\(dep.verdict.rawValue): \(why))")
                if dep.verdict > a.verdict { a.verdict = dep.verdict }
            }
            for library in dep.missingLibraries
            where !a.missingLibraries.contains(where: { $0.soname == library.soname }) {
                var transitive = library
                transitive.reason = "needed by \(path): " + library.reason
                a.missingLibraries.append(transitive)
            }
            for package in dep.packages
            where !a.packages.contains(package) && package != "libc6-compat" && package != "gcompat" {
                a.packages.append(package)
            }
        }
        if !blamed.isEmpty {
            a.findings.append(
                Finding(
                    rule: .dependency, severity: a.verdict == .needsRebuild ? .error : .warning,
                    message: "\(a.verdict.rawValue) because of what it loads: " + blamed.joined(separator: "; "),
                    symbols: [], libraries: libraries.filter { $0.assessment.verdict > .runs }.map(\.path).sorted()))
        }
        // The compat package the worst dependency needs, if the binary itself needed none.
        let libc6 =
            a.packages.contains("libc6-compat")
            || libraries.contains { $0.assessment.packages.contains("libc6-compat") }
        a.packages.removeAll { $0 == "gcompat" || $0 == "libc6-compat" }
        switch a.verdict {
        case .needsGcompat:
            a.packages.insert(
                contentsOf: ["gcompat"] + (libc6 && release.libc6Compat == .subpackage ? ["libc6-compat"] : []), at: 0)
        case .needsLibc6Compat: a.packages.insert("libc6-compat", at: 0)
        case .runs, .needsRebuild: break
        }
        a.fix = Remedy.refix(a, release: release, previous: own.fix, kb: kb, loaded: libraries.map(\.assessment))
        Remedy.noteGlibcBeside(&a, kb: kb)
        return a
    }

    /// A library's assessment as the binary loading it sees it: a NEEDED name of the library that the
    /// binary's search found (musl searches a library's NEEDED with its own RPATH/RUNPATH, then with its
    /// requesters', and loads a name once) is not missing, and needs no package. Its verdict is kept (a
    /// library unusable on its own path stays blamed: stricter, never a pass).
    static func asLoaded(_ library: Assessment, loaded: Set<String>) -> Assessment {
        guard !loaded.isEmpty, library.missingLibraries.contains(where: { loaded.contains($0.soname) }) else {
            return library
        }
        var l = library
        let found = l.missingLibraries.filter { loaded.contains($0.soname) }
        l.missingLibraries.removeAll { loaded.contains($0.soname) }
        // The package each name asked for (the knowledge base's, or apk's so: name), unless another still does.
        func asked(_ m: MissingLibrary) -> String { m.package ?? Remedy.soProvide(m.soname) }
        let stillAsked = Set(l.missingLibraries.map(asked))
        let dropped = Set(found.map(asked)).subtracting(stillAsked)
        l.packages.removeAll { dropped.contains($0) }
        return l
    }
}
