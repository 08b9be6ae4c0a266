// Finds the libraries a binary loads (its NEEDED entries, then theirs) where musl's loader would: the
// requesting object's RPATH/RUNPATH with $ORIGIN, the binary's own directory (bundled copies), the target
// system's library path (--root: its /etc/ld-musl-ARCH.path, else /lib:/usr/local/lib:/usr/lib; or
// --library-path), and finally anywhere in the scanned tree. Reads each library once per run.
import Assessment
import ELF
import Foundation
import Synchronization

public final class DependencyResolver: Sendable {
    struct Library: Sendable {
        var needed: [String]
        var searchPaths: [String]
        var exports: Set<String>
        var problem: String?
    }

    public let libraryPaths: [String]
    /// A root filesystem: absolute paths (RPATH entries, symlink targets) are taken inside it.
    public let root: String?
    /// Files of the scanned tree by name (regular files and the links the walk did not follow).
    let tree: [String: String]
    /// Directories absolute RPATH entries may name without --root: the scanned paths.
    let scannedRoots: [String]
    /// NEEDED names never looked for on disk (musl itself, compat packages, glibc-only libraries).
    let skip: @Sendable (String) -> Bool
    /// The only export names worth remembering (those a libc import could be missing); nil keeps all.
    let interesting: NameFilter?
    private let cache = Mutex<[String: Library]>([:])
    static let maxLibraries = 256
    static let maxLinks = 40

    public init(libraryPaths: [String] = [], root: String? = nil, tree: [String: String] = [:], scannedRoots: [String] = [],
                interesting: NameFilter? = nil, skip: @escaping @Sendable (String) -> Bool) {
        let root = root.map { $0.hasSuffix("/") && $0.count > 1 ? String($0.dropLast()) : $0 }
        self.root = root
        self.libraryPaths = libraryPaths + (root.map { Self.muslPath(root: $0) } ?? [])
        self.tree = tree
        self.scannedRoots = scannedRoots
        self.interesting = interesting
        self.skip = skip
    }

    /// A tree index from a walk: each file and link that could be a shared library (its name has ".so"
    /// in it, as every soname a linker writes does) by its name; the first one found wins. Names are cut
    /// and tested on UTF-8 bytes: building the index was a serial tenth of a run over /usr.
    public static func index(_ walk: WalkResult) -> [String: String] {
        var tree: [String: String] = [:]
        func add(_ path: String) {
            var path = path
            let name: String? = path.withUTF8 { bytes in
                var start = bytes.count
                while start > 0 && bytes[start - 1] != UInt8(ascii: "/") { start -= 1 }
                var i = start
                while i + 3 <= bytes.count {
                    if bytes[i] == UInt8(ascii: "."), bytes[i + 1] == UInt8(ascii: "s"), bytes[i + 2] == UInt8(ascii: "o") {
                        return String(decoding: UnsafeBufferPointer(rebasing: bytes[start...]), as: UTF8.self)
                    }
                    i += 1
                }
                return nil
            }
            if let name, tree[name] == nil { tree[name] = path }
        }
        for item in walk.items where item.kind == .file { add(item.path) }
        for link in walk.links { add(link) }
        return tree
    }

    /// The directories musl searches inside `root`: its /etc/ld-musl-ARCH.path, else the default.
    static func muslPath(root: String) -> [String] {
        let etc = root + "/etc"
        let pathFile = (try? FileManager.default.contentsOfDirectory(atPath: etc))?
            .filter { $0.hasPrefix("ld-musl-") && $0.hasSuffix(".path") }.sorted().first
        var dirs = ["/lib", "/usr/local/lib", "/usr/lib"]
        if let pathFile, let text = try? String(contentsOfFile: etc + "/" + pathFile, encoding: .utf8) {
            dirs = text.split(whereSeparator: { $0 == ":" || $0 == "\n" }).map(String.init).filter { $0.hasPrefix("/") }
        }
        return dirs.map { root + $0 }
    }

    /// Where the binary's own NEEDED libraries are (no reading): enough to tell found from missing.
    public func locate(_ facts: BinaryFacts, path: String) -> Dependencies {
        var deps = Dependencies()
        let own = searchPaths(facts, path: path)
        for soname in facts.needed.prefix(Self.maxLibraries) where !skip(soname) {
            if let location = locate(soname, in: own) { deps.found[soname] = location }
        }
        return deps
    }

    /// For an archive member: the NEEDED libraries that are members of the same archive, found through
    /// $ORIGIN-relative RPATH/RUNPATH entries and the member's own directory (names are outer!/inner/path).
    public static func locate(_ facts: BinaryFacts, path: String, among members: Set<String>) -> Dependencies {
        var deps = Dependencies()
        let dir = directory(of: path)
        var dirs: [String] = []
        for entry in (facts.rpath + facts.runpath).prefix(64) where entry.contains("$ORIGIN") || entry.contains("${ORIGIN}") {
            dirs.append(expandOrigin(entry, dir))
        }
        dirs.append(dir)
        for soname in facts.needed {
            for d in dirs {
                let candidate = lexicallyNormalized(d + "/" + soname)
                if members.contains(candidate) { deps.found[soname] = candidate; break }
            }
        }
        return deps
    }

