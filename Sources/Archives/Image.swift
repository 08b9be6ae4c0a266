// Container images: `docker save` tarballs (manifest.json; or the OCI layout in a tar that newer Docker
// writes) and OCI image layout directories. Layers are applied from the last to the first, remembering
// what each later layer put, deleted (`.wh.name`) or made opaque (`.wh..wh..opq`), so that a file the
// image no longer holds is never judged and no file's bytes are kept to apply the layers.
import ELF
import Scripts
import TextSupport

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
#if canImport(Glibc)
    import Glibc
#endif

/// What the layers above the one being read hide of it.
struct LayerMerge {
    /// Paths with an entry in a later layer, or deleted by one: an earlier file there is gone.
    private var exact = Set<String>()
    /// Paths whose contents in earlier layers are gone: later non-directories, deletions, opaque directories.
    private var covered = Set<String>()

    func hidden(_ path: String) -> Bool {
        if exact.contains(path) { return true }
        var p = Substring(path)
        while let slash = p.lastIndex(of: "/") {
            p = p[..<slash]
            if covered.contains(String(p)) { return true }
        }
        return false
    }

    /// Adds a layer's entries (after it was read: a layer's whiteouts hide only earlier layers).
    mutating func commit(_ entries: [(path: String, kind: TarEntry.Kind)]) {
        for (path, kind) in entries {
            let slash = path.lastIndex(of: "/")
            let base = slash.map { path[path.index(after: $0)...] } ?? Substring(path)
            let dir = slash.map { String(path[..<$0]) } ?? ""
            if base == ".wh..wh..opq" {
                covered.insert(dir)
            } else if base.hasPrefix(".wh..wh.") {
                continue  // other aufs metadata
            } else if base.hasPrefix(".wh.") {
                let gone = (dir.isEmpty ? "" : dir + "/") + base.dropFirst(4)
                exact.insert(gone)
                covered.insert(gone)
            } else {
                exact.insert(path)
                if kind != .directory { covered.insert(path) }
            }
        }
    }
}

extension ImageFiles {
    /// Adds what a layer holds that no later layer hid (`merge` holds the later layers); directories and
    /// whiteouts are not files.
    mutating func add(_ record: LayerRecord, hiddenBy merge: LayerMerge) {
        for (path, kind) in record.entries where kind != .directory && !merge.hidden(path) {
            if path.split(separator: "/").last?.hasPrefix(".wh.") == true { continue }
            add(path, linkTarget: kind == .symlink ? record.links[path] ?? "" : nil)
        }
    }
}

/// Which images a tar or layout holds, and their layers in order (from the base up).
enum ImageIndex {
    struct Image {
        /// Set when there are several images: the name that tells them apart.
        var label: String?
        /// Paths of the layer blobs (inside the tar, or relative to the layout directory).
        var layers: [String]
        /// Path of the configuration blob, when the manifest names a valid one.
        var config: String? = nil
    }

    static let maxManifests = 256
    static let maxNesting = 4

    /// Image index files nest a few levels; deeper is not an index, and is refused before decoding (the
    /// decoding recurses once per level).
    static let maxJSONNesting = 64

    /// The JSON document as dictionaries, arrays, strings, numbers (Double) and booleans (null: nil), or nil
    /// when it is not JSON.
    static func json(_ bytes: [UInt8]?) -> Any? {
        guard let bytes, JSONValue.nesting(bytes) <= maxJSONNesting,
            let decoded = try? JSONDecoder().decode(JSONValue.self, from: Data(bytes))
        else { return nil }
        return decoded.value
    }

    /// An OCI digest as a path under blobs/, when it is one (`algorithm:hex`, nothing that could leave
    /// the directory).
    static func blobPath(_ digest: String) -> String? {
        let parts = digest.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2 else { return nil }
        let (algorithm, hex) = (parts[0], parts[1])
        let hexDigits = hex.allSatisfy { ("0"..."9").contains($0) || ("a"..."f").contains($0) }
        switch algorithm {
        case "sha256" where hex.count == 64 && hexDigits, "sha512" where hex.count == 128 && hexDigits:
            return "blobs/\(algorithm)/\(hex)"
        default:
            return nil
        }
    }

