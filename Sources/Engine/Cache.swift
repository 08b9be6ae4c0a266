import Assessment
import ELF
import Knowledge
import Reporting
import Scanning
import Synchronization
// The result cache (--cache DIR): what each walked item gave on its own (its files' own assessments and
// the libraries each loads, before the folding), reused when nothing it depends on can have changed.
// The folding and the gate are always redone, so a library judged afresh reaches every file that loads it.
//
// An entry is used only when all of these are as they were when it was written:
// - the run: tool version, knowledge base, target, --root, --library-path, --follow-symlinks, the archive
//   limits, the paths given, the library directories' identities, and the names of every library in the
//   scanned tree (where the resolver looks last): one hash, part of every entry's key;
// - the item: (device, inode, size, modification and change time with nanoseconds) from one stat, never
//   its contents (hashing /usr would cost more than judging it); an image layout by its index.json,
//   which names every manifest and layer by digest;
// - what its verdict depends on: every library each of its files loads (transitively) and the directories
//   searched for them (each file's own directory, its RPATH/RUNPATH directories, the libraries'
//   directories; a directory's change time moves when a name is added, removed or renamed in it).
// An entry is written only when none of those changed since shortly before the run began (their change
// times say so, which no program can set back), so what the run read is what the entry describes.
//
// Files with nothing of interest (not ELF, an archive with no ELF inside: most of a system tree) are
// not given an entry each, which would cost as much as reading their first bytes: one list per run (or
// share) holds their paths and stamps, read once at the start, and depends only on the tool, the
// knowledge base and the limits.
//
// Entries are files DIR/v1/xx/<hash>, written to a temporary name and renamed: jobs sharing DIR see
// whole entries or none. An entry that cannot be decoded is ignored (and replaced). When a run wrote
// entries and DIR/v1 holds more than the limit, the oldest-written entries go until it holds 90% of it.
import TextSupport

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
#if canImport(Glibc)
    import Glibc
#endif

public final class ResultCache: Sendable {
    public let directory: String
    public let toolVersion: String
    public let maxBytes: Int
    /// Files that changed less than this before the run began are not trusted to be settled (file systems
    /// keep times in coarse steps, some in whole seconds).
    public let settleSeconds: Double
    /// Entries used, over the cache's lifetime (for tests and measurements).
    public let hits = Atomic<Int>(0)
    public static let defaultMaxBytes = 1 << 30
    static let layoutVersion = "v1"
    /// An image layout's index.json larger than this is not cached (it names manifests, so it is small).
    static let maxIndexBytes = 1 << 20

    public init(directory: String, toolVersion: String, maxBytes: Int = defaultMaxBytes, settleSeconds: Double = 2)
        throws
    {
        self.directory = directory
        self.toolVersion = toolVersion
        self.maxBytes = maxBytes
        self.settleSeconds = settleSeconds
        let entries = directory + "/" + Self.layoutVersion
        do { try LocalFile.createDirectories(entries) } catch {
            throw ReportError("cannot use the cache directory \(directory): \(error.reason)")
        }
        guard access(entries, W_OK | X_OK) == 0 else {
            throw ReportError("cannot use the cache directory \(directory): \(String(cString: strerror(errno)))")
        }
    }

    /// The cache as one run sees it: keyed by everything about the run that changes results.
    func session(_ request: CheckRequest, walk: WalkResult) -> CacheSession {
        CacheSession(cache: self, request: request, walk: walk)
    }
}

/// What identifies a file or directory without reading it.
struct Stamp: Codable, Equatable, Sendable {
    var device: UInt64, inode: UInt64, size: Int64
    var modified: Int64, modifiedNanoseconds: Int64, changed: Int64, changedNanoseconds: Int64

    init(
        device: UInt64, inode: UInt64, size: Int64, modified: Int64, modifiedNanoseconds: Int64, changed: Int64,
        changedNanoseconds: Int64
    ) {
        self.device = device
        self.inode = inode
        self.size = size
        self.modified = modified
        self.modifiedNanoseconds = modifiedNanoseconds
        self.changed = changed
        self.changedNanoseconds = changedNanoseconds
    }

