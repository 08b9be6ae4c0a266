// Scripts as facts: what a shell script or Dockerfile runs, with which shell, where, and (for Dockerfiles)
// which packages each stage has installed by then. Reading never runs anything and never fails: a file that
// is no script gives nil, a script that does not parse keeps the error with its offset.

/// Cheap tests on a file's first bytes and name, for deciding which files to read in full.
public enum Scripts {
    /// A larger script is reported as over the limit, not parsed (real scripts stay far below).
    public static let maxScriptBytes = 4 << 20
    /// How much of the file `isCandidate` and the shebang reader look at.
    public static let headBytes = 256

    /// True for a `#!` line (any interpreter: a missing one is a finding too) or a Dockerfile/Containerfile name.
    /// Asked of every file walked and every archive member: inlinable, so that each caller gets it for its
    /// own collection type (the generic form, with its array literal, was 3% of a run over /usr).
    @inlinable
    public static func isCandidate(head: some Collection<UInt8>, name: String) -> Bool {
        var bytes = head.makeIterator()
        if bytes.next() == UInt8(ascii: "#"), bytes.next() == UInt8(ascii: "!") { return true }
        return isDockerfileName(name)
    }

    /// `Dockerfile`, `Containerfile`, `Dockerfile.dev`, `app.dockerfile` (case-insensitive), in any directory.
    /// Asked of every file walked and every archive member: bytes compared in place, nothing allocated.
    public static func isDockerfileName(_ path: String) -> Bool {
        var path = path
        return path.withUTF8 { all in
            let base = all.lastIndex(of: UInt8(ascii: "/")).map { all[($0 + 1)...] } ?? all[...]
            guard base.count >= 10 else { return false }  // "dockerfile", the shorter of the two names
            // WORD, WORD.anything, anything.WORD (ASCII letters in any case).
            return named(base, dockerfile) || named(base, containerfile)
        }
    }

    /// Whether a base name is WORD, WORD.anything or anything.WORD (`w` in lower case).
    private static func named(_ base: Slice<UnsafeBufferPointer<UInt8>>, _ w: [UInt8]) -> Bool {
        if base.count >= w.count, caseless(base.prefix(w.count), w),
            base.count == w.count || base[base.startIndex + w.count] == UInt8(ascii: ".")
        {
            return true
        }
        return base.count > w.count && base[base.endIndex - w.count - 1] == UInt8(ascii: ".")
            && caseless(base.suffix(w.count), w)
    }

    static let dockerfile = Array("dockerfile".utf8), containerfile = Array("containerfile".utf8)

    static func caseless(_ s: Slice<UnsafeBufferPointer<UInt8>>, _ w: [UInt8]) -> Bool {
        var i = s.startIndex
        for b in w {
            let c = s[i]
            guard (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z") ? c | 0x20 : c) == b else { return false }
            i += 1
        }
        return true
    }

    /// Whether the whole file is read to judge it: shell scripts and Dockerfiles are parsed; for any other
    /// interpreter (python, perl …) only the `#!` line is judged, so only the first bytes are read.
    public static func needsWholeFile(head: some Collection<UInt8>, name: String) -> Bool {
        guard let shebang = Shebang(head: head.prefix(headBytes)) else { return isDockerfileName(name) }
        return ShellDialect(program: shebang.program).isParsed
    }
}

/// The `#!` line of a script.
public struct Shebang: Sendable, Hashable {
    /// The path the kernel runs: `/bin/bash`, `/usr/bin/env`.
    public var interpreter: String
    /// The program that ends up interpreting the script: `bash` for both `#!/bin/bash` and `#!/usr/bin/env bash`.
    public var program: String
    public var arguments: [String]

