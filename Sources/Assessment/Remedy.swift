// What to do about a verdict: the apk add line, and for a rebuild the recipe that fits the toolchain,
// as a multi-stage Dockerfile.
import ELF
import Knowledge

public struct Fix: Encodable, Sendable, Hashable {
    /// `apk add --no-cache …`, when packages are needed.
    public var apk: String?
    /// One line saying how to rebuild, for needs-rebuild.
    public var rebuild: String?
    /// A Dockerfile that applies the fix.
    public var dockerfile: String
    /// Real glibc installed beside musl, offered only where its conditions hold (see `Remedy.glibcBeside`).
    public var glibcBesideMusl: GlibcBesideOffer?
    /// What the recipe was made for, so that it can be made again when the verdict changes (not reported).
    var subject = Subject(app: "app", dir: "/usr/local/bin", goImage: nil)

    struct Subject: Sendable, Hashable {
        var app: String
        var dir: String
        var goImage: String?
    }

    enum CodingKeys: String, CodingKey { case apk, rebuild, dockerfile, glibcBesideMusl }

    /// The fix of a shell script or Dockerfile: the packages that make it run, and what must change otherwise.
    public static func script(apk: String?, change: String?, dockerfile: String) -> Fix {
        Fix(apk: apk, rebuild: change, dockerfile: dockerfile)
    }
}

/// The glibc-beside-musl rung: a package that installs real glibc, for a file it can load, always with its caveats.
public struct GlibcBesideOffer: Codable, Sendable, Hashable {
    public var provider: String
    public var package: String
    public var version: String
    public var released: String
    public var arch: String
    /// The glibc version the package installs.
    public var glibc: String
    /// The highest GLIBC_x.y the file and the libraries it loads require (nil: none).
    public var requires: String?
    public var instructions: String
    public var caveats: [String]
    public var source: String
}

enum Remedy {
    /// What `apk add` accepts for a library no knowledge-base row places: abuild's scan_shared_objects makes
    /// every package provide so:SONAME for the shared libraries it ships.
    static func soProvide(_ soname: String) -> String { "so:" + soname }

    static func language(_ f: BinaryFacts) -> Language? {
        if f.isGo { return .go }
        if f.hasRustRuntime { return .rust }
        if f.needed.contains(where: { $0.hasPrefix("libstdc++.so") || $0.hasPrefix("libc++.so") })
            || f.versionRequirements.contains(where: {
                $0.versions.contains { $0.name.hasPrefix("GLIBCXX_") || $0.name.hasPrefix("CXXABI_") }
            })
        {
            return .cxx
        }
        if f.interpreter != nil || !f.needed.isEmpty || f.abiTag != nil { return .c }
        return nil
    }

    /// Recomputes a fix after `combine` changed the verdict or packages (the binary's facts are gone by then).
    /// `loaded`: the assessments of the libraries it loads, whose GLIBC versions count for glibc beside musl.
    static func refix(_ a: Assessment, release: AlpineRelease, previous: Fix?, kb: KnowledgeBase, loaded: [Assessment])
        -> Fix?
    {
        previous.map {
            var made = Self.fix(a, subject: $0.subject, release: release)
            made.glibcBesideMusl = glibcBeside(
                a, kb: kb, requires: highest([a.minimumGlibc] + loaded.map(\.minimumGlibc)))
            return made
        }
    }

    static func fix(_ a: Assessment, facts: BinaryFacts, path: String, release: AlpineRelease, kb: KnowledgeBase) -> Fix
    {
        var made = Self.fix(a, facts: facts, path: path, release: release)
        made.glibcBesideMusl = glibcBeside(a, kb: kb, requires: a.minimumGlibc)
        return made
    }

    static let glibcBesideRule = RuleID.glibcBesideMusl

