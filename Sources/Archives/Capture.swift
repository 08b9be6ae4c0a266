// Small files of an image kept as the merged image holds them (the last layer that has a path wins; whiteouts
// and opaque directories respected): what a caller needs beyond ELF facts — a distribution's os-release, a
// package database, a script's first line. The caller says which paths it wants; everything else stays a
// stream, and what is kept is bounded in size (each file and all together), with what was left out said.

/// Which files of an image to keep, and how much of each.
public struct FileCapture: Sendable {
    public enum Amount: Sendable, Equatable {
        /// The whole file (one larger than `maxFileBytes` is left out, and said).
        case whole
        /// Its first bytes only (a script's `#!` line).
        case head(Int)
    }

    /// A member of a layer, as the caller is asked about it: its path inside the image (no leading `/`).
    public struct Candidate: Sendable {
        public var path: String
        public var size: Int
        /// Any execute bit set in the tar header's mode.
        public var executable: Bool
        /// A symbolic link: only its target is kept.
        public var isLink: Bool
    }

    /// nil: not wanted.
    public var select: @Sendable (Candidate) -> Amount?
    /// The largest file kept whole.
    public var maxFileBytes: Int
    /// The most bytes kept from one input in all (every layer read counts, hidden or not).
    public var maxTotalBytes: Int
    /// Hears each image once it is read, with its configuration and captured files (the engine keeps only ELF
    /// results, so a caller that runs it learns of the images here).
    public var received: (@Sendable (ExpandedImage) -> Void)?

    public static let defaultMaxFileBytes = 64 << 20
    public static let defaultMaxTotalBytes = 256 << 20

    public init(
        maxFileBytes: Int = defaultMaxFileBytes, maxTotalBytes: Int = defaultMaxTotalBytes,
        received: (@Sendable (ExpandedImage) -> Void)? = nil, select: @escaping @Sendable (Candidate) -> Amount?
    ) {
        self.select = select
        self.maxFileBytes = maxFileBytes
        self.maxTotalBytes = maxTotalBytes
        self.received = received
    }
}

/// One file kept from an image.
public struct CapturedFile: Sendable, Hashable {
    /// The file's bytes (its first bytes when only the head was asked for); empty for a link.
    public var bytes: [UInt8]
    /// The file's size in the layer.
    public var size: Int
    public var executable: Bool
    /// Set for a symbolic link: where it points, as written.
    public var linkTarget: String?

    public var isComplete: Bool { linkTarget != nil || bytes.count == size }

    public init(bytes: [UInt8], size: Int, executable: Bool = false, linkTarget: String? = nil) {
        self.bytes = bytes
        self.size = size
        self.executable = executable
        self.linkTarget = linkTarget
    }
}

/// What one layer (or any tar read as one) gave of the files wanted: by path inside it, the last entry winning.
struct LayerCapture {
    var files: [String: CapturedFile] = [:]
    /// Wanted files left out, by path: why.
    var left: [String: String] = [:]
}

extension Expander {
    /// Keeps what `capture` wants of a tar entry of a layer. Returns the source to read the member on from
    /// (the bytes kept are handed on, not read twice).
    func capture(_ entry: TarEntry, source: ByteSource, into record: LayerRecord) throws -> ByteSource {
        guard let capture = limits.capture else { return source }
        let candidate = FileCapture.Candidate(
            path: entry.path, size: entry.size, executable: entry.mode & 0o111 != 0,
            isLink: entry.kind == .symlink)
        guard entry.kind == .file || entry.kind == .symlink, let amount = capture.select(candidate) else {
            return source
        }
        if entry.kind == .symlink {
            // A link's target counts against the total as a file's bytes do.
            guard capturedBytes + entry.linkTarget.utf8.count <= capture.maxTotalBytes else {
                record.capture.left[entry.path] =
                    "the \(capture.maxTotalBytes)-byte limit of files kept from one input was reached; not read"
                record.capture.files[entry.path] = nil
                return source
            }
            capturedBytes += entry.linkTarget.utf8.count
            record.capture.files[entry.path] = CapturedFile(bytes: [], size: 0, linkTarget: entry.linkTarget)
            record.capture.left[entry.path] = nil
            return source
        }
        let wanted: Int
        switch amount {
        case .whole:
            guard entry.size <= capture.maxFileBytes else {
                record.capture.left[entry.path] =
                    "\(entry.size) bytes, over the \(capture.maxFileBytes)-byte limit of a file kept; not read"
                record.capture.files[entry.path] = nil
                return source
            }
            wanted = entry.size
        case .head(let n):
            wanted = min(max(0, n), entry.size)
        }
        guard capturedBytes + wanted <= capture.maxTotalBytes else {
            record.capture.left[entry.path] =
                "the \(capture.maxTotalBytes)-byte limit of files kept from one input was reached; not read"
            record.capture.files[entry.path] = nil
            return source
        }
        let bytes = try source.read(upTo: wanted)
        capturedBytes += bytes.count
        record.capture.files[entry.path] = CapturedFile(
            bytes: bytes, size: entry.size, executable: candidate.executable)
        record.capture.left[entry.path] = nil
        return Prefixed(bytes, source)
    }
}

/// The captured files of one image, merged from its layers read from the last to the first: a path already
/// taken by a later layer, or hidden by one, is not taken again.
struct ImageCapture {
    var files: [String: CapturedFile] = [:]
    var left: [String: String] = [:]

    /// Adds a layer's captures (`hidden`: what the layers above it hide).
    mutating func add(_ layer: LayerCapture, hidden: (String) -> Bool) {
        for (path, file) in layer.files where files[path] == nil && left[path] == nil && !hidden(path) {
            files[path] = file
        }
        for (path, why) in layer.left where files[path] == nil && left[path] == nil && !hidden(path) {
            left[path] = why
        }
    }
}
