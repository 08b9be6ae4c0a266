// `muslcheck migrate`: what moving a root filesystem (an unpacked Debian or Ubuntu image) to Alpine takes.
// Every ELF file is classified once — the distribution's (replaced by installing the Alpine package that
// stands in for the one owning it), the C library's own (replaced by musl), or the application's (judged by
// the engine as `check` judges it) — and the plan is one Alpine base, one `apk add` line, the files to
// rebuild, and a Dockerfile.
import Archives
import Assessment
import Engine
import Knowledge
import Reporting
import Scanning
import TextSupport

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

public struct PackageMapping: Sendable, Encodable {
    public enum How: String, Sendable, Encodable {
        /// The curated table (debian-alpine.tsv).
        case table
        /// A shared library it owns, by soname: the knowledge base's package, else `so:SONAME`.
        case library
        /// A program it owns: `cmd:NAME`, which the Alpine package of the same command provides.
        case command
        /// Part of the base system (Priority required/important, or Essential): Alpine's base image stands in.
        case base
        /// Nothing the knowledge base or the package's files can place.
        case none
    }
    public var debian: String
    public var version: String
    public var alpine: [String]
    public var how: How
    /// Installed for its own sake (not as a dependency): its counterpart goes into the apk add line.
    public var wanted: Bool
    public var note: String?
    public var source: String?
}

public struct ApplicationFile: Sendable, Encodable {
    public var path: String
    public var status: String
    public var verdict: String?
    /// Its own verdict, before what it loads is folded in: only a file that is itself needs-rebuild is rebuilt.
    public var ownVerdict: String?
    /// What it needs installed once everything it loads is fixed (the compat package of its own verdict too).
    public var packages: [String]
    /// The rule that set the verdict, and the blocking symbols or libraries.
    public var why: String?
    public var rebuild: String?
}

public struct Entrypoint: Sendable, Encodable {
    /// Where the command was read: "image configuration" or "Dockerfile".
    public var from: String
    public var command: [String]
    public var user: String?
    public var workingDir: String?
    /// The program the command starts, inside the root (links followed); nil when it is not there.
    public var program: String?
    /// elf, script, other, shell (a shell's text whose command cannot be told), missing.
    public var kind: String
    /// The #! line's interpreter (and program, through env), or the interpreter named on the command line.
    public var interpreter: String?
    /// The script an interpreter named on the command line runs (`python3 app.py`).
    public var script: String?
    public var verdict: String?
    /// What it needs on Alpine (`apk add` names).
    public var needs: [String]
    /// Every file found on the way (init wrappers, the shell, the program), in order.
    public var chain: [String] = []
    public var notes: [String] = []
}

public struct MigrationPlan: Sendable, Encodable {
    public var schemaVersion = 1
    public struct Base: Sendable, Encodable {
        public var os: OSRelease?
        public var packageManager: PackageManager
        public var installedPackages: Int
        public var note: String?
    }
    public struct Files: Sendable, Encodable {
        /// ELF files found; each is counted in exactly one of the three below (or in errors).
        public var elf = 0
        public var distribution = 0
        public var cLibrary = 0
        public var application = 0
        public var errors = 0
        /// The application's shell scripts and Dockerfiles (judged against BusyBox and ash, listed with its files).
        public var scripts = 0
    }
    public struct Proposal: Sendable, Encodable {
        public var image: String
        public var apkAdd: [String]
        public var rebuild: [String]
        public var dockerfile: String
    }
    /// The input: a root filesystem directory, an image tarball or an OCI layout.
    public var root: String
    /// For an image: the image planned (its name in the results), and what the input said about reading it.
    public var image: String?
    public var notes: [String] = []
    public var target: String
    public var base: Base
    public var files: Files
    public var packages: [PackageMapping]
    public var application: [ApplicationFile]
    public var entrypoint: Entrypoint?
    public var environment: [String]
    public var plan: Proposal
    /// With --dockerfile: the same file rewritten for Alpine, as a unified diff.
    public var dockerfileDiff: String?
}

public struct MigrationRequest: Sendable {
    public var root: String
    public var release: AlpineRelease
    public var dockerfile: String?
    public var jobs: Int
    /// For an image: the limits it is read within (the engine's, as `check` has them).
    public var limits: ArchiveLimits
    public init(
        root: String, release: AlpineRelease, dockerfile: String? = nil, jobs: Int = CPU.count,
        limits: ArchiveLimits = ArchiveLimits()
    ) {
        self.root = root.count > 1 && root.hasSuffix("/") ? String(root.dropLast()) : root
        self.release = release
        self.dockerfile = dockerfile
        self.jobs = jobs
        self.limits = limits
    }
}

