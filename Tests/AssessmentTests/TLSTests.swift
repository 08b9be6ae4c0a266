import Assessment
import ELF
import Foundation
import Knowledge
import TestSupport
import Testing

/// Initial-exec TLS, read from the relocations and judged as musl's loader judges it, checked against musl
/// itself: a musl-built plugin host (fixtures-bin/bin/tls/dlopen-driver) dlopens each library.
@Suite struct InitialExecTLSOnMusl {
    static let libraries = ["tls/libtlsie.so", "tls/libtlsgd.so"]

    @Test func theReaderSortsTPOFFRelocations() throws {
        let ie = try #require(facts("tls/libtlsie.so"))
        #expect(ie.hasTLS && ie.staticTLSFlag)
        let tls = try #require(ie.initialExecTLS)
        #expect(tls.own == 2)  // the static variable (symbol index 0) and tls_counter
        #expect(tls.ownSymbols == ["tls_counter"] && tls.external.isEmpty)
        #expect(ie.kindMarkers.isEmpty)  // asked for (own IE TLS) and none found
        let gd = try #require(facts("tls/libtlsgd.so"))
        #expect(gd.hasTLS && !gd.staticTLSFlag && gd.initialExecTLS == nil)
        // Executables: their TPOFF relocations (if any) are never read as a library's.
        #expect(try #require(facts("hello-static-glibc")).initialExecTLS == nil)
    }

    static func assess(_ name: String, as path: String? = nil) throws -> Assessment {
        let f = try #require(facts(name))
        let release = try #require(kb.release(named: "3.20"))
        return Assessor(kb: kb, release: release).assess(f, path: path ?? Fixtures.path(name))
    }

    @Test func aLibraryIsWarnedAndAPluginFails() throws {
        let library = try Self.assess("tls/libtlsie.so")
        #expect(library.findings.contains { $0.rule == RuleID.initialExecTLS && $0.severity == .warning })
        #expect(library.verdict == .runs)  // needed by a program at start, it loads
        let plugin = try Self.assess("tls/libtlsie.so", as: "/srv/app/_fast.cpython-312-x86_64-linux-musl.so")
        #expect(plugin.findings.contains { $0.rule == RuleID.initialExecTLSPlugin && $0.severity == .error })
        #expect(plugin.verdict == .needsRebuild)
        for path in ["/srv/app/_fast.cpython-312-x86_64-linux-musl.so", "/x/tls/libtlsgd.so"] {
            let gd = try Self.assess("tls/libtlsgd.so", as: path)
            #expect(!gd.findings.contains { $0.rule.rawValue.hasPrefix("initial-exec-tls") }, "\(path)")
            #expect(gd.verdict == .runs)
        }
    }

    /// musl refuses exactly the libraries the rule flags and loads the others.
    @Test(
        .enabled(
            if: FileManager.default.isExecutableFile(atPath: "/lib/ld-musl-x86_64.so.1"),
            "musl's loader /lib/ld-musl-x86_64.so.1 is not installed (Debian package musl): cannot run the dlopen driver"
        ))
    func muslRefusesExactlyTheFlaggedLibraries() throws {
        let paths = Self.libraries.map { Fixtures.path($0) }
        let run = try #require(runProgram(Fixtures.path("tls/dlopen-driver"), paths))
        let lines = run.stdout.split(separator: "\n").map(String.init)
        for (name, path) in zip(Self.libraries, paths) {
            let refused = lines.contains {
                $0.hasPrefix("refused \(path): ") && $0.contains("initial-exec TLS resolves to dynamic definition")
            }
            let loaded = lines.contains("loaded \(path)")
            #expect(refused != loaded, "\(name): \(lines)")
            let flagged = try Self.assess(name).findings.contains { $0.rule == RuleID.initialExecTLS }
            #expect(flagged == refused, "\(name): flagged \(flagged), musl \(refused ? "refused" : "loaded") it")
        }
        #expect(lines.contains { $0.hasPrefix("refused") })  // the driver really exercises the check
    }
}
