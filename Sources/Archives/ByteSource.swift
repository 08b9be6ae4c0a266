// Where archive bytes come from: a file read with positioned reads, a part of another stream (a tar
// member), a decompressor, or a buffer already in memory. Archives are read through these in order,
// never whole; only a member that needs random access and comes out of a stream is buffered.
import FileIO
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Copies `count` bytes of `source` from `offset` to the start of `out` (both ranges checked by the callers).
@inline(__always)
func copy(_ source: UnsafeRawBufferPointer, from offset: Int, count: Int, to out: UnsafeMutableRawBufferPointer) {
    UnsafeMutableRawBufferPointer(rebasing: out[0..<count]).copyMemory(
        from: UnsafeRawBufferPointer(rebasing: source[offset..<(offset + count)]))
}

/// Bytes read in order. `read` returns 0 only at the end.
class ByteSource {
    func read(_ buffer: UnsafeMutableRawBufferPointer) throws -> Int { 0 }

    /// Drops the next `count` bytes (a file range seeks; others read and discard); false when the source
    /// ended first.
    func skip(_ count: Int) throws -> Bool {
        var left = count
        var scratch = [UInt8](repeating: 0, count: min(count, 1 << 16))
        while left > 0 {
            let n = try scratch.withUnsafeMutableBytes {
                try read(UnsafeMutableRawBufferPointer(rebasing: $0[0..<min(left, $0.count)]))
            }
            if n == 0 { return false }
            left -= n
        }
        return true
    }

    /// The rest of this source as a random-access file range, when it is one (a member of an uncompressed
    /// tar on disk): a zip there is read in place instead of being buffered.
    func fileRange(length: Int) -> RandomAccess? { nil }

    /// Up to `count` bytes (fewer only at the end).
    final func read(upTo count: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let n = try out.withUnsafeMutableBytes { try read(UnsafeMutableRawBufferPointer(rebasing: $0[done...])) }
            if n == 0 { break }
            done += n
        }
        if done < count { out.removeLast(count - done) }
        return out
    }

    /// The whole rest of the source, at most `cap` bytes; nil when there is more. With the size known
    /// (`sizeHint`), read straight into the result.
    final func readAll(cap: Int, sizeHint: Int? = nil) throws -> [UInt8]? {
        if let size = sizeHint, size >= 0, size <= cap {
            var done = 0
            let out = try [UInt8](unsafeUninitializedCapacity: size) { raw, count in
                while done < size {
                    let n = try read(
                        UnsafeMutableRawBufferPointer(rebasing: UnsafeMutableRawBufferPointer(raw)[done..<size]))
                    if n == 0 { break }
                    done += n
                }
                count = done
            }
            // Exactly the size said: the end must follow (a declared size can lie; a tar member's cannot).
            guard done == size else { return out }
            var probe: UInt8 = 0
            let more = try withUnsafeMutableBytes(of: &probe) { try read($0) }
            guard more == 0 else {
                guard let rest = try readAll(cap: cap - size - 1) else { return nil }
                return out + [probe] + rest
            }
            return out
        }
        var out: [UInt8] = []
        out.reserveCapacity(min(sizeHint ?? 1 << 16, cap) + 1)
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = try chunk.withUnsafeMutableBytes { try read($0) }
            if n == 0 { return out }
            if out.count + n > cap { return nil }
            out.append(contentsOf: chunk[0..<n])
        }
    }
}

/// An open file, shared by the sources that read parts of it; closed with the last of them.
final class OpenFile: @unchecked Sendable {
    let fd: Int32
    let size: Int
    /// Bytes read from this file so far (the input a scan's limits scale with).
    let meter: Meter?

    init(fd: Int32, size: Int, meter: Meter?, owned: Bool) {
        self.fd = fd
        self.size = size
        self.meter = meter
        self.owned = owned
    }
    private let owned: Bool
    deinit { if owned { close(fd) } }

