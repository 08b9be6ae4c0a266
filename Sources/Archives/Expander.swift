// Opens archives in memory, recognised by content, nested to a bounded depth, and hands back the ELF
// files inside, named outer!/inner/path. Every limit that is reached is reported, never silently skipped.
import ELF
import Foundation
import ZIPFoundation

public struct ArchiveLimits: Sendable {
    public var maxDepth = 5
    public var maxMemberBytes = 256 << 20
    public var maxTotalBytes = 1 << 30
    public var maxEntries = 200_000
    /// Time for one input, archive and members together (set per input by the scanner).
    public var maxSeconds = 60.0
    public var deadline: Deadline?
    public init() {}
}

public struct ArchiveMember: Sendable {
    public var path: String
    public var bytes: [UInt8]
}

public struct ArchiveProblem: Sendable, Hashable {
    public var path: String
    public var message: String
}

public struct Expansion: Sendable {
    public var members: [ArchiveMember] = []
    public var problems: [ArchiveProblem] = []
    /// Files inside that are neither ELF nor archives: counted, not listed.
    public var otherFiles = 0
}

public enum ArchiveKind: String, Sendable { case zip, gzip, xz, zstd, tar, ar }

public enum Archives {
    /// The archive format the bytes start with, if any (the extension says nothing).
    public static func kind(_ b: [UInt8]) -> ArchiveKind? {
        if b.count >= 4, b[0] == 0x50, b[1] == 0x4B, (b[2] == 3 && b[3] == 4) || (b[2] == 5 && b[3] == 6) { return .zip }
        if b.count >= 3, b[0] == 0x1F, b[1] == 0x8B, b[2] == 8 { return .gzip }
        if b.count >= 6, b[0..<6].elementsEqual([0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00]) { return .xz }
        if b.count >= 4, b[0..<4].elementsEqual([0x28, 0xB5, 0x2F, 0xFD]) { return .zstd }
        // Only Debian packages among ar archives: static libraries (.a) hold objects no loader ever loads.
        if Ar.looksLikeAr(b), b.count >= 68, b[8..<21].elementsEqual("debian-binary".utf8) { return .ar }
        if Tar.looksLikeTar(b) { return .tar }
        return nil
    }

    /// Every ELF file inside `bytes` (an archive named `name`), recursively.
    public static func expand(name: String, bytes: [UInt8], limits: ArchiveLimits = ArchiveLimits()) -> Expansion {
        var e = Expander(limits: limits)
        e.visit(name: name, bytes: bytes, depth: 0, container: true)
        return e.result
    }

    /// An OCI image layout directory (oci-layout, index.json, blobs/): the merged files of its image.
    public static func expandImageLayout(directory: String, limits: ArchiveLimits = ArchiveLimits()) -> Expansion {
        var e = Expander(limits: limits)
        // "./" keeps a directory named "~…" literal: URL(fileURLWithPath:) expands a leading "~" (NSS).
        let base = URL(fileURLWithPath: directory.hasPrefix("~") ? "./" + directory : directory)
        e.image(name: directory, index: try? Data(contentsOf: base.appendingPathComponent("index.json")), depth: 0) { path in
            let url = base.appendingPathComponent(path)
            // stat, not FileManager.attributesOfItem: that also looks up the owner's and group's names (NSS).
            var status = stat()
            guard stat(url.path, &status) == 0, status.st_size <= limits.maxMemberBytes else { return nil }
            return (try? Data(contentsOf: url)).map { [UInt8]($0) }
        }
        return e.result
    }

    /// Whether a member whose first bytes `peek(n)` decompresses may be an ELF file or an archive. 262 bytes
    /// settle it for all but a tar without ustar magic (the decoding cost grows with the bytes asked for,
    /// and most members of a large jar are class files); true when the bytes cannot be decoded, so that
    /// the reader reports the damage.
    static func worthReading(_ peek: (Int) -> [UInt8]?) -> Bool {
        guard let head = peek(262) else { return true }
        if isELF(head) || kind(head) != nil { return true }
        guard Tar.couldBeHeader(head) else { return false }
        guard let full = peek(512) else { return true }
        return kind(full) != nil
    }

