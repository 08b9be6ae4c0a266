import Archives
import Dispatch
import ELF
// Reads the files a walk found, on all cores, keeping the walk's order in the results.
import FileIO
import Scripts
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

public struct ScannedFile: Sendable {
    public var item: ScanItem
    public var result: ReadResult
    /// Set for a walked file with several hard links: the same identity later in the walk is the same file.
    public var identity: FileIdentity?
    /// A shell script or Dockerfile on disk (not ELF, not an archive): its facts, read once.
    public var script: ScriptFacts?
}

public enum Scanner {
    public static func read(_ item: ScanItem, options: ReadOptions = ReadOptions()) -> ScannedFile {
        switch item.kind {
        case .file: return ScannedFile(item: item, result: ELFReader.read(path: item.path, options: options))
        case .imageLayout: return ScannedFile(item: item, result: .notELF)
        case .unreadable(let reason): return ScannedFile(item: item, result: .failed(reason))
        }
    }

    /// One item and, when it is an archive or an image, every ELF file inside it (named outer!/inner),
    /// with a failed entry for each limit reached or damaged part. Archives and images are read as
    /// streams or with positioned reads, whatever their size; each ELF member's bytes are read into
    /// facts and dropped at once. `progress` hears how many bytes of the input were read, now and then.
    public static func scan(
        _ item: ScanItem, options: ReadOptions = ReadOptions(), limits: ArchiveLimits = ArchiveLimits(),
        progress: (@Sendable (Int) -> Void)? = nil
    ) -> [ScannedFile] {
        scanWithImages(item, options: options, limits: limits, progress: progress).files
    }

