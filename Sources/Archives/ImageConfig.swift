import Scripts

// An image's configuration (the JSON blob its manifest names: docker-save `Config`, OCI `config.digest`):
// what the container starts and with which user, environment and directory. Read from the same small JSON
// members that tell an image, never from a layer.
#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The parts of an image configuration that say what runs (OCI image-spec `config.md`; Docker writes the same
/// keys): `Entrypoint`, `Cmd`, `Shell`, `User`, `Env`, `WorkingDir`, with the image's OS and architecture.
public struct ImageConfig: Sendable, Hashable, Codable {
    public var architecture: String?
    public var os: String?
    public var entrypoint: [String]?
    public var cmd: [String]?
    /// Docker's `SHELL` (a Docker extension; absent from OCI configs): the shell of shell-form instructions.
    public var shell: [String]?
    public var user: String?
    public var env: [String]?
    public var workingDir: String?

    public init(
        architecture: String? = nil, os: String? = nil, entrypoint: [String]? = nil, cmd: [String]? = nil,
        shell: [String]? = nil, user: String? = nil, env: [String]? = nil, workingDir: String? = nil
    ) {
        self.architecture = architecture
        self.os = os
        self.entrypoint = entrypoint
        self.cmd = cmd
        self.shell = shell
        self.user = user
        self.env = env
        self.workingDir = workingDir
    }

    /// A configuration is at most this big (real ones are a few KiB; the history list is the largest part).
    public static let maxBytes = 4 << 20

    /// The configuration in `bytes`, or nil when they are not an image configuration's JSON.
    public static func decode(_ bytes: [UInt8]) -> ImageConfig? {
        guard bytes.count <= maxBytes, let file = try? JSONDecoder().decode(File.self, from: Data(bytes)) else {
            return nil
        }
        let c = file.config
        return ImageConfig(
            architecture: file.architecture, os: file.os, entrypoint: c?.Entrypoint, cmd: c?.Cmd,
            shell: c?.Shell, user: c?.User, env: c?.Env, workingDir: c?.WorkingDir)
    }

    /// The value of `name` in `env` (`NAME=value`), the last one winning as in Docker.
    public func environment(_ name: String) -> String? {
        (env ?? []).last { $0.hasPrefix(name + "=") }.map { String($0.dropFirst(name.count + 1)) }
    }

    // The file's layout: the keys as the specification spells them.
    private struct File: Decodable {
        var architecture: String?
        var os: String?
        var config: Inner?
    }

    // swiftlint:disable identifier_name
    private struct Inner: Decodable {
        var Entrypoint: [String]?
        var Cmd: [String]?
        var Shell: [String]?
        var User: String?
        var Env: [String]?
        var WorkingDir: String?
    }
    // swiftlint:enable identifier_name
}

/// One image read from a docker-save tarball, an OCI layout or an OCI tar: the prefix its files' paths have
/// in the results (`image.tar`, or `image.tar!/LABEL` when the input holds several) and its configuration.
public struct ExpandedImage: Sendable, Hashable {
    /// Files of this image are named `name + "!/" + path inside the image`.
    public var name: String
    /// nil when the configuration is missing or unreadable (reported as a problem).
    public var config: ImageConfig?
    /// The image's file tree after its layers, when the configuration names something to run (nil otherwise).
    public var tree: ImageFiles? = nil
    /// The files `ArchiveLimits.capture` asked for, as the merged image holds them, by path inside the image
    /// (no leading `/`); and the wanted ones left out over its limits, with why.
    public var files: [String: CapturedFile] = [:]
    public var notCaptured: [String: String] = [:]

    public init(
        name: String, config: ImageConfig?, tree: ImageFiles? = nil, files: [String: CapturedFile] = [:],
        notCaptured: [String: String] = [:]
    ) {
        self.name = name
        self.config = config
        self.tree = tree
        self.files = files
        self.notCaptured = notCaptured
    }
}
