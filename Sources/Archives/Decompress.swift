// gzip, xz and zstd streams decompressed in memory through the reference C libraries, each with a cap
// on the output so that a small bomb cannot exhaust memory.
import CCompression
import ELF

public struct ArchiveError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

enum Decompress {
    static let chunk = 1 << 16

    /// The decompressed bytes of a gzip, xz or zstd stream; nil for any other kind.
    static func stream(_ kind: ArchiveKind, _ input: [UInt8], limit: Int, deadline: Deadline? = nil) throws -> [UInt8]? {
        switch kind {
        case .gzip: return try gzip(input, limit: limit, deadline: deadline)
        case .xz: return try xz(input, limit: limit, deadline: deadline)
        case .zstd: return try zstd(input, limit: limit, deadline: deadline)
        case .zip, .tar, .ar: return nil
        }
    }

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
                    guard inflateInit2_(&s, 15 + 16, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else { return false }
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
                case .zip, .tar, .ar:
                    return false
                }
            }
        }
        return ok ? (Array(output[0..<produced]), ended) : nil
    }

    /// gzip (every concatenated member: Alpine .apk files are several gzip streams back to back).
    static func gzip(_ input: [UInt8], limit: Int, deadline: Deadline? = nil) throws -> [UInt8] {
        var stream = z_stream()
        guard inflateInit2_(&stream, 15 + 16, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw ArchiveError("zlib: cannot start inflating")
        }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: chunk)
        try input.withUnsafeBufferPointer { inBuf in
            guard let base = inBuf.baseAddress else { return }
            stream.next_in = UnsafeMutablePointer(mutating: base)
            stream.avail_in = UInt32(inBuf.count)
            while true {
                let status: Int32 = buffer.withUnsafeMutableBufferPointer { out in
                    stream.next_out = out.baseAddress
                    stream.avail_out = UInt32(out.count)
                    return inflate(&stream, Z_NO_FLUSH)
                }
                let produced = chunk - Int(stream.avail_out)
                output.append(contentsOf: buffer[0..<produced])
                if output.count > limit { throw ArchiveError("gzip stream expands past the \(limit)-byte limit") }
                if let deadline, output.count & 0xFFFFF < chunk, deadline.passed { throw ArchiveError(deadline.message) }
                if status == Z_STREAM_END {
                    // Another gzip member may follow; trailing zero padding ends the file.
                    if stream.avail_in == 0 || UnsafeBufferPointer(start: stream.next_in, count: Int(stream.avail_in)).allSatisfy({ $0 == 0 }) { return }
                    guard inflateReset(&stream) == Z_OK else { throw ArchiveError("zlib: cannot restart after a gzip member") }
                    continue
                }
                guard status == Z_OK || (status == Z_BUF_ERROR && produced > 0) else {
                    throw ArchiveError("gzip data is damaged (zlib status \(status)) after \(output.count) bytes")
                }
                if stream.avail_in == 0 && produced == 0 { throw ArchiveError("gzip stream is truncated after \(output.count) bytes") }
            }
        }
        return output
    }

    static func xz(_ input: [UInt8], limit: Int, deadline: Deadline? = nil) throws -> [UInt8] {
        var stream = lzma_stream()
        guard lzma_stream_decoder(&stream, UInt64(max(limit, 1 << 26)) * 2, 0x08 /* LZMA_CONCATENATED */) == LZMA_OK else {
            throw ArchiveError("liblzma: cannot start decoding")
        }
        defer { lzma_end(&stream) }
        var output: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: chunk)
        try input.withUnsafeBufferPointer { inBuf in
            stream.next_in = inBuf.baseAddress
            stream.avail_in = inBuf.count
            var action = LZMA_RUN
            while true {
                if stream.avail_in == 0 { action = LZMA_FINISH }
                let status = buffer.withUnsafeMutableBufferPointer { out -> lzma_ret in
                    stream.next_out = out.baseAddress
                    stream.avail_out = out.count
                    return lzma_code(&stream, action)
                }
                let produced = chunk - stream.avail_out
                output.append(contentsOf: buffer[0..<produced])
                if output.count > limit { throw ArchiveError("xz stream expands past the \(limit)-byte limit") }
                if let deadline, output.count & 0xFFFFF < chunk, deadline.passed { throw ArchiveError(deadline.message) }
                if status == LZMA_STREAM_END { return }
                guard status == LZMA_OK else { throw ArchiveError("xz data is damaged (liblzma status \(status.rawValue)) after \(output.count) bytes") }
            }
        }
        return output
    }

    static func zstd(_ input: [UInt8], limit: Int, deadline: Deadline? = nil) throws -> [UInt8] {
        guard let stream = ZSTD_createDStream() else { throw ArchiveError("libzstd: cannot start decoding") }
        defer { ZSTD_freeDStream(stream) }
        var output: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: chunk)
        try input.withUnsafeBufferPointer { inBuf in
            var inb = ZSTD_inBuffer(src: inBuf.baseAddress, size: inBuf.count, pos: 0)
            while true {
                var produced = 0
                let status = buffer.withUnsafeMutableBufferPointer { out -> Int in
                    var outb = ZSTD_outBuffer(dst: out.baseAddress, size: out.count, pos: 0)
                    let r = ZSTD_decompressStream(stream, &outb, &inb)
                    produced = outb.pos
                    return r
                }
                if ZSTD_isError(status) != 0 {
                    throw ArchiveError("zstd data is damaged: \(String(cString: ZSTD_getErrorName(status))) after \(output.count) bytes")
                }
                output.append(contentsOf: buffer[0..<produced])
                if output.count > limit { throw ArchiveError("zstd stream expands past the \(limit)-byte limit") }
                if let deadline, output.count & 0xFFFFF < chunk, deadline.passed { throw ArchiveError(deadline.message) }
                if inb.pos == inb.size && produced < chunk {
                    if status != 0 { throw ArchiveError("zstd stream is truncated after \(output.count) bytes") }
                    return
                }
            }
        }
        return output
    }
}

/// Reads the first bytes of many raw deflate streams (the members of one zip) with one zlib state: a
/// fresh state per member (its allocation and window) cost more than the decoding itself.
final class DeflateHeads {
    private let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
    private let ready: Bool

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
        guard ready, inflateReset(stream) == Z_OK else { return nil }
        var output = [UInt8](repeating: 0, count: count)
        let status: Int32 = input.withUnsafeBufferPointer { inBuf in
            output.withUnsafeMutableBufferPointer { out in
                guard let base = inBuf.baseAddress, let outBase = out.baseAddress else { return Z_DATA_ERROR }
                stream.pointee.next_in = UnsafeMutablePointer(mutating: base)
                stream.pointee.avail_in = UInt32(clamping: inBuf.count)
                stream.pointee.next_out = outBase
                stream.pointee.avail_out = UInt32(out.count)
                return inflate(stream, Z_SYNC_FLUSH)
            }
        }
        guard status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR else { return nil }
        return Array(output[0..<(count - Int(stream.pointee.avail_out))])
    }
}
