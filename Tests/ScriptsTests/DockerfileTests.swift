import Scripts
import Testing

func dockerfile(_ text: String) -> ScriptFacts? { ScriptFacts.read(path: "app/Dockerfile", bytes: Array(text.utf8)) }

@Suite struct DockerfileTests {
    @Test func stagesInstallsAndShell() throws {
        let f = try #require(
            dockerfile(
                """
                # syntax=docker/dockerfile:1
                FROM python:3.12-alpine3.19 AS build
                RUN apk add --no-cache --virtual .deps gcc musl-dev \\
                    # a comment Docker drops
                    && pip install x \\
                    && apk del .deps
                RUN apk add bash=5.2.21-r0 'curl>8'
                FROM build AS test
                SHELL ["/bin/bash", "-o", "pipefail", "-c"]
                RUN echo hi
                FROM debian:bookworm-slim
                RUN apt-get update && apt-get install -y curl
                FROM scratch
                ENTRYPOINT ["/app"]
                """))
        #expect(f.kind == .dockerfile)
        #expect(f.stages.map(\.baseKind) == [.alpine, .alpine, .foreign, .scratch])
        #expect(f.stages[0].alpineRelease == "3.19" && f.stages[1].alpineRelease == "3.19")
        #expect(f.stages[0].installed == ["bash", "curl"])
        #expect(f.units.count == 4)
        #expect(f.units[0].script.commands.map { $0.name.literal ?? "" } == ["apk", "pip", "apk"])
        #expect(f.units[1].installedBefore.isEmpty)
        #expect(
            f.units[2].installedBefore == ["bash", "curl"] && f.units[2].shell.first == "/bin/bash"
                && f.units[2].dialect == .bash)
        #expect(f.units[3].installs.first?.manager == .aptGet && f.units[3].installs.first?.packages == ["curl"])
        #expect(f.stages[3].entrypoint == ["/app"])
        let pip = try #require(f.units[0].script.commands.first { $0.name.literal == "pip" })
        #expect(f.position(of: pip.name.offset) == (5, 8))
    }

    @Test func heredocsAndExecForm() throws {
        let f = try #require(
            dockerfile(
                """
                FROM alpine:3.21
                RUN <<EOF
                set -e
                useradd app
                EOF
                RUN <<-'EOT' bash
                \tcurl -V
                \tEOT
                RUN ["/bin/sh", "-c", "grep -P x y"]
                RUN ["curl", "-V"]
                CMD echo done
                """))
        #expect(f.units.count == 4)
        #expect(f.units[0].script.commands.map { $0.name.literal ?? "" } == ["set", "useradd"])
        #expect(f.position(of: f.units[0].script.commands[1].name.offset) == (4, 1))
        #expect(f.units[1].script.commands.map { $0.name.literal ?? "" } == ["bash"])
        #expect(
            f.units[2].script.commands.first?.arguments.first?.literal == "-P" && f.units[2].dialect == .sh
                && !f.units[2].execForm)
        #expect(f.units[3].execForm && f.units[3].script.commands.first?.name.literal == "curl")
        #expect(f.stages[0].cmd == ["/bin/sh", "-c", "echo done"])
    }

    @Test func imageNames() throws {
        let f = try #require(
            dockerfile(
                "FROM --platform=linux/amd64 registry.example:5000/library/alpine:3.18.4@sha256:ab AS x\nFROM node:20\nFROM ghcr.io/org/tool:1.0\nFROM alpine:edge\n"
            ))
        #expect(f.stages.map(\.baseKind) == [.alpine, .foreign, .unknown, .alpine])
        #expect(f.stages.map(\.alpineRelease) == ["3.18", nil, nil, "edge"])
        #expect(f.stages[0].name == "x")
    }
}

@Suite struct EntrypointTests {
    @Test func execForm() throws {
        let e = try #require(
            ImageEntrypoint.resolve(entrypoint: ["/sbin/tini", "--", "/docker-entrypoint.sh"], cmd: ["postgres"]))
        #expect(e.argv == ["/sbin/tini", "--", "/docker-entrypoint.sh", "postgres"])
        #expect(e.wrappers == ["/sbin/tini"] && e.script == "/docker-entrypoint.sh")
        #expect(e.candidates == ["/sbin/tini"])
    }

    @Test func interpreterAndPath() throws {
        let e = try #require(
            ImageEntrypoint.resolve(entrypoint: nil, cmd: ["bash", "-e", "/run.sh"], path: "/usr/bin:/bin"))
        #expect(e.program == "bash" && e.candidates == ["/usr/bin/bash", "/bin/bash"])
        #expect(e.script == "/run.sh" && e.interpreter == "bash")
    }

    @Test func shellForm() throws {
        let e = try #require(ImageEntrypoint.resolve(entrypoint: ["/bin/sh", "-c", "exec useradd x"], cmd: nil))
        #expect(e.inlineShell == ["/bin/sh", "-c"] && e.inlineText == "exec useradd x")
        let facts = ScriptFacts.inline(
            try #require(e.inlineText), shell: try #require(e.inlineShell), path: "config:Entrypoint")
        #expect(facts.units.first?.script.commands.map { $0.name.literal ?? "" } == ["exec"])
        #expect(ImageEntrypoint.resolve(entrypoint: [], cmd: nil) == nil)
    }
}