    /// A tar's images, when it is an image: a docker-save manifest.json whose every layer is in the tar,
    /// or an OCI index.json whose manifests and layers are. nil for an ordinary tar (read as one).
    static func inTar(json: [String: [UInt8]], layers: Set<String>, name: String, problems: inout [ArchiveProblem])
        -> [Image]?
    {
        if let list = self.json(json["manifest.json"]) as? [[String: Any]] {
            var images: [Image] = []
            var missing: [String] = []
            for (i, entry) in list.prefix(maxManifests).enumerated() {
                guard let paths = entry["Layers"] as? [String], !paths.isEmpty else { continue }
                let label = (entry["RepoTags"] as? [String])?.first ?? "image-\(i + 1)"
                let normalized = paths.map(Tar.normalize)
                let config = (entry["Config"] as? String).map(Tar.normalize)
                if normalized.allSatisfy(layers.contains) {
                    images.append(Image(label: label, layers: normalized, config: config))
                } else {
                    missing.append(label)
                }
            }
            if !images.isEmpty {
                for label in missing {
                    problems.append(
                        ArchiveProblem(
                            path: name,
                            message: "image \(label) in manifest.json names layers the tar does not hold; not read"))
                }
                return labelled(images)
            }
        }
        guard json["index.json"] != nil else { return nil }
        var found = fromIndex(json["index.json"]) { path in json[path] }
        guard !found.images.isEmpty, found.images.allSatisfy({ $0.layers.allSatisfy(layers.contains) }) else {
            return nil
        }
        for p in found.problems { problems.append(ArchiveProblem(path: name, message: p)) }
        found.images = labelled(found.images)
        return found.images
    }

    /// Labels only when there are several images; made unique.
    static func labelled(_ images: [Image]) -> [Image] {
        guard images.count > 1 else { return images.map { Image(label: nil, layers: $0.layers, config: $0.config) } }
        var seen: [String: Int] = [:]
        return images.map { image in
            var label = (image.label ?? "image").replacingLiteral("!/", with: "!")
            seen[label, default: 0] += 1
            if let n = seen[label], n > 1 { label += "#\(n)" }
            return Image(label: label, layers: image.layers, config: image.config)
        }
    }

    /// Every image an OCI index names (an index may name further indexes: multi-platform images), with a
    /// problem for each manifest that cannot be read. `blob` gives a blob's bytes by path.
    static func fromIndex(_ index: [UInt8]?, blob: (String) -> [UInt8]?) -> (images: [Image], problems: [String]) {
        guard let root = json(index) as? [String: Any], let top = root["manifests"] as? [[String: Any]] else {
            return ([], ["OCI index.json is not readable JSON with a manifests list"])
        }
        var images: [Image] = []
        var problems: [String] = []
        var queue: [(descriptor: [String: Any], depth: Int, label: String?)] = top.map { ($0, 0, nil) }
        var seen = Set<String>()
        var i = 0
        while i < queue.count {
            let (descriptor, depth, inherited) = queue[i]
            i += 1
            guard i <= maxManifests * 4 else {
                problems.append("OCI index names more than \(maxManifests * 4) manifests; the rest not read")
                break
            }
            let digest = descriptor["digest"] as? String ?? ""
            guard let path = blobPath(digest) else {
                problems.append("OCI manifest digest '\(digest)' is not a valid digest; not read")
                continue
            }
            guard seen.insert(path).inserted else { continue }
            let label = label(descriptor) ?? inherited
            guard let manifest = json(blob(path)) as? [String: Any] else {
                problems.append("OCI manifest \(digest) missing or unreadable; not read")
                continue
            }
            if let nested = manifest["manifests"] as? [[String: Any]] {
                guard depth < maxNesting else {
                    problems.append("OCI index \(digest) nested more than \(maxNesting) deep; not read")
                    continue
                }
                queue += nested.prefix(max(0, maxManifests * 4 - queue.count)).map { ($0, depth + 1, label) }
                continue
            }
            guard let layers = manifest["layers"] as? [[String: Any]] else {
                problems.append("OCI manifest \(digest) has no layers list; not read")
                continue
            }
            let paths = layers.map { ($0["digest"] as? String).flatMap(blobPath) }
            if paths.contains(where: { $0 == nil }) {
                problems.append("OCI manifest \(digest) names a layer without a valid digest; not read")
                continue
            }
            let config = ((manifest["config"] as? [String: Any])?["digest"] as? String).flatMap(blobPath)
            images.append(
                Image(label: label ?? String(digest.prefix(19)), layers: paths.compactMap { $0 }, config: config))
        }
        return (images, problems)
    }

    /// A manifest's name in its index: its reference name, else its platform.
    static func label(_ descriptor: [String: Any]) -> String? {
        if let ref = (descriptor["annotations"] as? [String: Any])?["org.opencontainers.image.ref.name"] as? String {
            return ref
        }
        if let platform = descriptor["platform"] as? [String: Any], let os = platform["os"] as? String,
            let arch = platform["architecture"] as? String
        {
            return [os, arch, platform["variant"] as? String].compactMap { $0 }.joined(separator: "/")
        }
        return nil
    }
}

/// An OCI image layout directory, read without following a link out of it.
struct ImageLayout {
    let directory: String
    let fd: Int32

    init?(directory: String) {
        let fd = Glibc.open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        self.directory = directory
        self.fd = fd
    }

    func close() { _ = Glibc.close(fd) }

