// An image's entrypoint judged against its files: the rule examples of the entrypoint rules, the file list's
// links (Debian's /bin -> usr/bin, Alpine's /bin/sh -> /bin/busybox, loops), and shell-form text.
import Knowledge
import Scripts
import Testing

struct EntrypointExample: CustomTestStringConvertible, Sendable {
    var rule: RuleID
    var example: Rule.Example
    var triggers: Bool
    var testDescription: String {
        "\(rule) \(triggers ? "triggers" : "ignores") \((example.entrypoint ?? []) + (example.cmd ?? [])) \((example.script ?? "").prefix(30).debugDescription)"
    }
}

let entrypointExamples: [EntrypointExample] = kb.rules.filter { $0.examples.trigger.contains { $0.imageFiles != nil } }
    .flatMap { rule in
        rule.examples.trigger.map { EntrypointExample(rule: rule.ruleID, example: $0, triggers: true) }
            + rule.examples.ignore.map { EntrypointExample(rule: rule.ruleID, example: $0, triggers: false) }
    }

/// The image an example describes: `path` or `path -> target` lines, and the example's script as one more file.
func image(_ lines: [String], script: (file: String, text: String)? = nil) -> (ImageFiles, [String: ScriptFacts]) {
    var files = Set<String>()
    var links: [String: String] = [:]
    for line in lines {
        let parts = line.components(separatedBy: " -> ")
        if parts.count == 2 { links[parts[0]] = parts[1] } else { files.insert(line) }
    }
    var scripts: [String: ScriptFacts] = [:]
    if let script {
        files.insert(script.file)
        scripts[script.file] = ScriptFacts.read(path: script.file, bytes: Array(script.text.utf8))
    }
    return (ImageFiles(files: files, links: links), scripts)
}

func assessEntrypoint(_ run: ImageRunConfig, _ lines: [String], script: (file: String, text: String)? = nil)
    -> ScriptAssessment?
{
    guard let release = kb.release(named: "3.21") else { return nil }
    let (files, scripts) = image(lines, script: script)
    return ScriptAssessor(kb: kb, scripts: scriptKnowledge, release: release).assessEntrypoint(
        run, files: files, script: { scripts[$0] })
}

let alpineFiles = ["bin/busybox", "bin/sh -> /bin/busybox", "usr/bin/env -> /bin/busybox", "bin/grep -> /bin/busybox"]

