import ArgumentParser
import Assessment
import ELF
import Knowledge
import Reporting
import Archives
import Scanning
import Foundation
import Synchronization

/// Limits on archives, so that no input can exhaust memory; an archive over one is reported, not skipped.
struct LimitOptions: ParsableArguments {
    @Option(name: .customLong("max-depth"), help: "Archives nested deeper than this are reported, not opened (default 5).")
    var maxDepth = 5
    @Option(name: .customLong("max-member-bytes"), help: "Largest archive or archive member read into memory, in bytes (default 268435456).")
    var maxMemberBytes = 256 << 20
    @Option(name: .customLong("max-total-bytes"), help: "Most bytes expanded from one archive, in bytes (default 1073741824).")
    var maxTotalBytes = 1 << 30
    @Option(name: .customLong("max-entries"), help: "Most entries read from one archive (default 200000).")
    var maxEntries = 200_000
    @Option(name: .customLong("max-seconds-per-file"), help: ArgumentHelp(
        "Time for reading one file, or one archive with everything in it; a file that needs more is reported as an error (default 60).",
        valueName: "seconds"))
    var maxSeconds = 60.0

    var archiveLimits: ArchiveLimits {
        var l = ArchiveLimits()
        l.maxDepth = maxDepth; l.maxMemberBytes = maxMemberBytes; l.maxTotalBytes = maxTotalBytes; l.maxEntries = maxEntries
        l.maxSeconds = maxSeconds
        return l
    }

    func validate() throws {
        if maxDepth < 0 || maxMemberBytes < 1 || maxTotalBytes < 1 || maxEntries < 1 { throw ValidationError("archive limits must be positive") }
        if !(maxSeconds > 0) { throw ValidationError("--max-seconds-per-file must be positive") }
    }
}

enum ReportFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json, sarif, junit, markdown, html
}

/// Files done, rate and the current path on standard error, only when it is a terminal.
final class Progress: Sendable {
    private let state = Mutex<(done: Int, last: Double)>((0, 0))
    let total: Int
    let enabled: Bool
    let start = Date().timeIntervalSince1970

    init(total: Int) {
        self.total = total
        enabled = isatty(2) != 0 && total > 1
    }

    func step(_ path: String) {
        guard enabled else { return }
        let now = Date().timeIntervalSince1970
        let line: String? = state.withLock { s in
            s.done += 1
            guard now - s.last > 0.1 || s.done == total else { return nil }
            s.last = now
            let rate = Double(s.done) / max(now - start, 0.001)
            return "\r\u{1B}[K\(s.done)/\(total) files, \(Int(rate))/s  \(path.suffix(60))"
        }
        if let line { FileHandle.standardError.write(Data(line.utf8)) }
    }

    func finish() { if enabled { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) } }
}

/// How strict the gate is: the lowest verdict (or finding severity) that fails it.
enum FailOn: String, ExpressibleByArgument, CaseIterable {
    case needsLibc6Compat = "needs-libc6-compat", needsGcompat = "needs-gcompat", needsRebuild = "needs-rebuild"
    case warning, never

    func fails(_ a: Assessment) -> Bool {
        switch self {
        case .never: return false
        case .needsLibc6Compat: return a.verdict >= .needsLibc6Compat
        case .needsGcompat: return a.verdict >= .needsGcompat
        case .needsRebuild: return a.verdict >= .needsRebuild
        case .warning: return a.verdict > .runs || a.findings.contains { $0.severity >= .warning }
        }
    }
}

struct Check: OutputCommand {
    static let configuration = CommandConfiguration(
        abstract: "Judge files, directories and their ELF binaries against an Alpine release.",
        discussion: """
            Verdicts, cheapest remedy first: runs, needs-libc6-compat, needs-gcompat, needs-rebuild.
            Exit status: 0 nothing reached --fail-on; 1 the gate failed; 2 the gate did not fail but some \
            input could not be read or assessed; 64 usage error.
            """)

    @Argument(help: "Files and directories (walked recursively).")
    var paths: [String] = []

    @Option(help: "Alpine release to judge against: alpine:3.14 … alpine:3.24, alpine:edge (default: newest stable).")
    var target: String?

