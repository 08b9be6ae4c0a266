import ELF
import Foundation
import Scanning
import TestSupport
import Testing

/// Archive members' imports wait packed until judged: what comes back must be exactly what was packed.
@Suite struct PackedSymbolsTests {
    /// Every fixture (versioned, weak, unreferenced, TLS, IFUNC and COPY imports among them), and the
    /// system's own programs and libraries: unpacked equals read.
    @Test func roundTripsEveryImportOfRealFiles() throws {
        var paths = try FileManager.default.contentsOfDirectory(atPath: Fixtures.bin.path).map(Fixtures.path)
        paths += ["/usr/bin/ls", "/usr/bin/tar", "/usr/lib/x86_64-linux-gnu/libstdc++.so.6"]
        var compared = 0
        for path in paths {
            guard case .elf(let read) = ELFReader.read(path: path) else { continue }
            let packed = PackedSymbols(read.imports)
            #expect(packed.count == read.imports.count, "\(path)")
            #expect(packed.symbols == read.imports, "\(path)")
            var facts = read
            facts.packImports()
            #expect(facts.importsArePacked)
            #expect(facts.imports == read.imports, "reading packed imports gives them all: \(path)")
            facts.unpackImports()
            #expect(!facts.importsArePacked)
            #expect(facts.imports == read.imports, "\(path)")
            compared += read.imports.count
        }
        #expect(compared > 500, "the comparison must cover real import lists")
    }

    @Test func keepsEveryFieldOfAnImport() {
        let names = ["", "a", String(repeating: "long_symbol_name_", count: 20), "non-ascii-é-名前"]
        var symbols: [ImportedSymbol] = []
        for (i, name) in names.enumerated() {
            for type in [SymbolType.notype, .object, .func, .tls, .ifunc, .common, .other] {
                symbols.append(
                    ImportedSymbol(
                        name: name + "\(i)", version: i % 2 == 0 ? "GLIBC_2.\(i)" : nil,
                        library: i % 3 == 0 ? "libc.so.6" : nil, weak: i % 2 == 1, type: type,
                        referenced: type != .tls))
            }
        }
        // 200 distinct versions: references past one LEB128 byte.
        for v in 0..<200 { symbols.append(ImportedSymbol(name: "v\(v)", version: "V_\(v)", library: "libv.so")) }
        #expect(PackedSymbols(symbols).symbols == symbols)
        #expect(PackedSymbols([]).symbols.isEmpty)
    }

    /// Appending to packed imports (the decoder's way of filling them) keeps the ones packed before.
    @Test func appendingToPackedImportsKeepsThem() throws {
        guard case .elf(var facts) = ELFReader.read(path: Fixtures.path("recent")) else {
            Issue.record("fixture not read")
            return
        }
        let before = facts.imports
        facts.packImports()
        facts.imports.append(ImportedSymbol(name: "added"))
        #expect(facts.imports == before + [ImportedSymbol(name: "added")])
        #expect(!facts.importsArePacked)
    }

    /// Much smaller than the list it stands for: the reason it exists (a 4 GB image's members).
    @Test func packedIsSmallerThanTheList() throws {
        guard case .elf(let facts) = ELFReader.read(path: "/usr/lib/x86_64-linux-gnu/libstdc++.so.6") else {
            Issue.record("libstdc++ not read")
            return
        }
        let packed = PackedSymbols(facts.imports)
        let listBytes = facts.imports.count * MemoryLayout<ImportedSymbol>.stride
        #expect(packed.byteCount * 2 < listBytes, "\(packed.byteCount) packed against \(listBytes)")
    }

    /// Members of an archive come out of the scanner packed, with the same imports as the file on disk.
    @Test func archiveMembersArePackedUntilJudged() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("packed-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let tar = dir.appendingPathComponent("app.tar").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/tar")
        process.arguments = ["-cf", tar, "-C", Fixtures.bin.path, "recent", "glibconly"]
        try process.run()
        process.waitUntilExit()
        let scanned = Scanner.scan(ScanItem(path: tar, kind: .file, explicit: true))
        var members = 0
        for file in scanned where file.item.inArchive {
            guard case .elf(let f) = file.result else { continue }
            members += 1
            #expect(f.importsArePacked, "\(file.item.path)")
            let name = String(file.item.path.split(separator: "/").last ?? "")
            guard case .elf(let onDisk) = ELFReader.read(path: Fixtures.path(name)) else { continue }
            #expect(f.imports == onDisk.imports, "\(file.item.path)")
        }
        #expect(members == 2)
    }
}
