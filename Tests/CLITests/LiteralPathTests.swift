// Paths the user names are taken literally, as the shell left them: Foundation's path APIs would expand a
// leading "~" through the user database (glibc's NSS), which the static executable must never reach
// (docs/alpine.md). scripts/test-static.sh traces the release binary for the same thing.
import Foundation
import MuslcheckCLI
import TestSupport
import Testing

@Suite(.serialized) struct LiteralPaths {
    /// A name no other run uses; "~/NAME" is relative to the package root, which has no directory "~".
    let name = "muslcheck-literal-path-\(getpid())"
    var home: String { ProcessInfo.processInfo.environment["HOME"] ?? NSHomeDirectory() }

    @Test func outputStartingWithTildeIsNotTheHomeDirectory() throws {
        try #require(!FileManager.default.fileExists(atPath: Fixtures.root.appendingPathComponent("~").path))
        let expanded = home + "/" + name + ".json"
        defer { try? FileManager.default.removeItem(atPath: expanded) }
        let out = muslcheck("check", "--format", "json", "--output", "~/\(name).json", "fixtures-bin/bin/hello-musl")
        #expect(out.exitCode == ExitStatus.inputError)  // a failed write is an input problem (exit 2)
        #expect(out.stderr == "error: cannot write ~/\(name).json: No such file or directory\n")
        #expect(!FileManager.default.fileExists(atPath: expanded))  // expanded, the report would be there
    }

    @Test func policyStartingWithTildeIsNotTheHomeDirectory() throws {
        try #require(!FileManager.default.fileExists(atPath: Fixtures.root.appendingPathComponent("~").path))
        // A valid policy where an expanded "~/NAME.yml" would find it: read, the run would pass.
        let expanded = home + "/" + name + ".yml"
        try Data("fail-on: never\n".utf8).write(to: URL(fileURLWithPath: expanded))
        defer { try? FileManager.default.removeItem(atPath: expanded) }
        let out = muslcheck("check", "--config", "~/\(name).yml", "fixtures-bin/bin/hello-glibc")
        #expect(out.exitCode == ExitStatus.usage)
        #expect(out.stderr == "error: cannot read the policy file ~/\(name).yml\n")
    }
}
