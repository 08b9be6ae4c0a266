// The knowledge base cites sources users can open, places libraries only with a source, and knows each
// architecture's gcompat; the remedies always name something installable.
import Assessment
import ELF
import Foundation
import Testing

@testable import Knowledge

/// A public address, not a document that is not shipped.
private func isOpenable(_ source: String) -> Bool {
    source.contains("https://") && !source.contains("FACTS.md") && !source.contains("MIGRATION-FACTS")
}

@Suite struct Sources {
    @Test func everyRuleCitesAPublicURL() {
        for rule in kb.rules {
            #expect(rule.sources.contains(where: isOpenable), "\(rule.id) cites no public URL: \(rule.sources)")
            #expect(!rule.sources.contains { $0.contains("FACTS.md") }, "\(rule.id) cites an unshipped document")
        }
    }

    /// Every rule id the code raises a finding under has its row in rules.json, and a catalogue without one
    /// is refused at load.
    @Test func everyRuleTheCodeRaisesIsInTheCatalogue() throws {
        let ids = Set(kb.rules.map(\.id))
        for id in RuleID.raisedByCode { #expect(ids.contains(id.rawValue), "\(id) has no row in rules.json") }
        try RuleID.check(catalogue: ids)
        #expect(throws: KnowledgeError.self) {
            try RuleID.check(catalogue: ids.subtracting([RuleID.symbolMissing.rawValue]))
        }
        // Script and entrypoint rules are checked at load too.
        #expect(RuleID.raisedByCode.contains(.busyboxOptionSilent) && RuleID.raisedByCode.contains(.entrypointMissing))
        for id in [RuleID.ashSyntaxSilent, .entrypointInterpreterMissing] {
            #expect(throws: KnowledgeError.self) { try RuleID.check(catalogue: ids.subtracting([id.rawValue])) }
        }
    }