public enum Migration {
    /// The curated Debian → Alpine table, embedded (each row names its source).
    public static let table: [String: (alpine: [String], note: String, source: String)] = {
        var map: [String: (alpine: [String], note: String, source: String)] = [:]
        let text = String(decoding: PackageResources.debian_alpine_tsv, as: UTF8.self)
        for line in text.split(separator: "\n") where !line.hasPrefix("#") && !line.hasPrefix("debian\t") {
            let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard f.count >= 4 else { continue }
            map[f[0]] = (f[1] == "-" ? [] : f[1].split(separator: " ").map(String.init), f[2], f[3])
        }
        return map
    }()

    public static func plan(_ request: MigrationRequest, kb: KnowledgeBase) throws -> MigrationPlan {
        let docker = request.dockerfile.flatMap { RootFS.text($0) }.map(DockerfileText.init)
        let input = try read(request, kb: kb)
        let os = RootFS.osRelease(input.files)
        let database = RootFS.packages(input.files)
        let owners = ownership(database.packages, root: "")
        var files = MigrationPlan.Files()
        files.cLibrary = input.cLibrary
        var application: [ApplicationFile] = []
        var elf: [String: CheckResult] = [:]
        var ownedPaths: [String: [String]] = [:]  // package → ELF files of it found
        for (inside, r) in input.results where r.status != .skipped {
            if r.kind != nil {
                // A script or Dockerfile: the application's ones are judged and listed; the distribution's
                // come with the Alpine package that replaces it.
                if owners[inside] == nil {
                    files.scripts += 1
                    application.append(applicationFile(r, inside: inside))
                }
                continue
            }
            files.elf += 1
            elf[inside] = r
            if r.status == .error { files.errors += 1 }
            if let owner = owners[inside] {
                files.distribution += 1
                ownedPaths[owner, default: []].append(inside)
            } else if r.status == .assessed || r.status == .error {
                files.application += 1
                application.append(applicationFile(r, inside: inside))
            }
        }
        files.elf += files.cLibrary
        let mappings = database.packages.map { Self.map($0, kb: kb, release: request.release) }
        let byName = Dictionary(mappings.map { ($0.debian, $0) }, uniquingKeysWith: { a, _ in a })
        // The image's own configuration says what it starts; the Dockerfile, when there is none.
        let start = input.config.map(StartCommand.init(config:)) ?? docker.map(StartCommand.init(dockerfile:))
        let entry = start.flatMap { start in
            Self.entrypoint(start, files: input.files, elf: elf) { path in
                owners[path].flatMap { byName[$0] }.map { $0.how == .none ? [] : $0.alpine }
            }
        }
        let environment = environmentNotes(start, packages: database.packages)
        // The chain's files no package owns (an entrypoint script) are the application's too: copied.
        let copies = (entry?.chain ?? []).filter { owners[$0] == nil && elf[$0] == nil }
        let proposal = propose(
            release: request.release, files: input.files, mappings: mappings, application: application,
            entrypoint: entry, docker: docker, start: start, environment: environment, copies: copies)
        return MigrationPlan(
            root: request.root, image: input.image, notes: input.notes, target: "alpine:\(request.release.name)",
            base: .init(
                os: os, packageManager: database.manager, installedPackages: database.packages.count,
                note: database.note),
            files: files, packages: mappings, application: application, entrypoint: entry,
            environment: environment, plan: proposal,
            dockerfileDiff: docker.map { docker in
                let names: (String) -> [String]? = { name in
                    if let m = byName[name], m.how != .none { return m.alpine }
                    return alpineNames(name)
                }
                return DockerfileText.diff(
                    old: docker.lines, new: docker.rewritten(release: request.release, map: names).lines)
            })
    }

    /// Path inside the root → owning package. With a merged /usr (Debian 12: /bin → usr/bin), a package may
    /// list /bin/x while the walk finds /usr/bin/x: both spellings are owned.
    static func ownership(_ packages: [InstalledPackage], root: String) -> [String: String] {
        var owners: [String: String] = [:]
        let merged = ["/bin/", "/sbin/", "/lib/", "/lib32/", "/lib64/", "/libx32/"]
        for p in packages {
            for file in p.files {
                owners[file] = owners[file] ?? p.name
                if merged.contains(where: { file.hasPrefix($0) }) {
                    owners["/usr" + file] = owners["/usr" + file] ?? p.name
                } else if file.hasPrefix("/usr/"), merged.contains(where: { file.dropFirst(4).hasPrefix($0) }) {
                    let short = String(file.dropFirst(4))
                    owners[short] = owners[short] ?? p.name
                }
            }
        }
        return owners
    }