    /// Follows symbolic links (a library path is often a link; its target is what is loaded).
    init?(_ path: String) {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        device = UInt64(st.st_dev)
        inode = UInt64(st.st_ino)
        size = Int64(st.st_size)
        modified = Int64(st.st_mtim.tv_sec)
        modifiedNanoseconds = Int64(st.st_mtim.tv_nsec)
        changed = Int64(st.st_ctim.tv_sec)
        changedNanoseconds = Int64(st.st_ctim.tv_nsec)
    }

    var changedAt: Double { Double(changed) + Double(changedNanoseconds) / 1e9 }
}

final class CacheSession: Sendable {
    let cache: ResultCache
    /// Hash of everything about the run an entry depends on (the header of the file comment).
    let environment: String
    let root: String?
    let started: Double
    let wrote = Atomic<Int>(0)
    private let counter = Atomic<Int>(0)
    /// Items found to hold nothing of interest by an earlier run, by path, and those found so by this one.
    let uninteresting: UninterestingList
    /// Listed items found unchanged by this run, and items newly found to hold nothing of interest.
    let listedSeen = Atomic<Int>(0), newlyListed = Atomic<Int>(0)
    let foundUninteresting = Mutex<[(path: String, stamp: Stamp)]>([])
    let uninterestingFile: String

    init(cache: ResultCache, request: CheckRequest, walk: WalkResult) {
        self.cache = cache
        root = request.root
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        started = Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
        let libraryDirs = DependencyResolver(
            libraryPaths: request.libraryPaths, root: request.root, skip: { _ in false }
        ).libraryPaths
        let tree = DependencyResolver.index(walk).sorted { $0.key < $1.key }
        var treeHash = Fingerprint()
        for (name, path) in tree {
            treeHash.add(name)
            treeHash.add(path)
        }
        let l = request.limits
        var text: [String] = [
            "muslcheck result cache", "tool \(cache.toolVersion)", "knowledge-base \(KnowledgeBase.dataVersion)",
            "target \(request.release.name) \(request.release.musl) \(request.release.gcompat)",
            "root \(request.root ?? "-")", "follow-symlinks \(request.followSymlinks)",
            "limits \(l.maxDepth) \(l.maxMemberBytes) \(l.maxTotalBytes) \(l.maxEntries) \(l.maxSeconds)",
            "tree \(tree.count) \(treeHash.hex)",
        ]
        text += request.paths.map { "path \($0)" }
        text += libraryDirs.map { dir in "library-dir \(dir) \(Stamp(dir).map { "\($0)" } ?? "none")" }
        var env = Fingerprint()
        for line in text { env.add(line) }
        environment = env.hex
        // Whether a file holds anything of interest depends on its contents, the tool and the limits only.
        var content = Fingerprint()
        for line in text.prefix(7) where !line.hasPrefix("root ") && !line.hasPrefix("follow-symlinks ") {
            content.add(line)
        }
        let share = request.shard.map { "\($0.index)-of-\($0.count)" } ?? "all"
        uninterestingFile = cache.directory + "/" + ResultCache.layoutVersion + "/plain/" + content.hex + "-" + share
        uninteresting = UninterestingList.read(uninterestingFile)
    }

    /// Where the entry for `item` lives.
    func file(_ item: ScanItem) -> (dir: String, path: String) {
        var h = Fingerprint()
        h.add(environment)
        h.add(item.path)
        let hex = h.hex
        let dir = cache.directory + "/" + ResultCache.layoutVersion + "/" + String(hex.prefix(2))
        return (dir, dir + "/" + String(hex.dropFirst(2)))
    }

