import Assessment
import ELF
import Foundation
import Knowledge
import TestSupport
import Testing

/// Ground truth: musl's own dynamic linker in list mode (`ld-musl-x86_64.so.1 --list FILE`) maps and
/// relocates FILE without running any of its code and prints every missing symbol. Debian's musl is
/// 1.2.3, Alpine 3.17's. A directory of links stands in for libc6-compat (libcrypt.so.1 → musl).
@Suite struct AgreesWithMuslsLoader {
    static let loader = "/lib/ld-musl-x86_64.so.1"
    /// Debian's musl package differs from upstream: it is built without crypt and adds fts.
    static func debianDifference(_ name: String) -> Bool {
        name.hasPrefix("fts") || ["crypt", "crypt_r", "encrypt", "setkey"].contains(name)
    }

    static let fixtures = Fixtures.manifest.fixtures.map(\.name).filter { name in
        guard case .elf(let f) = ELFReader.read(path: Fixtures.path(name)) else { return false }
        return f.arch == "x86_64" && f.linkage == .dynamic && f.interpreter != nil
    }

    struct LoaderView {
        var loads: Bool
        var missing: Set<String>
        var unsupportedRelocation: Bool
    }

    /// Runs the loader with `compatDir` first on the library path, and judges only what it says about
    /// `path` itself: libraries standing in for Alpine packages are glibc builds with their own errors.
    static func listed(_ path: String, compatDir: String) throws -> LoaderView {
        let libDir = Fixtures.bin.appendingPathComponent("lib").path
        let result = try #require(
            runProgram(loader, ["--list", path], environment: ["LD_LIBRARY_PATH": "\(compatDir):\(libDir)"]))
        var missing = Set<String>()
        var loads = true
        var unsupported = false
        for line in (result.stdout + result.stderr).split(separator: "\n") {
            if line.hasPrefix("Error relocating \(path): ") {
                let rest = line.dropFirst("Error relocating \(path): ".count)
                if let colon = rest.range(of: ": symbol not found") {
                    let name = String(rest[..<colon.lowerBound])
                    missing.insert(name)
                    if !debianDifference(name) { loads = false }
                } else if rest.contains("unsupported relocation type") {
                    unsupported = true
                    loads = false
                }
            } else if line.hasPrefix("Error loading shared library"), line.hasSuffix("(needed by \(path))") {
                loads = false
            }
        }
        return LoaderView(loads: loads, missing: missing, unsupportedRelocation: unsupported)
    }

    @Test func loaderIsInstalled() {
        #expect(
            FileManager.default.isExecutableFile(atPath: Self.loader), "install Debian's musl package (.ci/run does)")
        #expect(Self.fixtures.count >= 12)
    }

    @Test(arguments: fixtures)
    func verdictAndMissingSymbolsMatch(name: String) throws {
        let compat = FileManager.default.temporaryDirectory.appendingPathComponent(
            "muslcheck-libc6compat-\(getpid())-\(name.replacingOccurrences(of: "/", with: "_"))")
        try FileManager.default.createDirectory(at: compat, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: compat) }
        try? FileManager.default.createSymbolicLink(
            atPath: compat.appendingPathComponent("libcrypt.so.1").path, withDestinationPath: Self.loader)
        // Stand-ins for the Alpine packages libstdc++ and libgcc, which the verdict expects to be installed.
        for lib in ["libstdc++.so.6", "libgcc_s.so.1"] {
            try? FileManager.default.createSymbolicLink(
                atPath: compat.appendingPathComponent(lib).path, withDestinationPath: "/usr/lib/x86_64-linux-gnu/\(lib)"
            )
        }

        let path = Fixtures.path(name)
        let truth = try Self.listed(path, compatDir: compat.path)
        let release = try #require(kb.release(named: "3.17"))
        guard case .elf(let facts) = ELFReader.read(path: path) else {
            Issue.record("unreadable")
            return
        }
        let a = Assessor(kb: kb, release: release).assess(facts, path: path, dependencies: dependencies(facts, path))
        // Without gcompat, every symbol musl lacks is missing, whoever else could provide it.
        let ours = Set(a.missingSymbols.map(\.name)).filter { !Self.debianDifference($0) }
        #expect(ours == truth.missing.filter { !Self.debianDifference($0) })
        #expect(a.findings.contains { $0.rule == RuleID.irelative } == truth.unsupportedRelocation)
        // Loads with libc6-compat alone ⇔ the verdict is runs or needs-libc6-compat.
        #expect((a.verdict <= .needsLibc6Compat) == truth.loads, "verdict \(a.verdict.rawValue)")
    }
}
