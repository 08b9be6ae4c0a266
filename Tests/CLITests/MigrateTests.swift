// `muslcheck migrate` on a small Debian-like root filesystem made from fixture binaries and a minimal dpkg
// database: every ELF file classified once, packages mapped, the entrypoint followed, the plan pinned.
import Foundation
import MuslcheckCLI
import TestSupport
import Testing

/// A root: os-release, a dpkg database of five packages (one automatic), their files, an application under
/// /opt/app (a program that runs with gcompat, and a library that needs a rebuild) and a Dockerfile.
private func makeRoot(_ dir: URL) throws -> (root: URL, dockerfile: URL) {
    let root = dir.appendingPathComponent("root")
    func put(_ path: String, _ data: Data) throws {
        let url = root.appendingPathComponent(String(path.dropFirst()))
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: url)
    }
    try put(
        "/etc/os-release", Data("PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\n".utf8))
    let packages: [(name: String, priority: String, files: [String])] = [
        ("libc6", "required", ["/usr/lib/x86_64-linux-gnu/libc.so.6"]),
        ("greeter", "optional", ["/usr/bin/greeter"]),
        ("libgreet1", "optional", ["/usr/lib/x86_64-linux-gnu/libgreet.so.1"]),
        ("zlib1g", "optional", ["/usr/lib/x86_64-linux-gnu/libz.so.1"]),
        ("fonts-nothing", "optional", ["/usr/share/fonts/nothing.ttf"]),
    ]
    var status = ""
    for p in packages {
        status +=
            "Package: \(p.name)\nStatus: install ok installed\nPriority: \(p.priority)\nArchitecture: amd64\nVersion: 1.0-1\n\n"
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
    try Data(
        """
        FROM debian:12-slim
        ENV TZ=Europe/Berlin
        RUN apt-get update && apt-get install -y --no-install-recommends \\
            greeter zlib1g && rm -rf /var/lib/apt/lists/*
        RUN useradd -m -u 1000 app
        COPY app /opt/app
        ENTRYPOINT ["/opt/app/bin/bundled"]

        """.utf8
    ).write(to: dockerfile)
    return (root, dockerfile)
}

