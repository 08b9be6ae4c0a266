// swift-tools-version:6.0
import PackageDescription

/// The knowledge base's data files (Sources/Knowledge/data), each with a provenance header.
let knowledgeFiles = [
    "alpine-releases.tsv", "musl-lfs64-remap.txt", "musl-versions.tsv", "gcompat-private.txt", "gcompat-versions.tsv",
    "musl-1.2.2-x86_64.txt", "musl-1.2.3-x86_64.txt", "musl-1.2.4-x86_64.txt", "musl-1.2.5-x86_64.txt", "musl-1.2.6-x86_64.txt",
    "musl-1.2.2-aarch64.txt", "musl-1.2.3-aarch64.txt", "musl-1.2.4-aarch64.txt", "musl-1.2.5-aarch64.txt", "musl-1.2.6-aarch64.txt",
    "gcompat-1.0.0-x86_64.txt", "gcompat-1.1.0-x86_64.txt", "gcompat-1.1.0-aarch64.txt", "musl-obstack-1.2.3-x86_64.txt", "libucontext-1.3.2-x86_64.txt",
    "glibc-2.36-x86_64.tsv", "glibc-later.tsv", "glibc-beside-musl.tsv", "loaders.tsv", "libraries.tsv", "symbols.tsv", "rules.json",
    // Scripts: BusyBox per release, applets, options, ash syntax, command -> package (ScriptKnowledge.swift).
    "busybox-releases.tsv", "busybox-applets.tsv", "busybox-options.tsv", "ash-syntax.tsv", "commands.tsv",
]

