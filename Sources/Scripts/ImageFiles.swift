// The files an image holds once its layers are applied: every path that is not a directory, and where each
// symbolic link points. Enough to tell whether the program an entrypoint names exists (through links such as
// Debian's /bin -> usr/bin or Alpine's /bin/sh -> /bin/busybox) and which commands its PATH offers.

public struct ImageFiles: Sendable, Hashable {
    /// Regular files and hard links, as tar names them (no leading `/`).
    public private(set) var files: Set<String> = []
    /// Symbolic links: path → target as written.
    public private(set) var links: [String: String] = [:]
    /// Links followed while resolving one path (Linux's own limit, ELOOP past it).
    public static let maxHops = 40

    public init() {}
    public init(files: Set<String>, links: [String: String]) {
        self.files = Set(files.map(Self.normalize))
        for (path, target) in links { self.links[Self.normalize(path)] = target }
    }

    public var count: Int { files.count + links.count }

    /// Adds a path found in a layer that no later layer hid (the caller applies the layers, latest first).
    public mutating func add(_ path: String, linkTarget: String?) {
        let p = Self.normalize(path)
        guard !p.isEmpty, files.contains(p) == false, links[p] == nil else { return }
        if let linkTarget { links[p] = linkTarget } else { files.insert(p) }
    }

    static func normalize(_ path: String) -> String {
        path.split(separator: "/", omittingEmptySubsequences: true).filter { $0 != "." }.joined(separator: "/")
    }

    /// The file `path` (absolute, or relative to the root) ends at after following links; nil when it does not
    /// exist, or ends at a directory, or loops.
    public func resolve(_ path: String) -> String? {
        follow(path).flatMap { files.contains($0) ? $0 : nil }
    }

    /// `path` with every link on the way followed, as the kernel resolves it inside the image's root; nil when
    /// more than `maxHops` links are taken (ELOOP).
    private func follow(_ path: String) -> String? {
        var pending = Array(path.split(separator: "/", omittingEmptySubsequences: true).map(String.init).reversed())
        var done: [String] = []
        var hops = 0
        while let part = pending.popLast() {
            if part == "." { continue }
            if part == ".." {
                _ = done.popLast()
                continue
            }
            let candidate = (done + [part]).joined(separator: "/")
            if let target = links[candidate] {
                hops += 1
                guard hops <= Self.maxHops else { return nil }
                if target.hasPrefix("/") { done = [] }
                pending += target.split(separator: "/", omittingEmptySubsequences: true).map(String.init).reversed()
                continue
            }
            done.append(part)
        }
        return done.joined(separator: "/")
    }

    /// The first of `candidates` that exists, as written.
    public func first(of candidates: [String]) -> String? { candidates.first { resolve($0) != nil } }

    /// Names of the commands found in the directories of `path` (a PATH value): what a shell there finds.
    public func commands(path: String) -> Set<String> {
        var names = Set<String>()
        for dir in path.split(separator: ":") where dir.hasPrefix("/") {
            // The directory itself may be reached through a link (/bin -> usr/bin): look where it leads.
            let real = resolveDirectory(String(dir))
            let prefix = real.isEmpty ? "" : real + "/"
            for p in files where p.hasPrefix(prefix) && !p.utf8.dropFirst(prefix.utf8.count).contains(UInt8(ascii: "/"))
            {
                names.insert(String(p.dropFirst(prefix.count)))
            }
            for (p, _) in links
            where p.hasPrefix(prefix) && !p.utf8.dropFirst(prefix.utf8.count).contains(UInt8(ascii: "/")) {
                if resolve(p) != nil { names.insert(String(p.dropFirst(prefix.count))) }
            }
        }
        return names
    }

    /// A directory path with its links followed (directories are not listed: what is not a link is kept); a
    /// looping one as written (it lists nothing).
    func resolveDirectory(_ path: String) -> String {
        follow(path) ?? Self.normalize(path)
    }
}
