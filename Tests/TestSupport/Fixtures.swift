// Where the committed fixtures are, and golden-file comparison shared by the test targets.
import Foundation

public enum Fixtures {
    /// The package root, found from this file's location (Tests/TestSupport/Fixtures.swift).
    public static let root: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    public static let dir = root.appendingPathComponent("fixtures-bin")
    public static let bin = dir.appendingPathComponent("bin")
    public static let malformed = dir.appendingPathComponent("malformed")
    public static let golden = dir.appendingPathComponent("golden")

    public static func path(_ name: String) -> String { bin.appendingPathComponent(name).path }

    public struct ReadelfFacts: Decodable, Sendable {
        public var needed: [String]
        public var soname: String?
        public var rpath: [String]
        public var runpath: [String]
        public var interpreter: String?
        public var imports: [String]
        public init(
            needed: [String], soname: String?, rpath: [String], runpath: [String], interpreter: String?,
            imports: [String]
        ) {
            self.needed = needed
            self.soname = soname
            self.rpath = rpath
            self.runpath = runpath
            self.interpreter = interpreter
            self.imports = imports
        }
    }
    public struct Entry: Decodable, Sendable {
        public var name: String
        public var path: String
        public var command: String
        public var sha256: String
        public var readelf: ReadelfFacts
    }
    public struct Manifest: Decodable, Sendable {
        public var fixtures: [Entry]
        public var malformed: [Malformed]
        public struct Malformed: Decodable, Sendable { public var name: String }
    }

    public static let manifest: Manifest = {
        do {
            let data = try Data(contentsOf: dir.appendingPathComponent("MANIFEST.json"))
            return try JSONDecoder().decode(Manifest.self, from: data)
        } catch {
            return Manifest(fixtures: [], malformed: [])
        }
    }()

    public static func entry(_ name: String) -> Entry? { manifest.fixtures.first { $0.name == name } }

    /// Compares `actual` with the golden file; with UPDATE_GOLDENS=1 in the environment, rewrites it instead.
    /// Returns nil when they agree (or were re-blessed), else a description of the first difference.
    public static func checkGolden(_ actual: String, _ relativePath: String) -> String? {
        let url = golden.appendingPathComponent(relativePath)
        if ProcessInfo.processInfo.environment["UPDATE_GOLDENS"] == "1" {
            try? FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            do { try Data(actual.utf8).write(to: url) } catch { return "cannot write \(url.path): \(error)" }
            return nil
        }
        guard let expected = try? String(contentsOf: url, encoding: .utf8) else {
            return "no golden file \(relativePath); run the tests with UPDATE_GOLDENS=1 to create it"
        }
        if expected == actual { return nil }
        let a = actual.split(separator: "\n", omittingEmptySubsequences: false)
        let e = expected.split(separator: "\n", omittingEmptySubsequences: false)
        for i in 0..<max(a.count, e.count) {
            let x = i < a.count ? String(a[i]) : "<end>"
            let y = i < e.count ? String(e[i]) : "<end>"
            if x != y { return "\(relativePath) line \(i + 1): expected «\(y)», got «\(x)»" }
        }
        return "\(relativePath) differs"
    }
}

/// Runs a program and returns its exit status and output (tests use it for readelf and musl's loader).
public func runProgram(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) -> (
    status: Int32, stdout: String, stderr: String
)? {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let environment { process.environment = environment }
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    do { try process.run() } catch { return nil }
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let e = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
}
