// swift-tools-version:6.0
import PackageDescription

/// The knowledge base's data files (Sources/Knowledge/data), each with a provenance header.
let knowledgeFiles = [
    "alpine-releases.tsv", "musl-lfs64-remap.txt",
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
    // Size of the static executable (docs/alpine.md), 62 MB stripped: ICU 37.3 MB (34.0 MB of it ICU's data),
    // Foundation + CoreFoundation + FoundationInternationalization 4.6 MB, FoundationEssentials 4.4 MB, the
    // Swift runtime 6.7 MB, glibc 1.9 MB, argument-parser 0.7 MB, Yams 0.5 MB, knowledge base 0.5 MB,
    // ZIPFoundation 0.3 MB, muslcheck 0.9 MB. Foundation and ICU come in through Yams (DateFormatter,
    // NumberFormatter, NSRegularExpression) and ZIPFoundation (CoreFoundation string encodings); linked
    // against FoundationEssentials alone the program is 17 MB.
    dependencies: [
        // The de-facto standard for Swift command lines: subcommands, help, usage errors with exit 64.
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // Zip archives (wheels, jars, npm bundles) read in memory: the maintained pure-Swift zip reader.
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
        // The policy file is YAML: Yams is the standard Swift YAML parser (libyaml inside).
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
    ],
    targets: [
        // elfutils' libelf, the only C library we call (Debian: libelf-dev).
        .systemLibrary(name: "CLibElf", pkgConfig: "libelf", providers: [.apt(["libelf-dev"])]),
        // zlib, liblzma and libzstd: gzip, xz and zstd streams (tarballs, .deb, .apk, image layers).
        // The reference implementations, as every distribution ships them (Debian: zlib1g-dev, liblzma-dev, libzstd-dev).
        .systemLibrary(name: "CCompression", providers: [.apt(["zlib1g-dev", "liblzma-dev", "libzstd-dev"])]),
        // Archives opened in memory with limits: zip family, tar (plain, gzip, xz, zstd), ar (.deb), .apk, images.
        .target(name: "Archives", dependencies: ["ELF", "CCompression", .product(name: "ZIPFoundation", package: "ZIPFoundation")]),
        // ELF files → BinaryFacts. Only this target imports CLibElf.
        .target(name: "ELF", dependencies: ["CLibElf"]),
        // The knowledge base: measured symbol lists and facts with provenance, embedded in the binary.
        // Each file is embedded separately so the executable works when copied alone.
        .target(name: "Knowledge", resources: knowledgeFiles.map { .embedInCode("data/\($0)") }),
        // Shell scripts and Dockerfiles → ScriptFacts → ScriptAssessment against BusyBox and ash. Pure, no I/O.
        .target(name: "Scripts", dependencies: ["Knowledge"]),
        // BinaryFacts + KnowledgeBase + target release → Assessment. Pure functions, no I/O.
        .target(name: "Assessment", dependencies: ["ELF", "Knowledge"]),
        // Finds candidate files under the given paths and reads them on all cores.
        .target(name: "Scanning", dependencies: ["ELF", "Assessment", "Archives", "Scripts"]),
        // Assessments and facts → text and JSON.
        // No unsafe flags (the library must stay usable as a versioned dependency): the JSON writer's buffer
        // skips dynamic exclusivity checks by its own attribute (JSON.swift).
        .target(name: "Reporting", dependencies: ["ELF", "Knowledge", "Assessment", "Scanning"]),
        // The batch run behind `check`: walk → facts → library index → assessments folded over what each
        // file loads → gate (fail-on, policy file, baseline). Yams reads the policy file.
        .target(name: "Engine", dependencies: [
            "ELF", "Knowledge", "Assessment", "Scanning", "Archives", "Reporting", "Scripts",
            .product(name: "Yams", package: "Yams"),
        ]),
        // `migrate`: a root filesystem's packages, files and entrypoint → an Alpine plan; its Debian → Alpine
        // table is embedded like the knowledge base.
        .target(name: "Migration", dependencies: ["Knowledge", "Assessment", "Archives", "Scanning", "Scripts", "Reporting", "Engine"],
                resources: [.embedInCode("data/debian-alpine.tsv"), .embedInCode("data/interpreters.tsv")]),
        // Argument parsing, exit statuses, the only place that writes to stdout/stderr.
        .target(name: "MuslcheckCLI", dependencies: [
            "ELF", "Knowledge", "Assessment", "Scanning", "Reporting", "Engine", "Migration",
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
        .testTarget(name: "CLITests", dependencies: ["MuslcheckCLI", "Engine", "ELF", "Knowledge", "Assessment", "Reporting", "Archives", "Scanning", "Migration", "TestSupport",
                                                     .product(name: "ZIPFoundation", package: "ZIPFoundation")],
                    exclude: ["sarif-schema-2.1.0.json"]),
    ]
)
