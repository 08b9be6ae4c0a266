// The conventions of issue 17: a gate that fails safe and says why, the options and variables users type
// without reading, and writes that never replace what a path points to.
import Foundation
import TestSupport
import Testing

@testable import MuslcheckCLI

@Suite(.serialized) struct FailSafe {
    @Test func aMissingPathStopsTheRunOnStandardError() {
        let out = muslcheck("check", "fixtures-bin/bin/hello-musl", "fixtures-bin/no-such-dir")
        #expect(out.exitCode == 2)
        #expect(out.stdout.isEmpty)
        #expect(out.stderr.contains("fixtures-bin/no-such-dir") && out.stderr.contains("No such file"))
    }

    @Test func aPathWithNoELFFileIsExitTwoUnlessAllowed() throws {
        let dir = try scratch("empty")
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data("just text, neither ELF nor a script\n".utf8).write(to: dir.appendingPathComponent("notes.txt"))
        let out = muslcheck("check", dir.path)
        #expect(out.exitCode == 2)
        #expect(
            out.stderr.contains("no ELF file to assess under '\(dir.path)'") && out.stderr.contains("--allow-empty"))
        #expect(muslcheck("check", "--allow-empty", dir.path).exitCode == 0)
        // One empty path among good ones is named too.
        let mixed = muslcheck("check", "fixtures-bin/bin/hello-musl", dir.path)
        #expect(mixed.exitCode == 2 && mixed.stderr.contains(dir.path) && !mixed.stderr.contains("hello-musl"))
        // A gate failure still says 1.
        #expect(muslcheck("check", "fixtures-bin/bin/recent", dir.path).exitCode == 1)
    }

    @Test func reportsAllInFilesStillLeaveTheVerdictOnStandardError() throws {
        let dir = try scratch("to-files")
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = muslcheck(
            "check", "-f", "sarif", "-o", dir.appendingPathComponent("r.sarif").path, "fixtures-bin/bin/recent")
        #expect(out.exitCode == 1 && out.stdout.isEmpty)
        #expect(
            out.stderr.contains("1 file: 1 assessed")
                && out.stderr.contains(
                    "gate failed (--fail-on needs-libc6-compat: 1 file; 0 ignored by policy, 0 in the baseline)")
        )
        // With a report on standard output, standard error stays quiet.
        let text = muslcheck("check", "fixtures-bin/bin/recent")
        #expect(text.stderr.isEmpty && text.stdout.contains("gate failed"))
    }

    @Test func theGateLineCountsWhatPolicyAndBaselineWaived() throws {
        let dir = try scratch("waived")
        defer { try? FileManager.default.removeItem(at: dir) }
        for name in ["a", "b", "c"] { try fixture("recent").write(to: dir.appendingPathComponent(name)) }
        let baseline = dir.appendingPathComponent("baseline.json")
        let policy = dir.appendingPathComponent("policy.yml")
        try Data("ignore:\n  paths:\n    - path: a\n      reason: vendored\n".utf8).write(to: policy)
        let write = muslcheck("check", "--write-baseline", baseline.path, dir.appendingPathComponent("b").path)
        #expect(write.exitCode == 0, "writing a baseline is a success")
        #expect(write.stderr.contains("wrote the baseline"))
        let out = muslcheck("check", "--config", policy.path, "--baseline", baseline.path, dir.path)
        #expect(out.exitCode == 1)
        #expect(
            out.stdout.contains(
                "gate failed (--fail-on needs-libc6-compat: 1 file; 1 ignored by policy, 1 in the baseline)"))
        let passed = muslcheck("check", "--fail-on", "never", dir.path)
        #expect(passed.stdout.contains("gate passed (--fail-on never; 0 ignored by policy, 0 in the baseline)"))
    }
}

