import Assessment
import ELF
import Foundation
import Knowledge
import TestSupport
import Testing

/// The reader sees what musl's loader sees: tables through the dynamic segment, symbols looked up only for
/// relocations, separate debug files for what they are.
@Suite struct LoaderView {
    static func copy(_ name: String) throws -> ELFImage {
        ELFImage([UInt8](try Data(contentsOf: URL(fileURLWithPath: Fixtures.path(name)))))
    }

    static func read(_ image: ELFImage) throws -> BinaryFacts {
        guard case .elf(let f) = ELFReader.read(bytes: image.bytes) else { throw ReadFailure() }
        return f
    }
    struct ReadFailure: Error {}

    static func assess(_ f: BinaryFacts, target: String = "3.20", path: String = "/x") throws -> Assessment {
        let release = try #require(kb.release(named: target))
        return Assessor(kb: kb, release: release).assess(f, path: path)
    }

    /// One 8-byte field of the section headers (.dynsym's size) once hid every import: a needs-rebuild
    /// program became "runs". The loader never reads section headers.
    @Test func aDecoyDynsymSizeHidesNoImport() throws {
        var elf = try Self.copy("recent")
        let dynsym = try #require(elf.sectionHeader(type: 11))
        elf.put(dynsym + 0x20, 24)  // sh_size: the null symbol only
        let f = try Self.read(elf)
        #expect(Set(f.imports.map(\.name)).isSuperset(of: ["arc4random", "fcntl64", "printf"]))
        #expect(f.gaps.contains { $0.part == .sectionsDisagree && $0.message.contains(".dynsym holds 1 symbols") })
        let a = try Self.assess(f)
        #expect(a.unassessable == nil)
        #expect(a.verdict == .needsRebuild)
        #expect(Set(a.missingSymbols.map(\.name)) == ["arc4random", "fcntl64"])
        #expect(a.findings.contains { $0.rule == RuleID.sectionsDisagree && $0.severity == .warning })
    }

    /// A .dynstr section header pointed elsewhere renamed every import for a reader that trusted it.
    @Test func aDecoyDynstrRenamesNoImport() throws {
        var elf = try Self.copy("recent")
        let dynstr = try #require(elf.dynstrHeader)
        elf.put(dynstr + 0x18, elf.u(dynstr + 0x18, 8) + 1)  // sh_offset one byte on: every name shifts
        let f = try Self.read(elf)
        #expect(Set(f.imports.map(\.name)).isSuperset(of: ["arc4random", "fcntl64"]))
        #expect(f.needed == ["libc.so.6"])
        #expect(f.gaps.contains { $0.part == .sectionsDisagree && $0.message.contains("DT_STRTAB") })
        #expect(try Self.assess(f).verdict == .needsRebuild)
    }

    /// Untouched files: both views agree, no gap.
    @Test(arguments: [
        "recent", "hello-glibc", "lib/libgreet.so.1", "hello-cxx", "hello-go-cgo", "hello-i686", "hello-s390x",
        "tls/libtlsie.so",
    ])
    func fixturesHaveOneView(name: String) throws {
        guard case .elf(let f) = ELFReader.read(path: Fixtures.path(name)) else {
            Issue.record("unreadable")
            return
        }
        #expect(f.gaps.isEmpty, "\(f.gaps)")
    }

    /// Damage confined to the section headers' tables no longer makes a file unjudgeable: the loader's view
    /// is whole.
    @Test(arguments: ["dynsym-size-huge", "versym-past-end"])
    func sectionDamageAloneIsNotBlocking(name: String) throws {
        guard case .elf(let f) = ELFReader.read(path: Fixtures.malformed.appendingPathComponent(name).path) else {
            Issue.record("unreadable")
            return
        }
        let whole = try #require(facts("hello-glibc"))
        #expect(Set(f.imports) == Set(whole.imports))
        #expect(f.versionRequirements == whole.versionRequirements)
        #expect(try Self.assess(f).unassessable == nil)
    }

    /// A relocation may name a symbol past the count the hash table gives: the loader reads it all the same.
    @Test func symbolsNamedByRelocationsPastTheHashCountAreRead() throws {
        var elf = try Self.copy("recent")
        // A DT_HASH that counts one symbol (only the null entry) replaces the DT_GNU_HASH.
        let hash = elf.appendLoaded([0, 0, 0, 0, 1, 0, 0, 0])
        elf.setDynamic(0x6fff_fef5, hash, newTag: 4)
        let f = try Self.read(elf)
        #expect(f.imports.contains { $0.name == "arc4random" && $0.referenced })
        #expect(try Self.assess(f).verdict == .needsRebuild)
    }

    // MARK: Binding

    /// musl looks a symbol up only for a relocation: mallinfo2 (in neither musl nor gcompat) and
    /// __longjmp_chk, named by none, never fail the load (checked against musl's loader in MuslLoaderTests).
    @Test func importsNoRelocationNamesNeverFailTheVerdict() throws {
        let f = try #require(facts("unreferenced"))
        let byName = Dictionary(f.imports.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        #expect(byName["mallinfo2"]?.referenced == false)
        #expect(byName["__longjmp_chk"]?.referenced == false)
        #expect(byName["printf"]?.referenced == true)
        #expect(byName["__libc_start_main"]?.referenced == true)
        let a = try Self.assess(f)
        #expect(a.verdict == .needsGcompat)  // glibc's interpreter path, nothing more
        #expect(!a.missingSymbols.contains { $0.name == "mallinfo2" || $0.name == "__longjmp_chk" })
        let note = try #require(a.findings.first { $0.rule == RuleID.unreferencedImport })
        #expect(note.severity == .note && Set(note.symbols) == ["mallinfo2", "__longjmp_chk"])
        // Every import of the ordinary fixtures is named by some relocation.
        for name in [
            "hello-glibc", "recent", "hello-cxx", "weak", "hello-go-cgo", "hello-i686", "hello-aarch64", "hello-s390x",
        ] {
            #expect(try #require(facts(name)).imports.allSatisfy { $0.referenced }, "\(name)")
        }
    }

    /// A relocation table cut off by the end of the file: which symbols are named is unknown, so every
    /// import counts (never a pass on what could not be read).
    @Test func aCutRelocationTableCountsEveryImport() throws {
        var elf = try Self.copy("unreferenced")
        let size = try #require(elf.dynamic(2))  // DT_PLTRELSZ
        elf.setDynamic(2, size + (1 << 30))
        let f = try Self.read(elf)
        #expect(f.gaps.contains { $0.part == .relocations })
        #expect(f.imports.allSatisfy { $0.referenced })
        #expect(try Self.assess(f).missingSymbols.contains { $0.name == "mallinfo2" })
    }

    // MARK: Separate debug files

    @Test func separateDebugFilesAreRecognisedAndNeverJudged() throws {
        let debug = try #require(facts("debug/hello-glibc.debug"))
        #expect(debug.isSeparateDebugFile)
        #expect(debug.gaps.isEmpty)
        #expect(debug.buildID == (try #require(facts("hello-glibc"))).buildID)  // it says whose it is
        let a = try Self.assess(debug)
        #expect(a.notLoaded != nil && a.unassessable == nil)
        for entry in Fixtures.manifest.fixtures where entry.name != "hello-glibc.debug" {
            #expect(facts(String(entry.path.dropFirst(4)))?.isSeparateDebugFile == false, "\(entry.name)")
        }
    }
}

func facts(_ name: String) -> BinaryFacts? {
    if case .elf(let f) = ELFReader.read(path: Fixtures.path(name)) { return f }
    return nil
}
