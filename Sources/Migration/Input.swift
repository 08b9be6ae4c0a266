// What `migrate` reads: an unpacked root filesystem (walked), or an image — a docker-save tarball, plain or
// compressed, an OCI layout directory or an OCI layout in a tar — streamed through the same engine as
// `check`. From an image, the files the plan needs besides ELF verdicts (os-release, the package database,
// the first bytes of programs and scripts, symbolic links) are kept as the merged image holds them
// (`ArchiveLimits.capture`), bounded, and what was left out is said.
import Archives
import Engine
import Knowledge
import Reporting
import Synchronization

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
#if canImport(Glibc)
    import Glibc
#endif

public struct MigrationError: Error, CustomStringConvertible {
    public var description: String
}

/// One input read: its files, and every judged file by its path inside the root.
struct MigrationInput {
    var files: RootFiles
    var results: [(inside: String, result: CheckResult)]
    var cLibrary: Int
    var config: ImageConfig?
    var image: String?
    var notes: [String] = []
}

/// The images the engine read, as they are reported (from its reading threads).
final class ReceivedImages: Sendable {
    private let images = Mutex<[ExpandedImage]>([])
    func add(_ image: ExpandedImage) { images.withLock { $0.append(image) } }
    var all: [ExpandedImage] { images.withLock { $0 } }
}

extension Migration {
    /// Bytes kept of each program and script of an image: enough for its `#!` line or ELF magic.
    public static let headBytes = 256
    /// Script names whose first bytes are kept even when not executable (`python3 app.py` runs a plain file),
    /// outside the directories where only the distribution's and libraries' own files are.
    static let scriptSuffixes = [".sh", ".py", ".js", ".mjs", ".cjs", ".rb", ".pl", ".php"]
    static let libraryAreas = ["usr/lib/", "usr/share/", "usr/local/lib/", "usr/include/", "usr/src/", "lib/", "var/"]

    /// Whether the first bytes of a file at `path` (inside the image, no leading `/`) are kept.
    static func keepsHead(_ path: String, executable: Bool) -> Bool {
        executable || (scriptSuffixes.contains { path.hasSuffix($0) } && !libraryAreas.contains { path.hasPrefix($0) })
    }

    /// What is kept of an image's files: RootFS's files whole, an RPM database's files only as present,
    /// programs' and scripts' first bytes, and every symbolic link's target (PATH lookups follow them).
    @Sendable static func keeps(_ c: FileCapture.Candidate) -> FileCapture.Amount? {
        if c.isLink { return .whole }
        let path = "/" + c.path
        if RootFS.rpmDatabases.contains(where: { path.hasPrefix($0 + "/") }) { return .head(0) }
        if RootFS.reads(path) { return .whole }
        return keepsHead(c.path, executable: c.executable) ? .head(headBytes) : nil
    }

    static func read(_ request: MigrationRequest, kb: KnowledgeBase) throws -> MigrationInput {
        let root = request.root
        var st = stat()
        guard stat(root, &st) == 0 else { throw MigrationError(description: "\(root) does not exist") }
        if st.st_mode & S_IFMT == S_IFDIR && !Archives.isImageLayout(directory: root) {
            // The application's files are judged inside the root, as they would be found there.
            let outcome = CheckEngine.run(
                CheckRequest(
                    paths: [root], release: request.release, gate: Gate(failOn: .never),
                    jobs: request.jobs, root: root, limits: request.limits), kb: kb)
            return MigrationInput(
                files: .directory(root), results: outcome.results.map { (String($0.path.dropFirst(root.count)), $0) },
                cLibrary: outcome.summary.cLibrary)
        }
        let received = ReceivedImages()
        var limits = request.limits
        limits.capture = FileCapture(received: { received.add($0) }, select: keeps)
        let outcome = CheckEngine.run(
            CheckRequest(
                paths: [root], release: request.release, gate: Gate(failOn: .never),
                jobs: request.jobs, limits: limits), kb: kb)
        let images = received.all
        guard let image = images.first else {
            let why = outcome.results.first { $0.status == .error }.map { ": \($0.path): \($0.error ?? "")" } ?? ""
            throw MigrationError(
                description:
                    "\(root) is not a container image that can be read (a docker save tarball, an OCI layout or an OCI layout in a tar)\(why)"
            )
        }
        var notes: [String] = []
        if images.count > 1 {
            notes.append(
                "the input holds \(images.count) images; the first (\(image.name)) is planned (its count of the C library's files includes the others')"
            )
        }
        if image.config == nil {
            notes.append("the image has no readable configuration: the entrypoint comes from the Dockerfile, if given")
        }
        for (path, why) in image.notCaptured.sorted(by: { $0.key < $1.key }) {
            notes.append("/\(path) not read: \(why)")
        }
        let prefix = image.name + "!/"
        var results: [(inside: String, result: CheckResult)] = []
        for r in outcome.results {
            if r.path.hasPrefix(prefix) {
                results.append(("/" + r.path.dropFirst(prefix.count), r))
            } else if r.status == .error {
                notes.append("\(r.path): \(r.error ?? "could not be read")")  // the input's own problems
            }
        }
        var files = RootFiles.captured(image.files, left: image.notCaptured)
        files.isImage = true
        return MigrationInput(
            files: files, results: results, cLibrary: outcome.summary.cLibrary, config: image.config,
            image: image.name, notes: notes)
    }
}