@Suite(.serialized) struct Conventions {
    @Test func shortFormatAndOutputWithDashForStandardOutput() throws {
        let dir = try scratch("short")
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("r.json")
        let out = muslcheck(
            "check", "-f", "json", "-o", file.path, "-f", "markdown", "-o", "-", "fixtures-bin/bin/hello-musl")
        #expect(out.exitCode == 0)
        #expect(out.stdout.hasPrefix("## muslcheck"))
        #expect(try json(String(contentsOf: file, encoding: .utf8))["schemaVersion"] as? Int == 1)
        #expect(!FileManager.default.fileExists(atPath: Fixtures.root.appendingPathComponent("-").path))
        // Two reports for standard output is a usage error.
        #expect(muslcheck("check", "-f", "json", "-o", "-", "-f", "text", "fixtures-bin/bin/hello-musl").exitCode == 64)
    }

    @Test func quietIsOneLinePerFailingFile() {
        let out = muslcheck("check", "-q", "--target", "alpine:3.20", "fixtures-bin/bin")
        let lines = out.stdout.split(separator: "\n")
        #expect(out.exitCode == 1 && !lines.isEmpty)
        #expect(lines.contains { $0 == "fixtures-bin/bin/recent: needs-rebuild (symbol-missing: arc4random, fcntl64)" })
        #expect(!out.stdout.contains("hello-musl") && !out.stdout.contains("Target:") && !out.stdout.contains("fix:"))
        #expect(muslcheck("check", "--quiet", "fixtures-bin/bin/hello-musl").stdout.isEmpty)
    }