    /// How musl binds the LFS64 names is data (musl-versions.tsv, a source per row): 1.2.4 and 1.2.5 remap
    /// names of up to 15 characters, 1.2.6 up to 17, and 1.2.3 is the newest whose libc.so exports them.
    @Test func theLFS64RemapComesFromTheDataFile() throws {
        for row in kb.muslReleases { #expect(isOpenable(row.source), "\(row.version): \(row.source)") }
        #expect(kb.muslReleases.map(\.version) == KnowledgeBase.muslVersionsMeasured)
        #expect(kb.muslRelease("1.2.5")?.lfs64LongestName == 15 && kb.muslRelease("1.2.6")?.lfs64LongestName == 17)
        #expect(kb.newestMuslExportingLFS64 == "1.2.3")
        func provides(_ release: String, _ name: String) throws -> Bool {
            Assessor(kb: kb, release: try #require(kb.release(named: release))).muslProvidesSymbol(name)
        }
        // posix_fallocate64 has 17 characters: past musl 1.2.5's buffer, within 1.2.6's limit.
        #expect(try !provides("3.20", "posix_fallocate64") && provides("edge", "posix_fallocate64"))
        #expect(try provides("3.20", "posix_fadvise64") && provides("3.18", "posix_fallocate64"))
    }

    /// gcompat's private names (gcompat-private.txt) are not counted among what it provides.
    @Test func gcompatPrivateNamesAreNotProvided() {
        let names = kb.gcompatExports(version: "1.1.0", arch: "x86_64").names
        for name in ["_init", "_fini", "GCOMPAT__panic"] { #expect(!names.contains(name), "\(name)") }
        #expect(names.contains("backtrace"))
    }

    /// rules.json's own header describes the catalogue; every other file names where its data came from.
    @Test func everyDataFileCitesAPublicURL() {
        for source in kb.sources where source.file != "rules.json" {
            #expect(isOpenable(source.provenance), "\(source.file): \(source.provenance)")
        }
    }

    /// The gcompat version of a release whose own was not checked (3.24, edge) is the row of
    /// gcompat-versions.tsv marked assumed, which cites its source; a table without exactly one such row,
    /// or with a row without a source, is refused.
    @Test func theAssumedGcompatComesFromTheDataFile() throws {
        #expect(kb.assumedGcompat == "1.1.0")
        let unchecked = kb.releases.filter { !$0.gcompatChecked }
        #expect(unchecked.map(\.name).contains("edge"))
        for r in unchecked { #expect(r.gcompat == kb.assumedGcompat, "\(r.name)") }
        #expect(kb.release(named: "3.16")?.gcompat == "1.0.0")  // a checked release keeps its own
        #expect(kb.sources.first { $0.file == "gcompat-versions.tsv" }?.entries == 2)

        func table(_ rows: String) -> DataFile {
            DataFile(file: "t.tsv", bytes: Array("# test\nversion\treleased\tassumed\tsource\n\(rows)".utf8))
        }
        let later = table("1.1.0\t2022\tno\thttps://a\n1.2.0\t2027\tyes\thttps://b\n")
        #expect(try KnowledgeBase.assumedGcompat(in: later) == "1.2.0")
        let two = table("1.1.0\t2022\tyes\thttps://a\n1.2.0\t2027\tyes\thttps://b\n")
        #expect(throws: KnowledgeError.self) { try KnowledgeBase.assumedGcompat(in: two) }
        let none = table("1.1.0\t2022\tno\thttps://a\n")
        #expect(throws: KnowledgeError.self) { try KnowledgeBase.assumedGcompat(in: none) }
        let unsourced = table("1.1.0\t2022\tyes\t\n")
        #expect(throws: KnowledgeError.self) { try KnowledgeBase.assumedGcompat(in: unsourced) }
    }

    /// `muslcheck kb` counts rows, not the row that names the columns.
    @Test func entryCountsLeaveOutTheColumnRow() {
        #expect(kb.sources.first { $0.file == "libraries.tsv" }?.entries == kb.libraries.count)
        #expect(kb.sources.first { $0.file == "glibc-beside-musl.tsv" }?.entries == kb.glibcBesideMusl.count)
        #expect(kb.sources.first { $0.file == "alpine-releases.tsv" }?.entries == kb.releases.count)
    }

    @Test func everyLibraryRowCitesAPublicURL() {
        for row in kb.libraries { #expect(isOpenable(row.source), "libraries.tsv \(row.pattern): \(row.source)") }
    }

    @Test func everySymbolNoteCitesAPublicURL() {
        for row in kb.symbolNotes { #expect(isOpenable(row.source), "symbols.tsv \(row.pattern): \(row.source)") }
    }

    @Test func glibcBesideMuslRowsCiteTheirPackage() {
        #expect(!kb.glibcBesideMusl.isEmpty)
        for row in kb.glibcBesideMusl {
            #expect(isOpenable(row.source) && isOpenable(row.instructions))
            #expect(row.caveats.count >= 5, "\(row.provider): caveats \(row.caveats)")
        }
    }
}

@Suite struct LibraryPlacement {
    /// Alpine ships libselinux (community/libselinux) and linux-pam's libpam: never "Alpine doesn't ship it".
    @Test func shippedLibrariesArePlaced() throws {
        for (soname, package) in [
            ("libselinux.so.1", "libselinux"), ("libpam.so.0", "linux-pam"), ("libpam_misc.so.0", "linux-pam"),
        ] {
            let row = try #require(kb.library(soname), "\(soname) is not placed")
            #expect(row.kind == .package)
            #expect(row.providers.map(\.package) == [package])
        }
    }

    /// Absent only where the row shows what Alpine builds instead; libsystemd has no such source, so unknown.
    @Test func absentOnlyWithASource() {
        #expect(kb.library("libsystemd.so.0") == nil)
        for row in kb.libraries where row.kind == .absent { #expect(row.source.contains("aports")) }
    }

    /// The sonames of Debian 12's system libraries the data places (measured with readelf over
    /// /usr/lib/x86_64-linux-gnu: 286 of 431); a few of them pinned here so that a lost row fails.
    @Test func debianSonamesArePlaced() {
        let sample = [
            "libX11-xcb.so.1", "libxcb-shm.so.0", "libwayland-client.so.0", "libdevmapper.so.1.02.1",
            "libnssutil3.so", "libcups.so.2", "libaudit.so.1", "libpcsclite.so.1", "libGLESv2.so.2", "libkeyutils.so.1",
        ]
        for soname in sample { #expect(kb.library(soname)?.kind == .package, "\(soname)") }
        #expect(kb.libraries.count > 300)
    }
}

@Suite struct Installable {
    private func assess(_ f: BinaryFacts, _ release: String = "3.20") throws -> Assessment {
        let r = try #require(kb.release(named: release))
        return Assessor(kb: kb, release: r).assess(f, path: "/x/app")
    }

    /// A glibc x86_64 shared library (no interpreter) with these NEEDED entries, built as rule examples are.
    private func glibcProgram(needed: [String]) throws -> BinaryFacts {
        var e = try JSONDecoder().decode(
            Rule.Example.self,
            from: Data(#"{"target": "3.20", "interpreter": null, "imports": ["printf@GLIBC_2.2.5"]}"#.utf8))
        e.needed = needed
        return binary(e)
    }

    /// A library nothing places: the fix is apk add so:NAME, never "nothing to do".
    @Test func unknownLibraryGetsSoProvide() throws {
        let a = try assess(try glibcProgram(needed: ["libc.so.6", "libfrobnicate.so.7"]))
        #expect(a.verdict == .runs)
        #expect(a.packages.contains("so:libfrobnicate.so.7"))
        #expect(a.fix?.apk?.contains("so:libfrobnicate.so.7") == true)
        #expect(
            a.findings.contains { $0.rule == RuleID.libraryUnknown && $0.message.contains("so:libfrobnicate.so.7") })
    }

    /// A row whose package name is not pinned installs through so: as well.
    @Test func soProviderRowsInstallBySoname() throws {
        let a = try assess(try glibcProgram(needed: ["libc.so.6", "libcups.so.2"]))
        #expect(a.packages == ["so:libcups.so.2"])
        #expect(
            a.findings.contains { $0.rule == RuleID.libraryPackage && $0.message.contains("apk add so:libcups.so.2") })
    }

    /// The glibc-beside-musl rung: offered with the file's highest GLIBC version, and only within the package's.
    @Test func glibcBesideMuslOfferCarriesItsConditions() throws {
        func program(_ imports: [String], needed: [String] = ["libc.so.6"]) throws -> Assessment {
            var e = try JSONDecoder().decode(Rule.Example.self, from: Data(#"{"target": "3.20"}"#.utf8))
            e.imports = imports
            e.needed = needed
            return try assess(binary(e))
        }
        let offered = try #require(try program(["fcntl64@GLIBC_2.28", "printf@GLIBC_2.2.5"]).fix?.glibcBesideMusl)
        #expect(offered.requires == "2.28" && offered.glibc == "2.35" && offered.arch == "x86_64")
        #expect(offered.caveats.contains { $0.contains("/lib64/ld-linux-x86-64.so.2") })
        #expect(try program(["arc4random@GLIBC_2.36"]).fix?.glibcBesideMusl == nil)  // glibc 2.35 is too old
        #expect(try program(["printf@GLIBC_2.2.5"]).fix?.glibcBesideMusl == nil)  // gcompat does: no rung needed
        // A library Alpine would supply (a musl build) rather than the program: glibc's loader would take it.
        #expect(try program(["fcntl64@GLIBC_2.28"], needed: ["libc.so.6", "libz.so.1"]).fix?.glibcBesideMusl == nil)
    }

    /// NEEDED libicu* from 3.16 on adds icu-data-full; before the split it does not.
    @Test func icuNeedsFullDataFrom316() throws {
        let new = try assess(try glibcProgram(needed: ["libc.so.6", "libicuuc.so.74"]))
        #expect(new.packages.contains("icu-data-full"))
        let old = try assess(try glibcProgram(needed: ["libc.so.6", "libicuuc.so.69"]), "3.15")
        #expect(!old.packages.contains("icu-data-full"))
    }
}

@Suite struct Architectures {
    /// gcompat's aarch64 build has no sysctl (no SYS__sysctl there); x86_64's has.
    @Test func gcompatListPerArchitecture() {
        let x86 = kb.gcompatExports(version: "1.1.0", arch: "x86_64")
        let arm = kb.gcompatExports(version: "1.1.0", arch: "aarch64")
        #expect(x86.names.contains("sysctl") && !x86.approximate)
        #expect(!arm.names.contains("sysctl") && !arm.approximate)
        #expect(arm.names.contains("__getauxval"))
        let riscv = kb.gcompatExports(version: "1.1.0", arch: "riscv64")
        #expect(riscv.approximate && !riscv.names.contains("sysctl"))
        #expect(kb.gcompatExports(version: "1.1.0", arch: "s390x").names.contains("sysctl"))
    }

    private func aarch64(_ imports: [ImportedSymbol], needed: [String]) -> BinaryFacts {
        var f = BinaryFacts(is64: true, bigEndian: false, machine: .aarch64, type: .dyn, osABI: 0, entry: 0)
        f.linkage = .dynamic
        f.needed = needed
        f.imports = imports
        f.versionRequirements = Dictionary(
            grouping: imports.compactMap { i in i.library.map { ($0, i.version ?? "") } }, by: \.0
        )
        .map {
            VersionRequirement(
                library: $0.key, versions: Set($0.value.map(\.1)).sorted().map { VersionNeed(name: $0, weak: false) })
        }
        return f
    }

    /// On aarch64 an import of sysctl is "symbol not found" even with gcompat.
    @Test func sysctlOnAarch64NeedsRebuild() throws {
        let r = try #require(kb.release(named: "3.20"))
        var f = aarch64(
            [ImportedSymbol(name: "sysctl", version: "GLIBC_2.17", library: "libc.so.6", weak: false, type: .func)],
            needed: ["libc.so.6"])
        f.interpreter = "/lib/ld-linux-aarch64.so.1"
        let a = Assessor(kb: kb, release: r).assess(f, path: "/x/app")
        #expect(a.verdict == .needsRebuild)
        #expect(a.missingSymbols.first { $0.name == "sysctl" }?.providedBy == nil)
        // The same Assessor, made for x86_64, still judges an x86_64 import of sysctl as gcompat's.
        var x = f
        x.machine = .x86_64
        x.interpreter = "/lib64/ld-linux-x86-64.so.2"
        #expect(Assessor(kb: kb, release: r).assess(x, path: "/x/app").verdict == .needsGcompat)
    }

    /// A stack-protected aarch64 glibc library takes __stack_chk_guard from the loader: the finding says so.
    @Test func stackGuardFromTheLoader() throws {
        let r = try #require(kb.release(named: "3.20"))
        let f = aarch64(
            [
                ImportedSymbol(
                    name: "__stack_chk_guard", version: "GLIBC_2.17", library: "ld-linux-aarch64.so.1", weak: false,
                    type: .object),
                ImportedSymbol(
                    name: "__getauxval", version: "GLIBC_2.17", library: "libc.so.6", weak: false, type: .func),
                ImportedSymbol(name: "puts", version: "GLIBC_2.17", library: "libc.so.6", weak: false, type: .func),
            ],
            needed: ["libc.so.6", "ld-linux-aarch64.so.1"])
        let a = Assessor(kb: kb, release: r).assess(f, path: "/x/libat.so")
        #expect(a.verdict == .needsGcompat)
        let loader = try #require(a.findings.first { $0.rule == RuleID.loaderNeeded })
        #expect(loader.symbols == ["__stack_chk_guard"])
        #expect(loader.message.contains("stack-protector guard"))
        // __getauxval: missing in musl 1.2.5, gcompat provides it, and the note says why it is imported.
        let aux = try #require(a.missingSymbols.first { $0.name == "__getauxval" })
        #expect(aux.providedBy == "gcompat")
        #expect(aux.note?.contains("outline atomics") == true)
        // musl 1.2.6 (Alpine 3.24) exports __getauxval itself.
        let r324 = try #require(kb.release(named: "3.24"))
        #expect(
            !Assessor(kb: kb, release: r324).assess(f, path: "/x/libat.so").missingSymbols.contains {
                $0.name == "__getauxval"
            })
    }
}
