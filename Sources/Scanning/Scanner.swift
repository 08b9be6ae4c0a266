// Reads the files a walk found, on all cores, keeping the walk's order in the results.
import Archives
import Dispatch
import ELF
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

public struct ScannedFile: Sendable {
    public var item: ScanItem
    public var result: ReadResult
    /// Set for a walked file with several hard links: the same identity later in the walk is the same file.
    public var identity: FileIdentity?
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
    /// with a failed entry for each limit reached or damaged part. Archives are read into memory only up
    /// to the limits.
    public static func scan(_ item: ScanItem, options: ReadOptions = ReadOptions(), limits: ArchiveLimits = ArchiveLimits()) -> [ScannedFile] {
        // One clock for the item: the file, and for an archive everything inside it.
        let deadline = limits.deadline ?? Deadline(seconds: limits.maxSeconds)
        var options = options, limits = limits
        options.deadline = deadline
        limits.deadline = deadline
        if item.kind == .imageLayout {
            return members(Archives.expandImageLayout(directory: item.path, limits: limits), of: item.path, options: options)
        }
        guard item.kind == .file else { return [read(item, options: options)] }
        var head: [UInt8] = []
        var identity: FileIdentity?
        var file = ScannedFile(item: item, result: ELFReader.read(path: item.path, options: options, head: &head, identity: &identity,
                                                                  walkedAsRegular: true),
                               identity: identity)
        guard case .notELF = file.result, let kind = Archives.kind(head) else { return [file] }
        // A compressed document (a man page) is told from the first bytes already read, without reading it all.
        if Archives.holdsCandidate(kind, head[...]) == false { return [file] }
        var bytes = ArchiveBuffers.take()
        defer { ArchiveBuffers.give(&bytes) }
        if let error = readAll(item.path, limit: limits.maxMemberBytes, into: &bytes, identity: &file.identity) {
            return [ScannedFile(item: item, result: .failed(error.description))]
        }
        let expansion = Archives.expand(name: item.path, bytes: bytes, limits: limits)
        // The archive itself stays in the list as not-elf (counted as skipped); its members follow.
        return [file] + members(expansion, of: item.path, options: options)
    }

    /// The files an expansion of `container` found. One named as the container itself is the container's
    /// own contents, uncompressed (a gzip-compressed program): a file on disk, not a member.
    static func members(_ e: Expansion, of container: String, options: ReadOptions) -> [ScannedFile] {
        e.members.map { ScannedFile(item: ScanItem(path: $0.path, kind: .file, explicit: false, inArchive: $0.path != container),
                                    result: ELFReader.read(bytes: $0.bytes, options: options)) }
            + e.problems.map { ScannedFile(item: ScanItem(path: $0.path, kind: .file, explicit: false, inArchive: $0.path != container),
                                           result: .failed($0.message)) }
    }

    /// Reads the whole file into `buffer` (its count becomes the file's size), when it is a regular file
    /// within `limit` bytes; sets its identity when it has hard links. Each way this can fail has its own
    /// message (all used to read as "over the limit").
    static func readAll(_ path: String, limit: Int, into buffer: inout [UInt8], identity: inout FileIdentity?) -> ArchiveError? {
        func failure(_ what: String) -> ArchiveError { ArchiveError(what + ": " + String(cString: strerror(errno))) }
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return failure("cannot open") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { return failure("cannot stat") }
        guard st.st_mode & S_IFMT == S_IFREG else { return ArchiveError("not a regular file") }
        guard let size = Int(exactly: st.st_size), size <= limit else {
            return ArchiveError("archive of \(st.st_size) bytes is over the \(limit)-byte limit (--max-member-bytes); not opened")
        }
        if st.st_nlink > 1 { identity = FileIdentity(device: UInt64(st.st_dev), inode: UInt64(st.st_ino)) }
        // A reused buffer keeps its pages: only growth is zeroed. One too small is replaced, not grown
        // (growing would copy the old contents over).
        if buffer.capacity < size { buffer = []; buffer.reserveCapacity(size) }
        if buffer.count < size { buffer.append(contentsOf: repeatElement(0, count: size - buffer.count)) }
        if buffer.count > size { buffer.removeLast(buffer.count - size) }
        var done = 0
        while done < size {
            let n = buffer.withUnsafeMutableBytes { raw -> Int in
                guard let base = raw.baseAddress else { return -1 }
                return pread(fd, base + done, size - done, off_t(done))
            }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { return failure("cannot read") }
            if n == 0 { return ArchiveError("file ended at \(done) of \(size) bytes while reading") }
            done += n
        }
        return nil
    }
}

/// The buffers whole archives are read into, reused by the reading threads: a fresh buffer per archive
/// was zeroed page by page by the kernel and then by the program (a tenth of a run over /usr, where 33
/// archives over 1 MB hold 373 MB). At most `keepBytes` are kept in all, so that a machine with many cores
/// does not hold a large archive's worth of memory per core for the rest of the run.
enum ArchiveBuffers {
    private static let pool = Mutex<(buffers: [[UInt8]], bytes: Int)>(([], 0))
    static let keepBytes = 64 << 20

    static func take() -> [UInt8] {
        pool.withLock { pool -> [UInt8] in
            guard let buffer = pool.buffers.popLast() else { return [] }
            pool.bytes -= buffer.capacity
            return buffer
        }
    }

    static func give(_ buffer: inout [UInt8]) {
        let handed = buffer
        buffer = []
        pool.withLock { pool in
            guard pool.bytes + handed.capacity <= keepBytes else { return }
            pool.bytes += handed.capacity
            pool.buffers.append(handed)
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
