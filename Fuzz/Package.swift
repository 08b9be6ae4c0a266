// swift-tools-version:6.0
// The reader's libFuzzer target, kept out of the main package (it only links with -sanitize=fuzzer).
// Build and run it with scripts/fuzz.sh, which links .deps/muslcheck to the repository root first.
import PackageDescription

let package = Package(
    name: "muslcheck-fuzz",
    platforms: [.macOS(.v15)],
    dependencies: [.package(path: ".deps/muslcheck")],
    targets: [
        .executableTarget(name: "FuzzReader", dependencies: [.product(name: "MuslcheckKit", package: "muslcheck")],
                          swiftSettings: [.unsafeFlags(["-parse-as-library"])]),
    ]
)
