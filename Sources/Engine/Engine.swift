// The batch engine behind `check`: walked paths → per-file facts (read on all cores; archive members as
// they are found) → one library index → assessments folded over what each file loads → the gate. The
// command line only parses options and renders what this returns; other programs get the same run with
// one call (`CheckEngine.run`).
import Archives
import Assessment
import ELF
import Knowledge
import Reporting
import Scanning
import Synchronization

/// What to check and how.
public struct CheckRequest: Sendable {
    public var paths: [String]
    public var release: AlpineRelease
    public var gate: Gate
    public var jobs: Int
    public var followSymlinks: Bool
    /// A root filesystem whose library path and links the files are judged inside.
    public var root: String?
    /// Directories of the target system's libraries, searched after RPATH/RUNPATH.
    public var libraryPaths: [String]
    /// Also find libraries beside each binary and anywhere in the scanned paths, as if the scanned files
    /// were installed on the library path together (musl itself searches only RPATH/RUNPATH and its path).
    public var searchScanned: Bool
    public var limits: ArchiveLimits
    /// Only this share of the walked items is read (Shard.swift); nil reads them all.
    public var shard: Shard? = nil
    /// Results of unchanged files reused from earlier runs (Cache.swift).
    public var cache: ResultCache? = nil

    public init(
        paths: [String], release: AlpineRelease, gate: Gate = Gate(), jobs: Int = CPU.count,
        followSymlinks: Bool = false,
        root: String? = nil, libraryPaths: [String] = [], searchScanned: Bool = false,
        limits: ArchiveLimits = ArchiveLimits()
    ) {
        self.paths = paths
        self.release = release
        self.gate = gate
        self.jobs = jobs
        self.followSymlinks = followSymlinks
        self.root = root
        self.libraryPaths = libraryPaths
        self.searchScanned = searchScanned
        self.limits = limits
    }
}

/// Every listed file's result in walk order, whether each fails the gate, and the summary.
public struct CheckOutcome: Sendable {
    public var results: [CheckResult]
    public var failing: [Bool]
    public var summary: CheckSummary
    /// For a sharded run: which share, and where each result stands in the whole walk (for `merge`).
    public var placement: ShardPlacement? = nil
    public var gateFailed: Bool { failing.contains(true) }
}

/// Called once per walked item as it is read (for a progress line).
public typealias ProgressStep = @Sendable (_ path: String) -> Void
/// Called now and then while a large input (an archive, an image) is read: bytes of it read so far.
public typealias ProgressBytes = @Sendable (_ path: String, _ bytes: Int) -> Void

public enum CheckEngine {
    /// The walk needs nothing from the knowledge base: callers may start it early (`InBackground`).
    public static func walk(_ paths: [String], followSymlinks: Bool) -> WalkResult {
        Walker.walk(paths, options: WalkOptions(followSymlinks: followSymlinks))
    }

