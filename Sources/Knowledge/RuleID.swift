/// The id of a rule in rules.json. The ids the code raises findings under are the constants below:
/// the knowledge base refuses to load a catalogue that lacks one of them (`RuleID.check`), so no finding
/// can name a rule that `explain`, the SARIF rule list and the policy file do not know.
public struct RuleID: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }

    private init(_ id: String) { rawValue = id }

    // Loading: interpreter, libraries, symbols, relocations.
    public static let glibcInterpreter = RuleID("glibc-interpreter")
    public static let unknownInterpreter = RuleID("unknown-interpreter")
    public static let loaderNeeded = RuleID("loader-needed")
    public static let compatLibrary = RuleID("compat-library")
    public static let compatLibraryUnavailable = RuleID("compat-library-unavailable")
    public static let glibcOnlyLibrary = RuleID("glibc-only-library")
    public static let libraryNotOnAlpine = RuleID("library-not-on-alpine")
    public static let libraryPackage = RuleID("library-package")
    public static let libraryUnknown = RuleID("library-unknown")
    public static let libraryUnloadable = RuleID("library-unloadable")
    public static let libraryPathOutside = RuleID("library-path-outside")
    public static let libstdcxxVersion = RuleID("libstdcxx-version")
    public static let symbolGcompat = RuleID("symbol-gcompat")
    public static let symbolMissing = RuleID("symbol-missing")
    public static let symbolFromLibrary = RuleID("symbol-from-library")
    public static let weakSymbolMissing = RuleID("weak-symbol-missing")
    public static let unreferencedImport = RuleID("unreferenced-import")
    public static let muslSymbolNewer = RuleID("musl-symbol-newer")
    public static let irelative = RuleID("irelative")
    public static let ifuncSymbols = RuleID("ifunc-symbols")
    public static let dependency = RuleID("dependency")
    public static let unverifiedGcompat = RuleID("unverified-gcompat")
    public static let glibcBesideMusl = RuleID("glibc-beside-musl")
    // Thread-local storage.
    public static let initialExecTLS = RuleID("initial-exec-tls")
    public static let initialExecTLSExternal = RuleID("initial-exec-tls-external")
    public static let initialExecTLSPlugin = RuleID("initial-exec-tls-plugin")
    // Static binaries and runtimes.
    public static let staticGlibc = RuleID("static-glibc")
    public static let staticRuntimeGlibc = RuleID("static-runtime-glibc")
    public static let goCShared = RuleID("go-c-shared")
    // What the reader could not trust.
    public static let approximateArchitecture = RuleID("approximate-architecture")
    public static let versionsUnreadable = RuleID("versions-unreadable")
    public static let sectionsDisagree = RuleID("sections-disagree")
    // Containers and packages.
    public static let pythonModuleGlibcName = RuleID("python-module-glibc-name")
    public static let wheelNotForMusl = RuleID("wheel-not-for-musl")
    public static let debianPackageProgram = RuleID("debian-package-program")
    // Shell scripts and Dockerfiles (ScriptAssessor).
    public static let scriptInterpreterMissing = RuleID("script-interpreter-missing")
    public static let scriptCommandMissing = RuleID("script-command-missing")
    public static let busyboxAppletUnverified = RuleID("busybox-applet-unverified")
    public static let busyboxOptionRejected = RuleID("busybox-option-rejected")
    public static let busyboxOptionSilent = RuleID("busybox-option-silent")
    public static let ashSyntaxError = RuleID("ash-syntax-error")
    public static let ashSyntaxSilent = RuleID("ash-syntax-silent")
    public static let foreignPackageManager = RuleID("foreign-package-manager")
    public static let scriptParseError = RuleID("script-parse-error")
    public static let scriptOverLimit = RuleID("script-over-limit")
    // What an image starts (ScriptAssessor.assessEntrypoint).
    public static let entrypointMissing = RuleID("entrypoint-missing")
    public static let entrypointInterpreterMissing = RuleID("entrypoint-interpreter-missing")

    /// The ids script findings are raised under.
    public static let raisedByScripts: [RuleID] = [
        scriptInterpreterMissing, scriptCommandMissing, busyboxAppletUnverified, busyboxOptionRejected,
        busyboxOptionSilent, ashSyntaxError, ashSyntaxSilent, foreignPackageManager, scriptParseError, scriptOverLimit,
    ]
    /// The ids entrypoint findings are raised under.
    public static let raisedByEntrypoints: [RuleID] = [entrypointMissing, entrypointInterpreterMissing]

    /// Every id above: each must have its row in rules.json.
    public static let raisedByCode: [RuleID] = raisedByBinaryChecks + raisedByScripts + raisedByEntrypoints

    /// The ids the checks of ELF files, packages and containers raise findings under.
    public static let raisedByBinaryChecks: [RuleID] = [
        glibcInterpreter, unknownInterpreter, loaderNeeded, compatLibrary, compatLibraryUnavailable, glibcOnlyLibrary,
        libraryNotOnAlpine, libraryPackage, libraryUnknown, libraryUnloadable,
        libraryPathOutside, libstdcxxVersion, symbolGcompat, symbolMissing,
        symbolFromLibrary, weakSymbolMissing, unreferencedImport, muslSymbolNewer, irelative, ifuncSymbols, dependency,
        unverifiedGcompat, glibcBesideMusl, initialExecTLS, initialExecTLSExternal, initialExecTLSPlugin, staticGlibc,
        staticRuntimeGlibc, goCShared, approximateArchitecture, versionsUnreadable, sectionsDisagree,
        pythonModuleGlibcName,
        wheelNotForMusl, debianPackageProgram,
    ]

    /// Throws when a rule the code raises has no row among `catalogue` (the ids of rules.json).
    public static func check(catalogue: Set<String>) throws {
        let missing = raisedByCode.filter { !catalogue.contains($0.rawValue) }.map(\.rawValue)
        guard missing.isEmpty else {
            throw KnowledgeError(
                description: "rules.json lacks rules the code raises: " + missing.joined(separator: ", "))
        }
    }

    // Codable as the bare string, as reports write rule ids.
    public init(from decoder: any Decoder) throws { rawValue = try decoder.singleValueContainer().decode(String.self) }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(rawValue)
    }
}

extension Rule {
    public var ruleID: RuleID { RuleID(rawValue: id) }
}
