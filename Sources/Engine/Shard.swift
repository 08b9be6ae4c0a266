// Shards: a deterministic share of a run's inputs, so that N jobs of an existing engine (a CI matrix, a
// Kubernetes Indexed Job, GNU parallel over hosts) together read every input exactly once, and
// `muslcheck merge` makes one report of theirs.
//
// The unit shared out is the walked item (a file, an archive, an image layout), chosen by a stable hash
// of its path as walked (the top-level argument as given, then the names below it): a single directory
// such as /usr splits into even shares of its files, and a list of images splits by image. Every job
// still walks every path (reading directories is a small part of a run) so that each sees the whole tree
// when it looks for the libraries a file loads, and judges it as one run would. Hard links (and, with
// --follow-symlinks, paths that reach the same file) go to the share of their first path, where the run
// reads them once and reports them under each path.
import ELF
import Reporting
import Scanning

#if canImport(Glibc)
    import Glibc
#endif

/// The I-th of N shares of a run, 1 ≤ I ≤ N (written `I/N`; a Kubernetes completion index k is `k+1/N`).
public struct Shard: Sendable, Hashable, CustomStringConvertible {
    public let index: Int
    public let count: Int
    /// More shares than this would leave most of them empty; a bound also keeps the report's field small.
    public static let maxCount = 65_536

    public init?(index: Int, count: Int) {
        guard count >= 1, count <= Self.maxCount, index >= 1, index <= count else { return nil }
        self.index = index
        self.count = count
    }

    /// Parses `I/N`.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ !$0.isEmpty && $0.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } }),
            let i = Int(parts[0]), let n = Int(parts[1])
        else { return nil }
        self.init(index: i, count: n)
    }

    public var description: String { "\(index)/\(count)" }

    /// FNV-1a (64 bits) of the path's UTF-8 bytes: the same on every machine and in every process, which
    /// Swift's `hashValue` (seeded per process) is not.
    public static func hash(_ path: String) -> UInt64 {
        var path = path
        return path.withUTF8 { bytes in
            var h: UInt64 = 0xcbf2_9ce4_8422_2325
            for byte in bytes { h = (h ^ UInt64(byte)) &* 0x100_0000_01b3 }
            return h
        }
    }

    public func owns(path: String) -> Bool { Int(Self.hash(path) % UInt64(count)) == index - 1 }

    /// The positions (in walk order) of the items this share reads. A file with several hard links (or,
    /// links followed, a path named as the same as an earlier one) goes where its first path goes.
    public func select(_ items: WalkItems, jobs: Int = CPU.count) -> [Int] {
        // Only a file with more than one link needs its identity; a stat each, on all cores.
        let identities: [FileIdentity?] = parallelMap(items.count, jobs: jobs) { i in
            guard items[i].kind == .file, items[i].sameAs == nil else { return nil }
            var st = stat()
            guard stat(items[i].path, &st) == 0, st.st_nlink > 1 else { return nil }
            return FileIdentity(device: UInt64(st.st_dev), inode: UInt64(st.st_ino))
        }
        var firstPath: [FileIdentity: String] = [:]
        var chosen: [Int] = []
        for i in items.indices {
            var representative = items[i].sameAs ?? items[i].path
            if let id = identities[i] {
                if let first = firstPath[id] { representative = first } else { firstPath[id] = items[i].path }
            }
            if owns(path: representative) { chosen.append(i) }
        }
        return chosen
    }

    /// For each result, the walk position of the item it came from: results of one item are consecutive and
    /// named as the item (`path`) or as its members (`path!/member`), so one pass over both finds them.
    /// `positions[k]` is the walk position of `items[k]`.
    static func itemPositions(of results: [CheckResult], items: WalkItems, positions: [Int]) -> [Int] {
        var out: [Int] = []
        out.reserveCapacity(results.count)
        var current = 0
        var ownSeen = false  // the current item's own result (not a member's) was met: a repeat is the next item's
        for result in results {
            var k = current
            while k < items.count {
                let name = items[k].path
                let same = result.path == name
                if same && !(k == current && ownSeen) { break }
                if !same && result.path.hasPrefix(name + "!/") { break }
                k += 1
            }
            if k < items.count {
                if k != current { ownSeen = false }
                current = k
                if result.path == items[k].path { ownSeen = true }
            }
            out.append(current < positions.count ? positions[current] : positions.last ?? 0)
        }
        return out
    }
}