    @Option(name: .customLong("format"), help: "text, json, sarif, junit, markdown or html. Repeatable: each pairs with the --output at the same position.")
    var formats: [ReportFormat] = []

    @Option(name: .customLong("fail-on"), help: "needs-libc6-compat (default), needs-gcompat, needs-rebuild, warning or never.")
    var failOn: FailOn?

    @Option(help: "Policy file (YAML; default .muslcheck.yml when present): target, fail-on, installed packages, ignores, baseline.")
    var config: String?

    @Option(help: "A baseline written by --write-baseline: only problems not in it fail the gate.")
    var baseline: String?

    @Option(name: .customLong("write-baseline"), help: "Write the problems of this run as a baseline to this file.")
    var writeBaseline: String?

    @Option(help: "Parallel workers (default: all cores).")
    var jobs: Int?

    @Flag(help: "Follow symbolic links while walking directories.")
    var followSymlinks = false

    @Option(help: ArgumentHelp(
        "A root filesystem or unpacked image to judge against: NEEDED libraries are searched in its /etc/ld-musl-ARCH.path directories (default /lib:/usr/local/lib:/usr/lib), and absolute RPATHs and links are taken inside it.",
        valueName: "dir"))
    var root: String?

    @Option(name: .customLong("library-path"), help: ArgumentHelp(
        "A directory of the target system's libraries (an unpacked image's /usr/lib, say), searched for NEEDED libraries after RPATH/RUNPATH and the binary's own directory. Repeatable.",
        valueName: "dir"))
    var libraryPaths: [String] = []

    @Option(name: .customLong("output"), help: "Write a report to this file instead of standard output. Repeatable, one per --format.")
    var outputs: [String] = []

    @OptionGroup var limits: LimitOptions

    func validate() throws {
        if paths.isEmpty { throw ValidationError("name at least one file or directory") }
        if outputs.count > max(formats.count, 1) { throw ValidationError("more --output than --format options") }
        if max(formats.count, 1) - outputs.count > 1 { throw ValidationError("only one report can go to standard output: give each --format but one an --output") }
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1") }
    }

    /// One listed file once judged: its result (without facts), its text and JSON parts, and the gate.
    struct Judged: Sendable {
        var result: CheckResult
        var text: String
        var json: String
        var failsGate: Bool
    }

