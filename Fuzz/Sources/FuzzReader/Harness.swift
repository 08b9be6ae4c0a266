// libFuzzer entry point. FUZZ_TARGET chooses what the input is made into before it is read:
//   all (default)  the ELF reader and the verdict engine, and the archive reader on inputs that look like archives
//   tar            a tar (header checksums repaired, so that mutations reach past them)
//   tgz, txz, tzst that tar compressed with gzip, xz or zstd (an input already compressed is read as it is)
//   zip            a zip, as it is
//   deb            a Debian package whose data.tar (or data.tar.gz/.xz/.zst, by the first byte) is the input;
//                  an input that is already an ar archive is read as it is
//   image          a docker-save or OCI tar (checksums of every nested header repaired)
//   layout         an OCI image layout directory (Layout.swift): the input's first byte chooses which of a small
//                  fixed layout's files (index.json, the manifest, the config, either layer) the rest replaces;
//                  every ELF file found is judged and its libraries looked for through the image's links
// Archives are read from a file descriptor (a memfd), as the scanner reads them: in place, images by
// offset. Any crash, hang or sanitizer report is a bug; the inputs that found one are kept, prepared
// (FUZZ_PREPARE=FILE writes the prepared bytes of the one input given and stops), in
// fixtures-bin/fuzz-regressions/ and replayed by the tests.
import Archives
import Assessment
import CCompression
import ELF
import Foundation
import Knowledge
import Scanning
#if canImport(Glibc)
import Glibc
#endif

let assessor: Assessor? = {
    guard case .success(let kb) = KnowledgeBase.shared, let release = kb.release(named: "3.20") else { return nil }
    return Assessor(kb: kb, release: release)
}()

let limits: ArchiveLimits = {
    var l = ArchiveLimits()
    l.maxDepth = 3; l.maxMemberBytes = 1 << 20; l.maxTotalBytes = 4 << 20; l.maxEntries = 1000
    l.maxSeconds = 5
    l.layerJobs = 2  // an image's layers side by side, as `check` reads them on several cores
    return l
}()

enum Target: String { case all, tar, tgz, txz, tzst, zip, deb, image, layout }

let target: Target = {
    let name = ProcessInfo.processInfo.environment["FUZZ_TARGET"] ?? "all"
    guard let t = Target(rawValue: name) else {
        FileHandle.standardError.write(Data("FUZZ_TARGET: unknown target \(name)\n".utf8))
        exit(2)
    }
    return t
}()

/// One file descriptor reused for every input: a file in memory, unlinked at once.
let scratch: Int32 = {
    let path = "/dev/shm/muslcheck-fuzz-\(getpid())"
    let fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
    unlink(path)
    return fd
}()

// MARK: preparing an input

/// Sets the checksum of every 512-byte block with ustar's magic at 257 (headers of nested tars sit on
/// block boundaries of the outer one too), so that the fuzzer's mutations of header fields are read.
func repairTarChecksums(_ b: inout [UInt8]) {
    var at = 0
    while at + 512 <= b.count {
        if b[at + 257] == UInt8(ascii: "u"), b[at + 258] == UInt8(ascii: "s"), b[at + 259] == UInt8(ascii: "t"),
           b[at + 260] == UInt8(ascii: "a"), b[at + 261] == UInt8(ascii: "r") {
            var sum = 0
            for i in 0..<512 { sum += (148..<156).contains(i) ? 32 : Int(b[at + i]) }
            let digits = Array(String(sum, radix: 8).utf8)
            let field = [UInt8](repeating: UInt8(ascii: "0"), count: max(0, 6 - digits.count)) + digits.suffix(6) + [0, 32]
            for i in 0..<8 { b[at + 148 + i] = field[i] }
        }
        at += 512
    }
}

func gzip(_ input: [UInt8]) -> [UInt8] {
    var stream = z_stream()
    guard deflateInit2_(&stream, 1, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else { return input }
    defer { deflateEnd(&stream) }
    var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(input.count))) + 32)
    var input = input
    let written: Int = input.withUnsafeMutableBufferPointer { src in
        output.withUnsafeMutableBufferPointer { dst in
            stream.next_in = src.baseAddress; stream.avail_in = uInt(src.count)
            stream.next_out = dst.baseAddress; stream.avail_out = uInt(dst.count)
            return deflate(&stream, Z_FINISH) == Z_STREAM_END ? Int(stream.total_out) : -1
        }
    }
    return written < 0 ? input : Array(output.prefix(written))
}

func xz(_ input: [UInt8]) -> [UInt8] {
    var output = [UInt8](repeating: 0, count: lzma_stream_buffer_bound(input.count))
    var position = 0
    let ok = input.withUnsafeBufferPointer { src in
        output.withUnsafeMutableBufferPointer { dst in
            lzma_easy_buffer_encode(0, LZMA_CHECK_CRC64, nil, src.baseAddress, src.count, dst.baseAddress, &position, dst.count) == LZMA_OK
        }
    }
    return ok ? Array(output.prefix(position)) : input
}

