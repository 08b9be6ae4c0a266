import ELF
import Foundation
import Scanning
import TestSupport
import Testing

@Suite struct DamagedInput {
    /// What each derived file must give: an error, or facts with a gap in the named part.
    static let expectations: [String: String] = [
        "empty": "not-elf", "magic-only": "error",
        "truncated-ehdr": "error", "truncated-phdrs": "error", "phoff-past-end": "error",
        "garbage-after-magic": "error",
        "truncated-half": "gap:dynamic", "dynamic-past-end": "gap:dynamic", "phnum-huge": "gap:dynamic",
        "shoff-past-end": "gap:sections", "dynsym-entsize-zero": "gap:sections",
        "versym-past-end": "gap:sections", "vernaux-name-past-strtab": "gap:versions",
        "dynstr-unterminated": "gap:dynamic",
        "dynamic-size-huge": "ok", "dynsym-size-huge": "gap:sections", "verneed-count-huge": "ok",
        "verneed-next-wraps": "ok", "vernaux-next-wraps": "gap:versions", "relacount-huge": "ok",
    ]

    @Test(arguments: Fixtures.manifest.malformed.map(\.name))
    func eachMalformedFileIsReportedPrecisely(name: String) {
        let result = ELFReader.read(path: Fixtures.malformed.appendingPathComponent(name).path)
        let expected = Self.expectations[name]
        #expect(expected != nil, "no expectation for \(name)")
        switch result {
        case .notELF: #expect(expected == "not-elf")
        case .failed(let message):
            #expect(expected == "error", "\(name): \(message)")
            #expect(!message.isEmpty)
        case .elf(let f):
            if let expected, expected.hasPrefix("gap:") {
                #expect(f.gaps.contains { "gap:" + $0.part.rawValue == expected }, "\(name): gaps \(f.gaps)")
            } else {
                #expect(expected == "ok", "\(name): read cleanly but expected \(expected ?? "?")")
            }
        }
    }

