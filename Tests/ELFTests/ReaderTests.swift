import ELF
import Foundation
import Scanning
import TestSupport
import Testing

/// The facts readelf reports, in the manifest's shape, for comparison.
func summary(_ f: BinaryFacts) -> Fixtures.ReadelfFacts {
    Fixtures.ReadelfFacts(
        needed: f.needed, soname: f.soname, rpath: f.rpath, runpath: f.runpath, interpreter: f.interpreter,
        imports: Set(f.imports.map { $0.name + ($0.version.map { "@" + $0 } ?? "") }).sorted())
}

extension Fixtures.ReadelfFacts: Equatable {
    public static func == (a: Self, b: Self) -> Bool {
        a.needed == b.needed && a.soname == b.soname && a.rpath == b.rpath && a.runpath == b.runpath
            && a.interpreter == b.interpreter && a.imports == b.imports
    }
}

func facts(_ name: String) -> BinaryFacts? {
    if case .elf(let f) = ELFReader.read(path: Fixtures.path(name)) { return f }
    return nil
}

@Suite struct ReaderAgainstReadelf {
    @Test func manifestIsPresent() {
        #expect(Fixtures.manifest.fixtures.count >= 20)
    }

    /// readelf's view, recorded in MANIFEST.json when the fixtures were built.
    @Test(arguments: Fixtures.manifest.fixtures.map(\.name))
    func agreesWithManifest(name: String) throws {
        let entry = try #require(Fixtures.entry(name))
        let f = try #require(facts(String(entry.path.dropFirst(4))))
        #expect(summary(f) == entry.readelf)
    }

    /// readelf run now, on every fixture (binutils is installed by .ci/run).
    @Test func agreesWithLiveReadelf() throws {
        let readelf = "/usr/bin/readelf"
        #expect(FileManager.default.isExecutableFile(atPath: readelf), "binutils' readelf is needed for this test")
        for entry in Fixtures.manifest.fixtures {
            let path = Fixtures.dir.appendingPathComponent(entry.path).path
            let f = try #require(facts(String(entry.path.dropFirst(4))))
            let useDynamic = !f.hasSectionHeaders
            let dynamic = try #require(runProgram(readelf, (useDynamic ? ["-D"] : []) + ["-d", "-W", path]))
            let needed = dynamic.stdout.split(separator: "\n").compactMap { line -> String? in
                guard line.contains("(NEEDED)"), let open = line.lastIndex(of: "["), let close = line.lastIndex(of: "]")
                else { return nil }
                return String(line[line.index(after: open)..<close])
            }
            #expect(needed == f.needed, "\(entry.name)")
            let symbols = try #require(
                runProgram(readelf, (useDynamic ? ["-D", "-s"] : ["--dyn-syms"]) + ["-W", path]))
            let undefined = symbols.stdout.split(separator: "\n").compactMap { line -> String? in
                let fields = line.split(separator: " ")
                guard fields.count >= 8, fields[0].hasSuffix(":"), fields[0] != "0:", fields[6] == "UND" else {
                    return nil
                }
                return String(fields[7])
            }
            #expect(Set(undefined).sorted() == summary(f).imports, "\(entry.name)")
        }
    }
}

@Suite struct ReaderFacts {
    @Test func linkageOfEachKind() throws {
        #expect(try #require(facts("hello-glibc")).linkage == .dynamic)
        #expect(try #require(facts("hello-static-glibc")).linkage == .static)
        #expect(try #require(facts("hello-static-pie-glibc")).linkage == .staticPIE)
        #expect(try #require(facts("hello-static-musl")).linkage == .static)
        #expect(try #require(facts("lib/libgreet.so.1")).linkage == .dynamic)  // a library is not static-pie
        #expect(try #require(facts("hello-go-static")).linkage == .static)
    }