    /// `scan`, with the container images read inside the item (their configurations and files), the
    /// symbolic links inside it (`Expansion.links`: full member names, the targets as written) and its regular
    /// files that are not ELF (`Expansion.notELF`, named as files are).
    public static func scanWithImages(
        _ item: ScanItem, options: ReadOptions = ReadOptions(), limits: ArchiveLimits = ArchiveLimits(),
        progress: (@Sendable (Int) -> Void)? = nil
    ) -> (files: [ScannedFile], images: [ExpandedImage], links: [String: String], notELF: Set<String>) {
        var options = options
        // The file itself gets the per-file time; an archive's members share a clock that grows with the input.
        options.deadline = options.deadline ?? Deadline(seconds: limits.maxSeconds)
        let memberOptions = options
        let reader: MemberReader = { bytes, deadline in
            var o = memberOptions
            o.deadline = deadline
            // A member's facts wait until its whole archive or image is read: kept packed until judged.
            let result = ELFReader.read(buffer: &bytes, options: o)
            guard case .elf(var facts) = result else { return result }
            facts.packImports()
            return .elf(facts)
        }
        if item.kind == .imageLayout {
            let expansion = Archives.expandImageLayout(
                directory: item.path, limits: limits, progress: progress, read: reader)
            return (members(expansion, of: item.path), expansion.images, expansion.links, expansion.notELF)
        }
        guard item.kind == .file else { return ([read(item, options: options)], [], [:], []) }
        var head: [UInt8] = []
        var identity: FileIdentity?
        var file = ScannedFile(
            item: item,
            result: ELFReader.read(
                path: item.path, options: options, head: &head, identity: &identity,
                walkedAsRegular: true),
            identity: identity)
        guard case .notELF = file.result else { return ([file], [], [:], []) }
        guard let kind = Archives.kind(head) else {
            // Scripts are told by their first line (#!) or their name (Dockerfile) and read whole, bounded.
            if limits.scripts, Scripts.isCandidate(head: head, name: item.path) {
                let whole = Scripts.needsWholeFile(head: head, name: item.path)
                // The first bytes read already hold all that is asked (the #! line, or a file that ended
                // there): the file is not opened again.
                if !whole || head.count < ELFReader.headBytes {
                    file.script = ScriptFacts.read(
                        path: item.path, bytes: whole ? head : Array(head.prefix(Scripts.headBytes)))
                } else {
                    file.script = readScript(item.path)
                }
            }
            return ([file], [], [:], [])
        }
        // A compressed document (a man page) is told from the first bytes already read, without reading it all.
        if Archives.holdsCandidate(kind, head[...]) == false { return ([file], [], [:], []) }
        let fd = open(item.path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else {
            return (
                [ScannedFile(item: item, result: .failed("cannot open: " + String(cString: strerror(errno))))], [], [:],
                []
            )
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            return (
                [ScannedFile(item: item, result: .failed("cannot stat: " + String(cString: strerror(errno))))], [], [:],
                []
            )
        }
        guard st.st_mode & S_IFMT == S_IFREG, let size = Int(exactly: st.st_size) else {
            return ([ScannedFile(item: item, result: .failed("not a regular file"))], [], [:], [])
        }
        if st.st_nlink > 1 { file.identity = FileIdentity(device: UInt64(st.st_dev), inode: UInt64(st.st_ino)) }
        let expansion = Archives.expand(
            fd: fd, size: size, name: item.path, limits: limits, progress: progress, read: reader)
        // The archive itself stays in the list as not-elf (counted as skipped); its members follow.
        return ([file] + members(expansion, of: item.path), expansion.images, expansion.links, expansion.notELF)
    }

    /// A script's facts, from the whole file; a file over the script limit is read only that far (the facts
    /// say it is over).
    static func readScript(_ path: String) -> ScriptFacts? {
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG, let size = Int(exactly: st.st_size) else {
            return nil
        }
        let wanted = min(size, Scripts.maxScriptBytes + 1)
        var bytes = [UInt8](repeating: 0, count: wanted)
        // A read error ends the reading like the end of the file: the facts are of what was read.
        let done = bytes.withUnsafeMutableBytes { FileIO.readFully(fd, into: $0, at: 0).count }
        bytes.removeLast(wanted - done)
        // Over the limit, the facts say so (and the script is reported as not checked, never passed).
        return ScriptFacts.read(path: path, bytes: bytes)
    }

    /// The files an expansion of `container` found. One named as the container itself is the container's
    /// own contents, uncompressed (a gzip-compressed program): a file on disk, not a member.
    static func members(_ e: Expansion, of container: String) -> [ScannedFile] {
        e.files.map {
            ScannedFile(
                item: ScanItem(path: $0.path, kind: .file, explicit: false, inArchive: $0.path != container),
                result: $0.result,
                script: $0.script)
        }
            + e.problems.map {
                ScannedFile(
                    item: ScanItem(path: $0.path, kind: .file, explicit: false, inArchive: $0.path != container),
                    result: .failed($0.message))
            }
    }
}

public enum CPU {
    public static var count: Int {
        #if canImport(Glibc)
            return max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        #else
            return 1
        #endif
    }
}

/// Runs `body` for 0..<count on `jobs` threads; results in index order.
public func parallelMap<T: Sendable>(_ count: Int, jobs: Int, _ body: @Sendable (Int) -> T) -> [T] {
    let slots = Slots<T>(count: count)
    let next = Atomic<Int>(0)
    DispatchQueue.concurrentPerform(iterations: max(1, min(jobs, count))) { _ in
        while true {
            let index = next.wrappingAdd(1, ordering: .relaxed).oldValue
            guard index < count else { return }
            slots.set(index, body(index))
        }
    }
    return slots.collect()
}

/// Each index is written once, by one worker; the mutex makes the hand-over to the caller safe.
final class Slots<T: Sendable>: @unchecked Sendable {
    private var values: [T?]
    private let lock = Mutex(())
    init(count: Int) { values = Array(repeating: nil, count: count) }
    func set(_ index: Int, _ value: T) { lock.withLock { _ in values[index] = value } }
    func collect() -> [T] { lock.withLock { _ in values.compactMap { $0 } } }
}