    /// Reads the first line; nil when it is not a `#!` line.
    public init?(head: some Collection<UInt8>) {
        guard head.starts(with: [UInt8(ascii: "#"), UInt8(ascii: "!")]) else { return nil }
        let line = head.dropFirst(2).prefix(Scripts.headBytes).prefix { $0 != UInt8(ascii: "\n") }
        let parts = String(decoding: line, as: UTF8.self).split(whereSeparator: {
            $0 == " " || $0 == "\t" || $0 == "\r"
        }).map(String.init)
        guard let first = parts.first else { return nil }
        interpreter = first
        var rest = Array(parts.dropFirst())
        var program = Self.basename(first)
        if program == "env" {
            // env [-S] [-i] [-u NAME] [NAME=VALUE]… PROGRAM
            var i = 0
            while i < rest.count {
                let a = rest[i]
                if a == "-u" || a == "--unset" {
                    i += 2
                    continue
                }
                if a.hasPrefix("-") || a.utf8.contains(UInt8(ascii: "=")) {
                    i += 1
                    continue
                }
                break
            }
            if i < rest.count {
                program = Self.basename(rest[i])
                rest = Array(rest[(i + 1)...])
            } else {
                rest = []
            }
        } else if program == "busybox", let applet = rest.first {
            program = applet == "sh" ? "ash" : applet
            rest = Array(rest.dropFirst())
        }
        self.program = program
        arguments = rest
    }

    static func basename(_ path: String) -> String {
        // Called for every command word: a byte search, and no new string in the common case of no slash.
        guard let slash = path.utf8.lastIndex(of: UInt8(ascii: "/")) else { return path }
        return String(path[path.utf8.index(after: slash)...])
    }
}

/// Which shell language a piece of text is written for.
public enum ShellDialect: String, Sendable, Hashable, Codable {
    /// `/bin/sh`: BusyBox ash on Alpine.
    case sh, ash, bash, dash, ksh, zsh
    /// An interpreter that is no shell (python, perl, node): only its presence is checked.
    case other

    public init(program: String) {
        switch program {
        case "sh": self = .sh
        case "ash": self = .ash
        case "bash": self = .bash
        case "dash": self = .dash
        case "ksh", "mksh", "ksh93", "pdksh": self = .ksh
        case "zsh": self = .zsh
        default: self = .other
        }
    }

    /// Whether BusyBox ash runs this text on Alpine (`#!/bin/sh` or `#!/bin/ash`, or a Dockerfile's default shell).
    public var isAsh: Bool { self == .sh || self == .ash }
    /// Whether the parser reads it (zsh and others have their own grammar).
    public var isParsed: Bool { self != .other && self != .zsh }
}

/// A package manager command seen in a script: `apk add curl`, `apt-get install -y curl`.
public struct PackageInstall: Sendable, Hashable {
    public enum Manager: String, Sendable, Hashable, Codable {
        case apk
        case aptGet = "apt-get"
        case apt, yum, dnf, microdnf, zypper
    }
    public var manager: Manager
    /// Names as written, version constraints removed (`bash=5.2-r0` → `bash`); `cmd:`/`so:` provides kept.
    public var packages: [String]
    /// `apk del` / `apt-get remove`.
    public var removes: Bool
    /// `apk add --virtual NAME`: the group name the packages can be removed by.
    public var virtualName: String?
    public var offset: Int
}

/// One piece of shell text and the context it runs in.
public struct ShellUnit: Sendable {
    public var script: ShellScript
    public var dialect: ShellDialect
    /// The interpreter command line: `["/bin/sh", "-c"]` for a Dockerfile RUN by default.
    public var shell: [String]
    /// Dockerfile: the stage this RUN belongs to, the byte offset of its instruction, and the packages its
    /// stage had installed before it (`apk add` in earlier RUN lines, and the stages it is built on).
    public var stage: Int?
    public var instructionOffset: Int?
    public var installedBefore: Set<String>
    /// Package manager commands in this unit, in order.
    public var installs: [PackageInstall]
    /// An exec-form instruction (`RUN ["a", "b"]`): one command, no shell involved.
    public var execForm: Bool
}

/// A Dockerfile stage.
public struct DockerStage: Sendable, Hashable {
    public enum BaseKind: String, Sendable, Hashable, Codable {
        /// `alpine`, `alpine:3.20`, `python:3.12-alpine`, or a stage built on one.
        case alpine
        /// A known glibc distribution (debian, ubuntu, fedora …) or an official image's Debian tag.
        case foreign
        case scratch
        /// Anything else: judged as if it were the target.
        case unknown
    }
    public var index: Int
    public var name: String?
    public var base: String
    public var baseKind: BaseKind
    /// The Alpine release the tag names (`alpine:3.19` → 3.19; `node:20-alpine3.18` → 3.18), when it does.
    public var alpineRelease: String?
    public var offset: Int
    /// Packages installed by the end of the stage (including those of the stage it is built on).
    public var installed: Set<String>
    /// The SHELL in force at the end of the stage.
    public var shell: [String]
    /// ENTRYPOINT and CMD as written: exec form as the JSON array; shell form as `shell + [text]`.
    public var entrypoint: [String]?
    public var cmd: [String]?
}

public struct ScriptFacts: Sendable {
    public enum Kind: String, Sendable, Hashable, Codable {
        case shellScript = "shell-script"
        case dockerfile, interpreted
    }
    public var path: String
    public var kind: Kind
    public var shebang: Shebang?
    /// The script's dialect; for a Dockerfile, that of its first RUN's shell.
    public var dialect: ShellDialect
    public var units: [ShellUnit]
    public var stages: [DockerStage]
    /// Set when the file is over `Scripts.maxScriptBytes`: it was not parsed.
    public var overLimit: Int?
    public let lines: LineMap

