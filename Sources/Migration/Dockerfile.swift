import Knowledge
import Reporting
// A Dockerfile read as instructions (continuation lines joined), what the migration needs of it (base
// image, ENTRYPOINT/CMD, ENV), and the same file rewritten for Alpine: apt-get → apk add, useradd →
// adduser, the base image → its Alpine variant.
import TextSupport

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

struct DockerfileText: Sendable {
    var lines: [String]
    /// Instructions: keyword (upper-cased) and the rest, continuation lines joined.
    var instructions: [(keyword: String, rest: String)]

    init(_ text: String) {
        lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var out: [(String, String)] = []
        var pending = ""
        for line in lines {
            let trimmed = line.trimmed()
            if pending.isEmpty && (trimmed.isEmpty || trimmed.hasPrefix("#")) { continue }
            if trimmed.hasSuffix("\\") {
                pending += trimmed.dropLast() + " "
                continue
            }
            let whole = pending + trimmed
            pending = ""
            let keyword = whole.prefix { !$0.isWhitespace }
            out.append((keyword.uppercased(), whole.dropFirst(keyword.count).trimmed()))
        }
        instructions = out
    }

    /// The image of the last FROM (the stage that runs).
    var baseImage: String? {
        instructions.last { $0.keyword == "FROM" }.map { String($0.rest.split(separator: " ").first ?? "") }
    }

    /// ENTRYPOINT and CMD of the final stage, each nil when not set (exec form, or shell form as sh -c).
    var entrypointWords: [String]? { finalStage("ENTRYPOINT").map(Self.words) }
    var cmdWords: [String]? { finalStage("CMD").map(Self.words) }

    /// The last `keyword` instruction of the final stage, its argument.
    func finalStage(_ keyword: String) -> String? {
        let last = instructions.lastIndex { $0.keyword == "FROM" } ?? 0
        return instructions[last...].last { $0.keyword == keyword }?.rest
    }

    func lastInFinalStage(_ keyword: String) -> String? { finalStage(keyword) }

    static func words(_ rest: String) -> [String] {
        if rest.hasPrefix("["), let data = rest.data(using: .utf8),
            let list = try? JSONDecoder().decode([String].self, from: data)
        {
            return list
        }
        return ["/bin/sh", "-c", rest]
    }

    /// ENTRYPOINT and CMD as the final stage sets them (exec form or shell form).
    var command: [String] {
        let last = instructions.lastIndex { $0.keyword == "FROM" } ?? 0
        let stage = instructions[last...]
        func words(_ rest: String) -> [String] {
            if rest.hasPrefix("["), let data = rest.data(using: .utf8),
                let list = try? JSONDecoder().decode([String].self, from: data)
            {
                return list
            }
            return ["/bin/sh", "-c", rest]
        }
        let entry = stage.last { $0.keyword == "ENTRYPOINT" }.map { words($0.rest) } ?? []
        let cmd = stage.last { $0.keyword == "CMD" }.map { words($0.rest) } ?? []
        return entry + cmd
    }

    /// ENV settings (KEY=value pairs, or the old "KEY value" form).
    var environment: [String: String] {
        var env: [String: String] = [:]
        for i in instructions where i.keyword == "ENV" {
            if i.rest.contains("=") {
                for pair in i.rest.split(separator: " ") {
                    let kv = pair.split(separator: "=", maxSplits: 1).map(String.init)
                    if kv.count == 2 { env[kv[0]] = kv[1].trimmed(ScalarSet(charactersIn: "\"'")) }
                }
            } else if let space = i.rest.firstIndex(of: " ") {
                env[String(i.rest[..<space])] = i.rest[space...].trimmed()
            }
        }
        return env
    }

    /// The Alpine counterpart of a base image: the `-alpine` variant of a language image, else alpine:RELEASE.
    static func alpineImage(for image: String?, release: AlpineRelease) -> String {
        let alpine = "alpine:\(release.name)"
        guard let image, let colon = image.lastIndex(of: ":") else { return alpine }
        let name = String(image[..<colon])
        let tag = String(image[image.index(after: colon)...])
        let languageImages = ["python", "node", "golang", "ruby", "php", "eclipse-temurin", "rust", "perl", "openjdk"]
        guard languageImages.contains(name.split(separator: "/").last.map(String.init) ?? name) else { return alpine }
        // 3.11-slim-bookworm → 3.11; the Alpine variant carries the release.
        let version = tag.split(separator: "-").first.map(String.init) ?? tag
        return "\(name):\(version)-alpine\(release.isEdge ? "" : release.name)"
    }

