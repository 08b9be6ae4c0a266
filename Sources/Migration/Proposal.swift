// The entrypoint chain, the environment facts that change on Alpine, and the proposed image.
import TextSupport
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Engine
import Knowledge
import Reporting

extension Migration {
    /// Directories a bare command name is looked up in (the PATH official images set).
    static let searchPath = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"]
    static let maxShebangBytes = 256

    /// What ENTRYPOINT/CMD start, inside the root, and what that needs on Alpine.
    static func entrypoint(_ docker: DockerfileText, root: String, results: [CheckResult]) -> Entrypoint? {
        var command = docker.command
        guard !command.isEmpty else { return nil }
        // `sh -c "exec prog …"`: the shell is BusyBox ash on Alpine; the program is the first word it runs.
        var words = command
        if words.count >= 3, ["/bin/sh", "sh", "/bin/bash", "bash"].contains(words[0]), words[1] == "-c" {
            words = words[2].split(separator: " ").map(String.init).filter { $0 != "exec" }
        }
        guard let first = words.first else { return nil }
        let program = first.hasPrefix("/") ? first : searchPath.map { $0 + "/" + first }.first { FileManager.default.fileExists(atPath: root + $0) }
        command = docker.command
        guard let program, let head = LocalFile.head(root + program, count: maxShebangBytes) else {
            return Entrypoint(command: command, program: nil, kind: "missing", interpreter: nil, verdict: nil,
                              needs: first.contains("/") ? [] : ["cmd:" + first])
        }
        if head.starts(with: [0x7F, 0x45, 0x4C, 0x46]) {
            let r = results.first { $0.path == root + program }
            return Entrypoint(command: command, program: program, kind: "elf", interpreter: nil,
                              verdict: r?.assessment?.verdict.rawValue, needs: r?.assessment?.packages ?? [])
        }
        if head.starts(with: Array("#!".utf8)) {
            let firstLine = String(decoding: head.prefix { $0 != 0x0A }.dropFirst(2), as: UTF8.self)
            let line = firstLine.trimmed()
            var parts = line.split(separator: " ").map(String.init)
            if parts.first?.hasSuffix("/env") == true { parts.removeFirst() }
            let interpreter = parts.first.map { $0.split(separator: "/").last.map(String.init) ?? $0 }
            // /bin/sh is BusyBox ash and always there; anything else is a package.
            var needs: [String] = []
            if let interpreter, interpreter != "sh", interpreter != "ash" { needs = ["cmd:" + interpreter] }
            return Entrypoint(command: command, program: program, kind: "script", interpreter: line, verdict: nil, needs: needs)
        }
        return Entrypoint(command: command, program: program, kind: "other", interpreter: nil, verdict: nil, needs: [])
    }

    /// Facts of the environment that behave differently on Alpine, from the Dockerfile's ENV and the packages.
    static func environmentNotes(_ docker: DockerfileText?, packages: [InstalledPackage]) -> [String] {
        var notes: [String] = []
        let env = docker?.environment ?? [:]
        let names = Set(packages.map(\.name))
        if let lang = env["LANG"] ?? env["LC_ALL"], !["C", "POSIX", "C.UTF-8"].contains(lang) {
            notes.append("LANG/LC_ALL=\(lang): musl accepts every locale name but formats numbers, dates and collation as C; install musl-locales and set MUSL_LOCPATH=/usr/share/i18n/locales/musl for translated messages")
        } else if names.contains("locales") || names.contains("locales-all") {
            notes.append("the image installs locales: musl has no locale data of glibc's kind; musl-locales gives translated messages only (MUSL_LOCPATH), no collation or decimal comma")
        }
        if let tz = env["TZ"], tz != "UTC" {
            notes.append("TZ=\(tz): Alpine's base image has no zoneinfo, so this silently becomes UTC until tzdata is installed")
        } else if names.contains("tzdata") {
            notes.append("the image installs tzdata: add tzdata on Alpine too, or local time silently becomes UTC")
        }
        if names.contains("ca-certificates") {
            notes.append("CA certificates: Alpine's base image has ca-certificates-bundle (/etc/ssl/certs/ca-certificates.crt); add ca-certificates for update-ca-certificates")
        }
        notes.append("DNS: musl's resolver queries all nameservers at once, ignores nsswitch.conf, gai.conf, LOCALDOMAIN and RES_OPTIONS, and needs TCP fallback support from the server for large answers (musl 1.2.4+ has it)")
        return notes
    }

    static func propose(release: AlpineRelease, root: String, mappings: [PackageMapping], application: [ApplicationFile],
                        entrypoint: Entrypoint?, docker: DockerfileText?, environment: [String]) -> MigrationPlan.Proposal {
        var image = DockerfileText.alpineImage(for: docker?.baseImage, release: release)
        if docker == nil {
            // Language images install their runtime under /usr/local (not a package): use their Alpine variant.
            let fm = FileManager.default
            if let python = (try? fm.contentsOfDirectory(atPath: root + "/usr/local/bin"))?.filter({ $0.hasPrefix("python3.") && !$0.hasSuffix("-config") }).sorted().last {
                image = "python:\(python.dropFirst(6))-alpine\(release.isEdge ? "" : release.name)"
            } else if fm.fileExists(atPath: root + "/usr/local/bin/node") {
                image = "node:alpine\(release.isEdge ? "" : release.name)"
            }
        }
        var apk: [String] = []
        func add(_ names: [String]) { for n in names where !apk.contains(n) { apk.append(n) } }
        for m in mappings where m.wanted { add(m.alpine) }
        for f in application where f.ownVerdict != "needs-rebuild" { add(f.packages) }
        add(entrypoint?.needs ?? [])
        if environment.contains(where: { $0.hasPrefix("TZ=") }) { add(["tzdata"]) }
        let rebuild = application.filter { $0.ownVerdict == "needs-rebuild" }.map(\.path)
        var lines = ["FROM \(image)"]
        if !apk.isEmpty { lines.append("RUN apk add --no-cache " + apk.joined(separator: " ")) }
        // The application's files, by top-level directory (what is not a package's).
        var tops: [String] = []
        for f in application {
            let parts = f.path.split(separator: "/")
            let top = "/" + parts.prefix(parts.count > 2 ? 2 : 1).joined(separator: "/")
            if !tops.contains(top) { tops.append(top) }
        }
        for top in tops.prefix(20) { lines.append("COPY \(top.dropFirst()) \(top)") }
        if tops.count > 20 { lines.append("# … and \(tops.count - 20) more directories of application files") }
        if !rebuild.isEmpty { lines.append("# rebuild first (see the report): " + rebuild.prefix(10).joined(separator: " ") + (rebuild.count > 10 ? " …" : "")) }
        if let docker {
            let last = docker.instructions.lastIndex { $0.keyword == "FROM" } ?? 0
            for i in docker.instructions[last...] where ["ENV", "WORKDIR", "USER", "EXPOSE", "ENTRYPOINT", "CMD"].contains(i.keyword) {
                lines.append("\(i.keyword) \(i.rest)")
            }
        }
        return MigrationPlan.Proposal(image: image, apkAdd: apk, rebuild: rebuild, dockerfile: lines.joined(separator: "\n"))
    }
}