    /// Runs the whole check. `walk`: the walk of `request.paths`, when the caller made it already.
    public static func run(
        _ request: CheckRequest, kb: KnowledgeBase, walk: WalkResult? = nil, progress: ProgressStep? = nil,
        bytes: ProgressBytes? = nil
    ) -> CheckOutcome {
        let walk = walk ?? Self.walk(request.paths, followSymlinks: request.followSymlinks)
        let selected = request.shard.map { $0.select(walk.items, jobs: max(1, request.jobs)) }
        let items = selected.map { walk.items.subset($0) } ?? walk.items
        let cache = request.cache?.session(request, walk: walk)
        let assessor = Assessor(kb: kb, release: request.release)
        let resolver = DependencyResolver(
            libraryPaths: request.libraryPaths, root: request.root,
            tree: request.searchScanned ? DependencyResolver.index(walk) : [:], scannedRoots: request.paths,
            searchScanned: request.searchScanned, interesting: Assessor.libcNames(kb)
        ) {
            Assessor.isProvidedBySystem($0, kb: kb)
        }
        let libraries = LibraryIndex(assessor: assessor, resolver: resolver)
        // Scripts not read (the benchmark switch): no entrypoint is judged either, for want of its script.
        let scripts = request.limits.scripts ? ScriptJudge(kb: kb, release: request.release) : nil
        let jobs = max(1, request.jobs)
        // An image's layers share the cores the run has (a single image is all the work there is).
        let limits = {
            var l = request.limits
            l.layerJobs = jobs
            l.layerThreads = LayerThreads(jobs - 1)
            return l
        }()
        // 1. Read and judge each file (and each ELF file inside an archive) on its own; remember the
        //    libraries found for it. Only listed files are kept: a tree of mostly non-ELF files costs a
        //    count, not a slot each.
        // Hard links (identities) are few: kept aside, so that each item's slot is two words.
        let identities = Mutex<[Int: FileIdentity]>([:])
        let perItem: [ItemOutcome] = parallelMap(items.count, jobs: jobs) { index in
            let item = items[index]
            defer { progress?(item.path) }
            if item.sameAs != nil { return ItemOutcome() }  // a link: filled in from its first path below
            let (outcome, identity) = readItem(
                item, cache: cache, assessor: assessor, resolver: resolver, libraries: libraries, scripts: scripts,
                limits: limits, bytes: bytes)
            if let identity { identities.withLock { $0[index] = identity } }
            return outcome
        }
        // What zip members' starts taught serves only the reading: its memory goes to the rest of the run.
        Archives.forgetMemberStarts()
        var (own, walkedSkips) = foldHardLinks(items, perItem, identities: identities.withLock { $0 })
        // hard links
        for o in own where o.result.status == .assessed && o.result.sameAs != nil { libraries.remember(o) }
        // 2. Fold in what each file loads (the worst verdict wins) and apply the gate, on all cores.
        let gate = request.gate
        let owned = own
        own = []
        let judged: [Judged] = parallelMap(owned.count, jobs: jobs) { index in
            fold(owned[index], libraries: libraries, assessor: assessor, gate: gate)
        }
        let (results, failing, summary) = collect(judged, walkedSkips: walkedSkips)
        var outcome = CheckOutcome(results: results, failing: failing, summary: summary)
        if let shard = request.shard, let selected {
            outcome.placement = ShardPlacement(
                shard: shard, inputs: request.paths, walked: walk.items.count,
                items: Shard.itemPositions(of: outcome.results, items: items, positions: selected))
        }
        cache?.finish()
        return outcome
    }

    /// Pass 1 for one walked item: its files (an archive's members, an image's entrypoint) read and judged on
    /// their own, or the cache's entry for it; the libraries found for each are remembered. Returns the item's
    /// identity as well when it has hard links.
    static func readItem(
        _ item: ScanItem, cache: CacheSession?, assessor: Assessor, resolver: DependencyResolver,
        libraries: LibraryIndex, scripts: ScriptJudge?, limits: ArchiveLimits, bytes: ProgressBytes?
    ) -> (ItemOutcome, FileIdentity?) {
        if let hit = cache?.lookup(item) {
            for o in hit.owns where o.result.status == .assessed { libraries.remember(o) }
            // A file of the C library is listed when named itself (this run may name it, the stored one walked).
            let owns = hit.owns.map { o in
                var o = o
                if o.cLibrary { o.listed = item.explicit && !o.inArchive }
                return o
            }
            return (ItemOutcome(owns: owns, skipped: hit.skipped), hit.identity)
        }
        let path = item.path
        let (scanned, images, links, notELF) = Scanner.scanWithImages(
            item, limits: limits, progress: bytes.map { report in { @Sendable n in report(path, n) } })
        let archive = memberIndex(scanned, notELF: notELF, links: links)
        var owns: [Own] = []
        var skipped = 0
        for file in scanned {
            if let o = judge(file, assessor: assessor, resolver: resolver, archive: archive, scripts: scripts) {
                if o.result.status == .assessed { libraries.remember(o) }
                owns.append(o)
            } else if !file.item.inArchive {
                skipped += 1
            }
        }
        // Each image's entrypoint, judged against its files: a result named as the image (in place of the
        // image file's own 'not an ELF file' when it was named explicitly).
        for result in scripts?.judgeEntrypoints(images, scanned: scanned) ?? [] {
            let own = Own(result: result, libraries: [])
            if let at = owns.firstIndex(where: { $0.result.path == result.path && $0.result.status == .skipped }) {
                owns[at] = own
            } else {
                // Before the image's own files.
                owns.insert(
                    own, at: owns.firstIndex { $0.result.path.hasPrefix(result.path + "!/") } ?? owns.endIndex)
            }
        }
        cache?.store(item, scanned: scanned, owns: owns, skipped: skipped)
        return (ItemOutcome(owns: owns, skipped: skipped), scanned.first?.identity)
    }

