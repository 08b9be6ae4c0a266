// How the resolver finds a file by name without leaving the named trees: paths resolved a component at a time,
// links read (never followed by the kernel), ".." kept inside --root and containers; and each library read once.
import Assessment
import ELF
import Synchronization
import TextSupport
#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
#if canImport(Glibc)
    import Glibc
#endif

extension DependencyResolver {
    /// Resolves `path` inside tree `start` a component at a time, as the kernel would once the trees are
    /// installed: ".." and links are taken in order; a link chain is followed at most 40 links (ELOOP).
    static func walk(_ trees: Trees, tree start: Int, _ path: String) -> Lookup {
        var tree = start
        var done: [Substring] = []
        var todo: [Substring] = path.split(separator: "/").reversed()
        var links = 0
        func host(_ parts: [Substring]) -> String {
            let base = trees[tree].path
            if parts.isEmpty { return base }
            return (base == "/" ? "/" : base + "/") + parts.joined(separator: "/")
        }
        /// Continues at an absolute, lexically normalized place, if it is inside a tree.
        func reenter(_ absolute: String) -> Bool {
            guard let (t, inside) = trees.enter(Self.lexicallyNormalized(absolute)) else { return false }
            tree = t
            done = []
            todo = inside.split(separator: "/").reversed()
            return true
        }
        while let part = todo.popLast() {
            if part.isEmpty || part == "." { continue }
            if part == ".." {
                if done.popLast() != nil || trees[tree].isRoot { continue }  // "/.." is "/" inside a root
                // Above a scanned path: only into another tree named on the command line.
                let rest = todo.reversed().joined(separator: "/")
                let absolute = "/" + trees[tree].absolute.joined(separator: "/") + "/../" + rest
                links += 1
                guard links <= Self.maxLinks, reenter(absolute) else {
                    // Named by its directory (the last component left is the file's name).
                    let where_ = Self.directory(of: Self.lexicallyNormalized(trees[tree].path + "/../" + rest))
                    return .outside("leads to \(where_.isEmpty ? "." : where_), \(Self.outside)")
                }
                continue
            }
            let current = host(done + [part])
            var st = stat()
            guard lstat(current, &st) == 0 else { return .absent }
            let last = todo.allSatisfy({ $0.isEmpty || $0 == "." })
            switch st.st_mode & S_IFMT {
            case S_IFDIR:
                // musl's open of the name succeeds on a directory, and mapping it fails: the search ends there.
                if last { return .notFile(current, "a directory") }
                done.append(part)
            case S_IFREG:
                return todo.allSatisfy({ $0.isEmpty || $0 == "." }) ? .file(current) : .absent
            case S_IFLNK:
                links += 1
                guard links <= Self.maxLinks else { return .loop(Self.loopMessage(current)) }
                guard let target = Self.linkTarget(current), !target.isEmpty else { return .absent }
                if target.hasPrefix("/") {
                    if trees[tree].isRoot {
                        done = []
                        todo += target.split(separator: "/").reversed()
                    } else {
                        let rest = todo.reversed().joined(separator: "/")
                        guard reenter(target + "/" + rest) else {
                            return .outside("\(current) links to \(target), \(Self.outside)")
                        }
                    }
                } else {
                    todo += target.split(separator: "/").reversed()
                }
            default:
                // A FIFO (the open blocks), a device or a socket (it opens, or fails otherwise than "not
                // there"): musl's search ends there without a library. As a directory on the way: not there.
                guard last else { return .absent }
                switch st.st_mode & S_IFMT {
                case S_IFIFO: return .notFile(current, "a FIFO")
                case S_IFSOCK: return .notFile(current, "a socket")
                default: return .notFile(current, "a device")
                }
            }
        }
        return .absent
    }

    /// Why a name is not found past `maxLinks` links: musl's search ends there (ldso/dynlink.c, path_open: an
    /// open failing with ELOOP inhibits further search).
    static func loopMessage(_ link: String) -> String {
        "\(link): more than \(maxLinks) symbolic links in a row (a loop): musl stops its search there (ELOOP)"
    }

    /// A link's target, read without following it (bounded: PATH_MAX).
    static func linkTarget(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX))
        let n = buffer.withUnsafeMutableBufferPointer { raw in
            raw.baseAddress.map { readlink(path, $0, raw.count) } ?? -1
        }
        guard n > 0, n < buffer.count else { return nil }
        return String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// A library read once: what it needs and exports, and its own search path ($ORIGIN: the directory of
    /// the search path it was found in, as musl takes it from the name it opened).
    func load(_ path: String, origin: Place) -> Library {
        let key = origin.key + "|" + path
        if let cached = cache.withLock({ $0[key] }) { return cached }
        let library: Library
        switch ELFReader.read(path: path, options: ReadOptions(exportNames: true, exportFilter: interesting)) {
        case .elf(let f):
            var notes: [String] = []  // said where the library is judged itself
            library = Library(
                needed: f.needed, rpath: rpath(f, origin: origin, notes: &notes),
                exports: Set(
                    (f.exports ?? []).filter { $0.bindableByMusl && interesting?.names.contains($0.name) != false }.map(
                        \.name)),
                problem: nil)
        case .notELF: library = Library(needed: [], rpath: [], exports: [], problem: "not an ELF file")
        case .failed(let message): library = Library(needed: [], rpath: [], exports: [], problem: message)
        }
        cache.withLock { $0[key] = library }
        return library
    }

    /// Removes "." and "dir/.." components without touching the file system.
    static func lexicallyNormalized(_ path: String) -> String {
        // Most paths have nothing to remove (no "//", no "." or ".." component, no trailing "/"): returned as
        // they are.
        let slash = UInt8(ascii: "/")
        let dot = UInt8(ascii: ".")
        var clean = !path.isEmpty
        var previous: UInt8 = 0
        var length = 0
        var onlyDots = true
        for byte in path.utf8 where clean {
            if byte == slash {
                if previous == slash || (length > 0 && onlyDots && length <= 2) { clean = false }
                length = 0
                onlyDots = true
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
            if part == "..", let last = parts.last, last != ".." {
                parts.removeLast()
                continue
            }
            if part == "..", path.hasPrefix("/"), parts.isEmpty { continue }  // "/.." is "/"
            parts.append(part)
        }
        let joined = parts.joined(separator: "/")
        return path.hasPrefix("/") ? "/" + joined : (joined.isEmpty ? "." : joined)
    }

    static func isRegularFile(_ path: String, followingLinks: Bool = true) -> Bool {
        var st = stat()
        return (followingLinks ? stat(path, &st) : lstat(path, &st)) == 0 && st.st_mode & S_IFMT == S_IFREG
    }
}