    /// Whether a compressed stream holds an ELF file or an archive, told from its first decompressed bytes
    /// as `worthReading` does; nil when `bytes` (perhaps only the start of a file) do not say, or are damaged.
    public static func holdsCandidate(_ kind: ArchiveKind, _ bytes: ArraySlice<UInt8>) -> Bool? {
        var undecided = false
        let answer = worthReading { count in
            guard let (inner, ended) = Decompress.peek(kind, bytes, count: count), inner.count == count || ended else {
                undecided = true
                return nil
            }
            return inner
        }
        return undecided ? nil : answer
    }

    public static func isImageLayout(directory: String) -> Bool {
        FileManager.default.fileExists(atPath: directory + "/oci-layout") && FileManager.default.fileExists(atPath: directory + "/index.json")
    }
}

private func isELF(_ b: [UInt8]) -> Bool { b.count >= 4 && b[0] == 0x7F && b[1] == 0x45 && b[2] == 0x4C && b[3] == 0x46 }

struct Expander {
    let limits: ArchiveLimits
    var result = Expansion()
    var total = 0
    var entries = 0

    mutating func problem(_ path: String, _ message: String) { result.problems.append(ArchiveProblem(path: path, message: message)) }

    /// Set once the deadline has passed: reported once, and nothing more is opened.
    var stopped = false

    /// Whether the deadline has passed (reported against `name` the first time).
    mutating func timeUp(_ name: String) -> Bool {
        if stopped { return true }
        guard let deadline = limits.deadline, deadline.passed else { return false }
        stopped = true
        problem(name, deadline.message)
        return true
    }

    /// `container`: the bytes are known to be an archive (the top level); members that are neither ELF
    /// nor archives are counted.
    mutating func visit(name: String, bytes: [UInt8], depth: Int, container: Bool = false) {
        if timeUp(name) { return }
        if isELF(bytes) { result.members.append(ArchiveMember(path: name, bytes: bytes)); return }
        guard let kind = Archives.kind(bytes) else { if !container { result.otherFiles += 1 }; return }
        guard depth < limits.maxDepth else { problem(name, "archive nested more than \(limits.maxDepth) levels deep; not opened"); return }
        let budget = min(limits.maxMemberBytes, limits.maxTotalBytes - total)
        do {
            switch kind {
            case .gzip, .xz, .zstd:
                // Most compressed files are documents (man pages, changelogs): look at the start first.
                if Archives.holdsCandidate(kind, bytes[...]) == false { result.otherFiles += 1; return }
                let inner = try Decompress.stream(kind, bytes, limit: budget, deadline: limits.deadline) ?? bytes
                total += inner.count
                visit(name: name, bytes: inner, depth: depth + 1)  // the same file, uncompressed
            case .tar:
                let list = try Tar.entries(bytes, maxEntries: limits.maxEntries - entries)
                entries += list.count
                if let image = ImageTar(list) { image.expand(into: &self, name: name, depth: depth); return }
                for entry in list where entry.kind == .file { visitMember(name: name + "!/" + entry.path, data: entry.data, depth: depth + 1) }
            case .ar:
                let list = try Ar.entries(bytes, maxEntries: limits.maxEntries - entries)
                entries += list.count
                for entry in list { visitMember(name: name + "!/" + entry.path, data: entry.data, depth: depth + 1) }
            case .zip:
                try zip(name: name, bytes: bytes, depth: depth, budget: budget)
            }
        } catch let error as ArchiveError {
            problem(name, error.description)
        } catch {
            problem(name, "\(kind.rawValue): \(error)")
        }
    }

    /// A tar or ar member: copied out of the archive only when its start says ELF or an archive worth
    /// opening (a .deb or image holds thousands of documents, each a copy otherwise).
    mutating func visitMember(name: String, data: ArraySlice<UInt8>, depth: Int) {
        if Self.worthCopying(data) { visit(name: name, bytes: Array(data), depth: depth) } else { result.otherFiles += 1 }
    }

    static func worthCopying(_ data: ArraySlice<UInt8>) -> Bool {
        let head = Array(data.prefix(512))
        if isELF(head) { return true }
        guard let kind = Archives.kind(head) else { return false }
        // A compressed member (a man page): what matters is what it holds; damage is left to `visit` to report.
        if [.gzip, .xz, .zstd].contains(kind) { return Archives.holdsCandidate(kind, data) != false }
        return true
    }