    func execute() throws -> CommandOutput {
        // The walk needs nothing from the knowledge base: it runs while the base loads and the options are
        // checked (a usage error still ends the run before any result is used).
        let walking = InBackground { Walker.walk(paths, options: WalkOptions(followSymlinks: followSymlinks)) }
        let kb = try loadKnowledge()
        let policy = try Policy.load(config)
        let release = try resolveTarget(target ?? policy.target, kb: kb)
        let gate: FailOn
        if let failOn { gate = failOn } else if let name = policy.failOn {
            guard let level = FailOn(rawValue: name) else { throw UsageError(description: "policy: unknown fail-on '\(name)'") }
            gate = level
        } else { gate = .needsLibc6Compat }
        let known = try (baseline ?? policy.baseline).map(Baseline.load)
        if let root, !FileManager.default.fileExists(atPath: root) { throw UsageError(description: "--root \(root) does not exist") }
        let walk = walking.value
        let items = walk.items
        let assessor = Assessor(kb: kb, release: release)
        let resolver = DependencyResolver(libraryPaths: libraryPaths, root: root, tree: DependencyResolver.index(walk),
                                          scannedRoots: paths, interesting: Assessor.libcNames(kb)) { Assessor.isProvidedBySystem($0, kb: kb) }
        let libraries = LibraryAssessments(assessor: assessor, resolver: resolver)
        let jobs = jobs ?? CPU.count
        // 1. Read and judge each file (and each ELF file inside an archive) on its own; remember the
        //    libraries found for it.
        let progress = Progress(total: items.count)
        let archiveLimits = limits.archiveLimits
        //    Only listed files are kept: a tree of mostly non-ELF files costs a count, not a slot each.
        let perItem: [([Own], Int, FileIdentity?)] = parallelMap(items.count, jobs: jobs) { index in
            defer { progress.step(items[index].path) }
            if items[index].sameAs != nil { return ([], 0, nil) }  // a link: filled in from its first path below
            let scanned = Scanner.scan(items[index], limits: archiveLimits)
            // Most items are one plain file: no member set to build.
            let members = scanned.count > 1 ? Set(scanned.filter(\.item.inArchive).map(\.item.path)) : []
            var owns: [Own] = []
            var skipped = 0
            for file in scanned {
                if let o = Self.judge(file, assessor: assessor, resolver: resolver, archiveMembers: members) {
                    if o.result.status == .assessed { libraries.remember(o) }
                    owns.append(o)
                } else if !file.item.inArchive { skipped += 1 }
            }
            return (owns, skipped, scanned.first?.identity)
        }
        progress.finish()
        // Hard links: the first path's results again, under each further path (its own reading is dropped).
        // By index: hashing every path of a large tree here was a serial cost.
        var firstIndex: [FileIdentity: Int] = [:]
        var indexOfPath: [String: Int]?  // only when the walk itself named links (links followed)
        var sameAs = [Int?](repeating: nil, count: items.count)
        for i in items.indices {
            if let first = items[i].sameAs {
                if indexOfPath == nil {
                    indexOfPath = Dictionary(items.enumerated().map { ($1.path, $0) }, uniquingKeysWith: { a, _ in a })
                }
                sameAs[i] = indexOfPath?[first]
            } else if let id = perItem[i].2 {
                if let first = firstIndex[id] { sameAs[i] = first } else { firstIndex[id] = i }
            }
        }
        var own: [Own] = []
        var walkedSkips = 0
        for i in items.indices {
            guard let f = sameAs[i] else {
                own += perItem[i].0; walkedSkips += perItem[i].1; continue
            }
            let first = items[f].path, original = perItem[f]
            walkedSkips += original.1
            own += original.0.map { o in
                var copy = o
                copy.result.path = items[i].path + String(o.result.path.dropFirst(first.count))
                copy.result.sameAs = o.result.path
                return copy
            }
        }
        for o in own where o.result.status == .assessed && o.result.sameAs != nil { libraries.remember(o) }  // hard links
        // 2. Fold in what each binary loads (the worst verdict wins), then render, on all cores.
        let formats = self.formats.isEmpty ? [ReportFormat.text] : self.formats
        let wantsJSON = formats.contains(.json), wantsText = formats.contains(.text)
        let installed = Set(policy.installed)
        let owned = own
        let judged: [Judged] = parallelMap(owned.count, jobs: jobs) { index in
            var o = owned[index]
            if let a = o.result.assessment, !o.libraries.isEmpty {
                let judgedLibraries = libraries.assessments(of: o.libraries, inArchive: o.inArchive)
                let unreadable = o.libraries.filter { path in !judgedLibraries.contains { $0.path == path } }
                o.result.assessment = assessor.combine(a, with: judgedLibraries, unreadable: unreadable)
                if !unreadable.isEmpty {
                    // What it loads cannot be judged, so neither can it: an input error, never a pass.
                    o.result.status = .error
                    o.result.error = "cannot judge: libraries it loads could not be read: " + unreadable.joined(separator: ", ")
                }
            }
            var fails = false
            if var a = o.result.assessment {
                a.findings.removeAll { policy.ignoredRule($0.rule) }
                o.result.assessment = a
                // Packages the image installs already: a remedy made only of them is no problem.
                let satisfied = a.verdict < .needsRebuild && Set(a.packages).isSubset(of: installed) && !a.packages.isEmpty
                fails = gate.fails(a) && !satisfied && policy.ignoredPath(o.result.path) == nil
                    && !(known?.covers(path: o.result.path, a) ?? false)
            }
            let r = o.result
            return Judged(result: r, text: wantsText ? CheckText.file(r) : "",
                          json: wantsJSON ? ((try? JSON.fragment(r, indent: 2)) ?? "{}") : "", failsGate: fails)
        }
        var summary = CheckSummary()
        for _ in 0..<walkedSkips { summary.addWalkedSkip() }
        for j in judged {
            let a = j.result.assessment
            summary.add(status: j.result.status, verdict: a?.verdict, packages: a?.packages ?? [],
                        symbols: (a?.missingSymbols ?? []).filter { $0.providedBy == nil }.map(\.name),
                        libraries: (a?.missingLibraries ?? []).filter { $0.package == nil }.map(\.soname))
        }
        summary.finish()
        let listed = judged
        let failed = listed.contains { $0.failsGate }
        let gateResult = CheckReport.Gate(failOn: gate.rawValue, failed: failed)
        let target = CheckReport.Target(release)
        let tool = CheckReport.Tool(version: toolVersion)
        let run = RunReport(tool: tool, target: target, results: listed.map(\.result), summary: summary, gate: gateResult,
                            failing: listed.map(\.failsGate))
        var stdout: [String] = []
        for (i, format) in formats.enumerated() {
            let text: String
            switch format {
            case .json:
                // Written in parts: the fragments are not joined into one string first.
                stdout += try deliver(try CheckReport.jsonParts(tool: tool, target: target, results: listed.map(\.json), summary: summary, gate: gateResult),
                                      to: i < outputs.count ? outputs[i] : nil)
                continue
            case .text:
                // Summary first when there is more than one file; the gate's word last, where a terminal ends.
                let head = listed.count > 1 ? CheckText.footer(summary, gate: CheckReport.Gate(failOn: gate.rawValue, failed: false)).dropFirst() + "\n" : ""
                text = CheckText.header(target) + head + listed.map(\.text).joined() + CheckText.footer(summary, gate: gateResult)
            case .sarif: text = try SARIF.render(run, kb: kb)
            case .junit: text = JUnit.render(run)
            case .markdown: text = Markdown.render(run)
            case .html: text = HTML.render(run)
            }
            stdout += try deliver([text], to: i < outputs.count ? outputs[i] : nil)
        }
        if let writeBaseline {
            let entries = listed.compactMap { j -> Baseline.Entry? in
                guard let a = j.result.assessment, a.verdict > .runs || !a.findings.isEmpty else { return nil }
                return Baseline.Entry(path: j.result.path, verdict: a.verdict.rawValue, rules: Array(Set(a.findings.map(\.rule))).sorted())
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            do { try encoder.encode(Baseline(target: "alpine:\(release.name)", entries: entries)).write(to: URL(fileURLWithPath: writeBaseline)) } catch {
                throw UsageError(description: "cannot write the baseline \(writeBaseline): \(error.localizedDescription)")
            }
        }
        let status = failed ? ExitStatus.gateFailed : summary.errors > 0 ? ExitStatus.inputError : ExitStatus.ok
        return CommandOutput(stdoutParts: stdout, exitCode: status)
    }

    /// One file judged on its own, with the paths of the libraries it loads (transitively).
    struct Own: Sendable {
        var result: CheckResult
        var libraries: [String]
        /// Inside an archive: so are its libraries (found among the archive's members).
        var inArchive = false
    }

    /// One file's result; nil for a file that is only counted (non-ELF or object file found while walking).
    static func judge(_ file: ScannedFile, assessor: Assessor, resolver: DependencyResolver, archiveMembers: Set<String> = []) -> Own? {
        let path = file.item.path
        switch file.result {
        case .notELF:
            return file.item.explicit ? Own(result: CheckResult(path: path, status: .skipped, error: "not an ELF file"), libraries: []) : nil
        case .failed(let message):
            return Own(result: CheckResult(path: path, status: .error, error: message), libraries: [])
        case .elf(let facts):
            if facts.type == .rel || facts.type == .core || facts.isSeparateDebugFile {
                let why = facts.isSeparateDebugFile ? Assessor.separateDebugFile
                    : "\(facts.type == .rel ? "relocatable object" : "core dump"): never loaded as a program"
                return file.item.explicit ? Own(result: CheckResult(path: path, status: .skipped, error: why), libraries: []) : nil
            }
            let dependencies: Dependencies
            if file.item.inArchive {
                // Inside an archive: libraries are the archive's own members, found the loader's way.
                dependencies = DependencyResolver.locate(facts, path: path, among: archiveMembers)
            } else {
                // On disk: where the NEEDED libraries are; only when some are found are they (and theirs)
                // read, for the names they export.
                let found = resolver.locate(facts, path: path)
                dependencies = found.found.isEmpty ? found : resolver.resolve(facts, path: path)
            }
            let assessment = assessor.assess(facts, path: path, dependencies: dependencies)
            if let reason = assessment.unassessable {
                return Own(result: CheckResult(path: path, status: .error, error: reason, facts: facts), libraries: [])
            }
            return Own(result: CheckResult(path: path, status: .assessed, assessment: assessment, facts: facts),
                       libraries: Array(Set(dependencies.found.values)).sorted(), inArchive: file.item.inArchive)
        }
    }
}

/// Every library's own assessment, by path: the scanned files, and libraries outside the scan judged on
/// first use (once each, whichever worker asks first).
final class LibraryAssessments: Sendable {
    let assessor: Assessor
    let resolver: DependencyResolver
    /// A library: its canonical path on disk, or its name inside an archive (kept apart: a member's name
    /// can be a path on disk too).
    struct Key: Hashable { var path: String, inArchive: Bool }
    private let known = Mutex<[Key: Assessment?]>([:])