@Suite struct Entrypoints {
    @Test func everyEntrypointRuleIsInTheCatalogue() {
        let ids = RuleID.raisedByEntrypoints
        for id in ids { #expect(kb.rule(id) != nil, "\(id) has no entry in rules.json") }
        #expect(Set(entrypointExamples.map(\.rule)) == Set(ids))
    }

    @Test(arguments: entrypointExamples)
    func example(_ e: EntrypointExample) throws {
        let x = e.example
        let run = ImageRunConfig(
            entrypoint: x.entrypoint, cmd: x.cmd, shell: x.shell,
            path: (x.env ?? []).last { $0.hasPrefix("PATH=") }.map { String($0.dropFirst(5)) }, workingDir: nil)
        let script = x.script.map { (file: x.file ?? "run.sh", text: $0) }
        let release = try #require(kb.release(named: x.target))
        let (files, scripts) = image(x.imageFiles ?? [], script: script)
        let a = try #require(
            ScriptAssessor(kb: kb, scripts: scriptKnowledge, release: release).assessEntrypoint(
                run, files: files, script: { scripts[$0] }))
        let hits = a.findings.filter { $0.rule == e.rule }
        if e.triggers {
            #expect(
                !hits.isEmpty, "\(e.rule) did not fire; findings: \(a.findings.map { "\($0.rule): \($0.message)" })")
            #expect(a.verdict != .runs, "an error finding left the verdict at runs")
        } else {
            #expect(hits.isEmpty, "\(e.rule) fired: \(hits.map(\.message))")
        }
    }

    @Test func linksAreFollowed() {
        let (files, _) = image([
            "usr/bin/bash", "bin -> usr/bin", "usr/sbin/loop -> /usr/sbin/loop2", "usr/sbin/loop2 -> loop",
            "etc/alt/python -> ../../usr/bin/python3.11", "usr/bin/python3.11", "usr/bin/python3 -> python3.11",
        ])
        #expect(files.resolve("/bin/bash") == "usr/bin/bash")  // merged /usr: /bin is a link to a directory
        #expect(files.resolve("/usr/sbin/loop") == nil)  // a loop ends, not found
        #expect(files.resolve("/etc/alt/python") == "usr/bin/python3.11")  // relative target with ..
        #expect(files.resolve("/bin/python3") == "usr/bin/python3.11")
        #expect(files.resolve("/usr/bin") == nil)  // a directory is no program
        #expect(files.commands(path: "/usr/local/bin:/bin") == ["bash", "python3.11", "python3"])
    }

    @Test func bashEntrypointInAnImageWithoutBash() throws {
        let run = ImageRunConfig(
            entrypoint: ["/docker-entrypoint.sh"], cmd: ["nginx"], shell: nil, path: nil, workingDir: nil)
        let a = try #require(
            assessEntrypoint(run, alpineFiles, script: ("docker-entrypoint.sh", "#!/bin/bash\nexec \"$@\"\n")))
        let f = try #require(a.findings.first)
        #expect(a.findings.count == 1)
        #expect(f.rule == RuleID.entrypointInterpreterMissing)
        #expect(f.word == "/bin/bash" && f.packages == ["bash"])
        #expect(a.verdict == .needsPackages && a.packages == ["bash"])
        // With bash in the image: nothing to say.
        let fine = try #require(
            assessEntrypoint(
                run, alpineFiles + ["bin/bash"], script: ("docker-entrypoint.sh", "#!/bin/bash\nexec \"$@\"\n")))
        #expect(fine.findings.isEmpty && fine.verdict == .runs)
    }

    @Test func initWrappersMustExistToo() throws {
        let run = ImageRunConfig(
            entrypoint: ["/sbin/tini", "--"], cmd: ["/bin/sh", "-c", "echo hi"], shell: nil, path: nil, workingDir: nil)
        let a = try #require(assessEntrypoint(run, alpineFiles))
        #expect(
            a.findings.map(\.rule) == [RuleID.entrypointMissing]
                && a.findings.first?.word == "/sbin/tini")
        #expect(a.verdict == .needsChanges)
        #expect(try #require(assessEntrypoint(run, alpineFiles + ["sbin/tini"])).findings.isEmpty)
    }

    @Test func relativeProgramsUseTheWorkingDirectory() throws {
        let run = ImageRunConfig(entrypoint: ["./server"], cmd: nil, shell: nil, path: nil, workingDir: "/app")
        #expect(try #require(assessEntrypoint(run, alpineFiles + ["app/server"])).findings.isEmpty)
        #expect(
            try #require(assessEntrypoint(run, alpineFiles + ["server"])).findings.map(\.rule) == [
                RuleID.entrypointMissing
            ])
    }

    @Test func shellFormTextIsJudgedAgainstTheImage() throws {
        // `sh -c` text: grep -P is rejected by BusyBox; useradd is no applet and not in the image.
        let run = ImageRunConfig(
            entrypoint: nil, cmd: ["/bin/sh", "-c", "useradd app && grep -P x /etc/hosts"], shell: nil, path: nil,
            workingDir: nil)
        let a = try #require(assessEntrypoint(run, alpineFiles))
        #expect(
            Set(a.findings.map(\.rule)) == [RuleID.scriptCommandMissing, RuleID.busyboxOptionRejected])
        #expect(
            a.findings.first { $0.rule == RuleID.scriptCommandMissing }.map { $0.line == 1 && $0.column == 1 }
                == true)
        // useradd present in the image (shadow installed): only the option remains.
        let installed = try #require(assessEntrypoint(run, alpineFiles + ["usr/sbin/useradd"]))
        #expect(installed.findings.map(\.rule) == [RuleID.busyboxOptionRejected])
        // The image's SHELL names a shell it lacks: a warning, the container still starts.
        let shell = ImageRunConfig(
            entrypoint: ["/bin/sh"], cmd: nil, shell: ["/bin/bash", "-c"], path: nil, workingDir: nil)
        let w = try #require(assessEntrypoint(shell, alpineFiles))
        #expect(w.findings.map(\.severity) == [.warning] && w.verdict == .runs)
    }

    @Test func nothingToRun() {
        #expect(
            assessEntrypoint(
                ImageRunConfig(entrypoint: [], cmd: nil, shell: nil, path: nil, workingDir: nil), alpineFiles) == nil)
    }
}

@Suite struct DockerfileNames {
    /// The byte-wise name test keeps the meaning of the string one: the name, or `.name`/`name.` around it.
    @Test func namesAreToldWithoutRegardToCase() {
        for yes in [
            "Dockerfile", "a/b/dockerfile", "x.tar!/app/Dockerfile.dev", "app.Dockerfile", "build/Containerfile",
            "CONTAINERFILE.prod", "x/.dockerfile",
        ] {
            #expect(Scripts.isDockerfileName(yes), "\(yes)")
        }
        for no in [
            "Dockerfiles", "mydockerfile", "dockerfile-x", "a.dockerfilex", "Dockerfile/x", "", "dockerfil",
            "x/ockerfile.d",
        ] {
            #expect(!Scripts.isDockerfileName(no), "\(no)")
        }
    }
}
