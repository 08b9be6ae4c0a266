// `check` judges shell scripts and Dockerfiles it walks beside ELF files: same verdict scale, the gate,
// findings with line and column, scripts counted apart in the summary.
import Foundation
import MuslcheckCLI
import TestSupport
import Testing

@Suite(.serialized) struct ScriptsInCheck {
    @Test func scriptsAreJudgedBesideBinaries() throws {
        let dir = try scratch("scripts-in-check")
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data("#!/bin/sh\nset -e\nfiles=(a b c)\ngrep -P '\\\\d+' /etc/hosts\n".utf8).write(
            to: dir.appendingPathComponent("bad.sh"))
        try Data("#!/bin/sh\necho hello | grep -q h\n".utf8).write(to: dir.appendingPathComponent("good.sh"))
        try Data("FROM alpine:3.20\nRUN useradd app\n".utf8).write(to: dir.appendingPathComponent("Dockerfile"))
        try Data("just text\n".utf8).write(to: dir.appendingPathComponent("notes.txt"))
        try fixture("hello-glibc").write(to: dir.appendingPathComponent("hello"))
        let out = muslcheck("check", "--format", "json", "--target", "alpine:3.20", dir.path)
        #expect(out.exitCode == 1)
        let list = try results(out)
        func result(_ name: String) -> [String: Any]? {
            list.first { ($0["path"] as? String) == dir.appendingPathComponent(name).path }
        }
        #expect(result("bad.sh")?["kind"] as? String == "shell-script")
        #expect(result("bad.sh")?["verdict"] as? String == "needs-rebuild")
        let rules = (result("bad.sh")?["findings"] as? [[String: Any]] ?? []).compactMap { $0["rule"] as? String }
        #expect(rules.contains("ash-syntax-error") && rules.contains("busybox-option-rejected"))
        let messages = (result("bad.sh")?["findings"] as? [[String: Any]] ?? []).compactMap { $0["message"] as? String }
        #expect(messages.contains { $0.hasPrefix("line 3:1:") })
        #expect(result("good.sh")?["verdict"] as? String == "runs")
        #expect(result("Dockerfile")?["kind"] as? String == "dockerfile")
        #expect(result("Dockerfile")?["packages"] as? [String] == ["shadow"])
        #expect(result("notes.txt") == nil)  // not a script: counted, not listed
        let summary = try #require(try json(out.stdout)["summary"] as? [String: Any])
        #expect(summary["scripts"] as? Int == 3)
        #expect(summary["files"] as? Int == 5)

        // Code scanning annotates the line: SARIF regions carry it.
        let sarif = muslcheck(
            "check", "--format", "sarif", "--target", "alpine:3.20", dir.appendingPathComponent("bad.sh").path)
        let runs = try #require(try json(sarif.stdout)["runs"] as? [[String: Any]])
        let sarifResults = try #require(runs.first?["results"] as? [[String: Any]])
        let regions = sarifResults.compactMap { r -> [String: Any]? in
            guard r["ruleId"] as? String == "ash-syntax-error", let locations = r["locations"] as? [[String: Any]],
                let physical = locations.first?["physicalLocation"] as? [String: Any]
            else { return nil }
            return physical["region"] as? [String: Any]
        }
        #expect(regions.contains { $0["startLine"] as? Int == 3 && $0["startColumn"] as? Int == 1 })

        // Text names a script's verdict in its own words, with the rung the gate counts it as.
        let text = muslcheck("check", "--target", "alpine:3.20", dir.path).stdout
        #expect(text.contains(dir.appendingPathComponent("bad.sh").path + ": needs changes (gate: needs-rebuild)\n"))
        #expect(
            text.contains(
                dir.appendingPathComponent("Dockerfile").path + ": needs packages (gate: needs-libc6-compat)\n"))
        #expect(text.contains(dir.appendingPathComponent("good.sh").path + ": runs\n"))
        #expect(
            text.contains(dir.appendingPathComponent("hello").path + ": needs-libc6-compat\n")
                || text.contains(dir.appendingPathComponent("hello").path + ": needs-gcompat\n"))
    }

    /// A shell script longer than the first bytes every file has read is read whole (a finding past byte
    /// 512 is found); one judged by its #! line alone is judged from those first bytes.
    @Test func longScriptsAreReadWholeAndShortHeadsSuffice() throws {
        let dir = try scratch("scripts-long-and-head")
        defer { try? FileManager.default.removeItem(at: dir) }
        let padding = String(repeating: "# a comment line to pass the first bytes read\n", count: 20)
        try Data(("#!/bin/sh\n" + padding + "files=(a b c)\n").utf8).write(to: dir.appendingPathComponent("long.sh"))
        try Data(("#!/usr/bin/python3\n" + padding + "print('x')\n").utf8).write(
            to: dir.appendingPathComponent("tool.py"))
        let out = muslcheck("check", "--format", "json", "--target", "alpine:3.20", dir.path)
        let list = try results(out)
        func result(_ name: String) -> [String: Any]? {
            list.first { ($0["path"] as? String) == dir.appendingPathComponent(name).path }
        }
        let rules = (result("long.sh")?["findings"] as? [[String: Any]] ?? []).compactMap { $0["rule"] as? String }
        #expect(rules.contains("ash-syntax-error"))
        #expect(result("tool.py")?["kind"] as? String == "interpreted")
    }
}
