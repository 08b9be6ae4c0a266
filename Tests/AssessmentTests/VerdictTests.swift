import Assessment
import ELF
import Foundation
import Knowledge
import Scanning
import TestSupport
import Testing

func assess(_ fixture: String, _ target: String) throws -> Assessment {
    guard case .elf(let facts) = ELFReader.read(path: Fixtures.path(fixture)) else {
        throw TestFailure("cannot read \(fixture)")
    }
    guard let release = kb.release(named: target) else { throw TestFailure("no release \(target)") }
    return Assessor(kb: kb, release: release).assess(
        facts, path: Fixtures.path(fixture), dependencies: dependencies(facts, Fixtures.path(fixture)))
}

/// The scanner's view of a fixture's libraries, the fixtures' directory scanned: only what ships with it
/// (RPATH/RUNPATH).
func dependencies(_ facts: BinaryFacts, _ path: String) -> Dependencies {
    DependencyResolver(libraryPaths: [], scannedRoots: [Fixtures.bin.path]) { Assessor.isProvidedBySystem($0, kb: kb) }
        .resolve(facts, path: path)
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

struct VerdictCase: Sendable, CustomTestStringConvertible {
    var fixture: String, target: String, verdict: Verdict, packages: [String]
    var testDescription: String { "\(fixture) on \(target) → \(verdict.rawValue)" }
}

@Suite struct FixtureVerdicts {
    static let table: [VerdictCase] = [
        .init(fixture: "hello-glibc", target: "3.17", verdict: .needsLibc6Compat, packages: ["libc6-compat"]),
        .init(fixture: "hello-glibc", target: "3.20", verdict: .needsGcompat, packages: ["gcompat"]),
        .init(fixture: "hello-musl", target: "3.14", verdict: .runs, packages: []),
        .init(fixture: "crypt", target: "3.17", verdict: .needsLibc6Compat, packages: ["libc6-compat"]),
        .init(fixture: "crypt", target: "3.19", verdict: .needsGcompat, packages: ["gcompat"]),
        .init(fixture: "ldso", target: "3.17", verdict: .needsGcompat, packages: ["gcompat"]),
        .init(fixture: "glibconly", target: "3.16", verdict: .needsGcompat, packages: ["gcompat"]),
        .init(fixture: "recent", target: "3.20", verdict: .needsRebuild, packages: []),
        .init(fixture: "resinit", target: "3.23", verdict: .needsRebuild, packages: []),
        .init(fixture: "lfs64", target: "3.17", verdict: .needsLibc6Compat, packages: ["libc6-compat"]),
        .init(fixture: "lfs64", target: "3.18", verdict: .needsLibc6Compat, packages: ["libc6-compat"]),
        .init(fixture: "lfs64", target: "3.19", verdict: .needsRebuild, packages: []),
        .init(fixture: "lfs64", target: "3.24", verdict: .needsGcompat, packages: ["gcompat"]),
        .init(fixture: "ifunc", target: "3.20", verdict: .needsRebuild, packages: []),
        .init(fixture: "hello-static-glibc", target: "3.14", verdict: .runs, packages: []),
        .init(fixture: "hello-static-pie-glibc", target: "3.20", verdict: .runs, packages: []),
        .init(fixture: "hello-go-static", target: "3.20", verdict: .runs, packages: []),
        .init(fixture: "hello-go-cgo", target: "3.17", verdict: .needsLibc6Compat, packages: ["libc6-compat"]),
        .init(
            fixture: "hello-cxx", target: "3.20", verdict: .needsGcompat, packages: ["gcompat", "libstdc++", "libgcc"]),
        .init(fixture: "weak", target: "3.17", verdict: .needsLibc6Compat, packages: ["libc6-compat"]),
        .init(fixture: "app-runpath", target: "3.17", verdict: .needsLibc6Compat, packages: ["libc6-compat"]),
        .init(fixture: "hello-aarch64", target: "3.18", verdict: .needsLibc6Compat, packages: ["libc6-compat"]),
        .init(fixture: "hello-s390x", target: "3.21", verdict: .needsGcompat, packages: ["gcompat"]),
    ]

    @Test(arguments: table)
    func verdict(_ c: VerdictCase) throws {
        let a = try assess(c.fixture, c.target)
        #expect(a.verdict == c.verdict, "findings: \(a.findings.map(\.message))")
        #expect(a.packages == c.packages)
    }

    @Test func missingSymbolsSayWhoProvidesThem() throws {
        let recent = try assess("recent", "3.20")
        #expect(Set(recent.missingSymbols.map(\.name)) == ["fcntl64", "arc4random"])
        #expect(recent.missingSymbols.allSatisfy { $0.providedBy == nil && $0.note != nil })
        #expect(recent.minimumGlibc == "2.36")
        let fortified = try assess("glibconly", "3.20")
        #expect(
            Set(fortified.missingSymbols.map(\.name)) == ["__printf_chk", "backtrace", "error", "gnu_get_libc_version"])
        #expect(fortified.missingSymbols.allSatisfy { $0.providedBy == "gcompat" })
    }

    /// A real program importing what every behaviour rule looks for; a plain hello world triggers none.
    @Test func behaviourRulesOnRealBinaries() throws {
        let behaviour = try assess("behaviour", "3.20")
        let expected: Set<String> = [
            "thread-stack-size", "dns-resolver", "nss-lookups", "locale", "iconv", "regex-abi",
            "getopt-order", "dlclose-noop", "utmp-stubs", "strerror-r-gnu", "malloc-tuning", "tzdata",
        ]
        let behaviourRules = Set(kb.rules.filter { $0.when != nil }.map(\.id))
        #expect(Set(behaviour.findings.map(\.rule.rawValue)).intersection(behaviourRules) == expected)
        #expect(behaviour.findings.first { $0.rule.rawValue == "regex-abi" }?.symbols == ["regexec"])
        let plain = try assess("hello-glibc", "3.20")
        #expect(Set(plain.findings.map(\.rule.rawValue)).isDisjoint(with: behaviourRules))
        #expect(behaviour.language == .c)
        #expect(behaviour.packages == ["tzdata"])  // the rebuilt program still wants zoneinfo
    }

    @Test func languagesAndRecipes() throws {
        #expect(try assess("hello-cxx", "3.20").language == .cxx)
        let go = try assess("hello-go-cgo", "3.20")
        #expect(go.language == .go)
        #expect(try assess("hello-go-static", "3.20").fix?.dockerfile.contains("COPY hello-go-static") == true)
        let rebuild = try assess("recent", "3.20")
        #expect(rebuild.fix?.dockerfile.contains("FROM alpine:3.20 AS build") == true)
        #expect(rebuild.fix?.rebuild != nil)
    }

    /// Each architecture is judged with its own musl: iopl exists in musl for x86_64 but not for aarch64.
    @Test func eachArchitectureUsesItsOwnExportList() throws {
        guard case .elf(var facts) = ELFReader.read(path: Fixtures.path("hello-aarch64")) else {
            Issue.record("unreadable")
            return
        }
        facts.imports.append(ImportedSymbol(name: "iopl", version: "GLIBC_2.17", library: "libc.so.6"))
        let assessor = Assessor(kb: kb, release: try #require(kb.release(named: "3.20")))  // made for x86_64
        let a = assessor.assess(facts, path: "/x")
        #expect(a.verdict == .needsRebuild)
        #expect(a.missingSymbols.map(\.name) == ["iopl"])
        guard case .elf(var x86) = ELFReader.read(path: Fixtures.path("hello-glibc")) else {
            Issue.record("unreadable")
            return
        }
        x86.imports.append(ImportedSymbol(name: "iopl", version: "GLIBC_2.2.5", library: "libc.so.6"))
        #expect(assessor.assess(x86, path: "/x").missingSymbols.isEmpty)
    }

    @Test func rustProgramsGetTheMuslTargetRecipe() throws {
        guard case .elf(var facts) = ELFReader.read(path: Fixtures.path("recent")) else {
            Issue.record("unreadable")
            return
        }
        let release = try #require(kb.release(named: "3.20"))
        #expect(Assessor(kb: kb, release: release).assess(facts, path: "/x/recent").language == .c)
        facts.hasRustRuntime = true
        let rust = Assessor(kb: kb, release: release).assess(facts, path: "/x/recent")
        #expect(rust.language == .rust)
        #expect(rust.fix?.rebuild == "cargo build --release --target x86_64-unknown-linux-musl")
        #expect(
            rust.fix?.dockerfile.contains(
                "COPY --from=build /src/target/x86_64-unknown-linux-musl/release/recent /usr/local/bin/recent") == true)
    }

    @Test func staticGlibcIsToldApartFromStaticMusl() throws {
        let glibc = try assess("hello-static-glibc", "3.20")
        #expect(glibc.libc == .glibc && glibc.findings.contains { $0.rule == RuleID.staticGlibc })
        let musl = try assess("hello-static-musl", "3.20")
        #expect(musl.libc != .glibc && !musl.findings.contains { $0.rule == RuleID.staticGlibc })
        #expect(try assess("hello-go-static", "3.20").libc == .none)
    }

    @Test func aMuslBinaryNeedingANewerMuslDoesNotRun() throws {
        var f = BinaryFacts(is64: true, bigEndian: false, machine: .x86_64, type: .dyn, osABI: 0, entry: 0x1000)
        f.interpreter = "/lib/ld-musl-x86_64.so.1"
        f.needed = ["libc.musl-x86_64.so.1"]
        f.linkage = .dynamic
        f.imports = [ImportedSymbol(name: "renameat2"), ImportedSymbol(name: "printf")]
        let old = Assessor(kb: kb, release: try #require(kb.release(named: "3.23"))).assess(f, path: "/x")
        #expect(old.verdict == .needsRebuild)
        #expect(old.missingSymbols.map(\.name) == ["renameat2"])
        #expect(old.missingSymbols.first?.firstMusl == "1.2.6")
        let new = Assessor(kb: kb, release: try #require(kb.release(named: "edge"))).assess(f, path: "/x")
        #expect(new.verdict == .runs)
    }

    @Test func damagedSymbolTablesAreNeverGuessed() throws {
        guard
            case .elf(let facts) = ELFReader.read(
                path: Fixtures.malformed.appendingPathComponent("dynamic-past-end").path)
        else {
            Issue.record("expected facts")
            return
        }
        let a = Assessor(kb: kb, release: try #require(kb.newestStable)).assess(facts, path: "/x")
        #expect(a.unassessable != nil)
    }
}