    /// The rung between gcompat and a rebuild: real glibc beside musl, offered only for a glibc file the
    /// package can load — its architecture, nothing newer than the package's GLIBC version (glibc, unlike musl,
    /// checks versions), and every NEEDED library other than glibc's own shipped with it (glibc's loader would
    /// otherwise take Alpine's musl builds from /usr/lib). Only where neither musl nor gcompat will do.
    static func glibcBeside(_ a: Assessment, kb: KnowledgeBase, requires: String?) -> GlibcBesideOffer? {
        guard a.verdict == .needsRebuild, a.libc == .glibc, a.linkage == .dynamic else { return nil }
        let glibcOwn: (String) -> Bool = { soname in
            switch kb.library(soname)?.kind {
            case .muslSelf?, .compat?, .glibcOnly?: return true
            default: return soname.hasPrefix("ld-linux") || kb.gcompatSonames.contains(soname)
            }
        }
        guard a.missingLibraries.allSatisfy({ $0.foundAt != nil || glibcOwn($0.soname) }) else { return nil }
        guard
            let p = kb.glibcBesideMusl.first(where: { row in
                row.arch == a.arch && (requires.map { versionAtLeast(row.glibc, $0) } ?? true)
            })
        else {
            return nil
        }
        return GlibcBesideOffer(
            provider: p.provider, package: p.package, version: p.version, released: p.released, arch: p.arch,
            glibc: p.glibc, requires: requires, instructions: p.instructions, caveats: p.caveats, source: p.source)
    }

    /// Replaces the glibc-beside-musl finding with one for the current offer, if any (after `fix` or `refix`).
    static func noteGlibcBeside(_ a: inout Assessment, kb: KnowledgeBase) {
        a.findings.removeAll { $0.rule == glibcBesideRule }
        guard let o = a.fix?.glibcBesideMusl else { return }
        let needs = o.requires.map { "needs GLIBC_\($0) at most" } ?? "needs no particular GLIBC version"
        a.findings.append(
            Finding(
                rule: glibcBesideRule, severity: kb.rule(glibcBesideRule)?.severity ?? .note,
                message:
                    "glibc beside musl would load it: \(o.provider) \(o.version) installs glibc \(o.glibc) under its own prefix (\(o.arch); the file \(needs) and ships its other libraries). Caveats: "
                    + o.caveats.joined(separator: "; "),
                symbols: [], libraries: []))
    }

    /// The newest of dotted versions ("2.17", "2.28" → "2.28"); nil when there are none.
    static func highest(_ versions: [String?]) -> String? {
        versions.compactMap { $0 }.max { !versionAtLeast($0, $1) }
    }

    static func fix(_ a: Assessment, facts: BinaryFacts, path: String, release: AlpineRelease) -> Fix {
        var image: String?
        if let v = facts.goBuildInfo?.goVersion.replacingOccurrences(of: "go", with: ""), !v.isEmpty {
            image = "golang:\(v.split(separator: ".").prefix(2).joined(separator: "."))-alpine"
        }
        // A shared library (no interpreter) goes where musl's loader looks, not among the programs.
        let library = facts.type == .dyn && facts.interpreter == nil
        return fix(
            a,
            subject: Fix.Subject(
                app: safeName(path.split(separator: "/").last.map(String.init) ?? "app"),
                dir: library ? "/usr/local/lib" : "/usr/local/bin", goImage: image), release: release)
    }

    static func fix(_ a: Assessment, subject: Fix.Subject, release: AlpineRelease) -> Fix {
        var fix = recipe(a, subject: subject, release: release)
        fix.subject = subject
        return fix
    }