    /// A regular file under the layout, opened component by component with O_NOFOLLOW: a symbolic link
    /// anywhere on the way is refused.
    func open(_ path: String) -> (fd: Int32, size: Int)? {
        let parts = path.split(separator: "/").map(String.init)
        guard !parts.isEmpty, !parts.contains(".."), !parts.contains(".") else { return nil }
        var dir = dup(fd)
        guard dir >= 0 else { return nil }
        for part in parts.dropLast() {
            let next = openat(dir, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            _ = Glibc.close(dir)
            guard next >= 0 else { return nil }
            dir = next
        }
        let file = openat(dir, parts[parts.count - 1], O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        _ = Glibc.close(dir)
        guard file >= 0 else { return nil }
        var st = stat()
        guard fstat(file, &st) == 0, st.st_mode & S_IFMT == S_IFREG, let size = Int(exactly: st.st_size) else {
            _ = Glibc.close(file)
            return nil
        }
        return (file, size)
    }

    /// A small file's bytes (an index or manifest).
    func small(_ path: String, cap: Int = 16 << 20) -> [UInt8]? {
        guard let (file, size) = open(path) else { return nil }
        defer { _ = Glibc.close(file) }
        guard size <= cap else { return nil }
        let opened = OpenFile(fd: file, size: size, meter: nil, owned: false)
        return try? FileAccess(opened).bytes(at: 0, count: size)
    }

    /// Whether this is a layout whose index names at least one manifest that is there.
    var isReadable: Bool {
        guard open("oci-layout").map({ _ = Glibc.close($0.fd) }) != nil,
            let root = ImageIndex.json(small("index.json")) as? [String: Any],
            let manifests = root["manifests"] as? [[String: Any]]
        else { return false }
        return manifests.contains { descriptor in
            guard let path = (descriptor["digest"] as? String).flatMap(ImageIndex.blobPath), let (file, _) = open(path)
            else { return false }
            _ = Glibc.close(file)
            return true
        }
    }
}

extension Archives {
    /// Whether `directory` is an OCI image layout to read as an image: oci-layout, and an index.json that
    /// names a manifest present in blobs/. Anything less is walked as a directory.
    public static func isImageLayout(directory: String) -> Bool {
        guard let layout = ImageLayout(directory: directory) else { return false }
        defer { layout.close() }
        return layout.isReadable
    }

    /// An OCI image layout directory: the merged files of every image its index names.
    public static func expandImageLayout(
        directory: String, limits: ArchiveLimits = ArchiveLimits(),
        progress: (@Sendable (Int) -> Void)? = nil, read: @escaping MemberReader = defaultReader
    ) -> Expansion {
        let meter = Meter(limits: limits, progress: progress)
        let e = Expander(limits: limits, meter: meter, read: read)
        guard let layout = ImageLayout(directory: directory) else {
            e.problem(directory, "cannot open the image layout: \(String(cString: strerror(errno)))")
            return e.result
        }
        defer { layout.close() }
        let found = ImageIndex.fromIndex(layout.small("index.json")) { layout.small($0) }
        for p in found.problems { e.problem(directory, p) }
        let images = ImageIndex.labelled(found.images)
        if images.isEmpty {
            e.problem(directory, "OCI image layout whose index names no image that can be read; nothing in it judged")
        }
        for image in images {
            let name = directory + (image.label.map { "!/" + $0 } ?? "")
            if e.timeUp(directory) { break }
            let (tree, captured) = e.readImageLayers(name: name, container: name, layers: image.layers, depth: 1) {
                path in
                guard let (fd, size) = layout.open(path) else {
                    e.problem(
                        name + "!/" + path,
                        "layer missing, not a regular file, or reached through a link; image not read whole")
                    return nil
                }
                return (FileRange(OpenFile(fd: fd, size: size, meter: meter, owned: true)), size)
            }
            e.image(
                name, config: image.config, bytes: image.config.flatMap { layout.small($0, cap: ImageConfig.maxBytes) },
                tree: tree, captured: captured)
        }
        return e.result
    }
}

/// Any JSON value, decoded with JSONDecoder (FoundationEssentials has no JSONSerialization) into the shapes
/// the image code casts: [String: Any], [Any], String, Double, Bool; null is nil.
struct JSONValue: Decodable {
    let value: Any?

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            value = nil
        } else if let b = try? c.decode(Bool.self) {
            value = b
        } else if let n = try? c.decode(Double.self) {
            value = n
        } else if let s = try? c.decode(String.self) {
            value = s
        } else if let a = try? c.decode([JSONValue].self) {
            value = a.map { $0.value as Any }
        } else {
            value = try c.decode([String: JSONValue].self).mapValues { $0.value as Any }
        }
    }

    /// The deepest nesting of arrays and objects in `bytes` (strings skipped), without decoding.
    static func nesting(_ bytes: [UInt8]) -> Int {
        var depth = 0
        var deepest = 0
        var inString = false
        var escaped = false
        for b in bytes {
            if inString {
                if escaped {
                    escaped = false
                } else if b == UInt8(ascii: "\\") {
                    escaped = true
                } else if b == UInt8(ascii: "\"") {
                    inString = false
                }
                continue
            }
            switch b {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
                deepest = max(deepest, depth)
            case UInt8(ascii: "]"), UInt8(ascii: "}"): depth -= 1
            default: break
            }
        }
        return deepest
    }
}
