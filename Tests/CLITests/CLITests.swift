import Foundation
import MuslcheckCLI
import TestSupport
import Testing

/// Runs the CLI in-process from the package root (so paths in reports are relative and stable), as in a
/// pipeline: no terminal, no MUSLCHECK_* variables (so a developer's terminal or shell changes no golden).
func muslcheck(_ args: String...) -> CommandOutput {
    muslcheck(args)
}

func muslcheck(_ args: [String], context: RunContext = RunContext()) -> CommandOutput {
    _ = FileManager.default.changeCurrentDirectoryPath(Fixtures.root.path)
    return CLI.run(args, context: context)
}

func json(_ text: String) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
}

@Suite(.serialized) struct ExitStatuses {
    @Test func zeroWhenNothingReachesTheGate() {
        #expect(muslcheck("check", "fixtures-bin/bin/hello-musl").exitCode == 0)
        #expect(muslcheck("check", "--fail-on", "never", "fixtures-bin/bin/recent").exitCode == 0)
        #expect(
            muslcheck("check", "--fail-on", "needs-rebuild", "--target", "alpine:3.20", "fixtures-bin/bin/glibconly")
                .exitCode == 0)
    }

    @Test func oneWhenTheGateFails() {
        #expect(muslcheck("check", "fixtures-bin/bin/hello-glibc").exitCode == 1)
        #expect(muslcheck("check", "--fail-on", "needs-rebuild", "fixtures-bin/bin/recent").exitCode == 1)
        #expect(
            muslcheck("check", "--fail-on", "needs-gcompat", "--target", "3.17", "fixtures-bin/bin/hello-glibc")
                .exitCode == 0)
        #expect(
            muslcheck("check", "--fail-on", "needs-gcompat", "--target", "3.20", "fixtures-bin/bin/hello-glibc")
                .exitCode == 1)
        // warning: a file that runs but has a warning finding (static glibc) fails the strictest gate
        #expect(muslcheck("check", "--fail-on", "warning", "fixtures-bin/bin/hello-static-glibc").exitCode == 1)
        #expect(
            muslcheck("check", "--fail-on", "needs-libc6-compat", "fixtures-bin/bin/hello-static-glibc").exitCode == 0)
    }

    @Test func twoWhenAnInputCannotBeReadButTheGatePasses() {
        #expect(
            muslcheck("check", "fixtures-bin/bin/hello-musl", "fixtures-bin/malformed/truncated-ehdr").exitCode == 2)
        #expect(muslcheck("check", "fixtures-bin/bin/hello-musl", "/nonexistent/file").exitCode == 2)
        #expect(muslcheck("check", "fixtures-bin/malformed/dynamic-past-end").exitCode == 2)  // damaged: never a pass
        #expect(muslcheck("inspect", "fixtures-bin/malformed/phoff-past-end").exitCode == 2)
        // the gate failing wins over read errors
        #expect(muslcheck("check", "fixtures-bin/bin/recent", "fixtures-bin/malformed/truncated-ehdr").exitCode == 1)
    }

    @Test func sixtyFourOnUsageErrors() {
        #expect(muslcheck("check", "--target", "alpine:2.0", "fixtures-bin/bin/hello-musl").exitCode == 64)
        #expect(muslcheck("check", "--fail-on", "sometimes", "fixtures-bin/bin/hello-musl").exitCode == 64)
        #expect(muslcheck("check").exitCode == 64)
        #expect(muslcheck("inspect", "--format", "xml", "fixtures-bin/bin/hello-musl").exitCode == 64)
        #expect(muslcheck("explain", "no-such-rule").exitCode == 64)
        #expect(muslcheck("check", "--jobs", "0", "fixtures-bin/bin").exitCode == 64)
    }

    @Test func checkIsTheDefaultSubcommand() {
        let out = muslcheck("fixtures-bin/bin/hello-musl")
        #expect(out.exitCode == 0 && out.stdout.contains("hello-musl: runs"))
    }
}

