// gzip, xz, lzma and zstd streams decompressed through the reference C libraries as they are read,
// every byte out counted against the input's expansion limit so that a small bomb cannot run on.
import CCompression
import ELF

public struct ArchiveError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

enum Decompress {
    static let chunk = 1 << 16

    /// Up to `count` decompressed bytes from the start of a gzip, xz or zstd stream that may be cut short
    /// (the first bytes of a file), and whether the stream ended there; nil when the data is damaged.
    static func peek(_ kind: ArchiveKind, _ input: ArraySlice<UInt8>, count: Int) -> (bytes: [UInt8], ended: Bool)? {
        var output = [UInt8](repeating: 0, count: count)
        var produced = 0
        var ended = false
        let ok: Bool = input.withUnsafeBufferPointer { inBuf in
            output.withUnsafeMutableBufferPointer { out in
                guard let inBase = inBuf.baseAddress, let outBase = out.baseAddress else { return false }
                switch kind {
                case .gzip:
                    var s = z_stream()
                    guard inflateInit2_(&s, 15 + 16, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
                        return false
                    }
                    defer { inflateEnd(&s) }
                    s.next_in = UnsafeMutablePointer(mutating: inBase)
                    s.avail_in = UInt32(clamping: inBuf.count)
                    s.next_out = outBase
                    s.avail_out = UInt32(count)
                    let status = inflate(&s, Z_SYNC_FLUSH)
                    produced = count - Int(s.avail_out)
                    // A gzip member that ends early with more input after it (an .apk) is left undecided.
                    ended = status == Z_STREAM_END && s.avail_in == 0
                    return status == Z_OK || status == Z_BUF_ERROR || ended
                case .xz:
                    var s = lzma_stream()
                    guard lzma_stream_decoder(&s, 1 << 26, 0) == LZMA_OK else { return false }
                    defer { lzma_end(&s) }
                    s.next_in = UnsafePointer(inBase)
                    s.avail_in = inBuf.count
                    s.next_out = outBase
                    s.avail_out = count
                    var status = LZMA_OK
                    var rounds = 0
                    while status == LZMA_OK, s.avail_out > 0, s.avail_in > 0, rounds < 64 {
                        status = lzma_code(&s, LZMA_RUN)
                        rounds += 1
                    }
                    produced = count - s.avail_out
                    ended = status == LZMA_STREAM_END && s.avail_in == 0
                    return status == LZMA_OK || status == LZMA_BUF_ERROR || ended
                case .zstd:
                    guard let d = ZSTD_createDStream() else { return false }
                    defer { ZSTD_freeDStream(d) }
                    var inb = ZSTD_inBuffer(src: inBase, size: inBuf.count, pos: 0)
                    var outb = ZSTD_outBuffer(dst: outBase, size: count, pos: 0)
                    var status = 1
                    var rounds = 0
                    while ZSTD_isError(status) == 0, status != 0, outb.pos < count, inb.pos < inb.size, rounds < 64 {
                        status = ZSTD_decompressStream(d, &outb, &inb)
                        rounds += 1
                    }
                    produced = outb.pos
                    ended = status == 0 && inb.pos == inb.size
                    return ZSTD_isError(status) == 0
                case .zip, .tar, .ar, .lzma, .bzip2:
                    return false
                }
            }
        }
        return ok ? (Array(output[0..<produced]), ended) : nil
    }

}

/// Reads the first bytes of many raw deflate streams (the members of one zip) with one zlib state: a
/// fresh state per member (its allocation and window) cost more than the decoding itself.
final class DeflateHeads {
    private let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
    private let ready: Bool
    /// Where the bytes are decoded, kept for the next member (the answer is a copy of what was decoded).
    private var output: [UInt8] = []

    init() {
        stream.initialize(to: z_stream())
        ready = inflateInit2_(stream, -15, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK
    }

    deinit {
        if ready { inflateEnd(stream) }
        stream.deinitialize(count: 1)
        stream.deallocate()
    }

    /// How many input bytes the last `head` consumed: all that its answer depends on.
    var consumed: Int { Int(stream.pointee.total_in) }

    /// The first `count` bytes (or fewer, at the end) of `input`; nil when they cannot be decoded.
    func head(_ input: ArraySlice<UInt8>, count: Int) -> [UInt8]? {
        guard count >= 0, ready, inflateReset(stream) == Z_OK else { return nil }
        if output.count < count { output = [UInt8](repeating: 0, count: count) }
        let status: Int32 = input.withUnsafeBufferPointer { inBuf in
            output.withUnsafeMutableBufferPointer { out in
                guard let base = inBuf.baseAddress, let outBase = out.baseAddress else { return Z_DATA_ERROR }
                stream.pointee.next_in = UnsafeMutablePointer(mutating: base)
                stream.pointee.avail_in = UInt32(clamping: inBuf.count)
                stream.pointee.next_out = outBase
                stream.pointee.avail_out = UInt32(clamping: count)
                return inflate(stream, Z_SYNC_FLUSH)
            }
        }
        guard status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR else { return nil }
        return Array(output[0..<(count - Int(stream.pointee.avail_out))])
    }
}

/// A gzip (every member of a concatenation: .apk files are several back to back), xz, lzma or zstd stream
/// decompressed as it is read. Each byte out is counted by the input's meter, which stops a bomb.
final class Decompressed: ByteSource {
    let kind: ArchiveKind
    private let inner: ByteSource
    private let meter: Meter
    private var input = [UInt8](repeating: 0, count: 1 << 16)
    private var inputStart = 0, inputEnd = 0
    private var innerEnded = false
    private var ended = false
    private var produced = 0
    private var sinceCheck = 0
    private var stalls = 0
    private let zlib = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
    private let lzma = UnsafeMutablePointer<lzma_stream>.allocate(capacity: 1)
    private var zstd: OpaquePointer?
    private var ready = false
    /// zstd: the last call's answer (0: a frame ended and was flushed).
    private var zstdStatus = 1