    /// The item's results from an earlier run, when nothing they depend on changed.
    func lookup(_ item: ScanItem) -> (owns: [CheckEngine.Own], skipped: Int, identity: FileIdentity?)? {
        guard item.sameAs == nil else { return nil }
        if let known = uninteresting.stamp(of: item.path) {
            guard item.kind == .file, let stamp = Stamp(item.path), stamp == known else { return nil }
            cache.hits.wrappingAdd(1, ordering: .relaxed)
            listedSeen.wrappingAdd(1, ordering: .relaxed)
            foundUninteresting.withLock { $0.append((item.path, stamp)) }
            return ([], 1, nil)
        }
        let location = file(item)
        guard let data = CacheFile.read(location.path),
            let entry = CacheEntry.decode(data)
        else { return nil }  // none, or damaged: ignored
        guard entry.tool == cache.toolVersion, entry.knowledgeBase == KnowledgeBase.dataVersion,
            entry.environment == environment,
            entry.path == item.path, entry.kind == Self.kindName(item), let stamp = Stamp(item.path),
            stamp == entry.stamp
        else { return nil }
        if item.kind == .imageLayout {
            guard let index = Self.layoutIndex(item.path), index == entry.layoutIndex else { return nil }
        }
        for w in entry.watched where watchedStamp(w.path) != w.stamp { return nil }
        cache.hits.wrappingAdd(1, ordering: .relaxed)
        let owns = entry.owns.map(\.own)
        let identity = entry.hardLinked ? FileIdentity(device: stamp.device, inode: stamp.inode) : nil
        return (owns, entry.skipped, identity)
    }

    /// Saves what a fresh reading of `item` gave, when it is worth keeping and provably settled.
    func store(_ item: ScanItem, scanned: [ScannedFile], owns: [CheckEngine.Own], skipped: Int) {
        // Plain files that are not ELF cost less to read again than an entry; errors may pass (a time limit).
        guard item.sameAs == nil, item.kind == .file || item.kind == .imageLayout,
            !owns.contains(where: { $0.result.status == .error }),
            !scanned.contains(where: { if case .failed = $0.result { true } else { false } }),
            let stamp = Stamp(item.path)
        else { return }
        if owns.isEmpty && scanned.count == 1 && skipped == 1 && item.kind == .file {
            // Nothing of interest: listed, no entry (see the file comment).
            if stamp.changedAt < started - cache.settleSeconds {
                newlyListed.wrappingAdd(1, ordering: .relaxed)
                foundUninteresting.withLock { $0.append((item.path, stamp)) }
            }
            return
        }
        var layoutIndex: String?
        var paths = Set<String>()
        if item.kind == .imageLayout {
            // Every blob is watched: one rewritten in place (its content no longer what its name says)
            // changes no directory and no index, and would otherwise keep the old results.
            guard let index = Self.layoutIndex(item.path), let blobs = Self.layoutBlobs(item.path) else { return }
            layoutIndex = index
            paths.formUnion(blobs)
        }
        for file in scanned where !file.item.inArchive {
            let dir = Self.directory(of: file.item.path)
            paths.insert(dir)
            if case .elf(let facts) = file.result {
                for entry in (facts.rpath + facts.runpath).prefix(64) where !entry.isEmpty {
                    let expanded = entry.replacingLiteral("${ORIGIN}", with: dir).replacingLiteral("$ORIGIN", with: dir)
                    paths.insert(expanded.hasPrefix("/") ? (root ?? "") + expanded : expanded)
                }
            }
        }
        for own in owns where !own.inArchive {
            for library in own.libraries {
                paths.insert(library)
                paths.insert(Self.directory(of: library))
            }
        }
        let watched = paths.sorted().map { Watched(path: $0, stamp: watchedStamp($0)) }
        // Anything changed since (shortly before) the run began may have changed while it was read.
        let settled = started - cache.settleSeconds
        guard stamp.changedAt < settled, watched.allSatisfy({ ($0.stamp?.changedAt ?? 0) < settled }) else { return }
        let entry = CacheEntry(
            tool: cache.toolVersion, knowledgeBase: KnowledgeBase.dataVersion, environment: environment,
            path: item.path,
            kind: Self.kindName(item), stamp: stamp, layoutIndex: layoutIndex, watched: watched, skipped: skipped,
            hardLinked: scanned.first?.identity != nil, owns: owns.map(StoredOwn.init))
        let data = entry.encoded()
        let location = file(item)
        mkdir(location.dir, 0o755)
        let temporary = location.dir + "/" + temporaryName()
        guard CacheFile.write(temporary, data) else { return }
        if rename(temporary, location.path) != 0 {
            unlink(temporary)
            return
        }
        wrote.wrappingAdd(data.count, ordering: .relaxed)
    }