    /// What a library lookup inside one archive or image can meet: ELF members by header (and what each
    /// asks of the loader, to follow the chain), the others (not ELF, or unreadable), which end musl's search
    /// as on disk, the members whose own search path starts from $ORIGIN (`locate`'s `originUsers`), and the
    /// archive's links.
    struct ArchiveIndex {
        var headers: [String: Header] = [:]
        var requests: [String: LoaderRequest] = [:]
        var others: [String: UnmappableMember] = [:]
        var originUsers = Set<String>()
        var links: [String: String] = [:]
    }

    /// The index of an item's archive members; most items are one plain file: no index.
    static func memberIndex(_ scanned: [ScannedFile], notELF: Set<String>, links: [String: String] = [:])
        -> ArchiveIndex
    {
        var index = ArchiveIndex(links: links)
        guard scanned.count > 1 || !notELF.isEmpty else { return index }
        for file in scanned where file.item.inArchive {
            switch file.result {
            case .elf(let facts):
                index.headers[file.item.path] = Header(facts)
                if !facts.needed.isEmpty { index.requests[file.item.path] = LoaderRequest(facts) }
                if DependencyResolver.usesOrigin(facts) { index.originUsers.insert(file.item.path) }
            case .failed: index.others[file.item.path] = .unreadable
            case .notELF: index.others[file.item.path] = .notELF
            }
        }
        // What musl would open is the member as stored: a compressed ELF file is not one.
        for name in notELF { index.others[name] = .notELF }
        return index
    }

    /// Pass 2 for one file: what it loads folded in (the worst verdict wins), then the gate's decision.
    static func fold(_ own: Own, libraries: LibraryIndex, assessor: Assessor, gate: Gate) -> Judged {
        var o = own
        if let a = o.result.assessment, !o.libraries.isEmpty {
            // The file's own search found the whole closure, on disk and inside archives. Inside an archive,
            // what each member it loads found on its own path is folded in too (a copy the program's search
            // reaches elsewhere, or not at all: stricter, never a pass).
            if o.inArchive { o.libraries = libraries.closure(of: o.libraries) }
            let judgedLibraries = libraries.assessments(of: o.libraries, inArchive: o.inArchive)
            let unreadable = o.libraries.filter { path in !judgedLibraries.contains { $0.path == path } }
            o.result.assessment = assessor.combine(
                a, with: judgedLibraries, unreadable: unreadable, loaded: Set(o.loaded))
            if !unreadable.isEmpty {
                // What it loads cannot be judged, so neither can it: an input error, never a pass.
                o.result.status = .error
                o.result.error =
                    "cannot judge: libraries it loads could not be read: " + unreadable.joined(separator: ", ")
            }
        }
        var fails = false
        if var a = o.result.assessment {
            let decision = gate.decide(path: o.result.path, &a)
            o.result.assessment = a
            o.result.suppressions = decision.suppressions
            fails = decision.fails
        }
        return Judged(result: o.result, fails: fails, cLibrary: o.cLibrary, listed: o.listed)
    }

    /// The listed results in order, whether each fails the gate, and the counts of the run.
    static func collect(_ judged: [Judged], walkedSkips: Int) -> (
        results: [CheckResult], failing: [Bool], summary: CheckSummary
    ) {
        var summary = CheckSummary()
        for _ in 0..<walkedSkips { summary.addWalkedSkip() }
        for j in judged where j.cLibrary { summary.addCLibrary(listed: j.listed) }
        var results: [CheckResult] = []
        var failing: [Bool] = []
        for j in judged where j.listed {
            if j.result.kind != nil { summary.scripts += 1 }
            let a = j.result.assessment
            summary.add(
                status: j.result.status, verdict: a?.verdict, packages: a?.packages ?? [],
                symbols: (a?.missingSymbols ?? []).filter { $0.providedBy == nil }.map(\.name),
                libraries: (a?.missingLibraries ?? []).filter { $0.package == nil }.map(\.soname))
            results.append(j.result)
            failing.append(j.fails)
        }
        summary.finish()
        return (results, failing, summary)
    }