    @Test func headerFactsOfCrossBuilds() throws {
        let arm = try #require(facts("hello-aarch64"))
        #expect(arm.arch == "aarch64" && arm.is64 && !arm.bigEndian)
        let x86 = try #require(facts("hello-i686"))
        #expect(x86.arch == "i386" && !x86.is64)
        let s390 = try #require(facts("hello-s390x"))
        #expect(s390.arch == "s390x" && s390.bigEndian && s390.is64)
        #expect(s390.interpreter == "/lib/ld64.so.1")
        #expect(s390.imports.contains { $0.name == "printf" && $0.version == "GLIBC_2.4" })
    }

    @Test func versionsAndExports() throws {
        let lib = try #require(facts("lib/libgreet.so.1"))
        #expect(lib.soname == "libgreet.so.1")
        #expect(lib.versionDefinitions == ["GREET_1.0", "GREET_1.1"])
        #expect(lib.exportCount >= 2)
        guard
            case .elf(let withNames) = ELFReader.read(
                path: Fixtures.path("lib/libgreet.so.1"), options: ReadOptions(exportNames: true))
        else {
            Issue.record("libgreet not read")
            return
        }
        #expect(withNames.exports?.contains(ExportedSymbol(name: "greet_loudly", version: "GREET_1.1")) == true)
        let app = try #require(facts("app-runpath"))
        #expect(app.runpath == ["$ORIGIN/lib", "/opt/greet/lib"])
        #expect(
            app.versionRequirements.first { $0.library == "libgreet.so.1" }?.versions.map(\.name).sorted() == [
                "GREET_1.0", "GREET_1.1",
            ])
        #expect(
            app.imports.contains(
                ImportedSymbol(name: "greet", version: "GREET_1.0", library: "libgreet.so.1", weak: false, type: .func))
        )
        let rpath = try #require(facts("app-rpath"))
        #expect(rpath.rpath == ["$ORIGIN/lib"] && rpath.runpath.isEmpty)
    }

    @Test func weakImportsAndTypes() throws {
        let f = try #require(facts("weak"))
        let weak = try #require(f.imports.first { $0.name == "gnu_get_libc_version" })
        #expect(weak.weak && weak.version == "GLIBC_2.2.5" && weak.library == "libc.so.6")
        #expect(f.imports.first { $0.name == "puts" }?.weak == false)
        let cgo = try #require(facts("hello-go-cgo"))
        #expect(cgo.imports.contains { $0.name == "stderr" && $0.type == .object })
    }

    @Test func notesTellStaticGlibcFromStaticMusl() throws {
        #expect(try #require(facts("hello-static-glibc")).abiTag?.os == "Linux")
        #expect(try #require(facts("hello-static-musl")).abiTag == nil)
        #expect(try #require(facts("hello-glibc")).buildID?.count == 40)
    }

    @Test func goBuildInfo() throws {
        let go = try #require(facts("hello-go-static").flatMap(\.goBuildInfo))
        #expect(go.goVersion.hasPrefix("go1."))
        #expect(go.cgoEnabled == false)
        let cgo = try #require(facts("hello-go-cgo").flatMap(\.goBuildInfo))
        #expect(cgo.cgoEnabled == true)
        #expect(try #require(facts("hello-go-static")).goBuildID != nil)
    }

    @Test func relocationsAndSegments() throws {
        #expect(try #require(facts("ifunc")).hasIRelative)
        #expect(try #require(facts("hello-glibc")).hasIRelative == false)
        #expect(try #require(facts("hello-static-glibc")).hasIRelative)  // static glibc resolves its own ifuncs
        #expect(try #require(facts("hello-static-glibc")).hasTLS)
        #expect(try #require(facts("hello-glibc")).stackFlags == 6)  // RW, not executable
    }

    @Test func withoutSectionHeadersTheDynamicSegmentIsEnough() throws {
        let stripped = try #require(facts("glibconly-nosections"))
        let full = try #require(facts("glibconly"))
        #expect(!stripped.hasSectionHeaders && full.hasSectionHeaders)
        #expect(stripped.interpreter == full.interpreter)
        #expect(stripped.needed == full.needed)
        #expect(Set(stripped.imports) == Set(full.imports))
        #expect(stripped.versionRequirements.map(\.library) == full.versionRequirements.map(\.library))
        #expect(stripped.gaps.isEmpty)
    }
}
