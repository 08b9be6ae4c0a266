import ArgumentParser
import Assessment
import ELF
import Knowledge
import Reporting
import Scanning
import Foundation
import Synchronization

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

    @Option(help: "text or json.")
    var format: OutputFormat = .text

    @Option(name: .customLong("fail-on"), help: "needs-libc6-compat, needs-gcompat, needs-rebuild, warning or never.")
    var failOn: FailOn = .needsLibc6Compat

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

    @Option(help: "Write the report to this file instead of standard output.")
    var output: String?

    func validate() throws {
        if paths.isEmpty { throw ValidationError("name at least one file or directory") }
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1") }
    }

    /// What the summary and gate need of one file once its part of the report is rendered.
    struct Judged: Sendable {
        var text: String
        var status: CheckResult.Status
        var verdict: Verdict?
        var packages: [String]
        var failsGate: Bool
    }

    func execute() throws -> CommandOutput {
        let kb = try loadKnowledge()
        let release = try resolveTarget(target, kb: kb)
        if let root, !FileManager.default.fileExists(atPath: root) { throw UsageError(description: "--root \(root) does not exist") }
        let walk = Walker.walk(paths, options: WalkOptions(followSymlinks: followSymlinks))
        let items = walk.items
        let assessor = Assessor(kb: kb, release: release)
        let resolver = DependencyResolver(libraryPaths: libraryPaths, root: root, tree: DependencyResolver.index(walk),
                                          scannedRoots: paths, interesting: Assessor.libcNames(kb)) { Assessor.isProvidedBySystem($0, kb: kb) }
        let libraries = LibraryAssessments(assessor: assessor, resolver: resolver)
        let jobs = jobs ?? CPU.count
        // 1. Read and judge each file (and each ELF file inside an archive) on its own; remember the
        //    libraries found for it.
        let own: [Own?] = parallelMap(items.count, jobs: jobs) { index -> [Own?] in
            let scanned = Scanner.scan(items[index])
            let members = Set(scanned.map(\.item.path).filter { $0.contains("!/") })
            return scanned.map { Self.judge($0, assessor: assessor, resolver: resolver, archiveMembers: members) }
        }.flatMap { $0 }
        for case let o? in own where o.result.status == .assessed { libraries.remember(o) }
        // 2. Fold in what each binary loads (the worst verdict wins), then render, on all cores.
        let json = format == .json
        let gate = failOn
        let judged: [Judged?] = parallelMap(own.count, jobs: jobs) { index in
            guard var o = own[index] else { return nil }
            if let a = o.result.assessment, !o.libraries.isEmpty {
                o.result.assessment = assessor.combine(a, with: libraries.assessments(of: o.libraries))
            }
            let r = o.result
            let text = json ? ((try? JSON.fragment(r, indent: 2)) ?? "{}") : CheckText.file(r)
            return Judged(text: text, status: r.status, verdict: r.assessment?.verdict,
                          packages: r.assessment?.packages ?? [], failsGate: r.assessment.map(gate.fails) ?? false)
        }
        var summary = CheckSummary()
        for j in judged {
            if let j { summary.add(status: j.status, verdict: j.verdict, packages: j.packages) } else { summary.addWalkedSkip() }
        }
        let listed = judged.compactMap { $0 }
        let failed = listed.contains { $0.failsGate }
        let gateResult = CheckReport.Gate(failOn: failOn.rawValue, failed: failed)
        let target = CheckReport.Target(release)
        let text = json
            ? try CheckReport.json(tool: CheckReport.Tool(version: toolVersion), target: target, results: listed.map(\.text),
                                   summary: summary, gate: gateResult)
            : CheckText.header(target) + listed.map(\.text).joined() + CheckText.footer(summary, gate: gateResult)
        let status = failed ? ExitStatus.gateFailed : summary.errors > 0 ? ExitStatus.inputError : ExitStatus.ok
        return CommandOutput(stdout: try deliver(text, to: output), exitCode: status)
    }

    /// One file judged on its own, with the paths of the libraries it loads (transitively).
    struct Own: Sendable {
        var result: CheckResult
        var libraries: [String]
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
            if facts.type == .rel || facts.type == .core {
                let why = "\(facts.type == .rel ? "relocatable object" : "core dump"): never loaded as a program"
                return file.item.explicit ? Own(result: CheckResult(path: path, status: .skipped, error: why), libraries: []) : nil
            }
            if path.contains("!/") {
                // Inside an archive: libraries are the archive's own members, found the loader's way.
                let dependencies = DependencyResolver.locate(facts, path: path, among: archiveMembers)
                let assessment = assessor.assess(facts, path: path, dependencies: dependencies)
                if let reason = assessment.unassessable {
                    return Own(result: CheckResult(path: path, status: .error, error: reason, facts: facts), libraries: [])
                }
                return Own(result: CheckResult(path: path, status: .assessed, assessment: assessment, facts: facts),
                           libraries: Array(Set(dependencies.found.values)).sorted())
            }
            // Libraries are looked for on disk; all of them are read only when some are there to fold in
            // or musl lacks some import.
            var dependencies = resolver.locate(facts, path: path)
            if !dependencies.found.isEmpty { dependencies = resolver.resolve(facts, path: path) }
            var assessment = assessor.assess(facts, path: path, dependencies: dependencies)
            if !assessment.missingSymbols.isEmpty && dependencies.found.isEmpty {
                dependencies = resolver.resolve(facts, path: path)
                assessment = assessor.assess(facts, path: path, dependencies: dependencies)
            }
            if let reason = assessment.unassessable {
                return Own(result: CheckResult(path: path, status: .error, error: reason, facts: facts), libraries: [])
            }
            return Own(result: CheckResult(path: path, status: .assessed, assessment: assessment, facts: facts),
                       libraries: Array(Set(dependencies.found.values)).sorted())
        }
    }
}

/// Every library's own assessment, by path: the scanned files, and libraries outside the scan judged on
/// first use (once each, whichever worker asks first).
final class LibraryAssessments: Sendable {
    let assessor: Assessor
    let resolver: DependencyResolver
    private let known = Mutex<[String: Assessment?]>([:])

    init(assessor: Assessor, resolver: DependencyResolver) {
        self.assessor = assessor
        self.resolver = resolver
    }

    func remember(_ own: Check.Own) {
        known.withLock { $0[Self.key(own.result.path)] = own.result.assessment }
    }

    func assessments(of paths: [String]) -> [(path: String, assessment: Assessment)] {
        paths.compactMap { path in
            let key = Self.key(path)
            if let cached = known.withLock({ $0[key] }) { return cached.map { (path, $0) } }
            if path.contains("!/") { return nil }  // members were all judged in the first pass
            var assessment: Assessment?
            if case .elf(let facts) = ELFReader.read(path: path) {
                let a = assessor.assess(facts, path: path, dependencies: resolver.locate(facts, path: path))
                assessment = a.unassessable == nil ? a : nil
            }
            known.withLock { $0[key] = .some(assessment) }
            return assessment.map { (path, $0) }
        }
    }

    static func key(_ path: String) -> String {
        if path.contains("!/") { return path }  // an archive member: its name is its identity
        return URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
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