    public func position(of offset: Int) -> (line: Int, column: Int) { lines.position(of: offset) }

    /// Every simple command, in file order, with the unit it belongs to.
    public var commands: [(unit: Int, command: ShellCommand)] {
        units.enumerated().flatMap { i, u in u.script.commands.map { (i, $0) } }
    }

    /// nil when the file is not a script: no `#!` line and not named like a Dockerfile.
    public static func read(path: String, bytes: some Collection<UInt8>) -> ScriptFacts? {
        let shebang = Shebang(head: bytes.prefix(Scripts.headBytes))
        let dockerfile = shebang == nil && Scripts.isDockerfileName(path)
        guard shebang != nil || dockerfile else { return nil }
        let dialect = shebang.map { ShellDialect(program: $0.program) } ?? .sh
        guard bytes.count <= Scripts.maxScriptBytes else {
            return ScriptFacts(
                path: path, kind: dockerfile ? .dockerfile : (dialect.isParsed ? .shellScript : .interpreted),
                shebang: shebang, dialect: dialect, units: [], stages: [], overLimit: bytes.count,
                lines: LineMap(bytes.prefix(Scripts.headBytes)))
        }
        let array = Array(bytes)
        if dockerfile { return Dockerfile.read(path: path, bytes: array) }
        guard let shebang, dialect.isParsed else {
            return ScriptFacts(
                path: path, kind: .interpreted, shebang: shebang, dialect: dialect, units: [], stages: [],
                overLimit: nil, lines: LineMap(array))
        }
        let script = ShellParser.parse(array)
        let unit = ShellUnit(
            script: script, dialect: dialect, shell: [shebang.interpreter] + shebang.arguments, stage: nil,
            instructionOffset: nil, installedBefore: [], installs: PackageInstall.find(in: script), execForm: false)
        return ScriptFacts(
            path: path, kind: .shellScript, shebang: shebang, dialect: dialect, units: [unit], stages: [],
            overLimit: nil, lines: LineMap(array))
    }

