// swift-tools-version:6.0
// A package that depends on muslcheck's library as another project would, by path (scripts/test-kit-consumer.sh
// builds and runs it). It proves MuslcheckKit builds as a dependency and that its public API is enough to
// read a file, judge it and run a whole check.
import PackageDescription

let package = Package(
    name: "KitConsumer",
    platforms: [.macOS(.v15)],
    dependencies: [
        // Named, so that the product reference holds whatever the checkout directory is called.
        .package(name: "muslcheck", path: "../..")
    ],
    targets: [
        .executableTarget(
            name: "KitConsumer",
            dependencies: [
                .product(name: "MuslcheckKit", package: "muslcheck")
            ])
    ]
)