func zstd(_ input: [UInt8]) -> [UInt8] {
    var output = [UInt8](repeating: 0, count: ZSTD_compressBound(input.count))
    let n = input.withUnsafeBufferPointer { src in
        output.withUnsafeMutableBufferPointer { dst in ZSTD_compress(dst.baseAddress, dst.count, src.baseAddress, src.count, 1) }
    }
    return ZSTD_isError(n) != 0 ? input : Array(output.prefix(n))
}

/// An ar archive of `members`, as dpkg-deb writes a package.
func ar(_ members: [(name: String, data: [UInt8])]) -> [UInt8] {
    var out = Array("!<arch>\n".utf8)
    func field(_ s: String, _ width: Int) -> [UInt8] {
        let b = Array(s.utf8.prefix(width))
        return b + [UInt8](repeating: UInt8(ascii: " "), count: width - b.count)
    }
    for m in members {
        out += field(m.name, 16) + field("0", 12) + field("0", 6) + field("0", 6) + field("100644", 8) + field(String(m.data.count), 10)
        out += Array("`\n".utf8) + m.data
        if m.data.count % 2 == 1 { out.append(UInt8(ascii: "\n")) }
    }
    return out
}

func compressed(_ b: [UInt8]) -> Bool { Archives.kind(b).map { $0 == .gzip || $0 == .xz || $0 == .zstd } ?? false }

/// The bytes the chosen target reads for one fuzz input.
func prepare(_ input: [UInt8]) -> [UInt8] {
    var b = input
    switch target {
    case .all, .zip, .layout: return b
    case .tar, .image: repairTarChecksums(&b); return b
    case .tgz, .txz, .tzst:
        if compressed(b) { return b }  // the decompressor fuzzed directly
        repairTarChecksums(&b)
        return target == .tgz ? gzip(b) : target == .txz ? xz(b) : zstd(b)
    case .deb:
        if b.starts(with: Array("!<arch>\n".utf8)) { return b }
        let kind = b.first.map { $0 % 4 } ?? 0
        var data = Array(b.dropFirst())
        repairTarChecksums(&data)
        let (name, payload) = kind == 1 ? ("data.tar.gz", gzip(data)) : kind == 2 ? ("data.tar.xz", xz(data))
            : kind == 3 ? ("data.tar.zst", zstd(data)) : ("data.tar", data)
        return ar([("debian-binary", Array("2.0\n".utf8)), ("control.tar.gz", gzip([UInt8](repeating: 0, count: 1024))), (name, payload)])
    }
}

// MARK: reading it

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data else { return 0 }
    let bytes = prepare(Array(UnsafeBufferPointer(start: data, count: size)))
    if target == .layout {
        fuzzLayout(bytes)
        return 0
    }
    if target == .all {
        if case .elf(let facts) = ELFReader.read(bytes: bytes, options: ReadOptions(exportNames: true)) {
            _ = assessor?.assess(facts, path: "fuzz/input")
        }
        if let kind = Archives.kind(bytes) {
            // The scanner's peek: a compressed file judged from its first 512 bytes only.
            _ = Archives.holdsCandidate(kind, bytes.prefix(512))
            _ = Archives.expand(name: "input", bytes: bytes, limits: limits)  // each ELF member read as found
        }
        return 0
    }
    if let kind = Archives.kind(bytes) { _ = Archives.holdsCandidate(kind, bytes.prefix(512)) }
    // In place from a file, as the scanner reads an input on disk (images by offset, zips by range).
    guard scratch >= 0, ftruncate(scratch, 0) == 0 else { return 0 }
    let written = bytes.withUnsafeBytes { raw in raw.baseAddress.map { pwrite(scratch, $0, raw.count, 0) } ?? 0 }
    guard written == bytes.count else { return 0 }
    let e = Archives.expand(fd: scratch, size: bytes.count, name: "input", limits: limits)
    for file in e.files {
        if case .elf(let facts) = file.result { _ = assessor?.assess(facts, path: file.path) }
    }
    return 0
}

// SwiftPM names an executable's entry point <Target>_main; hand control to libFuzzer's driver from there.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Int32

@_cdecl("FuzzReader_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    // FUZZ_PREPARE=OUT FuzzReader INPUT: the bytes the target reads for INPUT, for a regression file.
    if let out = ProcessInfo.processInfo.environment["FUZZ_PREPARE"], argc >= 2, let arg = argv?[Int(argc) - 1] {
        guard let input = FileManager.default.contents(atPath: String(cString: arg)) else { return 1 }
        return FileManager.default.createFile(atPath: out, contents: Data(prepare([UInt8](input)))) ? 0 : 1
    }
    // FUZZ_SEEDS=DIR FuzzReader (layout target): the fixed layout's files as seeds, one per file it may replace.
    if target == .layout, let dir = ProcessInfo.processInfo.environment["FUZZ_SEEDS"] {
        return LayoutFiles.writeSeeds(to: dir) ? 0 : 1
    }
    var count = argc
    var args = argv
    return LLVMFuzzerRunDriver(&count, &args, fuzz)
}