    @Test func minSeverityHidesNotesFromReportsNotFromJSON() {
        let all = muslcheck("check", "fixtures-bin/bin/resinit")
        let some = muslcheck("check", "--min-severity", "warning", "fixtures-bin/bin/resinit")
        #expect(all.stdout.contains("note ["))
        #expect(!some.stdout.contains("note [") && some.stdout.contains("resinit"))
        #expect(
            muslcheck("check", "--min-severity", "warning", "-f", "json", "fixtures-bin/bin/resinit").stdout.contains(
                "\"severity\": \"note\""))
    }

    @Test func filesFromAFileOrStandardInput() throws {
        let dir = try scratch("files-from")
        defer { try? FileManager.default.removeItem(at: dir) }
        let list = dir.appendingPathComponent("list")
        try Data("fixtures-bin/bin/hello-musl\nfixtures-bin/bin/recent\n".utf8).write(to: list)
        let out = muslcheck("check", "-f", "json", "--files-from", list.path)
        #expect(
            try results(out).compactMap { $0["path"] as? String } == [
                "fixtures-bin/bin/hello-musl", "fixtures-bin/bin/recent",
            ])
        let piped = muslcheck(
            ["check", "-f", "json", "--files-from", "-", "fixtures-bin/bin/weak"],
            context: RunContext(standardInput: Data("fixtures-bin/bin/hello-musl\0fixtures-bin/bin/lfs64\0".utf8)))
        #expect(
            try results(piped).compactMap { $0["path"] as? String } == [
                "fixtures-bin/bin/weak", "fixtures-bin/bin/hello-musl", "fixtures-bin/bin/lfs64",
            ])
        #expect(muslcheck(["check", "--files-from", "-"], context: RunContext(standardInput: Data())).exitCode == 2)
    }

    @Test func environmentVariablesAndFlagsWin() throws {
        let env = RunContext(environment: ["MUSLCHECK_TARGET": "alpine:3.17", "MUSLCHECK_FAIL_ON": "needs-gcompat"])
        let out = muslcheck(["check", "-f", "json", "fixtures-bin/bin/hello-glibc"], context: env)
        let root = try json(out.stdout)
        #expect((root["target"] as? [String: Any])?["release"] as? String == "3.17")
        #expect((root["gate"] as? [String: Any])?["failOn"] as? String == "needs-gcompat")
        #expect(out.exitCode == 0)
        let flag = muslcheck(
            ["check", "-f", "json", "--target", "alpine:3.20", "fixtures-bin/bin/hello-glibc"], context: env)
        #expect((try json(flag.stdout)["target"] as? [String: Any])?["release"] as? String == "3.20")
        let bad = muslcheck(
            ["check", "fixtures-bin/bin/hello-glibc"],
            context: RunContext(environment: ["MUSLCHECK_FAIL_ON": "sometimes"]))
        #expect(bad.exitCode == 64 && bad.stderr.contains("MUSLCHECK_FAIL_ON"))
    }

    @Test(arguments: [
        ("512M", 512 << 20 as Int?), ("2G", 2 << 30), ("2GiB", 2 << 30), ("64k", 64 << 10), ("1048576", 1 << 20),
        ("1.5G", nil), ("G", nil), ("-1M", nil), ("99999999999T", nil),
    ])
    func humanSizes(_ text: String, _ bytes: Int?) {
        #expect(ByteSize(argument: text)?.bytes == bytes)
    }

    @Test func sizeLimitsTakeHumanSizes() throws {
        let dir = try scratch("sizes")
        defer { try? FileManager.default.removeItem(at: dir) }
        try zip(dir.appendingPathComponent("a.zip"), [("lib/a.so", try fixture("recent"))])
        let small = muslcheck("check", "--max-member-bytes", "1K", dir.path)
        #expect(small.exitCode == 2 && small.stdout.contains("error"))  // a member over 1 KiB is reported
        #expect(muslcheck("check", "--max-member-bytes", "1M", dir.path).exitCode == 1)  // read and judged
        #expect(muslcheck("check", "--max-total-bytes", "2G", "fixtures-bin/bin/hello-musl").exitCode == 0)
        #expect(muslcheck("check", "--max-total-bytes", "lots", "fixtures-bin/bin/hello-musl").exitCode == 64)
    }

    @Test func versionNamesTheKnowledgeBaseAndDefaultTarget() {
        let out = muslcheck("--version")
        #expect(out.exitCode == 0)
        #expect(
            out.stdout.hasPrefix("muslcheck \(toolVersion) (knowledge base 20")
                && out.stdout.contains("default target alpine:3."))
    }

    @Test func completionsKnowTheTargets() {
        let bash = muslcheck("--generate-completion-script", "bash")
        #expect(bash.exitCode == 0 && bash.stdout.contains("alpine:3.20") && bash.stdout.contains("alpine:edge"))
        #expect(muslcheck("--generate-completion-script", "zsh").stdout.contains("alpine:3.20"))
    }

    @Test func helpGivesEachDefaultOnceAndExamples() {
        let help = muslcheck("check", "--help").stdout
        #expect(help.contains("Examples:"))
        #expect(!help.contains("(default 5)") && help.contains("(default: 5)"))
        #expect(help.contains("(default: 256M)"))
    }
}

@Suite(.serialized) struct Writes {
    @Test func anOutputSymlinkIsWrittenThroughNotReplaced() throws {
        let dir = try scratch("symlink-out")
        defer { try? FileManager.default.removeItem(at: dir) }
        let target = dir.appendingPathComponent("real.json")
        let link = dir.appendingPathComponent("link.json")
        try FileManager.default.createSymbolicLink(atPath: link.path, withDestinationPath: target.path)
        #expect(muslcheck("check", "-f", "json", "-o", link.path, "fixtures-bin/bin/hello-musl").exitCode == 0)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link.path) == target.path)
        #expect(try json(String(contentsOf: target, encoding: .utf8))["schemaVersion"] as? Int == 1)
        // A device is written to, not replaced (a rename over it needs rights this run does not have).
        #expect(muslcheck("check", "-o", "/dev/null", "fixtures-bin/bin/hello-musl").exitCode == 0)
    }

