import Foundation
import TestSupport
import Testing

@testable import ELF

/// Layouts built to make reading slow, big or fragile: many note or load headers over one stretch, huge
/// sparse files, a file truncated while it is mapped. Each must end with facts or a precise error, within
/// the per-file deadline and without keeping the file resident. Outcomes are asserted, not durations.
@Suite struct HostileLayouts {
    static func scratch(_ name: String) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("muslcheck-hostile-\(name)-\(getpid())")
        try? FileManager.default.removeItem(at: dir)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    /// hello-glibc with its program headers replaced by `count` copies of `header` (56 bytes, given the
    /// offset of the data appended after the table), then `data`; no section headers.
    static func withHeaders(_ count: Int, data: [UInt8], header: (_ index: Int, _ dataOffset: Int) -> [UInt8]) throws
        -> ELFImage
    {
        var elf = ELFImage([UInt8](try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("hello-glibc")))))
        let table = elf.bytes.count
        let dataOffset = table + count * 56
        elf.bytes += (0..<count).flatMap { header($0, dataOffset) } + data
        elf.put(0x20, table)
        elf.put(0x38, count, 2)
        elf.put(0x28, 0)
        elf.put(0x3C, 0, 2)
        return elf
    }

    static func phdr(type: Int, flags: Int, offset: Int, size: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 56)
        func put(_ at: Int, _ value: Int, _ n: Int) {
            for i in 0..<n { out[at + i] = UInt8(truncatingIfNeeded: value >> (8 * i)) }
        }
        put(0, type, 4)
        put(4, flags, 4)
        put(8, offset, 8)
        put(32, size, 8)
        put(40, size, 8)
        put(48, 8, 8)
        return out
    }

    /// 4,093 PT_NOTE headers over one 16 MiB Go build-ID note: read once, and only as far as a build ID goes.
    @Test func thousandsOfNoteHeadersOverOneHugeNote() throws {
        var note: [UInt8] = [4, 0, 0, 0, 0, 0, 0, 1, 4, 0, 0, 0] + Array("Go\0\0".utf8)  // descsz 16 MiB, type 4
        note += [UInt8](repeating: UInt8(ascii: "A"), count: 16 << 20)
        let elf = try Self.withHeaders(4093, data: note) { Self.phdr(type: 4, flags: 4, offset: $1, size: note.count) }
        guard case .elf(let f) = ELFReader.read(bytes: elf.bytes, options: ReadOptions(deadline: Deadline(seconds: 30)))
        else {
            Issue.record("not read")
            return
        }
        #expect(f.goBuildID?.utf8.count == FactsDecoder.maxGoBuildID)
    }

    /// 4,093 PT_NOTE headers, each starting one note later in a run of 8,192 small notes: at most
    /// `maxNotes` notes are read in all, and the rest is reported.
    @Test func thousandsOfNoteHeadersOverManyNotes() throws {
        let one: [UInt8] = [4, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0] + Array("XYZ\0".utf8)
        let notes = Array((0..<8192).map { _ in one }.joined())
        let patched = try Self.withHeaders(4093, data: notes) { i, at in
            Self.phdr(type: 4, flags: 4, offset: at + 16 * i, size: notes.count - 16 * i)
        }
        guard
            case .elf(let f) = ELFReader.read(
                bytes: patched.bytes, options: ReadOptions(deadline: Deadline(seconds: 30)))
        else {
            Issue.record("not read")
            return
        }
        #expect(
            f.gaps.contains { $0.part == .notes && $0.message.contains("more than \(FactsDecoder.maxNotes) notes") })
    }

    /// 4,093 overlapping writable PT_LOADs over the whole file and no section headers: the search for Go's
    /// build info visits each stretch once. Judged (the file has no dynamic segment left), not stopped.
    @Test func thousandsOfOverlappingLoadSegments() throws {
        let data = [UInt8](repeating: 0, count: 1 << 20)
        let elf = try Self.withHeaders(4093, data: data) {
            Self.phdr(type: 1, flags: 6, offset: 0, size: $1 + data.count)
        }
        let result = ELFReader.read(bytes: elf.bytes, options: ReadOptions(deadline: Deadline(seconds: 30)))
        guard case .elf(let f) = result else {
            Issue.record("\(result)")
            return
        }
        #expect(f.goBuildInfo == nil && f.gaps.isEmpty)
    }

    /// A 1.5 GiB sparse Go program whose last PT_LOAD spans it all and whose section headers are gone, so
    /// that all it loads is searched for the Go packages it uses: the search gives pages back as it goes.
    @Test func aHugeSparseFileIsNotKeptResident() throws {
        let dir = try Self.scratch("sparse")
        defer { try? FileManager.default.removeItem(at: dir) }
        var elf = ELFImage([UInt8](try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("hello-go-static")))))
        let size = 1536 << 20
        let last = try #require(elf.programHeaders(type: 1).max { elf.u($0 + 8, 8) < elf.u($1 + 8, 8) })
        let pOffset = elf.u(last + 8, 8)
        elf.put(last + 0x20, size - pOffset)
        elf.put(last + 0x28, size - pOffset)
        elf.put(0x28, 0)
        elf.put(0x3C, 0, 2)
        let path = dir.appendingPathComponent("sparse-elf").path
        try Data(elf.bytes).write(to: URL(fileURLWithPath: path))
        #expect(truncate(path, off_t(size)) == 0)
        var before = rusage()
        var after = rusage()
        getrusage(RUSAGE_SELF.rawValue, &before)
        let result = ELFReader.read(path: path, options: ReadOptions(deadline: Deadline(seconds: 120)))
        getrusage(RUSAGE_SELF.rawValue, &after)
        if case .failed(let message) = result { #expect(message.contains("--max-seconds-per-file"), "\(message)") }
        // ru_maxrss in KiB: the peak grows by far less than the 1.5 GiB a resident search would keep.
        #expect(after.ru_maxrss - before.ru_maxrss < 1 << 20, "peak grew by \(after.ru_maxrss - before.ru_maxrss) KiB")
    }

    /// A file truncated after it was mapped: the pages past its new end raise SIGBUS, which the guard turns
    /// into a report instead of the end of the batch.
    @Test func aFileTruncatedWhileReadIsReportedNotACrash() throws {
        let dir = try Self.scratch("truncated")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("go").path
        let original = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("hello-go-static")))
        #expect(original.count > Int(ELFReader.copyLimit))  // large enough to be mapped, not copied
        try original.write(to: URL(fileURLWithPath: path))
        let fd = open(path, O_RDWR)
        #expect(fd >= 0)
        defer { close(fd) }
        let whole = ELFReader.readMapped(fd: fd, size: original.count, options: ReadOptions())
        guard case .elf = whole else {
            Issue.record("the untouched file was not read: \(whole)")
            return
        }
        let cut = ELFReader.readMapped(fd: fd, size: original.count, options: ReadOptions()) { _ = ftruncate(fd, 4096) }
        guard case .failed(let message) = cut else {
            Issue.record("a truncated mapping was read as whole: \(cut)")
            return
        }
        #expect(message.contains("changed while it was read"))
    }

    /// A file shorter than its headers claim, read from disk: facts with the damage named, never a pass
    /// over what is not there.
    @Test func aFileShorterThanItsHeadersClaimIsReported() throws {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("recent"))))
        let result = ELFReader.read(bytes: Array(bytes.prefix(bytes.count / 3)))
        switch result {
        case .failed(let message): #expect(!message.isEmpty)
        case .elf(let f):
            #expect(
                f.gaps.contains { $0.part == .dynamic || $0.part == .symbols || $0.part == .relocations }, "\(f.gaps)")
        case .notELF: Issue.record("read as not ELF")
        }
    }
}