    private static func recipe(_ a: Assessment, subject: Fix.Subject, release: AlpineRelease) -> Fix {
        let (app, dir) = (subject.app, subject.dir)
        let image = "alpine:\(release.name)"
        let apk = a.packages.isEmpty ? nil : "apk add --no-cache " + a.packages.joined(separator: " ")
        guard a.verdict == .needsRebuild else {
            var lines = ["FROM \(image)"]
            if let apk { lines.append("RUN \(apk)") }
            lines.append("COPY \(app) \(dir)/\(app)")
            return Fix(apk: apk, rebuild: nil, dockerfile: lines.joined(separator: "\n"))
        }
        let runtime = a.packages.isEmpty ? [] : ["RUN \(apk ?? "")"]
        if app.contains(".cpython-") || app.hasSuffix(".abi3.so") {
            // A Python extension module: pip on Alpine installs musllinux wheels or builds the sdist.
            return Fix(
                apk: apk,
                rebuild:
                    "install the package's musllinux wheel (pip on Alpine picks musllinux_1_1/1_2 wheels) or build its sdist in an Alpine stage",
                dockerfile: ([
                    "FROM python:3-alpine\(release.isEdge ? "" : release.name)",
                    "RUN apk add --no-cache --virtual .build build-base python3-dev",
                    "RUN pip install --no-cache-dir PACKAGE  # musllinux wheel, or built from source here",
                    "RUN apk del .build",
                ] + runtime).joined(separator: "\n"))
        }
        switch a.language {
        case .go:
            let base = subject.goImage ?? "golang:alpine"
            return Fix(
                apk: apk,
                rebuild:
                    "CGO_ENABLED=0 go build (pure Go: static, runs anywhere); keep cgo only in an Alpine build stage",
                dockerfile: ([
                    "FROM \(base) AS build", "WORKDIR /src", "COPY . .", "RUN CGO_ENABLED=0 go build -o /out/\(app) .",
                    "", "FROM \(image)",
                ] + runtime + ["COPY --from=build /out/\(app) \(dir)/\(app)"]).joined(separator: "\n"))
        case .rust:
            let triple = rustTriple(a.arch)
            return Fix(
                apk: apk, rebuild: "cargo build --release --target \(triple)",
                dockerfile: ([
                    "FROM rust:alpine AS build", "RUN apk add --no-cache musl-dev", "WORKDIR /src", "COPY . .",
                    "RUN cargo build --release --target \(triple)", "", "FROM \(image)",
                ] + runtime
                    + ["COPY --from=build /src/target/\(triple)/release/\(app) \(dir)/\(app)"]).joined(separator: "\n"))
        default:
            return Fix(
                apk: apk, rebuild: "build in an Alpine stage (apk add build-base), or link statically",
                dockerfile: ([
                    "FROM \(image) AS build", "RUN apk add --no-cache build-base", "WORKDIR /src", "COPY . .",
                    "RUN make", "", "FROM \(image)",
                ] + runtime
                    + ["COPY --from=build /src/\(app) \(dir)/\(app)"]).joined(separator: "\n"))
        }
    }

    /// A file name as a recipe may write it: anything but letters, digits and `._+-@%,:=` becomes `_`, so
    /// that a name holding a newline, quote or `$` cannot add a line or a command to the Dockerfile.
    static func safeName(_ name: String) -> String {
        let safe = name.unicodeScalars.map { c -> Character in
            switch c {
            case "a"..."z", "A"..."Z", "0"..."9", ".", "_", "+", "-", "@", "%", ",", ":", "=": return Character(c)
            default: return "_"
            }
        }
        let s = String(safe)
        return s.isEmpty || s == "." || s == ".." ? "app" : s
    }

    static func rustTriple(_ arch: String) -> String {
        switch arch {
        case "i386": return "i686-unknown-linux-musl"
        case "arm": return "armv7-unknown-linux-musleabihf"
        case "ppc64le": return "powerpc64le-unknown-linux-musl"
        default: return "\(arch)-unknown-linux-musl"
        }
    }
}

extension String {
    func replacingOccurrences(of target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var out = ""
        var rest = Substring(self)
        while let r = rest.firstRange(of: target) {
            out += rest[..<r.lowerBound]
            out += replacement
            rest = rest[r.upperBound...]
        }
        return out + rest
    }
}