    /// The file rewritten for Alpine, line by line (instructions spanning lines are rewritten whole).
    func rewritten(release: AlpineRelease, map: (String) -> [String]?) -> DockerfileText {
        var out: [String] = []
        var pending: [String] = []
        for line in lines {
            pending.append(line)
            if line.trimmed().hasSuffix("\\") { continue }
            let whole = pending.map { $0.trimmed() }.map { $0.hasSuffix("\\") ? String($0.dropLast()) : $0 }
                .joined(separator: " ")
            let keyword = whole.prefix { !$0.isWhitespace }.uppercased()
            let rest = whole.dropFirst(keyword.count).trimmed()
            switch keyword {
            case "FROM":
                let parts = rest.split(separator: " ").map(String.init)
                let stage = parts.count >= 3 && parts[1].uppercased() == "AS" ? " AS " + parts[2] : ""
                out.append("FROM \(Self.alpineImage(for: parts.first, release: release))\(stage)")
            case "RUN" where !rest.hasPrefix("["):
                out.append("RUN " + Self.rewriteShell(rest, map: map))
            default:
                out += pending
            }
            pending = []
        }
        out += pending
        return DockerfileText(out.joined(separator: "\n"))
    }

    /// A RUN line's commands (split on && and ;) with apt-get and the shadow tools replaced.
    static func rewriteShell(_ script: String, map: (String) -> [String]?) -> String {
        var commands: [String] = []
        for part in script.components(separatedBy: "&&").flatMap({ $0.components(separatedBy: ";") }) {
            let words = part.split(separator: " ").map(String.init)
            guard let first = words.first else { continue }
            switch first {
            case "apt-get", "apt":
                if words.contains("install") {
                    let names = words.drop { $0 != "install" }.dropFirst().filter { !$0.hasPrefix("-") }
                    var alpine: [String] = []
                    for n in names {
                        let base = String(n.split(separator: "=").first ?? Substring(n))
                        for a in map(base) ?? [base] where !alpine.contains(a) { alpine.append(a) }
                    }
                    if !alpine.isEmpty { commands.append("apk add --no-cache " + alpine.joined(separator: " ")) }
                }
            // update, clean, autoremove: apk add --no-cache needs none of them.
            case "rm" where part.contains("/var/lib/apt/lists"):
                continue
            case "useradd":
                // -D (no password) first: BusyBox stops at the first operand on musl, whose getopt does not permute.
                commands.append(
                    shadowToBusybox(
                        words, tool: "adduser -D", flags: ["-u": "-u", "-g": "-G", "-s": "-s", "-d": "-h", "-c": "-g"]))
            case "groupadd":
                commands.append(shadowToBusybox(words, tool: "addgroup", flags: ["-g": "-g"]))
            default:
                commands.append(part.trimmed())
            }
        }
        return commands.isEmpty ? "true" : commands.joined(separator: " && ")
    }

    /// BusyBox's adduser/addgroup with the options that carry over (flags maps shadow's to BusyBox's).
    static func shadowToBusybox(_ words: [String], tool: String, flags: [String: String]) -> String {
        var out = [tool]
        var i = 1
        var name: String?
        while i < words.count {
            let w = words[i]
            if let mapped = flags[w], i + 1 < words.count {
                out += [mapped, words[i + 1]]
                i += 2
                continue
            }
            if w.hasPrefix("-") {
                i += (w == "-m" || w == "-r" || w == "-M" || w == "-U" || w.hasPrefix("--")) ? 1 : 2
                continue
            }
            name = w
            i += 1
        }
        return (out + [name ?? "USER"]).joined(separator: " ")
    }

    /// A unified diff of two versions of the file (one hunk; the files are short).
    static func diff(old: [String], new: [String]) -> String {
        var out = ["--- Dockerfile", "+++ Dockerfile (Alpine)", "@@ -1,\(old.count) +1,\(new.count) @@"]
        let changes = new.difference(from: old)
        var removed = Set<Int>()
        var inserted = Set<Int>()
        for change in changes {
            switch change {
            case .remove(let offset, _, _): removed.insert(offset)
            case .insert(let offset, _, _): inserted.insert(offset)
            }
        }
        var i = 0
        var j = 0
        while i < old.count || j < new.count {
            if i < old.count, removed.contains(i) {
                out.append("-" + old[i])
                i += 1
                continue
            }
            if j < new.count, inserted.contains(j) {
                out.append("+" + new[j])
                j += 1
                continue
            }
            if i < old.count { out.append(" " + old[i]) }
            i += 1
            j += 1
        }
        return out.joined(separator: "\n") + "\n"
    }
}