    /// Reads exactly `buffer.count` bytes at `offset`, unless the file ends first; returns the count read.
    func pread(_ buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws -> Int {
        let (done, error) = FileIO.readFully(fd, into: buffer, at: offset)
        if let error { throw ArchiveError("cannot read: " + String(cString: strerror(error))) }
        meter?.read(done)
        return done
    }
}

/// A range of a file, read in order through a buffer.
final class FileRange: ByteSource {
    let file: OpenFile
    private(set) var position: Int
    let end: Int
    private var buffer: [UInt8] = []
    private var bufferStart = 0
    private var bufferAt = 0  // next unread byte of `buffer`
    static let bufferSize = 1 << 17

    init(_ file: OpenFile, offset: Int = 0, length: Int? = nil) {
        self.file = file
        position = offset
        end = length.map { offset + $0 } ?? file.size
    }

    override func read(_ out: UnsafeMutableRawBufferPointer) throws -> Int {
        if bufferAt < buffer.count {
            let n = min(out.count, buffer.count - bufferAt)
            buffer.withUnsafeBytes { copy($0, from: bufferAt, count: n, to: out) }
            bufferAt += n
            position += n
            return n
        }
        let want = min(end - position, out.count)
        guard want > 0 else { return 0 }
        // Large reads go straight to the caller; small ones through the buffer.
        if want >= Self.bufferSize / 2 {
            let n = try file.pread(UnsafeMutableRawBufferPointer(rebasing: out[0..<want]), at: position)
            position += n
            return n
        }
        if buffer.count != Self.bufferSize { buffer = [UInt8](repeating: 0, count: Self.bufferSize) }
        let fill = min(Self.bufferSize, end - position)
        let got = try buffer.withUnsafeMutableBytes {
            try file.pread(UnsafeMutableRawBufferPointer(rebasing: $0[0..<fill]), at: position)
        }
        if got < buffer.count { buffer.removeLast(buffer.count - got) }
        bufferStart = position
        bufferAt = 0
        guard got > 0 else { return 0 }
        return try read(out)
    }

    override func skip(_ count: Int) throws -> Bool {
        let inBuffer = buffer.count - bufferAt
        if count <= inBuffer {
            bufferAt += count
            position += count
            return true
        }
        bufferAt = buffer.count
        position += inBuffer
        let rest = count - inBuffer
        guard rest <= end - position else {
            position = end
            return false
        }
        position += rest
        return true
    }

    override func fileRange(length: Int) -> RandomAccess? {
        guard length <= end - position else { return nil }
        return FileAccess(file, base: position, size: length)
    }
}

/// Bytes in memory.
final class MemorySource: ByteSource {
    let bytes: [UInt8]
    private var at: Int
    private let end: Int
    init(_ bytes: [UInt8], offset: Int = 0, length: Int? = nil) {
        self.bytes = bytes
        at = offset
        end = length.map { offset + $0 } ?? bytes.count
    }
    override func read(_ out: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = min(out.count, end - at)
        guard n > 0 else { return 0 }
        bytes.withUnsafeBytes { copy($0, from: at, count: n, to: out) }
        at += n
        return n
    }
    override func skip(_ count: Int) throws -> Bool {
        guard count <= end - at else {
            at = end
            return false
        }
        at += count
        return true
    }
}

/// The next `length` bytes of another source (a tar or ar member). What the reader leaves is skipped
/// by the archive reader before the next header.
final class Window: ByteSource {
    let inner: ByteSource
    private(set) var left: Int
    init(_ inner: ByteSource, length: Int) {
        self.inner = inner
        left = length
    }

    override func read(_ out: UnsafeMutableRawBufferPointer) throws -> Int {
        guard left > 0, out.count > 0 else { return 0 }
        let n = try inner.read(UnsafeMutableRawBufferPointer(rebasing: out[0..<min(out.count, left)]))
        if n == 0 { throw ArchiveError("archive ends \(left) bytes before the end of a member") }
        left -= n
        return n
    }