    @Test func aFIFOIsWrittenTo() throws {
        let dir = try scratch("fifo-out")
        defer { try? FileManager.default.removeItem(at: dir) }
        let fifo = dir.appendingPathComponent("pipe").path
        #expect(mkfifo(fifo, 0o600) == 0)
        // The reader opens the FIFO as a shell's reader would, and reads to the end.
        final class Box: @unchecked Sendable { var data = Data() }
        let box = Box()
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            let fd = open(fifo, O_RDONLY)
            var buffer = [UInt8](repeating: 0, count: 65536)
            while fd >= 0 {
                let n = read(fd, &buffer, buffer.count)
                if n <= 0 { break }
                box.data.append(contentsOf: buffer[0..<n])
            }
            if fd >= 0 { close(fd) }
            done.signal()
        }
        #expect(muslcheck("check", "-f", "json", "-o", fifo, "fixtures-bin/bin/hello-musl").exitCode == 0)
        #expect(done.wait(timeout: .now() + 30) == .success)
        let received = box.data
        #expect(String(decoding: received, as: UTF8.self).contains("\"schemaVersion\": 1"))
        var st = stat()
        #expect(lstat(fifo, &st) == 0 && (st.st_mode & S_IFMT) == S_IFIFO)
    }

    @Test func aFailedWriteIsExitTwo() {
        let out = muslcheck("check", "-o", "/nonexistent-dir/report.txt", "fixtures-bin/bin/hello-musl")
        #expect(out.exitCode == 2 && out.stderr.contains("cannot write /nonexistent-dir/report.txt"))
    }

    /// README: a report that cannot be written is exit status 2 for every command that writes one, never 64
    /// (usage): the command line was right, the file system refused.
    @Test(arguments: [
        ["inspect", "-o", "/nonexistent-dir/out", "fixtures-bin/bin/hello-musl"],
        ["check", "--format", "sarif", "--output", "/nonexistent-dir/out", "fixtures-bin/bin/hello-musl"],
        ["check", "--write-baseline", "/nonexistent-dir/out", "fixtures-bin/bin/hello-musl"],
        ["migrate", "fixtures-bin/bin", "--output", "/nonexistent-dir/out"],
    ])
    func everyFailedReportWriteIsExitTwo(arguments: [String]) {
        let out = muslcheck(arguments)
        #expect(out.exitCode == ExitStatus.inputError)
        #expect(out.stderr.contains("cannot write /nonexistent-dir/out"))
    }

    @Test func aFailedMergeWriteIsExitTwo() throws {
        let saved = muslcheck("check", "-f", "json", "--fail-on", "never", "fixtures-bin/bin/hello-musl")
        let dir = try scratch("merge-write")
        defer { try? FileManager.default.removeItem(at: dir) }
        let report = dir.appendingPathComponent("r.json").path
        try saved.stdout.write(toFile: report, atomically: true, encoding: .utf8)
        let out = muslcheck("merge", report, "--output", "/nonexistent-dir/out")
        #expect(out.exitCode == ExitStatus.inputError)
        #expect(out.stderr.contains("cannot write /nonexistent-dir/out"))
    }
}

@Suite(.serialized) struct InspectConventions {
    @Test func inspectTakesShortOptionsAndSaysWhenAPathIsMissing() throws {
        let dir = try scratch("inspect-short")
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("facts.json")
        #expect(muslcheck("inspect", "-f", "json", "-o", file.path, "fixtures-bin/bin/hello-musl").exitCode == 0)
        #expect(try json(String(contentsOf: file, encoding: .utf8))["files"] != nil)
        #expect(
            muslcheck("inspect", "-f", "json", "-o", "-", "fixtures-bin/bin/hello-musl").stdout.contains("\"files\""))
        let missing = muslcheck("inspect", "fixtures-bin/bin/no-such-file")
        #expect(
            missing.exitCode == 2 && missing.stdout.isEmpty && missing.stderr.contains("no-such-file: No such file"))
    }
}
