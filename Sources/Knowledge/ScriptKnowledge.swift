// What scripts meet on Alpine: the BusyBox version of each release, which applets Alpine enables, the GNU
// options BusyBox rejects or mishandles, the bash syntax ash refuses or runs differently, and the package
// that brings each missing command. Loaded once from the embedded data files, each row with its source.

/// A BusyBox version such as 1.36.1, compared numerically.
public struct BusyBoxVersion: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var parts: [Int]
    public init?(_ text: String) {
        let p = text.split(separator: ".").map { Int($0) }
        guard !p.isEmpty, p.allSatisfy({ $0 != nil }) else { return nil }
        parts = p.compactMap { $0 }
    }
    public static func < (a: BusyBoxVersion, b: BusyBoxVersion) -> Bool { a.parts.lexicographicallyPrecedes(b.parts) }
    public var description: String { parts.map(String.init).joined(separator: ".") }
}

/// The BusyBox versions a row holds for: `all`, `>=1.34.0`, `<1.34.0`.
public struct BusyBoxRange: Sendable, Hashable {
    public var atLeast: BusyBoxVersion?
    public var below: BusyBoxVersion?

    init?(_ text: String) {
        if text == "all" { return }
        if text.hasPrefix(">="), let v = BusyBoxVersion(String(text.dropFirst(2))) {
            atLeast = v
            return
        }
        if text.hasPrefix("<"), let v = BusyBoxVersion(String(text.dropFirst(1))) {
            below = v
            return
        }
        return nil
    }

    public func contains(_ v: BusyBoxVersion) -> Bool {
        if let atLeast, v < atLeast { return false }
        if let below, !(v < below) { return false }
        return true
    }
}

public struct ScriptKnowledge: Sendable {
    public struct ReleaseBusyBox: Sendable, Hashable {
        public var release: String
        public var version: BusyBoxVersion
        /// Read from the release's package list (false: inferred from neighbouring releases).
        public var listed: Bool
        public var source: String
    }

    public enum AppletState: String, Sendable, Hashable { case on, off, unverified, builtin }

    public struct Applet: Sendable, Hashable {
        public var name: String
        public var state: AppletState
        public var source: String
    }

    public enum Status: String, Sendable, Hashable { case rejected, silent, error, works }

    public struct OptionRow: Sendable, Hashable {
        public enum Match: String, Sendable, Hashable { case flag, word, value, arg }
        public var command: String
        /// The option as written in messages; for `value`, the spellings separated by `|` (`-d|--date`).
        public var option: String
        /// `option` cut at `|`, once at load time (it is compared with every word of the command).
        public var spellings: [String]
        public var match: Match
        /// A regular expression (for `value` and `arg`).
        public var pattern: String
        public var status: Status
        public var versions: BusyBoxRange
        /// What Debian's busybox 1.35.0 does with `example`: rejected, accepted, or prints:TEXT.
        public var debian: String
        /// The package with the GNU tool; nil when none helps.
        public var fix: String?
        public var message: String
        /// Arguments for `busybox` that show it.
        public var example: String
        public var source: String
    }

    public struct SyntaxRow: Sendable, Hashable {
        public enum Kind: String, Sendable, Hashable {
            case syntax, command, option
            case outsideFunction = "outside-function"
            case variable
        }
        public var feature: String
        /// `feature` cut at spaces (`set -o posix` → set, -o, posix), once at load time.
        public var words: [String]
        public var kind: Kind
        public var status: Status
        public var versions: BusyBoxRange
        /// A command line for `busybox ash -c`, and what it gives: error or prints:TEXT.
        public var example: String
        public var expect: String
        public var message: String
        public var source: String
    }

    public struct CommandPackage: Sendable, Hashable {
        public var command: String
        /// nil: no Alpine package provides it.
        public var package: String?
        /// In the stock image.
        public var base: Bool
        /// The package replaces the BusyBox applet with the GNU tool.
        public var overrides: Bool
        public var note: String
        public var source: String
    }

    public let releases: [String: ReleaseBusyBox]
    public let applets: [String: Applet]
    public let options: [String: [OptionRow]]
    /// Per command, the short options that take a value (so `-e -P` is not read as the option -P).
    public let valueLetters: [String: Set<UInt8>]
    public let syntax: [SyntaxRow]
    public let commands: [String: CommandPackage]
    public let sources: [KnowledgeBase.DataSource]

    public static let shared: Result<ScriptKnowledge, KnowledgeError> = Result { try ScriptKnowledge() }
        .mapError { $0 as? KnowledgeError ?? KnowledgeError(description: "\($0)") }

    init() throws {
        var loader = DataLoader()
        releases = try Self.readReleases(&loader)
        applets = try Self.readApplets(&loader)
        (options, valueLetters) = try Self.readOptions(&loader)
        syntax = try Self.readSyntax(&loader)
        commands = try Self.readCommands(&loader)
        sources = loader.sources
    }