    /// A raw deflate stream (a zip member) rather than gzip.
    private let raw: Bool

    init(_ kind: ArchiveKind, _ inner: ByteSource, meter: Meter, rawDeflate: Bool = false) throws {
        self.kind = kind
        self.inner = inner
        self.meter = meter
        raw = rawDeflate
        zlib.initialize(to: z_stream())
        lzma.initialize(to: lzma_stream())
        super.init()
        switch kind {
        case .gzip:
            ready =
                inflateInit2_(zlib, rawDeflate ? -15 : 15 + 16, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
                == Z_OK
        case .xz:
            ready = lzma_stream_decoder(lzma, memoryLimit, Self.lzmaConcatenated) == LZMA_OK
        case .lzma:
            ready = lzma_alone_decoder(lzma, memoryLimit) == LZMA_OK
        case .zstd:
            zstd = ZSTD_createDStream()
            ready = zstd != nil
        case .zip, .tar, .ar, .bzip2:
            ready = false
        }
        guard ready else { throw ArchiveError("\(kind.rawValue): cannot start decoding") }
    }

    /// xz and lzma headers name the dictionary they need: a forged one asks for gigabytes.
    private var memoryLimit: UInt64 { UInt64(max(1 << 26, meter.limits.maxMemberBytes)) }
    /// liblzma's LZMA_CONCATENATED flag (a macro the C module does not import): read every stream of the file.
    static let lzmaConcatenated: UInt32 = 0x08

    deinit {
        if ready {
            switch kind {
            case .gzip: inflateEnd(zlib)
            case .xz, .lzma: lzma_end(lzma)
            default: break
            }
        }
        if let zstd { ZSTD_freeDStream(zstd) }
        zlib.deinitialize(count: 1)
        zlib.deallocate()
        lzma.deinitialize(count: 1)
        lzma.deallocate()
    }

    /// Makes input available (keeping what is left); false at the end of the inner source.
    private func refill() throws -> Bool {
        if inputStart < inputEnd { return true }
        guard !innerEnded else { return false }
        let n = try input.withUnsafeMutableBytes { try inner.read($0) }
        inputStart = 0
        inputEnd = n
        if n == 0 { innerEnded = true }
        return n > 0
    }

    override func read(_ out: UnsafeMutableRawBufferPointer) throws -> Int {
        guard !ended, out.count > 0, out.baseAddress != nil else { return 0 }
        while true {
            let hasInput = try refill()
            let (used, made, finished) = try input.withUnsafeMutableBytes { inRaw -> (Int, Int, Bool) in
                guard let inBase = inRaw.baseAddress else { return (0, 0, false) }
                let available = inputEnd - inputStart
                let next = inBase + inputStart
                switch kind {
                case .gzip: return try inflateStep(next, available, into: out, hasInput: hasInput)
                case .xz, .lzma: return try lzmaStep(next, available, into: out, hasInput: hasInput)
                default: return try zstdStep(next, available, into: out, hasInput: hasInput)
                }
            }
            inputStart += used
            // A decoder that neither takes input nor gives output would loop for ever: damage.
            stalls = used == 0 && made == 0 && !finished ? stalls + 1 : 0
            if stalls > 2 { throw ArchiveError("\(kind.rawValue) stream makes no progress after \(produced) bytes") }
            if made > 0 {
                produced += made
                try meter.expanded(made)
                sinceCheck += made
                if sinceCheck >= 1 << 22 {
                    sinceCheck = 0
                    try meter.checkTime()
                }
            }
            if finished {
                if kind == .gzip, !raw, try nextGzipMember() {
                    if made > 0 { return made }
                    continue
                }
                ended = true
                return made
            }
            if made > 0 { return made }
            if !hasInput && kind != .zstd {
                throw ArchiveError("\(kind.rawValue) stream is truncated after \(produced) bytes")
            }
        }
    }

    /// One step of each decoder over `available` input bytes at `next` into `out`: the input bytes it used,
    /// the bytes it made, and whether the stream ended.
    private func inflateStep(
        _ next: UnsafeMutableRawPointer, _ available: Int, into out: UnsafeMutableRawBufferPointer, hasInput: Bool
    ) throws -> (used: Int, made: Int, finished: Bool) {
        guard let outBase = out.baseAddress else { return (0, 0, false) }
        zlib.pointee.next_in = next.assumingMemoryBound(to: UInt8.self)
        zlib.pointee.avail_in = UInt32(available)
        zlib.pointee.next_out = outBase.assumingMemoryBound(to: UInt8.self)
        let room = min(out.count, Int(UInt32.max))  // zlib counts in 32 bits
        zlib.pointee.avail_out = UInt32(room)
        let status = inflate(zlib, Z_NO_FLUSH)
        let made = room - Int(zlib.pointee.avail_out)
        let used = available - Int(zlib.pointee.avail_in)
        if status == Z_STREAM_END {
            return (used, made, true)
        } else if status == Z_BUF_ERROR && !hasInput {
            throw ArchiveError("\(raw ? "deflate" : "gzip") stream is truncated after \(produced + made) bytes")
        } else if status != Z_OK && status != Z_BUF_ERROR {
            throw ArchiveError(
                "\(raw ? "deflate" : "gzip") data is damaged (zlib status \(status)) after \(produced + made) bytes"
            )
        }
        return (used, made, false)
    }

    private func lzmaStep(
        _ next: UnsafeMutableRawPointer, _ available: Int, into out: UnsafeMutableRawBufferPointer, hasInput: Bool
    ) throws -> (used: Int, made: Int, finished: Bool) {
        guard let outBase = out.baseAddress else { return (0, 0, false) }
        lzma.pointee.next_in = UnsafePointer(next.assumingMemoryBound(to: UInt8.self))
        lzma.pointee.avail_in = available
        lzma.pointee.next_out = outBase.assumingMemoryBound(to: UInt8.self)
        lzma.pointee.avail_out = out.count
        let status = lzma_code(lzma, hasInput ? LZMA_RUN : LZMA_FINISH)
        let made = out.count - lzma.pointee.avail_out
        let used = available - lzma.pointee.avail_in
        if status == LZMA_STREAM_END {
            return (used, made, true)
        } else if status == LZMA_BUF_ERROR && !hasInput {
            throw ArchiveError("\(kind.rawValue) stream is truncated after \(produced + made) bytes")
        } else if status != LZMA_OK && status != LZMA_BUF_ERROR {
            throw ArchiveError(
                "\(kind.rawValue) data is damaged (liblzma status \(status.rawValue)) after \(produced + made) bytes"
            )
        }
        return (used, made, false)
    }

    private func zstdStep(
        _ next: UnsafeMutableRawPointer, _ available: Int, into out: UnsafeMutableRawBufferPointer, hasInput: Bool
    ) throws -> (used: Int, made: Int, finished: Bool) {
        guard let outBase = out.baseAddress else { return (0, 0, false) }
        if !hasInput {
            if zstdStatus == 0 { return (0, 0, true) }
            throw ArchiveError("zstd stream is truncated after \(produced) bytes")
        }
        var inb = ZSTD_inBuffer(src: UnsafeRawPointer(next), size: available, pos: 0)
        var outb = ZSTD_outBuffer(dst: outBase, size: out.count, pos: 0)
        let status = ZSTD_decompressStream(zstd, &outb, &inb)
        if ZSTD_isError(status) != 0 {
            throw ArchiveError(
                "zstd data is damaged: \(String(cString: ZSTD_getErrorName(status))) after \(produced) bytes"
            )
        }
        zstdStatus = status
        return (inb.pos, outb.pos, false)
    }

    /// After a gzip member: another one follows (its magic), or the stream ends (trailing zeros or other
    /// bytes are ignored, as gzip itself does).
    private func nextGzipMember() throws -> Bool {
        if inputEnd - inputStart < 2, !innerEnded {
            // Keep the byte left and read more after it.
            let left = Array(input[inputStart..<inputEnd])
            let n = try input.withUnsafeMutableBytes { raw -> Int in
                for (i, b) in left.enumerated() { raw[i] = b }
                return try inner.read(UnsafeMutableRawBufferPointer(rebasing: raw[left.count...]))
            }
            inputStart = 0
            inputEnd = left.count + n
            if n == 0 { innerEnded = true }
        }
        guard inputEnd - inputStart >= 2, input[inputStart] == 0x1F, input[inputStart + 1] == 0x8B else { return false }
        guard inflateReset(zlib) == Z_OK else { throw ArchiveError("zlib: cannot restart after a gzip member") }
        return true
    }
}
