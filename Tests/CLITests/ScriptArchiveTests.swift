import Engine
// Scripts inside archives and image layers are judged as `check DIR` judges them (paths `archive!/member`),
// what a later layer deletes or replaces is never judged, each image's entrypoint is judged against its
// files, and a cached rerun gives the same report byte for byte.
import Foundation
import MuslcheckCLI
import TestSupport
import Testing

@testable import Archives

@Suite(.serialized) struct ScriptsInArchives {
    static let entrypoint = "#!/bin/bash\nset -e\nexec \"$@\"\n"
    static let rejected = "#!/bin/sh\nfind . -printf '%p\\n'\n"  // BusyBox find has no -printf
    static let fine = "#!/bin/sh\necho ok\n"

    /// Two layers: the first holds BusyBox (as /bin/sh), a bash entrypoint, a script the second deletes and
    /// one it replaces; a docker-save tar of two images over those layers, one whose entrypoint needs bash,
    /// one whose entrypoint is the replaced (fine) script.
    func image(in dir: URL) throws -> URL {
        let fm = FileManager.default
        func put(_ path: String, _ text: String) throws {
            let url = dir.appendingPathComponent(path)
            try fm.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: url)
        }
        try put("l1/bin/busybox", "not really busybox\n")
        try fm.createSymbolicLink(
            atPath: dir.appendingPathComponent("l1/bin/sh").path, withDestinationPath: "/bin/busybox")
        try put("l1/usr/local/bin/docker-entrypoint.sh", Self.entrypoint)
        try put("l1/opt/gone.sh", Self.rejected)
        try put("l1/opt/replaced.sh", Self.rejected)
        try put("l1/app/Dockerfile", "FROM alpine:3.21\nRUN apt-get install -y curl\n")
        try put("l2/opt/.wh.gone.sh", "")
        try put("l2/opt/replaced.sh", Self.fine)
        try run("/usr/bin/tar", ["-cf", "layer1.tar", "-C", "l1", "."], in: dir)
        try run("/usr/bin/tar", ["-czf", "layer2.tar.gz", "-C", "l2", "."], in: dir)
        try fm.createDirectory(at: dir.appendingPathComponent("save"), withIntermediateDirectories: true)
        for l in ["layer1.tar", "layer2.tar.gz"] {
            try fm.copyItem(at: dir.appendingPathComponent(l), to: dir.appendingPathComponent("save/" + l))
        }
        try Data(#"{"os":"linux","config":{"Entrypoint":["docker-entrypoint.sh"],"Cmd":["serve"]}}"#.utf8).write(
            to: dir.appendingPathComponent("save/bad.json"))
        try Data(#"{"os":"linux","config":{"Entrypoint":["/opt/replaced.sh"],"Env":["PATH=/usr/bin:/bin"]}}"#.utf8)
            .write(to: dir.appendingPathComponent("save/good.json"))
        try Data(#"{"os":"linux","config":{"Cmd":["/opt/gone.sh"]}}"#.utf8).write(
            to: dir.appendingPathComponent("save/gone.json"))
        try Data(
            (#"[{"Config":"bad.json","RepoTags":["bad:1"],"Layers":["layer1.tar","layer2.tar.gz"]},"#
                + #"{"Config":"good.json","RepoTags":["good:1"],"Layers":["layer1.tar","layer2.tar.gz"]},"#
                + #"{"Config":"gone.json","RepoTags":["gone:1"],"Layers":["layer1.tar","layer2.tar.gz"]}]"#).utf8
        )
        .write(to: dir.appendingPathComponent("save/manifest.json"))
        let tar = dir.appendingPathComponent("docker.tar")
        try run("/usr/bin/tar", ["-cf", "docker.tar", "-C", "save", "."], in: dir)
        return tar
    }

    func findings(_ r: [String: Any]?) -> [String] {
        (r?["findings"] as? [[String: Any]] ?? []).compactMap { $0["rule"] as? String }
    }
    func messages(_ r: [String: Any]?) -> [String] {
        (r?["findings"] as? [[String: Any]] ?? []).compactMap { $0["message"] as? String }
    }

    @Test func imageScriptsAndEntrypoints() throws {
        let dir = try scratch("script-image")
        defer { try? FileManager.default.removeItem(at: dir) }
        let tar = try image(in: dir)
        try run("/usr/bin/gzip", ["-k", "docker.tar"], in: dir)
        // The same scripts on disk, as `check DIR` judges them.
        let onDisk = try results(
            muslcheck("check", "--format", "json", "--target", "alpine:3.21", dir.appendingPathComponent("l1").path))
        let diskEntrypoint = onDisk.first {
            ($0["path"] as? String)?.hasSuffix("/usr/local/bin/docker-entrypoint.sh") == true
        }
        #expect(findings(diskEntrypoint) == ["script-interpreter-missing"])
        let diskDockerfile = onDisk.first { ($0["path"] as? String)?.hasSuffix("/app/Dockerfile") == true }
        #expect(findings(diskDockerfile).contains("foreign-package-manager"))
        // By offset (docker.tar) and streamed (docker.tar.gz: layers applied after reading).
        for input in [tar.path, tar.path + ".gz"] {
            let out = muslcheck("check", "--format", "json", "--target", "alpine:3.21", input)
            let list = try results(out)
            func result(_ path: String) -> [String: Any]? {
                list.first { ($0["path"] as? String) == input + "!/" + path }
            }
            for image in ["bad:1", "good:1", "gone:1"] {
                #expect(result(image + "!/opt/gone.sh") == nil, "\(input): a deleted script is not judged")
                #expect(
                    result(image + "!/opt/replaced.sh")?["verdict"] as? String == "runs",
                    "\(input): the later layer's script")
                #expect(findings(result(image + "!/opt/replaced.sh")).isEmpty, "\(input)")
                let member = result(image + "!/usr/local/bin/docker-entrypoint.sh")
                #expect(member?["kind"] as? String == "shell-script", "\(input)")
                #expect(messages(member) == messages(diskEntrypoint), "\(input): the same findings as on disk")
                #expect(messages(result(image + "!/app/Dockerfile")) == messages(diskDockerfile), "\(input)")
            }
            // The entrypoint that needs bash in an image without it; the other one starts.
            let bad = result("bad:1")
            #expect(bad?["kind"] as? String == "entrypoint", "\(input)")
            #expect(findings(bad) == ["entrypoint-interpreter-missing"], "\(input)")
            #expect(bad?["packages"] as? [String] == ["bash"], "\(input)")
            #expect(messages(bad).first?.contains("/bin/bash") == true, "\(input)")
            let good = result("good:1")
            #expect(good?["kind"] as? String == "entrypoint" && good?["verdict"] as? String == "runs", "\(input)")
            #expect(findings(good).isEmpty, "\(input)")
            // A script a later layer deleted is not there to start.
            #expect(findings(result("gone:1")) == ["entrypoint-missing"], "\(input)")
            #expect(out.exitCode == 1, "\(input)")
            // Deleted and replaced scripts are never read: three images, three scripts each (entrypoint,
            // replaced, Dockerfile; gone.sh hidden).
            let e = try expandFile(URL(fileURLWithPath: input))
            #expect(e.files.filter { $0.script != nil }.count == 9, "\(input)")
            #expect(!e.files.contains { $0.path.hasSuffix("gone.sh") }, "\(input)")
            #expect(
                e.files.filter { $0.path.hasSuffix("/opt/replaced.sh") }.allSatisfy {
                    $0.script?.units.first?.script.commands.first?.name.literal == "echo"
                })
        }
        // An OCI layout directory of the same layers: the image is the directory.
        let layout = dir.appendingPathComponent("layout")
        _ = try Images().ociLayout(
            layout, layers: ["layer1.tar", "layer2.tar.gz"].map { dir.appendingPathComponent($0) },
            config: #"{"os":"linux","config":{"Entrypoint":["docker-entrypoint.sh"]}}"#)
        let fromLayout = try results(muslcheck("check", "--format", "json", "--target", "alpine:3.21", layout.path))
        let layoutEntrypoint = fromLayout.first { ($0["path"] as? String) == layout.path }
        #expect(
            layoutEntrypoint?["kind"] as? String == "entrypoint"
                && findings(layoutEntrypoint) == ["entrypoint-interpreter-missing"])
        #expect(
            fromLayout.first { ($0["path"] as? String) == layout.path + "!/opt/replaced.sh" }?["verdict"] as? String
                == "runs")
        #expect(!fromLayout.contains { ($0["path"] as? String)?.hasSuffix("gone.sh") == true })
        // Every format names the entrypoint finding.
        for format in ["text", "sarif", "html"] {
            let out = muslcheck("check", "--format", format, "--target", "alpine:3.21", tar.path)
            #expect(out.stdout.contains("entrypoint-interpreter-missing"), "\(format)")
        }
    }

    @Test func scriptsInATarGz() throws {
        let dir = try scratch("script-targz")
        defer { try? FileManager.default.removeItem(at: dir) }
        let app = dir.appendingPathComponent("app/bin")
        try FileManager.default.createDirectory(at: app, withIntermediateDirectories: true)
        try Data(Self.rejected.utf8).write(to: app.appendingPathComponent("list.sh"))
        try (Data("#!/bin/sh\n".utf8) + Data(repeating: UInt8(ascii: "#"), count: 5 << 20)).write(
            to: app.appendingPathComponent("huge.sh"))
        try Data("plain text\n".utf8).write(to: app.appendingPathComponent("notes.txt"))
        // A compressed script is not judged (on disk it is not either).
        try Data(Self.rejected.utf8).write(to: app.appendingPathComponent("example.sh"))
        try run("/usr/bin/gzip", ["app/bin/example.sh"], in: dir)
        try run("/usr/bin/tar", ["-czf", "app.tar.gz", "app"], in: dir)
        let input = dir.appendingPathComponent("app.tar.gz").path
        let out = muslcheck("check", "--format", "json", "--target", "alpine:3.21", input)
        let list = try results(out)
        let list1 = list.first { ($0["path"] as? String) == input + "!/app/bin/list.sh" }
        #expect(findings(list1) == ["busybox-option-rejected"])
        #expect(messages(list1).first?.hasPrefix("line 2:") == true)
        // Over the script limit: reported, never a pass.
        let huge = list.first { ($0["path"] as? String) == input + "!/app/bin/huge.sh" }
        #expect(huge?["status"] as? String == "error")
        #expect((huge?["error"] as? String)?.contains("limit") == true)
        #expect(!list.contains { ($0["path"] as? String)?.hasSuffix("notes.txt") == true })
        #expect(!list.contains { ($0["path"] as? String)?.hasSuffix("example.sh.gz") == true })
        let summary = try #require(try json(out.stdout)["summary"] as? [String: Any])
        #expect(summary["scripts"] as? Int == 2)  // list.sh, and huge.sh (an error, counted as a script as on disk)
    }

    @Test func aCachedRerunIsByteIdentical() throws {
        let dir = try scratch("script-cache")
        defer { try? FileManager.default.removeItem(at: dir) }
        let tar = try image(in: dir)
        try Data(Self.rejected.utf8).write(to: dir.appendingPathComponent("l1/loose.sh"))
        Thread.sleep(forTimeInterval: Caching.settle * 1.5)
        let paths = [tar.path, dir.appendingPathComponent("l1").path]
        let fresh = try Caching.run(paths, cache: nil)
        #expect(fresh.json.contains("entrypoint-interpreter-missing") && fresh.json.contains("\"line\""))
        let cold = try Caching.run(paths, cache: try Caching.cache(dir))
        #expect(cold.json == fresh.json)
        let cache = try Caching.cache(dir)
        let warm = try Caching.run(paths, cache: cache)
        #expect(cache.hits.load(ordering: .relaxed) > 0)
        #expect(warm.json == fresh.json)
    }
}
