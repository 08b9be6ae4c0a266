// The entrypoint chain, followed through files as an image keeps them: init wrappers, a shell's -c text, an
// interpreter and its script, #! lines, the Cmd an entrypoint script runs, PATH and symbolic links (a loop
// is not followed forever), and what each step needs on Alpine.
import Archives
import Testing

@testable import Migration

@Suite struct EntrypointChain {
    static let elf: [UInt8] = [0x7F, 0x45, 0x4C, 0x46, 2, 1, 1]
    static func script(_ text: String) -> CapturedFile {
        CapturedFile(bytes: Array(text.utf8), size: text.utf8.count, executable: true)
    }
    static func link(_ target: String) -> CapturedFile { CapturedFile(bytes: [], size: 0, linkTarget: target) }

    /// A Debian-like image: merged /usr, sh → dash, python3 → python3.11 (the python3 package's), a gunicorn
    /// script, an entrypoint script through env, an application script, and a link loop.
    static let files: RootFiles = {
        var files = RootFiles.captured(
            [
                "bin": link("usr/bin"),
                "usr/bin/sh": link("dash"),
                "usr/bin/dash": CapturedFile(bytes: elf, size: 1000, executable: true),
                "usr/bin/python3": link("python3.11"),
                "usr/bin/python3.11": CapturedFile(bytes: elf, size: 1000, executable: true),
                "usr/local/bin/gunicorn": script("#!/usr/local/bin/python3.11\nimport sys\n"),
                "docker-entrypoint.sh": script("#!/usr/bin/env bash\nexec \"$@\"\n"),
                "srv/app.py": script("print('hi')\n"),
                "usr/bin/loop": link("loop"),
            ], left: [:])
        files.isImage = true
        return files
    }()

    static func follow(_ entrypoint: [String]?, _ cmd: [String]?, workingDir: String? = nil) -> Entrypoint? {
        let config = ImageConfig(
            entrypoint: entrypoint, cmd: cmd, env: ["PATH=/usr/local/bin:/usr/bin:/bin"], workingDir: workingDir)
        return Migration.entrypoint(StartCommand(config: config), files: files, elf: [:]) { path in
            ["/usr/bin/python3.11": ["python3"], "/usr/bin/dash": []][path]
        }
    }

    @Test func aWrapperAScriptAndTheCmdItRuns() throws {
        let e = try #require(Self.follow(["tini", "--", "/docker-entrypoint.sh"], ["python3", "-m", "http.server"]))
        #expect(e.from == "image configuration")
        #expect(e.kind == "script" && e.program == "/docker-entrypoint.sh" && e.interpreter == "/usr/bin/env bash")
        // tini is not in the image: its package is needed, and said.
        #expect(e.needs == ["tini", "bash", "python3"])
        #expect(e.notes.contains { $0.hasPrefix("init wrapper tini: not found in the image") })
        // python3 found through PATH and its link; the distribution's program needs its Alpine package.
        #expect(e.chain == ["/docker-entrypoint.sh", "/usr/bin/python3.11"])
    }

    @Test func aShellsTextAndTheProgramItExecs() throws {
        let e = try #require(Self.follow(["sh", "-c", "exec gunicorn app:app"], nil))
        // /bin/sh → usr/bin/sh → dash: BusyBox ash on Alpine, nothing to add; gunicorn's #! needs python3.
        #expect(e.chain == ["/usr/bin/dash", "/usr/local/bin/gunicorn"])
        #expect(e.kind == "script" && e.program == "/usr/local/bin/gunicorn")
        #expect(e.needs == ["python3"])
        // Text that does not name a program: the shell alone.
        #expect(Self.follow(["/bin/sh", "-c", "$START"], nil)?.kind == "shell")
    }

    @Test func anInterpreterAndItsScriptInTheWorkingDirectory() throws {
        let e = try #require(Self.follow(nil, ["python3", "app.py"], workingDir: "/srv"))
        #expect(
            e.kind == "elf" && e.program == "/usr/bin/python3.11" && e.interpreter == "python3" && e.script == "app.py")
        #expect(e.needs == ["python3"] && e.notes.isEmpty)
        let missing = try #require(Self.follow(nil, ["python3", "other.py"], workingDir: "/srv"))
        #expect(missing.notes == ["script other.py: not found in the image"])
    }

    @Test func missingProgramsAndLinkLoops() throws {
        let loop = try #require(Self.follow(["/usr/bin/loop"], nil))
        #expect(loop.kind == "missing" && loop.program == nil)
        let named = try #require(Self.follow(["nginx", "-g", "daemon off;"], nil))
        #expect(named.kind == "missing" && named.needs == ["cmd:nginx"])
        #expect(named.notes.first?.contains("PATH=/usr/local/bin:/usr/bin:/bin") == true)
        #expect(Self.follow(nil, nil) == nil)
        #expect(Migration.realPath("/usr/bin/loop", files: Self.files) == nil)
        #expect(Migration.realPath("/bin/../bin/sh", files: Self.files) == "/usr/bin/dash")
    }
}