    /// A row's `busybox` column: the BusyBox versions the row holds for.
    static func range(_ file: String, _ r: [String: String]) throws -> BusyBoxRange {
        guard let v = BusyBoxRange(r["busybox"] ?? "") else {
            throw KnowledgeError(description: "\(file): bad busybox range in \(r)")
        }
        return v
    }

    static func readReleases(_ loader: inout DataLoader) throws -> [String: ReleaseBusyBox] {
        var releases: [String: ReleaseBusyBox] = [:]
        for r in try loader.load("busybox-releases.tsv", PackageResources.busybox_releases_tsv, columns: true).records(
            header: "release")
        {
            guard let name = r["release"], let v = BusyBoxVersion(r["busybox"] ?? "") else {
                throw KnowledgeError(description: "busybox-releases.tsv: bad row \(r)")
            }
            releases[name] = ReleaseBusyBox(
                release: name, version: v, listed: r["verified"] == "listed", source: r["source"] ?? "")
        }
        return releases
    }

    static func readApplets(_ loader: inout DataLoader) throws -> [String: Applet] {
        var applets: [String: Applet] = [:]
        for r in try loader.load("busybox-applets.tsv", PackageResources.busybox_applets_tsv, columns: true).records(
            header: "applet")
        {
            guard let name = r["applet"], let state = AppletState(rawValue: r["alpine"] ?? "") else {
                throw KnowledgeError(description: "busybox-applets.tsv: bad row \(r)")
            }
            // A builtin wins over an applet row of the same name: ash runs its builtin first.
            if applets[name]?.state == .builtin { continue }
            applets[name] = Applet(name: name, state: state, source: r["source"] ?? "")
        }
        return applets
    }

    /// The option rows per command, and the letters of each command's options that take a value.
    static func readOptions(_ loader: inout DataLoader) throws -> (
        options: [String: [OptionRow]], valueLetters: [String: Set<UInt8>]
    ) {
        var options: [String: [OptionRow]] = [:]
        var valueLetters: [String: Set<UInt8>] = [:]
        for r in try loader.load("busybox-options.tsv", PackageResources.busybox_options_tsv, columns: true).records(
            header: "command")
        {
            let command = r["command"] ?? ""
            let option = r["option"] ?? ""
            if r["match"] == "values" {
                valueLetters[command] = Set(option.utf8)
                continue
            }
            guard let match = OptionRow.Match(rawValue: r["match"] ?? ""),
                let status = Status(rawValue: r["status"] ?? "")
            else {
                throw KnowledgeError(description: "busybox-options.tsv: bad row \(r)")
            }
            let fix = r["fix"] ?? "-"
            options[command, default: []].append(
                OptionRow(
                    command: command, option: option, spellings: option.split(separator: "|").map(String.init),
                    match: match, pattern: r["pattern"] ?? "", status: status,
                    versions: try Self.range("busybox-options.tsv", r), debian: r["debian"] ?? "",
                    fix: fix == "-" ? nil : fix,
                    message: r["message"] ?? "", example: r["example"] ?? "", source: r["source"] ?? ""))
        }
        return (options, valueLetters)
    }

    static func readSyntax(_ loader: inout DataLoader) throws -> [SyntaxRow] {
        try loader.load("ash-syntax.tsv", PackageResources.ash_syntax_tsv, columns: true).records(header: "feature").map
        { r in
            guard let kind = SyntaxRow.Kind(rawValue: r["kind"] ?? ""), let status = Status(rawValue: r["status"] ?? "")
            else {
                throw KnowledgeError(description: "ash-syntax.tsv: bad row \(r)")
            }
            let feature = r["feature"] ?? ""
            return SyntaxRow(
                feature: feature, words: feature.split(separator: " ").map(String.init), kind: kind, status: status,
                versions: try Self.range("ash-syntax.tsv", r),
                example: r["example"] ?? "", expect: r["expect"] ?? "", message: r["message"] ?? "",
                source: r["source"] ?? "")
        }
    }

    static func readCommands(_ loader: inout DataLoader) throws -> [String: CommandPackage] {
        var commands: [String: CommandPackage] = [:]
        for r in try loader.load("commands.tsv", PackageResources.commands_tsv, columns: true).records(
            header: "command")
        {
            let name = r["command"] ?? ""
            let package = r["package"] ?? "-"
            let note = r["note"] ?? "-"
            commands[name] = CommandPackage(
                command: name, package: package == "-" ? nil : package, base: r["base"] == "yes",
                overrides: r["overrides"] == "yes", note: note == "-" ? "" : note, source: r["source"] ?? "")
        }
        return commands
    }

    /// The BusyBox version of a release (`3.20`, `alpine:3.20`, `edge`).
    public func busybox(release: String) -> ReleaseBusyBox? {
        releases[release.hasPrefix("alpine:") ? String(release.dropFirst(7)) : release]
    }
}