let package = Package(
    name: "muslcheck",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "muslcheck", targets: ["muslcheck"]),
        // Everything but the CLI and the C module, for embedding the checker elsewhere.
        .library(name: "MuslcheckKit", targets: ["ELF", "Knowledge", "Assessment", "Scanning", "Reporting", "Engine", "Migration", "Scripts"]),
    ],
    // Size of the stripped static executable (docs/alpine.md; scripts/test-static.sh fails over 25 MB):
    //   with Foundation (as before): 62,089,624 bytes. ICU 37.3 MB of it (34.0 MB ICU's data), Foundation +
    //     CoreFoundation + FoundationInternationalization 4.6 MB, FoundationEssentials 4.4 MB, the Swift runtime
    //     6.7 MB, glibc 1.9 MB, argument-parser 0.7 MB, Yams 0.5 MB, knowledge base 0.5 MB, ZIPFoundation 0.3 MB,
    //     muslcheck 0.9 MB (from the linker map). Foundation and ICU came in through our own `import Foundation`,
    //     Yams (DateFormatter, NumberFormatter, NSRegularExpression) and ZIPFoundation.
    //   our code on FoundationEssentials, ZIPFoundation gone, Yams still parsing the policy: 63,514,840 bytes.
    //     Yams alone brings Foundation and ICU back, so it cannot stay in the product.
    //   FoundationEssentials alone (Yams replaced by Engine/PolicyYAML.swift): 18,745,968 bytes.
    // Decision: every product module imports FoundationEssentials, never Foundation (TextSupport has the few
    // string and path operations it lacks); the policy file's YAML subset has its own strict reader; Yams stays
    // as a test-only dependency that cross-checks that reader. Measured with scripts/release.sh's flags.
    dependencies: [
        // The de-facto standard for Swift command lines: subcommands, help, usage errors with exit 64.
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // Tests only: Yams (libyaml inside) cross-checks the policy file's own YAML reader (Engine/PolicyYAML.swift).
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
    ],
    targets: [
        // elfutils' libelf, the only C library we call (Debian: libelf-dev).
        .systemLibrary(name: "CLibElf", pkgConfig: "libelf", providers: [.apt(["libelf-dev"])]),
        // zlib, liblzma and libzstd: gzip, xz and zstd streams (tarballs, .deb, .apk, image layers).
        // The reference implementations, as every distribution ships them (Debian: zlib1g-dev, liblzma-dev, libzstd-dev).
        .systemLibrary(name: "CCompression", providers: [.apt(["zlib1g-dev", "liblzma-dev", "libzstd-dev"])]),
        // Archives opened in memory with limits: zip family, tar (plain, gzip, xz, zstd), ar (.deb), .apk, images.
        // Scripts: members that are shell scripts or Dockerfiles are parsed as they are read (their bytes dropped).
        .target(name: "Archives", dependencies: ["ELF", "Scripts", "CCompression", "TextSupport", "FileIO"]),
        // The string and path operations FoundationEssentials lacks (trimming, literal replacement, NSString's
        // path arithmetic): the product imports FoundationEssentials, never Foundation (size, above).
        .target(name: "TextSupport"),
        // Reads and writes that retry interrupted calls and go on until done: one small helper, not swift-system,
        // whose FileDescriptor retries as well but would be a dependency (and its types at every call) for
        // nine loops over pread, read and write.
        .target(name: "FileIO"),
        // ELF files → BinaryFacts. Only this target imports CLibElf.
        .target(name: "ELF", dependencies: ["CLibElf", "FileIO"]),
        // The knowledge base: measured symbol lists and facts with provenance, embedded in the binary.
        // Each file is embedded separately so the executable works when copied alone.
        .target(name: "Knowledge", resources: knowledgeFiles.map { .embedInCode("data/\($0)") }),
        // Shell scripts and Dockerfiles → ScriptFacts → ScriptAssessment against BusyBox and ash. Pure, no I/O.
        .target(name: "Scripts", dependencies: ["Knowledge", "TextSupport"]),
        // BinaryFacts + KnowledgeBase + target release → Assessment. Pure functions, no I/O.
        .target(name: "Assessment", dependencies: ["ELF", "Knowledge"]),
        // Finds candidate files under the given paths and reads them on all cores.
        .target(name: "Scanning", dependencies: ["ELF", "Assessment", "Archives", "Scripts", "TextSupport", "FileIO"]),
        // Assessments and facts → text, JSON, SARIF, JUnit, Markdown and HTML; the inspect and kb reports.
        // No unsafe flags (the library must stay usable as a versioned dependency): the JSON writer's buffer
        // skips dynamic exclusivity checks by its own attribute (JSON.swift).
        // The JSON writer is our own, not JSONEncoder, for speed. bench/json encodes the same results both ways
        // (release build, one thread, /usr/bin + /usr/lib/x86_64-linux-gnu: 1,612 check results, 1,685 ELF files
        // with 153,842 imports; 5 runs on 2 shared cores): check results 0.051-0.052 s against 0.137-0.156 s
        // with JSONEncoder (2.6-2.8x); inspect files 0.057-0.061 s against 0.405-0.415 s for JSONEncoder on
        // their imports alone (6.7-7.3x), where the writer's own Codable path takes 0.21-0.23 s: most of that
        // gain is the hand-written writers of imports and files (FastJSON).
        .target(name: "Reporting", dependencies: ["ELF", "Knowledge", "Assessment", "Scanning", "TextSupport"]),
        // The batch run behind `check`: walk → facts → library index → assessments folded over what each
        // file loads → gate (fail-on, policy file, baseline). The policy file's YAML subset is read by PolicyYAML.swift.
        .target(name: "Engine", dependencies: [
            "ELF", "Knowledge", "Assessment", "Scanning", "Archives", "Reporting", "Scripts", "TextSupport", "FileIO",
        ]),
        // `migrate`: a root filesystem's packages, files and entrypoint → an Alpine plan; its Debian → Alpine
        // table is embedded like the knowledge base.
        .target(name: "Migration", dependencies: ["Knowledge", "Assessment", "Archives", "Scanning", "Scripts", "Reporting", "Engine", "TextSupport"],
                resources: [.embedInCode("data/debian-alpine.tsv"), .embedInCode("data/interpreters.tsv")]),
        // Argument parsing, exit statuses, the only place that writes to stdout/stderr.
        .target(name: "MuslcheckCLI", dependencies: [
            "ELF", "Knowledge", "Assessment", "Scanning", "Reporting", "Engine", "Migration", "TextSupport",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // C that runs before the Swift runtime starts: a clear error when /proc is missing (the static
        // runtime aborts without it) and glibc's allocator settings (mallopt).
        // The shipped binary is one static executable (docs/alpine.md, scripts/release.sh): the build command
        // passes --static-swift-stdlib -Xswiftc -static-executable, which also links Debian's libelf.a, libz.a,
        // liblzma.a and libzstd.a; nothing here needs unsafe flags for it.
        .target(name: "CStartup"),
        .executableTarget(name: "muslcheck", dependencies: ["MuslcheckCLI", "CStartup"]),
        // Fixture paths and golden files for the test targets.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "ScriptsTests", dependencies: ["Scripts", "Knowledge"]),
        .testTarget(name: "ELFTests", dependencies: ["ELF", "Scanning", "TestSupport"]),
        .testTarget(name: "AssessmentTests", dependencies: ["ELF", "Knowledge", "Assessment", "Scanning", "TestSupport"]),
        .testTarget(name: "CLITests", dependencies: ["MuslcheckCLI", "Engine", "ELF", "Knowledge", "Assessment", "Reporting", "Archives", "Scanning", "Migration", "TestSupport", "TextSupport", "FileIO",
                                                     .product(name: "Yams", package: "Yams")],
                    exclude: ["sarif-schema-2.1.0.json"]),
    ]
)