    /// Every library the binary loads, transitively, with the names musl could bind from them.
    public func resolve(_ facts: BinaryFacts, path: String) -> Dependencies {
        var deps = Dependencies()
        var queue: [(soname: String, searchPaths: [String])] = []
        let own = searchPaths(facts, path: path)
        for soname in facts.needed where !skip(soname) { queue.append((soname, own)) }
        var seen = Set<String>()
        var index = 0
        while index < queue.count, seen.count < Self.maxLibraries {
            let (soname, paths) = queue[index]
            index += 1
            guard seen.insert(soname).inserted else { continue }
            guard let location = locate(soname, in: paths) else { continue }
            deps.found[soname] = location
            let library = load(location)
            if !library.exports.isEmpty { deps.exportSets.append(library.exports) }
            // musl searches a library's NEEDED with its own RPATH and then its requesters'.
            for next in library.needed where !skip(next) && !seen.contains(next) {
                queue.append((next, library.searchPaths + paths))
            }
        }
        return deps
    }

    /// RPATH and RUNPATH entries with $ORIGIN expanded (musl expands no other token), then the file's
    /// own directory. Absolute entries mean the target system: inside --root, else only inside the scan.
    func searchPaths(_ facts: BinaryFacts, path: String) -> [String] {
        let origin = Self.directory(of: path)
        let dir = origin.isEmpty ? "." : origin
        var paths: [String] = []
        for entry in (facts.rpath + facts.runpath).prefix(64) where !entry.isEmpty {
            let expanded = Self.expandOrigin(entry, dir)
            if entry.hasPrefix("/") {
                if let root { paths.append(root + expanded) }
                else if scannedRoots.contains(where: { expanded.hasPrefix($0) }) { paths.append(expanded) }
            } else {
                paths.append(expanded)
            }
        }
        paths.append(dir)
        return paths + libraryPaths
    }

    /// musl expands $ORIGIN and ${ORIGIN} in RPATH/RUNPATH, and no other token.
    static func expandOrigin(_ entry: String, _ origin: String) -> String {
        guard entry.utf8.contains(UInt8(ascii: "$")) else { return entry }  // most entries have no token
        return entry.replacingOccurrences(of: "${ORIGIN}", with: origin).replacingOccurrences(of: "$ORIGIN", with: origin)
    }

    /// The directory part of a path ("" for a bare name), cut on UTF-8 bytes: asked for every binary
    /// and library, where NSString bridging showed in profiles.
    static func directory(of path: String) -> String {
        guard let slash = path.utf8.lastIndex(of: UInt8(ascii: "/")) else { return "" }
        return slash == path.utf8.startIndex ? "/" : String(path[..<slash])
    }

    func locate(_ soname: String, in paths: [String]) -> String? {
        guard !soname.isEmpty, !soname.utf8.contains(UInt8(ascii: "/")) else { return nil }
        for dir in paths {
            if let found = resolved(dir.hasSuffix("/") ? dir + soname : dir + "/" + soname) {
                return Self.lexicallyNormalized(found)  // bin/../lib/x reads better as lib/x
            }
        }
        if let inTree = tree[soname], let found = resolved(inTree) { return found }
        return nil
    }

    /// Candidate paths already looked at: every binary of a directory asks for the same libraries.
    private let looked = Mutex<[String: Bool]>([:])

    /// The regular file a path names. Inside --root, symbolic links are followed by hand so that an
    /// absolute target stays in the root; a chain is followed at most 40 links.
    func resolved(_ path: String) -> String? {
        guard let root else {
            if let known = looked.withLock({ $0[path] }) { return known ? path : nil }
            let exists = Self.isRegularFile(path)
            looked.withLock { $0[path] = exists }
            return exists ? path : nil
        }
        var current = path
        for _ in 0..<Self.maxLinks {
            var st = stat()
            guard lstat(current, &st) == 0 else { return nil }
            switch st.st_mode & S_IFMT {
            case S_IFREG: return current
            case S_IFLNK:
                guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: current) else { return nil }
                current = target.hasPrefix("/") ? root + target
                    : ((current as NSString).deletingLastPathComponent as NSString).appendingPathComponent(target)
            default: return nil
            }
        }
        return nil
    }

    private func load(_ path: String) -> Library {
        if let cached = cache.withLock({ $0[path] }) { return cached }
        let library: Library
        switch ELFReader.read(path: path, options: ReadOptions(exportNames: true, exportFilter: interesting)) {
        case .elf(let f):
            library = Library(needed: f.needed, searchPaths: searchPaths(f, path: path),
                              exports: Set((f.exports ?? []).filter { $0.bindableByMusl && interesting?.names.contains($0.name) != false }.map(\.name)),
                              problem: nil)
        case .notELF: library = Library(needed: [], searchPaths: [], exports: [], problem: "not an ELF file")
        case .failed(let message): library = Library(needed: [], searchPaths: [], exports: [], problem: message)
        }
        cache.withLock { $0[path] = library }
        return library
    }

    /// Removes "." and "dir/.." components without touching the file system.
    static func lexicallyNormalized(_ path: String) -> String {
        // Most paths have nothing to remove (no "//", no "." or ".." component, no trailing "/"): returned as
        // they are.
        let slash = UInt8(ascii: "/"), dot = UInt8(ascii: ".")
        var clean = !path.isEmpty, previous: UInt8 = 0, length = 0, onlyDots = true
        for byte in path.utf8 where clean {
            if byte == slash {
                if previous == slash || (length > 0 && onlyDots && length <= 2) { clean = false }
                length = 0; onlyDots = true
            } else {
                length += 1
                if byte != dot { onlyDots = false }
            }
            previous = byte
        }
        if length > 0 && onlyDots && length <= 2 { clean = false }
        if previous == slash && path != "/" { clean = false }
        if clean { return path }
        var parts: [Substring] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == "..", let last = parts.last, last != ".." { parts.removeLast(); continue }
            parts.append(part)
        }
        let joined = parts.joined(separator: "/")
        return path.hasPrefix("/") ? "/" + joined : (joined.isEmpty ? "." : joined)
    }

    static func isRegularFile(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && st.st_mode & S_IFMT == S_IFREG
    }
}