    init(assessor: Assessor, resolver: DependencyResolver) {
        self.assessor = assessor
        self.resolver = resolver
    }

    private let keys = Mutex<[String: String]>([:])

    func remember(_ own: Check.Own) {
        let key = key(own.result.path, inArchive: own.inArchive)
        known.withLock { $0[key] = own.result.assessment }
    }

    /// `inArchive`: the paths name members of an archive (all judged in the first pass).
    func assessments(of paths: [String], inArchive: Bool) -> [(path: String, assessment: Assessment)] {
        paths.compactMap { path in
            let key = key(path, inArchive: inArchive)
            if let cached = known.withLock({ $0[key] }) { return cached.map { (path, $0) } }
            if inArchive { return nil }
            var assessment: Assessment?
            if case .elf(let facts) = ELFReader.read(path: path) {
                let a = assessor.assess(facts, path: path, dependencies: resolver.locate(facts, path: path))
                assessment = a.unassessable == nil ? a : nil
            }
            known.withLock { $0[key] = .some(assessment) }
            return assessment.map { (path, $0) }
        }
    }

    /// The file's canonical path (links resolved), remembered: the same libraries come up for many binaries.
    func key(_ path: String, inArchive: Bool) -> Key {
        if inArchive { return Key(path: path, inArchive: true) }  // an archive member: its name is its identity
        if let known = keys.withLock({ $0[path] }) { return Key(path: known, inArchive: false) }
        var resolved = path
        if let c = realpath(path, nil) { resolved = String(cString: c); free(c) }
        keys.withLock { $0[path] = resolved }
        return Key(path: resolved, inArchive: false)
    }
}

/// A value computed on another thread from the moment this is made; `value` waits for it.
final class InBackground<T: Sendable>: @unchecked Sendable {
    private var result: T?
    private let done = DispatchSemaphore(value: 0)
    private let work: @Sendable () -> T

    init(_ work: @escaping @Sendable () -> T) {
        self.work = work
        DispatchQueue.global().async {
            self.result = work()
            self.done.signal()
        }
    }

    /// The result (the semaphore orders the write before this read).
    var value: T {
        done.wait()
        done.signal()  // later reads do not wait
        return result ?? work()  // never nil once signalled; computing it here beats trapping
    }
}

func loadKnowledge() throws -> KnowledgeBase {
    switch KnowledgeBase.shared {
    case .success(let kb): return kb
    case .failure(let error): throw ToolError(description: "knowledge base: \(error.description)")
    }
}

/// An internal failure: reported with exit status 2, never as a pass.
struct ToolError: Error, CustomStringConvertible { var description: String }

func resolveTarget(_ name: String?, kb: KnowledgeBase) throws -> AlpineRelease {
    guard let name else {
        guard let newest = kb.newestStable else { throw ToolError(description: "knowledge base has no releases") }
        return newest
    }
    guard name.hasPrefix("alpine:") || name.first?.isNumber == true || name == "edge", let release = kb.release(named: name) else {
        let known = kb.releases.map { "alpine:\($0.name)" }.joined(separator: ", ")
        throw UsageError(description: "unknown target '\(name)'; known: \(known)")
    }
    return release
}