    /// Every input that ever crashed the reader, replayed through it (and the archive reader).
    @Test func fuzzRegressionsStayFixed() throws {
        let dir = Fixtures.dir.appendingPathComponent("fuzz-regressions")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter {
            $0 != "README.md" && !$0.hasPrefix("zip-")
        }
        #expect(!files.isEmpty)
        // A crash test first: reaching the end is the point. Beyond that, a refusal says why, and the same
        // bytes read twice give the same facts (nothing of one read leaks into the next).
        for name in files {
            let bytes = try [UInt8](Data(contentsOf: dir.appendingPathComponent(name)))
            let first = ELFReader.read(bytes: bytes, options: ReadOptions(exportNames: true))
            if case .failed(let message) = first { #expect(!message.isEmpty, "\(name)") }
            let again = ELFReader.read(bytes: bytes, options: ReadOptions(exportNames: true))
            #expect(String(describing: first) == String(describing: again), "\(name)")
        }
        guard case .elf(let f) = ELFReader.read(path: dir.appendingPathComponent("relacount-overflow").path) else {
            Issue.record("relacount-overflow no longer reads as ELF")
            return
        }
        #expect(f.needed == ["libc.so.6"])
    }

    @Test func errorMessagesSayWhereTheDamageIs() {
        guard
            case .failed(let message) = ELFReader.read(
                path: Fixtures.malformed.appendingPathComponent("phoff-past-end").path)
        else {
            Issue.record("expected an error")
            return
        }
        #expect(message.contains("e_phoff 18446744073709486080"))
        guard case .elf(let f) = ELFReader.read(path: Fixtures.malformed.appendingPathComponent("versym-past-end").path)
        else {
            Issue.record("expected facts")
            return
        }
        #expect(f.gaps.first?.message.contains("offset 68719476720") == true)
        #expect(f.needed == ["libc.so.6"])  // the rest is still read
    }

    /// Every prefix of small fixtures, and a stride through the others: each returns, none crashes.
    @Test(arguments: [
        "hello-glibc", "hello-nosections", "hello-musl", "lib/libgreet.so.1", "hello-s390x", "hello-i686",
    ])
    func everyTruncationPointReturns(name: String) throws {
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Fixtures.path(name))))
        var outcomes = [0, 0, 0]
        for length in 0...bytes.count {
            switch ELFReader.read(bytes: Array(bytes[0..<length])) {
            case .notELF: outcomes[0] += 1
            case .failed: outcomes[1] += 1
            case .elf: outcomes[2] += 1
            }
        }
        #expect(outcomes.reduce(0, +) == bytes.count + 1)
        #expect(outcomes[0] == 4)  // lengths 0...3 lack the magic
        #expect(outcomes[2] >= 1)  // the whole file reads
    }

    @Test(arguments: ["hello-go-cgo", "hello-static-glibc", "hello-cxx", "glibconly"])
    func truncationStrideOnLargerFiles(name: String) throws {
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Fixtures.path(name))))
        // These files end with their section header table, so no cut-off copy is whole: it is not ELF (under
        // four bytes), refused with a reason, or read with a gap that says what is missing; never clean.
        guard case .elf(let whole) = ELFReader.read(bytes: bytes) else {
            Issue.record("\(name) does not read")
            return
        }
        #expect(whole.gaps.isEmpty)
        for length in stride(from: 0, to: bytes.count, by: max(1, bytes.count / 3000)) {
            switch ELFReader.read(bytes: Array(bytes[0..<length])) {
            case .notELF: #expect(length < 4, "\(name) cut at \(length): not ELF")  // shorter than the magic
            case .failed(let message): #expect(!message.isEmpty)
            case .elf(let f): #expect(!f.gaps.isEmpty, "\(name) cut at \(length) reads as a whole file")
            }
        }
    }

    /// Deterministic byte corruption: a fixed seed, many flipped headers and tables. Nothing may crash.
    /// CORRUPTION_ITERATIONS and CORRUPTION_SEED make longer or different runs.
    @Test(arguments: [
        "hello-glibc", "hello-nosections", "lib/libgreet.so.1", "hello-s390x", "hello-i686", "hello-cxx", "hello-musl",
    ])
    func corruptedBytesNeverCrash(name: String) throws {
        let original = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Fixtures.path(name))))
        let environment = ProcessInfo.processInfo.environment
        var rng = SplitMix64(seed: environment["CORRUPTION_SEED"].flatMap { UInt64($0) } ?? 0x5EED)
        var results = [0, 0, 0]
        for _ in 0..<(environment["CORRUPTION_ITERATIONS"].flatMap { Int($0) } ?? 1500) {
            var bytes = original
            for _ in 0..<Int(rng.next() % 8 + 1) {
                // Mostly the first 4 KiB (headers, dynamic tables), sometimes anywhere.
                let span = rng.next() % 4 == 0 ? bytes.count : min(bytes.count, 4096)
                let at = Int(rng.next() % UInt64(span))
                bytes[at] = UInt8(truncatingIfNeeded: rng.next())
            }
            switch ELFReader.read(bytes: bytes) {
            case .notELF: results[0] += 1
            case .failed: results[1] += 1
            case .elf: results[2] += 1
            }
        }
        #expect(results[2] > 0)
    }

    @Test func fifosAndDevicesAreNeverOpenedForReading() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("muslcheck-fifo-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let fifo = dir.appendingPathComponent("pipe").path
        #expect(mkfifo(fifo, 0o600) == 0)
        // Named explicitly: reported, not opened.
        let named = Walker.collect([fifo, "/dev/null"])
        #expect(named.count == 2)
        #expect(named.allSatisfy { if case .unreadable = $0.kind { return true } else { return false } })
        // Found while walking: passed over.
        #expect(Walker.collect([dir.path]).isEmpty)
        // Read directly: refused without blocking.
        guard case .failed(let message) = ELFReader.read(path: fifo) else {
            Issue.record("FIFO was read")
            return
        }
        #expect(message == "not a regular file")
    }

    @Test func symlinksAreNotFollowedWhileWalking() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("muslcheck-links-\(getpid())")
        try FileManager.default.createDirectory(
            at: dir.appendingPathComponent("sub"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createSymbolicLink(
            atPath: dir.appendingPathComponent("sub/loop").path, withDestinationPath: dir.path)
        try FileManager.default.createSymbolicLink(
            atPath: dir.appendingPathComponent("outside").path, withDestinationPath: Fixtures.path("hello-glibc"))
        try Data([1, 2, 3]).write(to: dir.appendingPathComponent("sub/file"))
        #expect(Walker.collect([dir.path]).map { URL(fileURLWithPath: $0.path).lastPathComponent } == ["file"])
        // Asked to follow: the loop back to the root is walked once, the outside link is read.
        let followed = Walker.collect([dir.path], options: WalkOptions(followSymlinks: true)).map(\.path)
        #expect(followed.filter { $0.hasSuffix("/file") }.count == 1)
        #expect(followed.contains { $0.hasSuffix("/outside") })
    }
}
