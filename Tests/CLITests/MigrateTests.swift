// `muslcheck migrate` on a small Debian-like root filesystem made from fixture binaries and a minimal dpkg
// database: every ELF file classified once, packages mapped, the entrypoint followed, the plan pinned.
import Foundation
import MuslcheckCLI
import Testing
import TestSupport

/// A root: os-release, a dpkg database of five packages (one automatic), their files, an application under
/// /opt/app (a program that runs with gcompat, and a library that needs a rebuild) and a Dockerfile.
private func makeRoot(_ dir: URL) throws -> (root: URL, dockerfile: URL) {
    let root = dir.appendingPathComponent("root")
    func put(_ path: String, _ data: Data) throws {
        let url = root.appendingPathComponent(String(path.dropFirst()))
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: url)
    }
    try put("/etc/os-release", Data("PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\n".utf8))
    let packages: [(name: String, priority: String, files: [String])] = [
        ("libc6", "required", ["/usr/lib/x86_64-linux-gnu/libc.so.6"]),
        ("greeter", "optional", ["/usr/bin/greeter"]),
        ("libgreet1", "optional", ["/usr/lib/x86_64-linux-gnu/libgreet.so.1"]),
        ("zlib1g", "optional", ["/usr/lib/x86_64-linux-gnu/libz.so.1"]),
        ("fonts-nothing", "optional", ["/usr/share/fonts/nothing.ttf"]),
    ]
    var status = ""
    for p in packages {
        status += "Package: \(p.name)\nStatus: install ok installed\nPriority: \(p.priority)\nArchitecture: amd64\nVersion: 1.0-1\n\n"
        try put("/var/lib/dpkg/info/\(p.name).list", Data(("/.\n" + p.files.joined(separator: "\n") + "\n").utf8))
    }
    try put("/var/lib/dpkg/status", Data(status.utf8))
    try put("/var/lib/apt/extended_states", Data("Package: libgreet1\nArchitecture: amd64\nAuto-Installed: 1\n\n".utf8))
    try put("/usr/bin/greeter", try fixture("app-rpath"))
    try put("/usr/lib/x86_64-linux-gnu/libgreet.so.1", try fixture("lib/libgreet.so.1"))
    try put("/usr/lib/x86_64-linux-gnu/libz.so.1", try fixture("lib/libgreet.so.1"))
    try put("/usr/share/fonts/nothing.ttf", Data("not a font".utf8))
    try put("/opt/app/bin/bundled", try fixture("bundle/bin/bundled"))
    try put("/opt/app/lib/libgreet.so.1", try fixture("lib/libgreet.so.1"))
    try put("/opt/app/lib/libbad.so.1", try fixture("bundle/lib/libbad.so.1"))
    let libc = "/lib/x86_64-linux-gnu/libc.so.6"
    if FileManager.default.fileExists(atPath: libc) {
        try put("/usr/lib/x86_64-linux-gnu/libc.so.6", try Data(contentsOf: URL(fileURLWithPath: libc)))
    }
    let dockerfile = dir.appendingPathComponent("Dockerfile")
    try Data("""
        FROM debian:12-slim
        ENV TZ=Europe/Berlin
        RUN apt-get update && apt-get install -y --no-install-recommends \\
            greeter zlib1g && rm -rf /var/lib/apt/lists/*
        RUN useradd -m -u 1000 app
        COPY app /opt/app
        ENTRYPOINT ["/opt/app/bin/bundled"]

        """.utf8).write(to: dockerfile)
    return (root, dockerfile)
}

@Suite(.serialized) struct Migrate {
    @Test func aDebianRootBecomesAnAlpinePlan() throws {
        let dir = try scratch("migrate")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (root, dockerfile) = try makeRoot(dir)
        let out = muslcheck("migrate", root.path, "--dockerfile", dockerfile.path, "--target", "alpine:3.20", "--format", "json")
        #expect(out.exitCode == 0, "\(out.stderr)")
        let plan = try json(out.stdout)
        let files = try #require(plan["files"] as? [String: Int])
        let hasLibc = FileManager.default.fileExists(atPath: "/lib/x86_64-linux-gnu/libc.so.6")
        // Each ELF file exactly once: greeter, libgreet, libz (distribution); libc (C library); three application files.
        #expect(files["distribution"] == 3)
        #expect(files["cLibrary"] == (hasLibc ? 1 : 0))
        #expect(files["application"] == 3)
        #expect(files["elf"] == (files["distribution"] ?? 0) + (files["cLibrary"] ?? 0) + (files["application"] ?? 0))
        let packages = try #require(plan["packages"] as? [[String: Any]])
        func mapping(_ name: String) -> [String: Any]? { packages.first { $0["debian"] as? String == name } }
        #expect(mapping("libc6")?["how"] as? String == "table")
        #expect(mapping("zlib1g")?["alpine"] as? [String] == ["zlib"])
        #expect(mapping("greeter")?["alpine"] as? [String] == ["cmd:greeter"])
        #expect(mapping("libgreet1")?["how"] as? String == "library")
        #expect(mapping("libgreet1")?["wanted"] as? Bool == false)  // a dependency, pulled in by apk itself
        #expect(mapping("fonts-nothing")?["how"] as? String == "none")
        let proposal = try #require(plan["plan"] as? [String: Any])
        let apk = try #require(proposal["apkAdd"] as? [String])
        #expect(apk.contains("cmd:greeter") && apk.contains("zlib") && apk.contains("tzdata") && apk.contains("gcompat"))
        #expect(!apk.contains("so:libgreet.so.1"))
        #expect(proposal["rebuild"] as? [String] == ["/opt/app/lib/libbad.so.1"])
        let entry = try #require(plan["entrypoint"] as? [String: Any])
        #expect(entry["kind"] as? String == "elf" && entry["program"] as? String == "/opt/app/bin/bundled")
        let diff = try #require(plan["dockerfileDiff"] as? String)
        #expect(diff.contains("+FROM alpine:3.20") && diff.contains("+RUN apk add --no-cache cmd:greeter zlib"))
        #expect(diff.contains("+RUN adduser -D -u 1000 app"))
    }

    /// The text and Markdown reports, pinned (the root's path replaced by ROOT).
    @Test func reportsMatchGoldenFiles() throws {
        let dir = try scratch("migrate-golden")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (root, dockerfile) = try makeRoot(dir)
        guard FileManager.default.fileExists(atPath: "/lib/x86_64-linux-gnu/libc.so.6") else { return }
        for format in ["text", "markdown"] {
            let out = muslcheck("migrate", root.path, "--dockerfile", dockerfile.path, "--target", "alpine:3.20", "--format", format)
            let report = out.stdout.replacingOccurrences(of: root.path, with: "ROOT")
            #expect(Fixtures.checkGolden(report, "migrate/debian-root.\(format)") == nil)
        }
    }

    @Test func aFileIsAUsageError() {
        let out = muslcheck("migrate", Fixtures.path("hello-glibc"))
        #expect(out.exitCode == 64)
        #expect(out.stderr.contains("not a directory"))
    }
}