    override func skip(_ count: Int) throws -> Bool {
        let n = min(count, left)
        guard try inner.skip(n) else { throw ArchiveError("archive ends \(left) bytes before the end of a member") }
        left -= n
        return n == count
    }

    /// Skips what the member's reader left.
    func finish() throws { if left > 0 { _ = try skip(left) } }

    override func fileRange(length: Int) -> RandomAccess? { inner.fileRange(length: min(length, left)) }
}

/// Bytes already read (a member's first bytes, looked at to tell its kind), then the rest of the source.
final class Prefixed: ByteSource {
    let head: [UInt8]
    private var at = 0
    let rest: ByteSource
    init(_ head: [UInt8], _ rest: ByteSource) {
        self.head = head
        self.rest = rest
    }

    override func read(_ out: UnsafeMutableRawBufferPointer) throws -> Int {
        if at < head.count {
            let n = min(out.count, head.count - at)
            head.withUnsafeBytes { copy($0, from: at, count: n, to: out) }
            at += n
            return n
        }
        return try rest.read(out)
    }

    override func skip(_ count: Int) throws -> Bool {
        let fromHead = min(count, head.count - at)
        at += fromHead
        return fromHead == count ? true : try rest.skip(count - fromHead)
    }

    /// Only before anything of the head was read: the head is part of the range.
    override func fileRange(length: Int) -> RandomAccess? {
        guard at == 0, let range = rest.fileRange(length: length - head.count) as? FileAccess, range.base >= head.count
        else { return nil }
        return FileAccess(range.file, base: range.base - head.count, size: length)
    }
}

/// Bytes read at any offset: a zip is read through its central directory.
protocol RandomAccess: AnyObject {
    var size: Int { get }
    /// Exactly `buffer.count` bytes at `offset` (fewer only past the end).
    func read(_ buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws -> Int
    /// A sequential source over `length` bytes at `offset`.
    func source(offset: Int, length: Int) -> ByteSource
}

extension RandomAccess {
    func bytes(at offset: Int, count: Int) throws -> [UInt8] {
        guard offset >= 0, count >= 0, offset <= size else { return [] }
        var out = [UInt8](repeating: 0, count: min(count, size - offset))
        let n = try out.withUnsafeMutableBytes { try read($0, at: offset) }
        if n < out.count { out.removeLast(out.count - n) }
        return out
    }
}

final class FileAccess: RandomAccess {
    let file: OpenFile
    let base: Int
    let size: Int
    init(_ file: OpenFile, base: Int = 0, size: Int? = nil) {
        self.file = file
        self.base = base
        self.size = size ?? file.size
    }

    func read(_ buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws -> Int {
        guard offset >= 0, offset <= size else { return 0 }
        let count = min(buffer.count, size - offset)
        return try file.pread(UnsafeMutableRawBufferPointer(rebasing: buffer[0..<count]), at: base + offset)
    }

    func source(offset: Int, length: Int) -> ByteSource {
        FileRange(file, offset: base + offset, length: max(0, min(length, size - offset)))
    }
}

final class MemoryAccess: RandomAccess {
    let bytes: [UInt8]
    var size: Int { bytes.count }
    init(_ bytes: [UInt8]) { self.bytes = bytes }

    func read(_ buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws -> Int {
        guard offset >= 0, offset <= bytes.count else { return 0 }
        let n = min(buffer.count, bytes.count - offset)
        bytes.withUnsafeBytes { copy($0, from: offset, count: n, to: buffer) }
        return n
    }

    func source(offset: Int, length: Int) -> ByteSource {
        let start = max(0, min(offset, bytes.count))
        return MemorySource(bytes, offset: start, length: max(0, min(length, bytes.count - start)))
    }
}

/// What one input costs as it is read: the bytes read from the file on disk (the input), the bytes
/// decompressed from it, and the clock. Limits scale with the input: a large image read at full speed
/// never runs out of time, and a small bomb cannot expand without bound.
final class Meter: @unchecked Sendable {
    let limits: ArchiveLimits
    private let state = Mutex<(input: Int, expanded: Int, reported: Int)>((0, 0, 0))
    let start = Meter.now()
    /// Member buffers alive now, and the most alive at once.
    let buffers = Mutex<(live: Int, peak: Int)>((0, 0))
    let progress: (@Sendable (Int) -> Void)?
    static let progressStep = 16 << 20