    /// A name no other writer uses: jobs on other hosts may share DIR (and have the same process id), and
    /// runs in one process have their own counters.
    func temporaryName() -> String {
        ".tmp-\(getpid())-\(counter.wrappingAdd(1, ordering: .relaxed).oldValue)-\(String(UInt64.random(in: 0...UInt64.max), radix: 16))"
    }

    /// Stamps of libraries and directories, taken once per run: many files load the same libraries from
    /// the same directories. (One that changes later in the run leaves entries that the next run refuses.)
    private let watchedStamps = Mutex<[String: Stamp?]>([:])

    func watchedStamp(_ path: String) -> Stamp? {
        if let known = watchedStamps.withLock({ $0[path] }) { return known }
        let stamp = Stamp(path)
        watchedStamps.withLock { $0[path] = .some(stamp) }
        return stamp
    }

    /// After a run that wrote entries: the oldest-written go while the cache is over its limit.
    func finish() {
        let found = foundUninteresting.withLock { $0 }
        // Written again only when it changed: a rerun over an unchanged tree writes nothing.
        if newlyListed.load(ordering: .relaxed) > 0 || listedSeen.load(ordering: .relaxed) != uninteresting.count {
            let bytes = UninterestingList.encode(found)
            let dir = cache.directory + "/" + ResultCache.layoutVersion + "/plain"
            mkdir(dir, 0o755)
            let temporary = dir + "/" + temporaryName()
            if CacheFile.write(temporary, bytes) {
                if rename(temporary, uninterestingFile) == 0 {
                    wrote.wrappingAdd(bytes.count, ordering: .relaxed)
                } else {
                    unlink(temporary)
                }
            }
        }
        guard wrote.load(ordering: .relaxed) > 0 else { return }
        ResultCache.evict(cache.directory + "/" + ResultCache.layoutVersion, maxBytes: cache.maxBytes)
    }

    static func kindName(_ item: ScanItem) -> String { item.kind == .imageLayout ? "image-layout" : "file" }

    /// The files under a layout's blobs/ (one directory per digest algorithm); nil past `maxLayoutBlobs`
    /// (an entry that cannot watch every blob is not kept).
    static func layoutBlobs(_ directory: String) -> [String]? {
        let blobs = directory + "/blobs"
        var files: [String] = []
        for algorithm in (try? FileManager.default.contentsOfDirectory(atPath: blobs)) ?? [] {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: blobs + "/" + algorithm)) ?? [] {
                files.append(blobs + "/" + algorithm + "/" + name)
                if files.count > maxLayoutBlobs { return nil }
            }
        }
        return files
    }

    static let maxLayoutBlobs = 4096

    static func layoutIndex(_ directory: String) -> String? {
        let path = directory + "/index.json"
        guard let size = Stamp(path)?.size, size <= ResultCache.maxIndexBytes,
            let data = FileManager.default.contents(atPath: path)
        else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    static func directory(of path: String) -> String {
        guard let slash = path.utf8.lastIndex(of: UInt8(ascii: "/")) else { return "." }
        return slash == path.utf8.startIndex ? "/" : String(path[..<slash])
    }
}

extension ResultCache {
    /// Removes the oldest-written entries of `directory` (and temporary files left by a job that died)
    /// until it holds at most 90% of `maxBytes`, when it holds more than `maxBytes`.
    static func evict(_ directory: String, maxBytes: Int) {
        var files: [(path: String, bytes: Int, written: Double)] = []
        var total = 0
        let now = Date().timeIntervalSince1970
        for sub in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] {
            let dir = directory + "/" + sub
            for name in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] {
                let path = dir + "/" + name
                var st = stat()
                guard lstat(path, &st) == 0, st.st_mode & S_IFMT == S_IFREG else { continue }
                let written = Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9
                if name.hasPrefix(".tmp-") {
                    if now - written > 3600 { unlink(path) }
                    continue
                }
                let bytes = Int(st.st_size)
                files.append((path, bytes, written))
                total += bytes
            }
        }
        guard total > maxBytes else { return }
        let goal = maxBytes / 10 * 9
        for file in files.sorted(by: { $0.written < $1.written }) where total > goal {
            if unlink(file.path) == 0 || errno == ENOENT { total -= file.bytes }
        }
    }
}