    /// Parses shell text that comes from elsewhere (an image config's `sh -c` string): offsets are into `text`.
    public static func inline(_ text: String, shell: [String], path: String) -> ScriptFacts {
        let array = Array(text.utf8.prefix(Scripts.maxScriptBytes))
        let dialect = ShellDialect(program: Shebang.basename(shell.first ?? "sh"))
        let script = ShellParser.parse(array)
        let unit = ShellUnit(
            script: script, dialect: dialect, shell: shell, stage: nil, instructionOffset: nil, installedBefore: [],
            installs: PackageInstall.find(in: script), execForm: false)
        return ScriptFacts(
            path: path, kind: .shellScript, shebang: nil, dialect: dialect, units: [unit], stages: [],
            overLimit: text.utf8.count > Scripts.maxScriptBytes ? text.utf8.count : nil, lines: LineMap(array))
    }
}

extension PackageInstall {
    /// Options of `apk add`/`apk del` that take a value (apk-tools 2.x `apk add --help`).
    static let apkValueOptions: Set<String> = [
        "-t", "--virtual", "-X", "--repository", "-p", "--root", "--arch", "--cache-dir",
        "--keys-dir", "--repositories-file", "--progress-fd", "--timeout",
    ]
    static let aptValueOptions: Set<String> = [
        "-o", "--option", "-c", "--config-file", "-t", "--target-release", "--default-release",
    ]

    /// The package manager commands among a script's commands.
    static func find(in script: ShellScript) -> [PackageInstall] {
        var found: [PackageInstall] = []
        for c in script.commands {
            guard let name = c.name.literal.map(Shebang.basename) else { continue }
            let words = c.arguments.map { $0.literal ?? "" }
            switch name {
            case "apk":
                guard let verbIndex = words.firstIndex(where: { !$0.hasPrefix("-") }) else { continue }
                let verb = words[verbIndex]
                guard verb == "add" || verb == "del" else { continue }
                var packages: [String] = []
                var virtual: String?
                var i = verbIndex + 1
                while i < words.count {
                    let w = words[i]
                    if w == "-t" || w == "--virtual" {
                        virtual = i + 1 < words.count ? words[i + 1] : nil
                        i += 2
                        continue
                    }
                    if apkValueOptions.contains(w) {
                        i += 2
                        continue
                    }
                    if w.hasPrefix("-") || w.isEmpty {
                        i += 1
                        continue
                    }
                    packages.append(stripVersion(w))
                    i += 1
                }
                found.append(
                    PackageInstall(
                        manager: .apk, packages: packages, removes: verb == "del", virtualName: virtual,
                        offset: c.name.offset))
            case "apt-get", "apt", "yum", "dnf", "microdnf", "zypper":
                guard let verbIndex = words.firstIndex(where: { !$0.hasPrefix("-") }) else { continue }
                let verb = words[verbIndex]
                let installs = ["install"].contains(verb) || (name == "zypper" && verb == "in")
                let removes = ["remove", "purge", "erase", "autoremove"].contains(verb)
                guard installs || removes else { continue }
                var packages: [String] = []
                var i = verbIndex + 1
                while i < words.count {
                    let w = words[i]
                    if aptValueOptions.contains(w) {
                        i += 2
                        continue
                    }
                    if !w.hasPrefix("-") && !w.isEmpty { packages.append(stripVersion(w)) }
                    i += 1
                }
                let manager: Manager = name == "apt-get" ? .aptGet : Manager(rawValue: name) ?? .apt
                found.append(
                    PackageInstall(
                        manager: manager, packages: packages, removes: removes, virtualName: nil, offset: c.name.offset)
                )
            default: continue
            }
        }
        return found
    }

    /// `bash=5.2-r0`, `bash>5`, `bash~5`, `curl@edge` → the package name.
    static func stripVersion(_ word: String) -> String {
        if word.hasPrefix("cmd:") || word.hasPrefix("so:") || word.hasPrefix("pc:") {
            return String(word.prefix { $0 != "=" && $0 != ">" && $0 != "<" && $0 != "~" })
        }
        return String(word.prefix { $0 != "=" && $0 != ">" && $0 != "<" && $0 != "~" && $0 != "@" })
    }
}