    static func applicationFile(_ r: CheckResult, inside: String) -> ApplicationFile {
        guard let a = r.assessment else {
            return ApplicationFile(
                path: inside, status: r.status.rawValue, verdict: nil, ownVerdict: nil, packages: [], why: r.error,
                rebuild: nil)
        }
        let blocking = a.findings.first { $0.severity == .error } ?? a.findings.first { $0.severity == .warning }
        var why = blocking.map { $0.rule.rawValue } ?? ""
        let names =
            a.missingSymbols.filter { $0.providedBy == nil }.prefix(5).map(\.name)
            + a.missingLibraries.prefix(3).map(\.soname)
        if !names.isEmpty { why += (why.isEmpty ? "" : ": ") + names.joined(separator: ", ") }
        let own = a.ownVerdict ?? a.verdict
        var packages = a.packages
        // The compat rungs are an ELF file's; a script's verdict uses the same scale but its packages say what it needs.
        let compat: String? =
            r.kind != nil ? nil : own == .needsGcompat ? "gcompat" : own == .needsLibc6Compat ? "libc6-compat" : nil
        if let compat, !packages.contains(compat) { packages.insert(compat, at: 0) }
        return ApplicationFile(
            path: inside, status: r.status.rawValue, verdict: a.verdict.rawValue, ownVerdict: own.rawValue,
            packages: packages,
            why: why.isEmpty ? nil : why, rebuild: own == .needsRebuild ? a.fix?.rebuild : nil)
    }

    /// The Alpine package(s) standing in for one installed package.
    static func map(_ p: InstalledPackage, kb: KnowledgeBase, release: AlpineRelease) -> PackageMapping {
        let base = p.essential || p.priority == "required" || p.priority == "important"
        if let row = table[p.name] {
            return PackageMapping(
                debian: p.name, version: p.version, alpine: row.alpine, how: .table, wanted: !p.automatic && !base,
                note: row.note.isEmpty ? nil : row.note, source: row.source)
        }
        if base {
            return PackageMapping(
                debian: p.name, version: p.version, alpine: [], how: .base, wanted: false,
                note: "part of the base system: Alpine's base image (musl, BusyBox, alpine-baselayout) stands in",
                source: nil)
        }
        // Its shared libraries, by soname (the file name a linker writes into NEEDED).
        let libraryDirs = ["/lib/", "/usr/lib/", "/usr/local/lib/"]
        var packages: [String] = []
        var sources: [String] = []
        for file in p.files where libraryDirs.contains(where: { file.hasPrefix($0) }) {
            guard let file = file.split(separator: "/").last.map(String.init), let name = soname(ofFile: file) else {
                continue
            }
            if let entry = kb.library(name), entry.kind == .package, let provider = provider(entry, release: release) {
                if !packages.contains(provider) {
                    packages.append(provider)
                    sources.append(entry.source)
                }
            } else if !packages.contains("so:" + name) && packages.count < 4 {
                packages.append("so:" + name)
            }
        }
        if !packages.isEmpty {
            return PackageMapping(
                debian: p.name, version: p.version, alpine: packages, how: .library, wanted: !p.automatic,
                note: packages.contains(where: { $0.hasPrefix("so:") })
                    ? "so: names are provided by whichever Alpine package ships that soname" : nil,
                source: sources.first)
        }
        let commandDirs = ["/usr/bin/", "/usr/sbin/", "/bin/", "/sbin/"]
        let commands = p.files.filter { f in
            commandDirs.contains { f.hasPrefix($0) && !f.dropFirst($0.count).contains("/") }
        }
        .compactMap { $0.split(separator: "/").last.map(String.init) }
        if let command = commands.first(where: { $0 == p.name }) ?? commands.first {
            return PackageMapping(
                debian: p.name, version: p.version, alpine: ["cmd:" + command], how: .command, wanted: !p.automatic,
                note: "cmd: names are provided by the Alpine package that installs that command", source: nil)
        }
        return PackageMapping(
            debian: p.name, version: p.version, alpine: [], how: .none, wanted: !p.automatic,
            note: "no known Alpine counterpart", source: nil)
    }

    /// The soname a library file answers to, from its name: lib*.so.N (the real file libfoo.so.1.2.3 and its
    /// link libfoo.so.1 both give libfoo.so.1). nil for other files.
    static func soname(ofFile name: String) -> String? {
        guard name.hasPrefix("lib"), let range = name.literalRange(of: ".so.") else { return nil }
        let version = name[range.upperBound...].prefix { $0 != "." }
        guard !version.isEmpty else { return nil }
        return String(name[..<range.upperBound]) + version
    }

    static func provider(_ entry: LibraryEntry, release: AlpineRelease) -> String? {
        entry.providers.first { p in
            (p.first.map { releaseAtLeast(release, $0) } ?? true)
                && (p.last.map { !releaseAtLeast(release, $0) || $0 == release.name } ?? true)
        }?.package ?? entry.providers.last?.package
    }

    static func alpineNames(_ debian: String) -> [String]? { table[debian]?.alpine }
}
