import Engine
import Knowledge
import Reporting
import Scripts
// The entrypoint chain, the environment facts that change on Alpine, and the proposed image.
import TextSupport

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

extension Migration {
    /// Facts of the environment that behave differently on Alpine, from the environment the container starts
    /// with (the image configuration's, else the Dockerfile's ENV; each note says which) and the packages.
    static func environmentNotes(_ start: StartCommand?, packages: [InstalledPackage]) -> [String] {
        var notes: [String] = []
        let env = start?.environment ?? [:]
        let from = start.map { " (\($0.from))" } ?? ""
        let names = Set(packages.map(\.name))
        if let lang = env["LC_ALL"] ?? env["LANG"], !["C", "POSIX", "C.UTF-8"].contains(lang) {
            notes.append(
                "\(env["LC_ALL"] != nil ? "LC_ALL" : "LANG")=\(lang)\(from): musl accepts every locale name but formats numbers, dates and collation as C; install musl-locales and set MUSL_LOCPATH=/usr/share/i18n/locales/musl for translated messages"
            )
        } else if names.contains("locales") || names.contains("locales-all") {
            notes.append(
                "the image installs locales: musl has no locale data of glibc's kind; musl-locales gives translated messages only (MUSL_LOCPATH), no collation or decimal comma"
            )
        }
        if let tz = env["TZ"], tz != "UTC" {
            notes.append(
                "TZ=\(tz)\(from): Alpine's base image has no zoneinfo, so this silently becomes UTC until tzdata is installed"
            )
        } else if names.contains("tzdata") {
            notes.append("the image installs tzdata: add tzdata on Alpine too, or local time silently becomes UTC")
        }
        if let user = start?.user, !user.isEmpty, user != "root", user != "0",
            !user.allSatisfy({ $0.isNumber || $0 == ":" })
        {
            notes.append(
                "USER \(user)\(from): the user must exist in the Alpine image: RUN adduser -D \(user.split(separator: ":").first ?? "") (BusyBox adduser; useradd is not there)"
            )
        }
        if names.contains("ca-certificates") {
            notes.append(
                "CA certificates: Alpine's base image has ca-certificates-bundle (/etc/ssl/certs/ca-certificates.crt); add ca-certificates for update-ca-certificates"
            )
        }
        notes.append(
            "DNS: musl's resolver queries all nameservers at once, ignores nsswitch.conf, gai.conf, LOCALDOMAIN and RES_OPTIONS, and needs TCP fallback support from the server for large answers (musl 1.2.4+ has it)"
        )
        return notes
    }

    /// Python minor versions an official python image may carry under /usr/local/bin.
    static let pythonMinors = 6...20

    static func propose(
        release: AlpineRelease, files: RootFiles, mappings: [PackageMapping], application: [ApplicationFile],
        entrypoint: Entrypoint?, docker: DockerfileText?, start: StartCommand?, environment: [String],
        copies: [String] = []
    ) -> MigrationPlan.Proposal {
        var image = DockerfileText.alpineImage(for: docker?.baseImage, release: release)
        if docker == nil {
            // Language images install their runtime under /usr/local (not a package): use their Alpine variant.
            if let minor = pythonMinors.reversed().first(where: {
                files.head("/usr/local/bin/python3.\($0)") != nil || files.link("/usr/local/bin/python3.\($0)") != nil
            }) {
                image = "python:3.\(minor)-alpine\(release.isEdge ? "" : release.name)"
            } else if files.head("/usr/local/bin/node") != nil {
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
        for file in copies where !tops.contains(where: { file == $0 || file.hasPrefix($0 + "/") }) {
            lines.append("COPY \(file.dropFirst()) \(file)")
        }
        if !rebuild.isEmpty {
            lines.append(
                "# rebuild first (see the report): " + rebuild.prefix(10).joined(separator: " ")
                    + (rebuild.count > 10 ? " …" : ""))
        }
        if let docker {
            let last = docker.instructions.lastIndex { $0.keyword == "FROM" } ?? 0
            for i in docker.instructions[last...]
            where ["ENV", "WORKDIR", "USER", "EXPOSE", "ENTRYPOINT", "CMD"].contains(i.keyword) {
                lines.append("\(i.keyword) \(i.rest)")
            }
        } else if let start {
            // From the image configuration: what the container starts with, as instructions.
            for (key, value) in start.environment.sorted(by: { $0.key < $1.key })
            where !(key == "PATH" && value == ImageEntrypoint.defaultPath) {
                lines.append("ENV \(key)=\(Self.quoted(value))")
            }
            if let user = start.user, !user.isEmpty, !user.allSatisfy({ $0.isNumber || $0 == ":" }), user != "root" {
                lines.append("RUN adduser -D \(user.split(separator: ":").first ?? "")")
            }
            if let dir = start.workingDir, !dir.isEmpty { lines.append("WORKDIR \(dir)") }
            if let user = start.user, !user.isEmpty { lines.append("USER \(user)") }
            if let ep = start.entrypoint, !ep.isEmpty { lines.append("ENTRYPOINT \(Self.execForm(ep))") }
            if let cmd = start.cmd, !cmd.isEmpty { lines.append("CMD \(Self.execForm(cmd))") }
        }
        return MigrationPlan.Proposal(
            image: image, apkAdd: apk, rebuild: rebuild, dockerfile: lines.joined(separator: "\n"))
    }

    /// A value for ENV: quoted when it holds a space or a quote.
    static func quoted(_ value: String) -> String {
        value.contains(where: { $0 == " " || $0 == "\"" || $0 == "\\" || $0 == "$" })
            ? execForm([value]).dropFirst().dropLast().description : value
    }

    /// Words as a Dockerfile's exec form: a JSON array.
    static func execForm(_ words: [String]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return (try? encoder.encode(words)).map { String(decoding: $0, as: UTF8.self) } ?? "[]"
    }
}