@Suite(.serialized) struct Contracts {
    @Test func checkJSONHasTheContractFields() throws {
        let out = muslcheck("check", "--format", "json", "--target", "alpine:3.20", "fixtures-bin/bin")
        let root = try json(out.stdout)
        #expect(root["schemaVersion"] as? Int == 1)
        let target = try #require(root["target"] as? [String: Any])
        #expect(
            target["release"] as? String == "3.20" && target["musl"] as? String == "1.2.5"
                && target["gcompat"] as? String == "1.1.0")
        let results = try #require(root["results"] as? [[String: Any]])
        let recent = try #require(results.first { ($0["path"] as? String)?.hasSuffix("/recent") == true })
        for key in [
            "path", "status", "arch", "libc", "linkage", "verdict", "missingSymbols", "missingLibraries", "packages",
            "minimumGlibc", "findings",
        ] {
            #expect(recent[key] != nil, "missing \(key)")
        }
        #expect(recent["verdict"] as? String == "needs-rebuild")
        let missing = try #require(recent["missingSymbols"] as? [[String: Any]])
        #expect(
            missing.contains {
                $0["name"] as? String == "fcntl64" && $0["version"] as? String == "GLIBC_2.28"
                    && $0["providedBy"] is NSNull
            })
        let summary = try #require(root["summary"] as? [String: Any])
        let verdicts = try #require(summary["verdicts"] as? [String: Int])
        #expect(verdicts.values.reduce(0, +) == summary["assessed"] as? Int)
        #expect(Set(verdicts.keys) == ["runs", "needs-libc6-compat", "needs-gcompat", "needs-rebuild"])
    }

    @Test func walkedNonELFFilesAreCountedNotListed() throws {
        let root = try json(muslcheck("check", "--format", "json", "fixtures-bin/src").stdout)
        #expect((root["results"] as? [Any])?.isEmpty == true)
        let summary = try #require(root["summary"] as? [String: Any])
        #expect(summary["skipped"] as? Int ?? 0 >= 10)
        let named = try json(muslcheck("check", "--format", "json", "fixtures-bin/src/hello.c").stdout)
        #expect((named["results"] as? [[String: Any]])?.first?["status"] as? String == "skipped")
    }

    @Test func inspectJSONHasTheContractFields() throws {
        let root = try json(muslcheck("inspect", "--format", "json", "fixtures-bin/bin/app-runpath").stdout)
        let file = try #require((root["files"] as? [[String: Any]])?.first)
        #expect(file["needed"] as? [String] == ["libgreet.so.1", "libc.so.6"])
        #expect(file["runpath"] as? [String] == ["$ORIGIN/lib", "/opt/greet/lib"])
        #expect(file["interpreter"] as? String == "/lib64/ld-linux-x86-64.so.2")
        #expect(file["soname"] is NSNull)
        let imports = try #require(file["imports"] as? [[String: Any]])
        #expect(
            imports.contains {
                $0["name"] as? String == "greet_loudly" && $0["version"] as? String == "GREET_1.1"
                    && $0["library"] as? String == "libgreet.so.1"
            })
        #expect(imports.contains { $0["version"] is NSNull && $0["weak"] as? Bool == true })
        let reqs = try #require(file["versionRequirements"] as? [[String: Any]])
        #expect(
            reqs.contains {
                $0["library"] as? String == "libc.so.6" && ($0["versions"] as? [String])?.contains("GLIBC_2.34") == true
            })
    }

    @Test func kbAndExplainAnswerForEveryRule() throws {
        let kb = try json(muslcheck("kb", "--format", "json").stdout)
        let rules = try #require(kb["rules"] as? [[String: Any]])
        #expect(rules.count >= 15)
        #expect((kb["releases"] as? [Any])?.count ?? 0 >= 12)
        for rule in rules {
            let id = try #require(rule["id"] as? String)
            let out = muslcheck("explain", id)
            #expect(out.exitCode == 0 && out.stdout.contains("Fix:") && out.stdout.contains("Sources:"), "\(id)")
        }
        let symbol = muslcheck("explain", "fcntl64")
        #expect(symbol.exitCode == 0 && symbol.stdout.contains("alpine:3.20") && symbol.stdout.contains("missing"))
    }

    /// A program is as loadable as the worst library it loads; found through RUNPATH $ORIGIN/../lib inside
    /// the scanned directory.
    @Test func bundledLibrariesAreAssessedAndBlamed() throws {
        let root = try json(
            muslcheck("check", "--format", "json", "--target", "alpine:3.20", "fixtures-bin/bin/bundle").stdout)
        let result = try #require(
            (root["results"] as? [[String: Any]])?.first {
                $0["path"] as? String == "fixtures-bin/bin/bundle/bin/bundled"
            })
        #expect(result["verdict"] as? String == "needs-rebuild")
        #expect(result["ownVerdict"] as? String == "needs-gcompat")
        // The recipe follows the combined verdict: a rebuild of this program, not the apk line of its own.
        let fix = try #require(result["fix"] as? [String: Any])
        #expect(
            (fix["dockerfile"] as? String)?.hasSuffix("COPY --from=build /src/bundled /usr/local/bin/bundled") == true)
        #expect(fix["rebuild"] as? String != nil)
        #expect((result["missingLibraries"] as? [Any])?.isEmpty == true)  // both libraries ship with it
        let findings = try #require(result["findings"] as? [[String: Any]])
        let dependency = try #require(findings.first { $0["rule"] as? String == "dependency" })
        #expect(
            (dependency["message"] as? String)?.contains(
                "fixtures-bin/bin/bundle/lib/libbad.so.1 (needs-rebuild: fcntl64)") == true)
        // Without the bundle, the same library names are unknown.
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("muslcheck-bundled-\(getpid())")
        defer { try? FileManager.default.removeItem(at: copy) }
        try FileManager.default.copyItem(atPath: Fixtures.path("bundle/bin/bundled"), toPath: copy.path)
        let alone = try json(muslcheck("check", "--format", "json", "--target", "alpine:3.20", copy.path).stdout)
        let missing = try #require(
            ((alone["results"] as? [[String: Any]])?.first?["missingLibraries"] as? [[String: Any]]))
        #expect(Set(missing.compactMap { $0["soname"] as? String }) == ["libgreet.so.1", "libbad.so.1"])
    }

    @Test func aDamagedBundledLibraryIsNamedNotIgnored() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("muslcheck-damaged-\(getpid())")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.copyItem(atPath: Fixtures.path("bundle"), toPath: dir.path)
        let lib = dir.appendingPathComponent("lib/libbad.so.1")
        try Data(try Data(contentsOf: lib).prefix(100)).write(to: lib)
        let out = muslcheck("check", "--format", "json", "--target", "alpine:3.20", dir.path)
        let bundled = dir.appendingPathComponent("bin/bundled").path
        let result = try #require(
            (try json(out.stdout)["results"] as? [[String: Any]])?.first { $0["path"] as? String == bundled })
        let findings = try #require(result["findings"] as? [[String: Any]])
        #expect(
            findings.contains {
                $0["rule"] as? String == "dependency"
                    && ($0["message"] as? String)?.contains("could not be read") == true
            })
        #expect(result["status"] as? String == "error")
        #expect(muslcheck("check", "--fail-on", "never", dir.path).exitCode == 2)
    }

    @Test func rootFilesystemLibrariesAreFound() throws {
        // An unpacked "image": the program in /app, its library in the image's /usr/lib through an absolute link.
        let image = FileManager.default.temporaryDirectory.appendingPathComponent("muslcheck-root-\(getpid())")
        defer { try? FileManager.default.removeItem(at: image) }
        let fm = FileManager.default
        try fm.createDirectory(at: image.appendingPathComponent("app"), withIntermediateDirectories: true)
        try fm.createDirectory(at: image.appendingPathComponent("usr/lib"), withIntermediateDirectories: true)
        try fm.createDirectory(at: image.appendingPathComponent("opt"), withIntermediateDirectories: true)
        try fm.copyItem(
            atPath: Fixtures.path("bundle/bin/bundled"), toPath: image.appendingPathComponent("app/bundled").path)
        try fm.copyItem(
            atPath: Fixtures.path("bundle/lib/libbad.so.1"),
            toPath: image.appendingPathComponent("opt/libbad.so.1").path)
        try fm.copyItem(
            atPath: Fixtures.path("lib/libgreet.so.1"),
            toPath: image.appendingPathComponent("usr/lib/libgreet.so.1").path)
        try fm.createSymbolicLink(
            atPath: image.appendingPathComponent("usr/lib/libbad.so.1").path, withDestinationPath: "/opt/libbad.so.1")
        let out = muslcheck(
            "check", "--format", "json", "--target", "alpine:3.20", "--root", image.path,
            image.appendingPathComponent("app").path)
        let result = try #require((try json(out.stdout)["results"] as? [[String: Any]])?.first)
        #expect((result["missingLibraries"] as? [Any])?.isEmpty == true)
        #expect(result["verdict"] as? String == "needs-rebuild")  // libbad, reached through the image's absolute link
    }

    @Test func outputFileReceivesTheReport() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("muslcheck-out-\(getpid()).json")
        defer { try? FileManager.default.removeItem(at: file) }
        let out = muslcheck("check", "--format", "json", "--output", file.path, "fixtures-bin/bin/hello-musl")
        #expect(out.stdout.isEmpty && out.exitCode == 0)
        #expect(try json(String(contentsOf: file, encoding: .utf8))["schemaVersion"] as? Int == 1)
    }

    /// The ctor fixture creates a marker file if anything runs it. No command of ours may.
    @Test func neverRunsCodeFromItsInputs() throws {
        let marker = FileManager.default.temporaryDirectory.appendingPathComponent("muslcheck-marker-\(getpid())").path
        setenv("MUSLCHECK_MARKER", marker, 1)
        defer { unsetenv("MUSLCHECK_MARKER") }
        for args in [
            ["check", "fixtures-bin/bin/ctor"], ["inspect", "--exports", "fixtures-bin/bin/ctor"],
            ["check", "--format", "json", "--follow-symlinks", "fixtures-bin/bin"],
        ] {
            _ = CLI.run(args)
        }
        // The fixture really would create it when run: prove the marker path works, then that we never did.
        #expect(!FileManager.default.fileExists(atPath: marker))
        if let ran = runProgram(Fixtures.path("ctor"), [], environment: ["MUSLCHECK_MARKER": marker + ".control"]) {
            #expect(ran.status == 0)
            #expect(FileManager.default.fileExists(atPath: marker + ".control"))
            try? FileManager.default.removeItem(atPath: marker + ".control")
        }
    }
}

@Suite(.serialized) struct Goldens {
    static let fixtures = Fixtures.manifest.fixtures.map(\.path)

    /// inspect and check, text and JSON, per fixture; re-bless with UPDATE_GOLDENS=1.
    @Test(arguments: fixtures)
    func reportsMatchGoldenFiles(path: String) {
        let input = "fixtures-bin/" + path
        let name = String(path.dropFirst(4))  // bin/x → x
        let outputs = [
            ("inspect.txt", muslcheck("inspect", input).stdout),
            ("inspect.json", muslcheck("inspect", "--format", "json", input).stdout),
            ("check-3.17.txt", muslcheck("check", "--target", "alpine:3.17", input).stdout),
            ("check-3.20.json", muslcheck("check", "--target", "alpine:3.20", "--format", "json", input).stdout),
        ]
        for (kind, text) in outputs {
            if let difference = Fixtures.checkGolden(text, "\(name).\(kind)") {
                Issue.record(Comment(rawValue: difference))
            }
        }
    }
}