    /// Whether a zip member's first bytes say ELF or archive: read directly when stored, decoded when
    /// deflated (a member that starts like an earlier one found to hold nothing of interest is not decoded
    /// again: `ZipHeads`). True when they cannot be told (damaged data, another method), so that the
    /// extraction reports it.
    func worthReading(_ bytes: [UInt8], _ member: ZipMember, inflater: DeflateHeads) -> Bool {
        guard let data = ZipCheck.data(bytes, member) else { return true }
        switch member.method {
        case 0: return Archives.worthReading { Array(data.prefix($0)) }
        case 8:
            return data.withUnsafeBytes { raw in
                if ZipHeads.shared.knownUninteresting(crc: member.crc, data: raw) { return false }
                var consumed = 0
                let answer = Archives.worthReading { count in
                    let head = inflater.head(data, count: count)
                    consumed = max(consumed, inflater.consumed)
                    return head
                }
                if !answer { ZipHeads.shared.rememberUninteresting(crc: member.crc, data: raw, consumed: consumed) }
                return answer
            }
        default: return true
        }
    }

    mutating func zip(name: String, bytes: [UInt8], depth: Int, budget: Int) throws {
        let directory = try ZipCheck.validate(bytes, maxEntries: limits.maxEntries - entries)
        // Most members (classes, scripts, data) are neither ELF nor archives: their first bytes say so, which
        // saves extracting them, and opening the archive at all when nothing else is left.
        var wanted = Set<Int>()
        let inflater = DeflateHeads()
        for (index, member) in directory.enumerated() where !member.isDirectory {
            if index & 0xFF == 0, timeUp(name) { return }
            if !worthReading(bytes, member, inflater: inflater) {
                result.otherFiles += 1
                entries += 1
            } else {
                wanted.insert(index)
            }
        }
        guard !wanted.isEmpty else { return }
        // ZIPFoundation reads the bytes in place (a copy of a large jar doubled the peak memory of a run).
        try bytes.withUnsafeBytes { raw in
            guard let base = raw.baseAddress else { return }
            let archive = try Archive(data: Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: base), count: raw.count, deallocator: .none),
                                      accessMode: .read)
            var used = 0
            // ZIPFoundation lists the same central directory in the same order.
            for (index, entry) in archive.enumerated() where wanted.contains(index) {
                guard Int(exactly: entry.compressedSize) == directory[index].compressedSize else {
                    throw ArchiveError("zip: entry \(index) is listed differently by the directory check and the zip reader")
                }
                guard entry.type == .file else { continue }
                entries += 1
                guard entries <= limits.maxEntries else { throw ArchiveError("more than \(limits.maxEntries) entries") }
                let declared = Int(clamping: entry.uncompressedSize)
                guard declared <= limits.maxMemberBytes, used + declared <= budget else {
                    problem(name + "!/" + entry.path, "member of \(declared) bytes is over the limit (\(limits.maxMemberBytes) per member, \(limits.maxTotalBytes) in all); not opened")
                    continue
                }
                var data: [UInt8] = []
                data.reserveCapacity(declared)
                let cap = min(limits.maxMemberBytes, budget - used)
                do {
                    // The declared size may lie (a zip bomb): count what really comes out.
                    let deadline = limits.deadline
                    _ = try archive.extract(entry, skipCRC32: true) { chunk in
                        if data.count + chunk.count > cap { throw ArchiveError("expands past the \(cap)-byte limit") }
                        if let deadline, deadline.passed { throw ArchiveError(deadline.message) }
                        data.append(contentsOf: chunk)
                    }
                } catch let error as ArchiveError {
                    problem(name + "!/" + entry.path, error.description)
                    continue
                } catch {
                    problem(name + "!/" + entry.path, "cannot extract: \(error)")
                    continue
                }
                used += data.count
                total += data.count
                visit(name: name + "!/" + entry.path, bytes: data, depth: depth + 1)
            }
        }
    }

    /// A container image: layers applied in order (whiteouts respected), then every ELF file of the result.
    mutating func image(name: String, index: Data?, depth: Int, blob: (String) -> [UInt8]?) {
        func json(_ bytes: [UInt8]?) -> [String: Any]? {
            bytes.flatMap { try? JSONSerialization.jsonObject(with: Data($0)) as? [String: Any] }
        }
        func blobPath(_ digest: String) -> String { "blobs/" + digest.replacingOccurrences(of: ":", with: "/") }
        guard let index, let root = try? JSONSerialization.jsonObject(with: index) as? [String: Any],
              var manifests = root["manifests"] as? [[String: Any]] else {
            problem(name, "OCI layout without a readable index.json"); return
        }
        // An index may point at another index (multi-platform images): take its first manifest.
        var layers: [String] = []
        var hops = 0
        while let first = manifests.first, let digest = first["digest"] as? String, hops < 4 {
            hops += 1
            guard let manifest = json(blob(blobPath(digest))) else { problem(name, "manifest \(digest) missing"); return }
            if let nested = manifest["manifests"] as? [[String: Any]] { manifests = nested; continue }
            layers = (manifest["layers"] as? [[String: Any]] ?? []).compactMap { $0["digest"] as? String }.map(blobPath)
            break
        }
        applyLayers(name: name, layers: layers, depth: depth, blob: blob)
    }

    mutating func applyLayers(name: String, layers: [String], depth: Int, blob: (String) -> [UInt8]?) {
        var files: [String: [UInt8]] = [:]
        for layer in layers {
            guard let raw = blob(layer) else { problem(name + "!/" + layer, "layer missing or over the size limit"); continue }
            do {
                let bytes = try Archives.kind(raw).flatMap {
                    try Decompress.stream($0, raw, limit: min(limits.maxMemberBytes, limits.maxTotalBytes - total), deadline: limits.deadline)
                } ?? raw
                total += bytes.count
                let list = try Tar.entries(bytes, maxEntries: limits.maxEntries - entries)
                entries += list.count
                for entry in list {
                    let base = (entry.path as NSString).lastPathComponent
                    let dir = (entry.path as NSString).deletingLastPathComponent
                    if base == ".wh..wh..opq" {
                        for key in files.keys where key.hasPrefix(dir + "/") { files[key] = nil }
                    } else if base.hasPrefix(".wh.") {
                        let hidden = (dir.isEmpty ? "" : dir + "/") + base.dropFirst(4)
                        for key in files.keys where key == hidden || key.hasPrefix(hidden + "/") { files[key] = nil }
                    } else if entry.kind == .file {
                        // Only what can matter is kept: ELF files and archives.
                        if Self.worthCopying(entry.data) { files[entry.path] = Array(entry.data) } else { files[entry.path] = nil; result.otherFiles += 1 }
                    } else {
                        files[entry.path] = nil
                    }
                }
            } catch let error as ArchiveError {
                problem(name + "!/" + layer, error.description)
            } catch {
                problem(name + "!/" + layer, "\(error)")
            }
        }
        for path in files.keys.sorted() {
            if let bytes = files[path] { visit(name: name + "!/" + path, bytes: bytes, depth: depth + 1) }
        }
    }
}

/// A `docker save` tarball: manifest.json names the layer tarballs; newer ones are OCI layouts in a tar.
struct ImageTar {
    let byPath: [String: ArraySlice<UInt8>]
    let layers: [String]?

    init?(_ entries: [ArchiveEntry]) {
        var map: [String: ArraySlice<UInt8>] = [:]
        for e in entries where e.kind == .file { map[e.path] = e.data }
        if let manifest = map["manifest.json"],
           let list = try? JSONSerialization.jsonObject(with: Data(manifest)) as? [[String: Any]],
           let layers = list.first?["Layers"] as? [String] {
            byPath = map; self.layers = layers
        } else if map["oci-layout"] != nil, map["index.json"] != nil {
            byPath = map; layers = nil
        } else {
            return nil
        }
    }

    func expand(into e: inout Expander, name: String, depth: Int) {
        let blob: (String) -> [UInt8]? = { path in byPath[path].map(Array.init) }
        if let layers {
            e.applyLayers(name: name, layers: layers, depth: depth, blob: blob)
        } else {
            e.image(name: name, index: byPath["index.json"].map { Data($0) }, depth: depth, blob: blob)
        }
    }
}
