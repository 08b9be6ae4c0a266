// A rule describes itself: what it finds, why it matters, how to fix it, where the facts come from, and
// examples that must and must not trigger it (run by one parameterised test).

public struct Rule: Codable, Sendable, Hashable {
    public enum Severity: String, Codable, Sendable, Comparable {
        case note, warning, error
        public static func < (a: Severity, b: Severity) -> Bool { a.rank < b.rank }
        var rank: Int { self == .note ? 0 : self == .warning ? 1 : 2 }
    }
    public var id: String
    public var severity: Severity
    public var title: String
    public var summary: String
    public var rationale: String
    public var remedy: String
    public var sources: [String]
    public var examples: Examples
    /// For behaviour rules: when the rule applies, judged from imports and libraries alone.
    public var when: Condition?
    /// Alpine packages the remedy installs (added to the file's apk line when the rule fires).
    public var packages: [String]?

    /// A behaviour rule fires when any of the `…Any` lists matches, none of `importsNone` is imported,
    /// and the other constraints hold. Patterns ending in * match any suffix.
    public struct Condition: Codable, Sendable, Hashable {
        public var importsAny: [String]?
        public var importsNone: [String]?
        public var neededAny: [String]?
        public var goUsesAny: [String]?
        public var libc: [String]?
        /// Only when PT_GNU_STACK asks for no particular stack size.
        public var noStackSize: Bool?
        public var is64: Bool?
        /// A Go program built with cgo and none of these build tags.
        public var goCgoWithout: [String]?
        /// Only on this Alpine release and later (e.g. "3.16", where a package split began).
        public var sinceRelease: String?
    }

    public struct Examples: Codable, Sendable, Hashable {
        public var trigger: [Example]
        public var ignore: [Example]
    }

    /// A binary described in a few fields; everything unsaid is a plain dynamic glibc x86_64 executable.
    public struct Example: Codable, Sendable, Hashable {
        public var target: String
        public var arch: String?
        public var libc: String?
        /// Absent: the architecture's usual loader; explicitly null: none.
        public var interpreter: String??
        public var needed: [String]?
        public var imports: [String]?
        public var linkage: String?
        public var irelative: Bool?
        public var abiTag: Bool?
        public var damagedVersions: Bool?
        public var ifuncs: [String]?
        public var goUses: [String]?
        public var goCgo: Bool?
        public var goTags: [String]?
        /// Libraries the binary loads, each described by its imports (a plain glibc library otherwise).
        public var dependencies: [Dependency]?
        /// NEEDED name → why the file musl would map for it cannot be loaded.
        public var unusable: [String: String]?
        /// Search-path entries the resolver did not search (they lead outside the scanned paths).
        public var notSearched: [String]?
        /// The file's path (plugins are recognised partly by name); "/example" otherwise.
        public var path: String?
        /// Defined symbols that tell what the file is (plugin entry points, Go's cgo runtime).
        public var exports: [String]?
        /// Initial-exec TLS: how many relocation targets lie in the file's own TLS (which it then has), and
        /// the undefined symbols others name.
        public var tlsOwn: Int?
        public var tlsExternal: [String]?
        /// The section headers describe other symbol tables than the dynamic segment.
        public var sectionsDisagree: Bool?
        /// Script rules: the file's text and name (`run.sh`, `Dockerfile`), the packages the image has, and a
        /// size the text is padded to with comment lines (for the size limit).
        public var script: String?
        public var file: String?
        public var installed: [String]?
        public var size: Int?
        /// Entrypoint rules: an image's configuration and its files after the layers (`path`, or `path -> target`
        /// for a symbolic link; `file` with `script` is one more file, holding that text).
        public var entrypoint: [String]?
        public var cmd: [String]?
        public var env: [String]?
        public var shell: [String]?
        public var imageFiles: [String]?
        public struct Dependency: Codable, Sendable, Hashable {
            public var path: String
            public var imports: [String]
        }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            target = try c.decode(String.self, forKey: .target)
            arch = try c.decodeIfPresent(String.self, forKey: .arch)
            libc = try c.decodeIfPresent(String.self, forKey: .libc)
            if c.contains(.interpreter) {
                interpreter = .some(
                    try c.decodeNil(forKey: .interpreter) ? nil : try c.decode(String.self, forKey: .interpreter))
            } else {
                interpreter = nil
            }
            needed = try c.decodeIfPresent([String].self, forKey: .needed)
            imports = try c.decodeIfPresent([String].self, forKey: .imports)
            linkage = try c.decodeIfPresent(String.self, forKey: .linkage)
            irelative = try c.decodeIfPresent(Bool.self, forKey: .irelative)
            abiTag = try c.decodeIfPresent(Bool.self, forKey: .abiTag)
            damagedVersions = try c.decodeIfPresent(Bool.self, forKey: .damagedVersions)
            ifuncs = try c.decodeIfPresent([String].self, forKey: .ifuncs)
            goUses = try c.decodeIfPresent([String].self, forKey: .goUses)
            goCgo = try c.decodeIfPresent(Bool.self, forKey: .goCgo)
            goTags = try c.decodeIfPresent([String].self, forKey: .goTags)
            dependencies = try c.decodeIfPresent([Dependency].self, forKey: .dependencies)
            unusable = try c.decodeIfPresent([String: String].self, forKey: .unusable)
            notSearched = try c.decodeIfPresent([String].self, forKey: .notSearched)
            path = try c.decodeIfPresent(String.self, forKey: .path)
            exports = try c.decodeIfPresent([String].self, forKey: .exports)
            tlsOwn = try c.decodeIfPresent(Int.self, forKey: .tlsOwn)
            tlsExternal = try c.decodeIfPresent([String].self, forKey: .tlsExternal)
            sectionsDisagree = try c.decodeIfPresent(Bool.self, forKey: .sectionsDisagree)
            script = try c.decodeIfPresent(String.self, forKey: .script)
            file = try c.decodeIfPresent(String.self, forKey: .file)
            installed = try c.decodeIfPresent([String].self, forKey: .installed)
            size = try c.decodeIfPresent(Int.self, forKey: .size)
            entrypoint = try c.decodeIfPresent([String].self, forKey: .entrypoint)
            cmd = try c.decodeIfPresent([String].self, forKey: .cmd)
            env = try c.decodeIfPresent([String].self, forKey: .env)
            shell = try c.decodeIfPresent([String].self, forKey: .shell)
            imageFiles = try c.decodeIfPresent([String].self, forKey: .imageFiles)
        }
    }
}

struct RuleCatalogue: Codable {
    var about: String
    var rules: [Rule]
}