@Suite(.serialized) struct Migrate {
    @Test func aDebianRootBecomesAnAlpinePlan() throws {
        let dir = try scratch("migrate")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (root, dockerfile) = try makeRoot(dir)
        let out = muslcheck(
            "migrate", root.path, "--dockerfile", dockerfile.path, "--target", "alpine:3.20", "--format", "json")
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
        #expect(
            apk.contains("cmd:greeter") && apk.contains("zlib") && apk.contains("tzdata") && apk.contains("gcompat"))
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
            let out = muslcheck(
                "migrate", root.path, "--dockerfile", dockerfile.path, "--target", "alpine:3.20", "--format", format)
            let report = out.stdout.replacingOccurrences(of: root.path, with: "ROOT")
            #expect(Fixtures.checkGolden(report, "migrate/debian-root.\(format)") == nil)
        }
    }

    @Test func aFileThatIsNotAnImageIsAnInputError() {
        let out = muslcheck("migrate", Fixtures.path("hello-glibc"))
        #expect(out.exitCode == 2)
        #expect(out.stderr.contains("not a container image"))
        #expect(muslcheck("migrate", "/nonexistent/image.tar").exitCode == 64)
    }

    /// The same root as an image of two layers (the distribution; the application with an entrypoint script
    /// and a whiteout), with an image configuration: docker save (by offset and gzip-compressed, streamed),
    /// an OCI layout and an OCI layout in a tar.
    func makeImages(_ dir: URL) throws -> (root: URL, images: [URL]) {
        let fm = FileManager.default
        let (root, _) = try makeRoot(dir)
        let base = dir.appendingPathComponent("base")
        let app = dir.appendingPathComponent("app")
        try fm.copyItem(at: root, to: base)
        try fm.createDirectory(at: app.appendingPathComponent("opt"), withIntermediateDirectories: true)
        try fm.moveItem(at: base.appendingPathComponent("opt/app"), to: app.appendingPathComponent("opt/app"))
        // The base's os-release is replaced and a file of the base deleted by the upper layer.
        try Data("ID=debian\n".utf8).write(to: base.appendingPathComponent("etc/os-release"))
        try Data("PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\n".utf8).write(
            to: app.appendingPathComponent("etc/os-release", isDirectory: false).creatingParent())
        try Data("scratch".utf8).write(to: base.appendingPathComponent("etc/obsolete"))
        try Data().write(to: app.appendingPathComponent("etc/.wh.obsolete"))
        let script = app.appendingPathComponent("docker-entrypoint.sh")
        try Data("#!/bin/bash\nset -e\nexec \"$@\"\n".utf8).write(to: script)
        try fm.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script.path)
        // The same script in the root, for the comparison with the directory.
        try fm.copyItem(at: script, to: root.appendingPathComponent("docker-entrypoint.sh"))
        try run("/usr/bin/tar", ["-cf", "base.tar", "-C", "base", "."], in: dir)
        try run("/usr/bin/tar", ["-czf", "app.tar.gz", "-C", "app", "."], in: dir)
        let layers = ["base.tar", "app.tar.gz"].map { dir.appendingPathComponent($0) }
        let config =
            #"{"architecture":"amd64","os":"linux","config":{"Entrypoint":["/docker-entrypoint.sh"],"Cmd":["bundled"],"#
            + #""User":"app","WorkingDir":"/opt/app","Env":["PATH=/opt/app/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","#
            + #""LANG=en_US.UTF-8","TZ=Europe/Berlin"]}}"#
        let save = dir.appendingPathComponent("save")
        try fm.createDirectory(at: save, withIntermediateDirectories: true)
        for l in layers { try fm.copyItem(at: l, to: save.appendingPathComponent(l.lastPathComponent)) }
        try Data(config.utf8).write(to: save.appendingPathComponent("config.json"))
        try Data(#"[{"Config":"config.json","RepoTags":["app:1"],"Layers":["base.tar","app.tar.gz"]}]"#.utf8)
            .write(to: save.appendingPathComponent("manifest.json"))
        try run("/usr/bin/tar", ["-cf", "image.tar", "-C", "save", "."], in: dir)
        try run("/usr/bin/gzip", ["-k", "image.tar"], in: dir)
        let layout = dir.appendingPathComponent("layout")
        _ = try Images().ociLayout(layout, layers: layers, config: config)
        try run("/usr/bin/tar", ["-cf", "oci.tar", "-C", "layout", "."], in: dir)
        return (root, ["image.tar", "image.tar.gz", "layout", "oci.tar"].map { dir.appendingPathComponent($0) })
    }

    /// An image is planned as its unpacked root is: the same files classified once each, the same packages
    /// mapped; its entrypoint comes from the image configuration (a script whose #! needs bash, and the Cmd
    /// program it runs, which needs gcompat), with the environment facts that change on Alpine.
    @Test func anImageIsPlannedAsItsRootIs() throws {
        let dir = try scratch("migrate-image")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (root, images) = try makeImages(dir)
        let fromRoot = try json(muslcheck("migrate", root.path, "--target", "alpine:3.20", "--format", "json").stdout)
        var reports: [String] = []
        for image in images {
            let out = muslcheck("migrate", image.path, "--target", "alpine:3.20", "--format", "json")
            #expect(out.exitCode == 0, "\(image.lastPathComponent): \(out.stderr)")
            let plan = try json(out.stdout)
            let files = try #require(plan["files"] as? [String: Int])
            // Scripts are judged inside images as on disk: the entrypoint script is counted in both.
            #expect(files["scripts"] == 1)
            #expect(files == fromRoot["files"] as? [String: Int], "\(image.lastPathComponent)")
            #expect(
                files["elf"] == (files["distribution"] ?? 0) + (files["cLibrary"] ?? 0) + (files["application"] ?? 0))
            #expect(files["application"] == 3 && files["distribution"] == 3)
            let packages = try #require(plan["packages"] as? [[String: Any]])
            #expect(packages.count == 5)
            // Every package mapped, or said to have no counterpart.
            #expect(
                packages.allSatisfy {
                    $0["how"] as? String != "none" || $0["note"] as? String == "no known Alpine counterpart"
                })
            #expect(
                (packages.map { $0["alpine"] as? [String] ?? [] })
                    == ((fromRoot["packages"] as? [[String: Any]])?.map { $0["alpine"] as? [String] ?? [] }))
            let base = try #require(plan["base"] as? [String: Any])
            #expect((base["os"] as? [String: Any])?["versionID"] as? String == "12", "the upper layer's os-release")
            let entry = try #require(plan["entrypoint"] as? [String: Any])
            #expect(entry["from"] as? String == "image configuration")
            #expect(entry["kind"] as? String == "script" && entry["program"] as? String == "/docker-entrypoint.sh")
            #expect(entry["chain"] as? [String] == ["/docker-entrypoint.sh", "/opt/app/bin/bundled"])
            #expect(entry["needs"] as? [String] == ["bash", "gcompat"])
            let environment = try #require(plan["environment"] as? [String])
            #expect(environment.contains { $0.hasPrefix("LANG=en_US.UTF-8 (image configuration)") })
            #expect(environment.contains { $0.hasPrefix("TZ=Europe/Berlin (image configuration)") })
            #expect(environment.contains { $0.hasPrefix("USER app (image configuration)") })
            let proposal = try #require(plan["plan"] as? [String: Any])
            let dockerfile = try #require(proposal["dockerfile"] as? String)
            #expect(dockerfile.contains("ENTRYPOINT [\"/docker-entrypoint.sh\"]\nCMD [\"bundled\"]"))
            #expect(
                dockerfile.contains("RUN adduser -D app") && dockerfile.contains("USER app")
                    && dockerfile.contains("WORKDIR /opt/app"))
            #expect(proposal["apkAdd"] as? [String] == ["cmd:greeter", "zlib", "bash", "gcompat", "tzdata"])
            #expect(plan["notes"] as? [String] == [])
            reports.append(out.stdout.replacingOccurrences(of: image.path, with: "IMAGE"))
        }
        // The four forms give the same report.
        #expect(Set(reports).count == 1)
        // The Dockerfile's entrypoint gives way to the image configuration's; the Dockerfile is still rewritten.
        let withDockerfile = try json(
            muslcheck(
                "migrate", images[0].path, "--dockerfile", dir.appendingPathComponent("Dockerfile").path,
                "--target", "alpine:3.20", "--format", "json"
            ).stdout)
        #expect((withDockerfile["entrypoint"] as? [String: Any])?["from"] as? String == "image configuration")
        #expect((withDockerfile["dockerfileDiff"] as? String)?.contains("+FROM alpine:3.20") == true)
    }

    /// The image's report, pinned (JSON and text; the image's path replaced by IMAGE).
    @Test func imageReportsMatchGoldenFiles() throws {
        let dir = try scratch("migrate-image-golden")
        defer { try? FileManager.default.removeItem(at: dir) }
        guard FileManager.default.fileExists(atPath: "/lib/x86_64-linux-gnu/libc.so.6") else { return }
        let (_, images) = try makeImages(dir)
        for format in ["json", "text"] {
            let out = muslcheck("migrate", images[0].path, "--target", "alpine:3.20", "--format", format)
            let report = out.stdout.replacingOccurrences(of: images[0].path, with: "IMAGE")
            #expect(Fixtures.checkGolden(report, "migrate/debian-image.\(format)") == nil)
        }
    }
}

extension URL {
    /// The URL, its parent directory made first.
    fileprivate func creatingParent() throws -> URL {
        try FileManager.default.createDirectory(at: deletingLastPathComponent(), withIntermediateDirectories: true)
        return self
    }
}
