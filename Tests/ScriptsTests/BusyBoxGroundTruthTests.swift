// Runs every row of ash-syntax.tsv and busybox-options.tsv against a real BusyBox: the Debian package (1.35.0 on
// Debian 12). Skipped, with the reason, when no busybox is installed. What Debian's build does differently from
// Alpine's is recorded per row (the `debian` column); those rows are checked for Debian's behaviour only.
import Foundation
import Knowledge
import Testing

let busybox = ["/bin/busybox", "/usr/bin/busybox"].first { FileManager.default.isExecutableFile(atPath: $0) }

func run(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: busybox ?? "/bin/false")
    p.arguments = arguments
    p.currentDirectoryURL = FileManager.default.temporaryDirectory
    let out = Pipe()
    let err = Pipe()
    p.standardOutput = out
    p.standardError = err
    p.standardInput = FileHandle.nullDevice
    try p.run()
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (
        p.terminationStatus, String(decoding: o, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines),
        String(decoding: e, as: UTF8.self)
    )
}

@Suite(
    .enabled(
        if: busybox != nil, "busybox is not installed (Debian: apt-get install busybox); BusyBox ground truth skipped"))
struct BusyBoxGroundTruth {
    @Test func version() throws {
        let banner = try run([]).out + (try run(["--help"]).err)
        #expect(banner.contains("BusyBox v1."), "\(banner.prefix(80))")
    }

    @Test(
        arguments: scriptKnowledge.syntax.filter {
            !$0.example.isEmpty && $0.versions.contains(BusyBoxVersion("1.35.0") ?? BusyBoxVersion("0")!)
        })
    func ashSyntax(_ row: ScriptKnowledge.SyntaxRow) throws {
        let r = try run(["ash", "-c", row.example])
        if row.expect == "error" {
            #expect(r.status != 0 || !r.err.isEmpty, "\(row.feature): ash accepted \(row.example.debugDescription)")
        } else if row.expect.hasPrefix("prints:") {
            #expect(
                r.out == String(row.expect.dropFirst(7)),
                "\(row.feature): \(row.example.debugDescription) printed \(r.out.debugDescription) \(r.err)")
        } else {
            Issue.record("\(row.feature): unknown expectation \(row.expect)")
        }
    }

    @Test(arguments: scriptKnowledge.options.values.flatMap { $0 })
    func option(_ row: ScriptKnowledge.OptionRow) throws {
        let args = row.example.split(separator: " ").map(String.init)
        let r = try run(args)
        #expect(!r.err.contains("applet not found"), "\(row.command) is not in this busybox")
        switch row.debian {
        case "rejected": #expect(r.status != 0, "\(row.example) was accepted: \(r.out.prefix(80))")
        case "accepted":
            // Debian's build takes the option (it may still find nothing: grep's status 1).
            #expect(
                !r.err.contains("invalid option") && !r.err.contains("unrecognized"),
                "\(row.example) failed: \(r.err.prefix(120))")
        default:
            #expect(row.debian.hasPrefix("prints:"), "unknown expectation \(row.debian)")
            let expected = String(row.debian.dropFirst(7))
            #expect(
                r.status == 0 && (expected.isEmpty ? r.out.isEmpty : r.out.contains(expected)),
                "\(row.example) printed \(r.out.prefix(80))")
        }
    }

    @Test func appletsThisBusyBoxHasAreKnown() throws {
        // Every applet of the installed BusyBox has a row (on, off, unverified or builtin).
        let list = try run(["--list"]).out.split(separator: "\n").map(String.init)
        #expect(list.count > 100)
        let unknown = list.filter { scriptKnowledge.applets[$0] == nil }
        #expect(unknown.isEmpty, "applets with no row in busybox-applets.tsv: \(unknown)")
    }
}