    /// Hard links: the first path's results again, under each further path (its own reading is dropped).
    /// By index: hashing every path of a large tree here was a serial cost.
    static func foldHardLinks(_ items: WalkItems, _ perItem: [ItemOutcome], identities: [Int: FileIdentity]) -> (
        [Own], Int
    ) {
        var firstIndex: [FileIdentity: Int] = [:]
        var indexOfPath: [String: Int]?  // only when the walk itself named links (links followed)
        var sameAs = [Int: Int]()
        for i in items.indices {
            if let first = items.sameAs(i) {
                if indexOfPath == nil {
                    indexOfPath = Dictionary(items.enumerated().map { ($1.path, $0) }, uniquingKeysWith: { a, _ in a })
                }
                sameAs[i] = indexOfPath?[first]
            }
        }
        for (i, id) in identities.sorted(by: { $0.key < $1.key }) {
            if let first = firstIndex[id] { sameAs[i] = first } else { firstIndex[id] = i }
        }
        var own: [Own] = []
        var walkedSkips = 0
        for i in items.indices {
            guard let f = sameAs[i] else {
                own += perItem[i].owns
                walkedSkips += perItem[i].skipped
                continue
            }
            let first = items[f].path
            let original = perItem[f]
            walkedSkips += original.skipped
            own += original.owns.map { o in
                var copy = o
                copy.result.path = items[i].path + String(o.result.path.dropFirst(first.count))
                copy.result.sameAs = o.result.path
                return copy
            }
        }
        return (own, walkedSkips)
    }

    /// What reading one walked item gave: its files' results, and how many of its files were only counted.
    struct ItemOutcome: Sendable {
        var owns: [Own] = []
        var skipped = 0
    }

    /// One file's result once what it loads is folded in and the gate has spoken.
    struct Judged: Sendable {
        var result: CheckResult
        var fails: Bool
        var cLibrary: Bool
        var listed: Bool
    }

    /// One file judged on its own, with the paths of the libraries it loads (transitively).
    struct Own: Sendable {
        var result: CheckResult
        var libraries: [String]
        /// The NEEDED names its own search found a usable library for, down the whole chain of what it loads
        /// (musl loads each name once, searched with the requester's RPATH/RUNPATH and then its requesters'):
        /// a library's own lookup of one of these, judged alone, is not what happens when this file loads it.
        var loaded: [String] = []
        /// Inside an archive: so are its libraries (found among the archive's members).
        var inArchive = false
        /// A file of the C library itself: counted apart, listed only when named explicitly.
        var cLibrary = false
        var listed = true
    }

    /// One file's result; nil for a file that is only counted (non-ELF or object file found while walking).
    static func judge(
        _ file: ScannedFile, assessor: Assessor, resolver: DependencyResolver, archive: ArchiveIndex = ArchiveIndex(),
        scripts: ScriptJudge? = nil
    ) -> Own? {
        let path = file.item.path
        switch file.result {
        case .notELF:
            if let script = file.script, let scripts {
                return Own(result: scripts.judge(script, path: path), libraries: [])
            }
            return file.item.explicit
                ? Own(result: CheckResult(path: path, status: .skipped, error: "not an ELF file"), libraries: []) : nil
        case .failed(let message):
            return Own(result: CheckResult(path: path, status: .error, error: message), libraries: [])
        case .elf(var facts):
            facts.unpackImports()  // read many times below
            if facts.type == .rel || facts.type == .core || facts.isSeparateDebugFile {
                let why =
                    facts.isSeparateDebugFile
                    ? Assessor.separateDebugFile
                    : "\(facts.type == .rel ? "relocatable object" : "core dump"): never loaded as a program"
                return file.item.explicit
                    ? Own(result: CheckResult(path: path, status: .skipped, error: why), libraries: []) : nil
            }
            if let why = assessor.cLibraryReason(facts, path: path) {
                return Own(
                    result: CheckResult(path: path, status: .skipped, error: why), libraries: [], cLibrary: true,
                    listed: file.item.explicit)
            }
            let dependencies: Dependencies
            if file.item.inArchive {
                // Inside an archive: libraries are the archive's own members, found the loader's way (through
                // its links: a library is its link's target; a member that is not ELF ends the search).
                dependencies = resolver.locate(
                    facts, path: path, among: archive.headers, links: archive.links, others: archive.others,
                    originUsers: archive.originUsers, libraries: archive.requests)
            } else {
                // On disk: where the NEEDED libraries are, read (with theirs) only when some are found.
                dependencies = resolver.dependencies(of: facts, path: path)
            }
            let assessment = assessor.assess(facts, path: path, dependencies: dependencies)
            if let reason = assessment.unassessable {
                return Own(result: CheckResult(path: path, status: .error, error: reason, facts: facts), libraries: [])
            }
            return Own(
                result: CheckResult(path: path, status: .assessed, assessment: assessment, facts: facts),
                libraries: Array(Set(dependencies.found.values)).sorted(), loaded: dependencies.found.keys.sorted(),
                inArchive: file.item.inArchive)
        }
    }
}
