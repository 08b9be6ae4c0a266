// swift-tools-version:6.0
// The JSON writer's benchmark: the same real results encoded by the project's own writer (Reporting's
// JSON.swift) and by FoundationEssentials' JSONEncoder, in one run. A separate package so that the
// product never carries it; it depends on this one by path, as any other user of MuslcheckKit would.
//   swift run -c release --package-path bench/json json-bench [DIR ...]   (default /usr/bin)
import PackageDescription

let package = Package(
    name: "JSONBench",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "muslcheck", path: "../..")
    ],
    targets: [
        .executableTarget(
            name: "json-bench",
            dependencies: [
                .product(name: "MuslcheckKit", package: "muslcheck")
            ])
    ]
)
