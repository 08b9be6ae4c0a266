import Reporting
// The migration plan as text (a terminal), Markdown (a pull request), HTML (the plan first, the per-file
// detail below) and JSON (a contract of its own, schemaVersion 1).
import TextSupport

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

public enum MigrationReport {
    public static func json(_ plan: MigrationPlan) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(plan), as: UTF8.self) + "\n"
    }

    static func describe(_ plan: MigrationPlan) -> (base: String, counts: String, mapped: String) {
        let os =
            plan.base.os?.prettyName
            ?? [plan.base.os?.id, plan.base.os?.versionID].compactMap { $0 }.joined(separator: " ")
        let base =
            "\(os.isEmpty ? "unknown distribution" : os), \(plan.base.installedPackages) packages (\(plan.base.packageManager.rawValue))"
        let f = plan.files
        let counts =
            "\(f.elf) ELF files: \(f.distribution) the distribution's, \(f.cLibrary) the C library's (replaced by musl), \(f.application) the application's"
            + (f.errors > 0 ? " (\(f.errors) could not be judged)" : "")
            + (f.scripts > 0 ? "; \(f.scripts) application scripts" : "")
        let placed = plan.packages.filter { $0.how != .none }.count
        let mapped = "\(placed) of \(plan.packages.count) packages have an Alpine counterpart or are part of the base"
        return (base, counts, mapped)
    }

    public static func text(_ plan: MigrationPlan) -> String {
        let d = describe(plan)
        var out =
            "Migrating \(plan.root) to \(plan.target)\n" + (plan.image.map { "Image: \($0)\n" } ?? "")
            + "\nFrom: \(d.base)\n\(d.counts)\n\(d.mapped)\n"
        if let note = plan.base.note { out += "note: \(note)\n" }
        for note in plan.notes.prefix(maxNotes) { out += "note: \(note)\n" }
        if plan.notes.count > maxNotes { out += "note: … \(plan.notes.count - maxNotes) more in the JSON report\n" }
        out += "\nPlan:\n  base image: \(plan.plan.image)\n"
        if !plan.plan.apkAdd.isEmpty { out += "  apk add --no-cache \(plan.plan.apkAdd.joined(separator: " "))\n" }
        if !plan.plan.rebuild.isEmpty {
            out +=
                "  rebuild (\(plan.plan.rebuild.count)): \(plan.plan.rebuild.prefix(10).joined(separator: ", "))\(plan.plan.rebuild.count > 10 ? ", …" : "")\n"
        }
        if let e = plan.entrypoint { out += "\nEntrypoint, " + entrypointLines(e).joined(separator: "\n  ") + "\n" }
        if !plan.environment.isEmpty { out += "\nEnvironment:\n" + plan.environment.map { "  - \($0)\n" }.joined() }
        out += "\nProposed Dockerfile:\n" + plan.plan.dockerfile.split(separator: "\n").map { "  \($0)\n" }.joined()
        if let diff = plan.dockerfileDiff { out += "\nYour Dockerfile, rewritten:\n" + diff }
        let needing = plan.application.filter { $0.verdict != "runs" }
        if !plan.application.isEmpty {
            out += "\nApplication files (\(plan.application.count); \(needing.count) need something):\n"
            for f in needing.prefix(50) {
                out += "  \(f.path): \(f.verdict ?? f.status)" + (f.why.map { " (\($0))" } ?? "") + "\n"
            }
            if needing.count > 50 { out += "  … \(needing.count - 50) more in the JSON report\n" }
        }
        let unplaced = plan.packages.filter { $0.how == .none }
        if !unplaced.isEmpty {
            out +=
                "\nPackages with no known Alpine counterpart (\(unplaced.count)): "
                + unplaced.prefix(30).map(\.debian).joined(separator: ", ") + (unplaced.count > 30 ? ", …" : "") + "\n"
        }
        return out
    }

    /// Notes about reading the input listed in the text report (all of them are in the JSON).
    static let maxNotes = 20

    /// The entrypoint: where it was read, the command, and what each step found and needs.
    static func entrypointLines(_ e: Entrypoint) -> [String] {
        var lines = ["from the \(e.from): \(e.command.joined(separator: " "))"]
        let context = [e.user.map { "user \($0)" }, e.workingDir.map { "working directory \($0)" }].compactMap { $0 }
        if !context.isEmpty { lines.append(context.joined(separator: ", ")) }
        lines.append(
            "\(e.program ?? "not found in the image") (\(e.kind)"
                + (e.interpreter.map { e.kind == "script" ? ", #!\($0)" : ", interpreter \($0)" } ?? "")
                + (e.script.map { ", script \($0)" } ?? "") + (e.verdict.map { ", \($0)" } ?? "") + ")"
                + (e.needs.isEmpty ? "" : "; needs \(e.needs.joined(separator: " "))"))
        if e.chain.count > 1 { lines.append("chain: " + e.chain.joined(separator: " → ")) }
        lines += e.notes.map { "note: \($0)" }
        return lines
    }

    static func cell(_ s: String) -> String {
        s.replacingLiteral("|", with: "\\|").replacingLiteral("\n", with: " ").replacingLiteral("\r", with: " ")
            .replacingLiteral("<", with: "&lt;")
    }

    public static func markdown(_ plan: MigrationPlan) -> String {
        let d = describe(plan)
        var out =
            "## Moving to \(plan.target)\n\n- From: \(cell(d.base))\n- \(d.counts)\n- \(d.mapped)\n"
            + plan.notes.prefix(maxNotes).map { "- note: \(cell($0))\n" }.joined() + "\n### Plan\n\n"
        out += "```dockerfile\n\(plan.plan.dockerfile)\n```\n"
        if let e = plan.entrypoint {
            out += "\n### Entrypoint\n\n" + entrypointLines(e).map { "- \(cell($0))\n" }.joined()
        }
        if let diff = plan.dockerfileDiff {
            out += "\n<details><summary>The Dockerfile, rewritten</summary>\n\n```diff\n\(diff)```\n</details>\n"
        }
        if !plan.environment.isEmpty {
            out += "\n### Environment\n\n" + plan.environment.map { "- \(cell($0))\n" }.joined()
        }
        let needing = plan.application.filter { $0.verdict != "runs" }
        if !needing.isEmpty {
            out +=
                "\n### Application files that need something (\(needing.count))\n\n| file | verdict | why |\n|---|---|---|\n"
            for f in needing.prefix(100) {
                out += "| `\(cell(f.path))` | \(f.verdict ?? f.status) | \(cell(f.why ?? "")) |\n"
            }
            if needing.count > 100 { out += "\n… \(needing.count - 100) more in the JSON report.\n" }
        }
        out +=
            "\n<details><summary>Package mapping (\(plan.packages.count))</summary>\n\n| Debian | Alpine | how |\n|---|---|---|\n"
        for p in plan.packages {
            out += "| \(cell(p.debian)) | \(cell(p.alpine.joined(separator: " "))) | \(p.how.rawValue) |\n"
        }
        out += "\n</details>\n"
        return out
    }

    static func escape(_ s: String) -> String {
        s.replacingLiteral("&", with: "&amp;").replacingLiteral("<", with: "&lt;")
            .replacingLiteral(">", with: "&gt;").replacingLiteral("\"", with: "&quot;")
    }

    public static func html(_ plan: MigrationPlan) -> String {
        let d = describe(plan)
        var out = """
            <!doctype html><html><head><meta charset="utf-8"><title>muslcheck migrate</title>
            <style>body{font-family:sans-serif;max-width:70em;margin:2em auto}pre{background:#f4f4f4;padding:1em}
            td,th{text-align:left;padding:.2em .6em;border-bottom:1px solid #ddd}.rebuild{color:#b00}</style></head><body>
            <h1>Moving to \(escape(plan.target))</h1><p>From \(escape(d.base)).<br>\(escape(d.counts)).<br>\(escape(d.mapped)).</p>
            <h2>Plan</h2><pre>\(escape(plan.plan.dockerfile))</pre>
            """
        if !plan.notes.isEmpty {
            out += "<h2>Notes</h2><ul>" + plan.notes.map { "<li>\(escape($0))</li>" }.joined() + "</ul>"
        }
        if let e = plan.entrypoint {
            out += "<h2>Entrypoint</h2><ul>" + entrypointLines(e).map { "<li>\(escape($0))</li>" }.joined() + "</ul>"
        }
        if let diff = plan.dockerfileDiff { out += "<h2>The Dockerfile, rewritten</h2><pre>\(escape(diff))</pre>" }
        if !plan.environment.isEmpty {
            out += "<h2>Environment</h2><ul>" + plan.environment.map { "<li>\(escape($0))</li>" }.joined() + "</ul>"
        }
        out +=
            "<h2>Application files (\(plan.application.count))</h2><table><tr><th>file</th><th>verdict</th><th>why</th></tr>"
        for f in plan.application.sorted(by: {
            ($0.verdict == "needs-rebuild" ? 0 : 1, $0.path) < ($1.verdict == "needs-rebuild" ? 0 : 1, $1.path)
        }) {
            out +=
                "<tr\(f.verdict == "needs-rebuild" ? " class=\"rebuild\"" : "")><td>\(escape(f.path))</td><td>\(escape(f.verdict ?? f.status))</td><td>\(escape(f.why ?? ""))</td></tr>"
        }
        out +=
            "</table><h2>Package mapping (\(plan.packages.count))</h2><table><tr><th>Debian</th><th>Alpine</th><th>how</th></tr>"
        for p in plan.packages {
            out +=
                "<tr><td>\(escape(p.debian))</td><td>\(escape(p.alpine.joined(separator: " ")))</td><td>\(p.how.rawValue)</td></tr>"
        }
        return out + "</table></body></html>\n"
    }
}