    init(limits: ArchiveLimits, progress: (@Sendable (Int) -> Void)?) {
        self.limits = limits
        self.progress = progress
    }

    func read(_ count: Int) {
        let report: Int? = state.withLock { s in
            s.input += count
            guard s.input - s.reported >= Self.progressStep else { return nil }
            s.reported = s.input
            return s.input
        }
        if let report { progress?(report) }
    }

    var inputBytes: Int { state.withLock { $0.input } }

    /// The most bytes that may be decompressed from this input so far: `maxTotalBytes` at most, and past
    /// `expansionFloor` no more than `maxExpansionRatio` times the input read.
    var expansionLimit: Int {
        let input = inputBytes
        let (ratio, overflow) = input.multipliedReportingOverflow(by: limits.maxExpansionRatio)
        return min(limits.maxTotalBytes, max(limits.expansionFloor, overflow ? Int.max : ratio))
    }

    /// Counts `count` decompressed bytes; throws past the expansion limit.
    func expanded(_ count: Int) throws {
        let total = state.withLock { s -> Int in
            s.expanded += count
            return s.expanded
        }
        let limit = expansionLimit
        if total > limit {
            throw ArchiveError(
                "decompressed bytes are over the limit of \(limit) for this input (--max-total-bytes \(limits.maxTotalBytes); past \(limits.expansionFloor) bytes, --max-expansion-ratio \(limits.maxExpansionRatio) times the \(inputBytes) bytes read); the rest not read"
            )
        }
    }

    /// Seconds this input may take: `maxSeconds`, and as much again for each `secondsScaleBytes` read.
    var allowedSeconds: Double {
        limits.maxSeconds * (1 + Double(inputBytes) / Double(ArchiveLimits.secondsScaleBytes))
    }
    var elapsed: Double { Double(Meter.now() &- start) / 1e9 }
    var timeUp: Bool { elapsed >= allowedSeconds }
    var timeLeft: Double { max(0, allowedSeconds - elapsed) }

    var timeMessage: String {
        "stopped after \(limits.maxSeconds.formattedSeconds) s (--max-seconds-per-file, more for each \(ArchiveLimits.secondsScaleBytes >> 20) MiB read): too much work for one file; not judged"
    }

    func checkTime() throws { if timeUp { throw ArchiveError(timeMessage) } }

    static func now() -> UInt64 {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return UInt64(t.tv_sec) &* 1_000_000_000 &+ UInt64(t.tv_nsec)
    }
}

extension Double {
    var formattedSeconds: String { self == rounded() && abs(self) < 1e15 ? String(Int(self)) : String(self) }
}

/// A member's bytes held for reading, counted by its input's meter while alive: tests check that no
/// more than one ELF member is held at a time and none outlives the reading.
final class MemberBuffer {
    var bytes: [UInt8]
    private let meter: Meter?
    init(_ bytes: [UInt8], meter: Meter?) {
        self.bytes = bytes
        self.meter = meter
        meter?.buffers.withLock {
            $0.live += 1
            $0.peak = max($0.peak, $0.live)
        }
    }
    private var letGo = false
    deinit { release() }

    /// Lets go of the bytes now (not when the last reference goes, which a debug build may keep to the end of
    /// the scope): the gate between layers' expanders counts on it.
    func release() {
        guard !letGo else { return }
        letGo = true
        bytes = []
        meter?.buffers.withLock { $0.live -= 1 }
    }

    /// What a buffer's holder keeps once the bytes were read (counted by no meter).
    static var released: MemberBuffer { MemberBuffer([], meter: nil) }
}
