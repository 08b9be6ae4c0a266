// Finds the files to read under the paths a user names. By default follows no symlink while walking
// (a link inside the tree points at a file the walk reaches anyway; one outside it is out of scope);
// --follow-symlinks (WalkOptions.followSymlinks) follows them, each directory once. Never opens FIFOs,
// sockets or devices, and bounds the depth.
import Archives

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One path the scan found, and whether it can be read.
public struct ScanItem: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        /// A regular file to read.
        case file
        /// An OCI image layout directory (oci-layout, index.json, blobs/): read as one image.
        case imageLayout
        /// Not read: a FIFO, socket, device, dangling link, unreadable directory...; the reason says which.
        case unreadable(String)
    }
    public var path: String
    public var kind: Kind
    /// Named on the command line (listed even when it is not ELF) rather than found by walking.
    public var explicit: Bool
    /// With links followed: a path to a file found earlier in the walk, judged once, reported for each path.
    /// (Without, hard links are told after reading, from `ScannedFile.identity`.)
    public var sameAs: String?
    /// A file inside an archive, named outer!/inner. Known from where it came from, never from its name:
    /// a directory may well be called "build!".
    public var inArchive: Bool

    public init(path: String, kind: Kind, explicit: Bool, sameAs: String? = nil, inArchive: Bool = false) {
        self.path = path
        self.kind = kind
        self.explicit = explicit
        self.sameAs = sameAs
        self.inArchive = inArchive
    }
}

/// What a walk found: the items to read, and the names of symbolic links it did not follow (a library
/// is often reached through one, such as libfoo.so.1 -> libfoo.so.1.2.3).
public struct WalkResult: Sendable {
    public var items = WalkItems()
    public var links = WalkItems()
    public init() {}
    public init(items: WalkItems, links: WalkItems) {
        self.items = items
        self.links = links
    }
}

/// The items of a walk, held compactly: each file's name once in one block of bytes and its directory
/// once for all its files, so that a tree of 137,000 files costs about 5 MB rather than 20 (a string and
/// a 56-byte item each). Read as a collection of `ScanItem`s; an item is made when it is asked for.
public struct WalkItems: RandomAccessCollection, Sendable, ExpressibleByArrayLiteral {
    /// Where an item's name is in `names`, under which directory, and its kind and flags. An item of
    /// another shape (unreadable, or named as the same file as another) is kept whole in `others`.
    private struct Entry {
        var start: UInt32
        var count: UInt32
        /// Index in `directories`; -1: kept whole in `others`.
        var directory: Int32
        var flags: UInt8
    }
    private static let imageLayout: UInt8 = 1, explicit: UInt8 = 2, inArchive: UInt8 = 4

    private var entries: [Entry] = []
    private var names: [UInt8] = []
    /// Each directory's path with its final "/", once; the last one is where the walk is.
    private var directories: [String] = []
    private var others: [Int: ScanItem] = [:]

    public init() {}
    public init(_ items: some Sequence<ScanItem>) { for item in items { append(item) } }
    public init(arrayLiteral items: ScanItem...) { self.init(items) }

    public var startIndex: Int { 0 }
    public var endIndex: Int { entries.count }

    public subscript(position: Int) -> ScanItem {
        let e = entries[position]
        guard e.directory >= 0 else {
            return others[position] ?? ScanItem(path: "", kind: .unreadable("lost"), explicit: false)
        }
        let start = Int(e.start)
        let name = names[start..<(start + Int(e.count))]
        let path = directories[Int(e.directory)] + String(decoding: name, as: UTF8.self)
        return ScanItem(
            path: path, kind: e.flags & Self.imageLayout != 0 ? .imageLayout : .file,
            explicit: e.flags & Self.explicit != 0,
            inArchive: e.flags & Self.inArchive != 0)
    }

    /// An item's `sameAs`, without making the item.
    public func sameAs(_ position: Int) -> String? {
        entries[position].directory >= 0 ? nil : others[position]?.sameAs
    }

    public mutating func append(_ item: ScanItem) {
        var flags: UInt8 = 0
        switch item.kind {
        case .file: break
        case .imageLayout: flags |= Self.imageLayout
        case .unreadable:
            keepWhole(item)
            return
        }
        guard item.sameAs == nil else {
            keepWhole(item)
            return
        }
        if item.explicit { flags |= Self.explicit }
        if item.inArchive { flags |= Self.inArchive }
        let cut =
            item.path.utf8.lastIndex(of: UInt8(ascii: "/")).map { item.path.utf8.index(after: $0) }
            ?? item.path.utf8.startIndex
        append(directory: String(item.path[..<cut]), name: item.path[cut...], flags: flags)
    }

    /// A file found by walking `directory` (its path with the final "/"), named `name` there.
    mutating func appendFile(directory: String, name: String) {
        append(directory: directory, name: name[...], flags: 0)
    }

    private mutating func append(directory: String, name: Substring, flags: UInt8) {
        if directories.last != directory { directories.append(directory) }
        guard let start = UInt32(exactly: names.count), let count = UInt32(exactly: name.utf8.count),
            names.count + name.utf8.count <= Int(UInt32.max), let index = Int32(exactly: directories.count - 1)
        else {
            // Past what the compact form can address (4 GB of names): kept whole.
            keepWhole(
                ScanItem(
                    path: directory + name, kind: flags & Self.imageLayout != 0 ? .imageLayout : .file,
                    explicit: flags & Self.explicit != 0, inArchive: flags & Self.inArchive != 0))
            return
        }
        names.append(contentsOf: name.utf8)
        entries.append(Entry(start: start, count: count, directory: index, flags: flags))
    }

    private mutating func keepWhole(_ item: ScanItem) {
        others[entries.count] = item
        entries.append(Entry(start: 0, count: 0, directory: -1, flags: 0))
    }

    /// Another list's items after these: its names and directories are moved over in blocks.
    public mutating func append(contentsOf other: WalkItems) {
        if entries.isEmpty {
            self = other
            return
        }
        guard let nameBase = UInt32(exactly: names.count), names.count + other.names.count <= Int(UInt32.max),
            let directoryBase = Int32(exactly: directories.count),
            directories.count + other.directories.count <= Int(Int32.max)
        else {
            for i in other.indices { append(other[i]) }
            return
        }
        let itemBase = entries.count
        for (i, item) in other.others { others[itemBase + i] = item }
        entries.reserveCapacity(entries.count + other.entries.count)
        for var e in other.entries {
            if e.directory >= 0 {
                e.start += nameBase
                e.directory += directoryBase
            }
            entries.append(e)
        }
        names.append(contentsOf: other.names)
        directories.append(contentsOf: other.directories)
    }

    public static func += (items: inout WalkItems, other: WalkItems) { items.append(contentsOf: other) }

    /// Gives back the room the lists grew into (up to half of them): once the walk is done.
    mutating func shrink() {
        func exact<T>(_ a: [T]) -> [T] {
            var copy: [T] = []
            copy.reserveCapacity(a.count)
            copy.append(contentsOf: a)
            return copy
        }
        entries = exact(entries)
        names = exact(names)
        directories = exact(directories)
    }

    /// The items at `positions`, in that order.
    public func subset(_ positions: [Int]) -> WalkItems { WalkItems(positions.map { self[$0] }) }
}

public struct WalkOptions: Sendable {
    public var followSymlinks: Bool
    public var maxDepth: Int
    public init(followSymlinks: Bool = false, maxDepth: Int = 128) {
        self.followSymlinks = followSymlinks
        self.maxDepth = maxDepth
    }
}

public enum Walker {
    /// Every candidate under `paths`, in a deterministic order (arguments in order, directories sorted by name).
    public static func collect(_ paths: [String], options: WalkOptions = WalkOptions()) -> [ScanItem] {
        Array(walk(paths, options: options).items)
    }

    public static func walk(_ paths: [String], options: WalkOptions = WalkOptions()) -> WalkResult {
        var items = WalkItems()
        var links = WalkItems()
        var inodes: [DirID: String] = [:]
        for path in paths {
            var st = stat()
            guard stat(path, &st) == 0 else {
                items.append(ScanItem(path: path, kind: .unreadable(errnoText()), explicit: true))
                continue
            }
            switch st.st_mode & S_IFMT {
            case S_IFDIR where Archives.isImageLayout(directory: path):
                items.append(ScanItem(path: path, kind: .imageLayout, explicit: true))
            case S_IFDIR:
                var visited = Set<DirID>()
                walk(
                    directory: path, depth: 0, options: options, visited: &visited, into: &items, links: &links,
                    inodes: &inodes)
            case S_IFREG:
                items.append(ScanItem(path: path, kind: .file, explicit: true))
            default:
                items.append(
                    ScanItem(path: path, kind: .unreadable("\(kindName(st.st_mode)); not opened"), explicit: true))
            }
        }
        items.shrink()
        links.shrink()
        return WalkResult(items: items, links: links)
    }

    private struct DirID: Hashable {
        var device: UInt64
        var inode: UInt64
    }

    /// Directories this close to a named root have their subdirectories walked in parallel.
    static let parallelDepth = 3

    private static func walk(
        directory: String, depth: Int, options: WalkOptions,
        visited: inout Set<DirID>, into items: inout WalkItems, links: inout WalkItems,
        inodes: inout [DirID: String]
    ) {
        guard let dir = opendir(directory) else {
            items.append(
                ScanItem(path: directory, kind: .unreadable("cannot read directory: \(errnoText())"), explicit: false))
            return
        }
        defer { closedir(dir) }
        let fd = dirfd(dir)
        var st = stat()
        guard fstat(fd, &st) == 0 else { return }
        // A directory seen before (a followed link back up the tree) is not walked twice.
        guard visited.insert(DirID(device: UInt64(st.st_dev), inode: UInt64(st.st_ino))).inserted else { return }
        guard depth <= options.maxDepth else {
            items.append(
                ScanItem(
                    path: directory, kind: .unreadable("directory nesting over \(options.maxDepth) levels; not walked"),
                    explicit: false))
            return
        }
        let (unsorted, undecodable) = readEntries(dir)
        var entries = unsorted
        // An OCI image layout inside the tree is read as one image, not walked; one whose index names no
        // manifest that is there is walked like any directory.
        if depth > 0, entries.contains(where: { $0.name == "oci-layout" }),
            entries.contains(where: { $0.name == "index.json" }),
            Archives.isImageLayout(directory: directory)
        {
            items.append(ScanItem(path: directory, kind: .imageLayout, explicit: false))
            return
        }
        let prefix = directory.hasSuffix("/") ? directory : directory + "/"
        for name in undecodable.sorted() {
            items.append(
                ScanItem(
                    path: prefix + name, kind: .unreadable("file name is not valid UTF-8; not read"), explicit: false))
        }
        entries = sortedByName(entries)
        // Without following links no directory is reached twice, so the subtrees near the top are walked
        // on all cores, each into its own lists, and joined in name order.
        var subtrees: [WalkResult] = []  // in the order of the DT_DIR entries
        if !options.followSymlinks, depth < Self.parallelDepth {
            let dirs = entries.filter { Int($0.type) == Int(DT_DIR) }.map { prefix + $0.name }
            if dirs.count > 1 { subtrees = walkInParallel(dirs, depth: depth + 1, options: options) }
        }
        var nextSubtree = 0
        for (name, type) in entries {
            if Int(type) == Int(DT_DIR), nextSubtree < subtrees.count {
                items += subtrees[nextSubtree].items
                links += subtrees[nextSubtree].links
                nextSubtree += 1
                continue
            }
            visit(
                name, type: type, in: fd, prefix: prefix, depth: depth, options: options, visited: &visited,
                into: &items, links: &links, inodes: &inodes)
        }
    }

    /// The entries of an open directory with the type it reports (DT_UNKNOWN on some file systems: then
    /// stat says), and the names that are not UTF-8, escaped for the report.
    private static func readEntries(_ dir: OpaquePointer) -> (
        entries: [(name: String, type: UInt8)], undecodable: [String]
    ) {
        var entries: [(name: String, type: UInt8)] = []
        var undecodable: [String] = []
        while let entry = readdir(dir) {
            // Validated where it lies (runs for every entry of the tree): no array of its bytes, no generic
            // validation; the bytes are copied only to report a name that is not UTF-8.
            let decoded = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                raw.baseAddress.flatMap { String(validatingCString: $0.assumingMemoryBound(to: CChar.self)) }
            }
            // A name that is not UTF-8 cannot be carried as a path here: it is reported, not read.
            guard let name = decoded else {
                let bytes = withUnsafeBytes(of: entry.pointee.d_name) { raw in Array(raw.prefix(while: { $0 != 0 })) }
                undecodable.append(
                    bytes.map { $0 < 0x80 ? String(UnicodeScalar($0)) : "\\x" + String($0, radix: 16) }.joined())
                continue
            }
            if name != "." && name != ".." { entries.append((name, entry.pointee.d_type)) }
        }
        return (entries, undecodable)
    }

    /// Sibling directories walked on all cores, each into its own lists (in the order of `dirs`).
    private static func walkInParallel(_ dirs: [String], depth: Int, options: WalkOptions) -> [WalkResult] {
        parallelMap(dirs.count, jobs: CPU.count) { i -> WalkResult in
            var sub = WalkResult()
            var seen = Set<DirID>()
            var none: [DirID: String] = [:]
            walk(
                directory: dirs[i], depth: depth, options: options, visited: &seen, into: &sub.items,
                links: &sub.links, inodes: &none)
            return sub
        }
    }

    /// One entry of the directory open as `fd`, of the type the directory reports: a file or a link is
    /// listed, a directory walked, anything else left alone.
    private static func visit(
        _ name: String, type: UInt8, in fd: Int32, prefix: String, depth: Int, options: WalkOptions,
        visited: inout Set<DirID>, into items: inout WalkItems, links: inout WalkItems,
        inodes: inout [DirID: String]
    ) {
        let path = prefix + name
        var mode: mode_t
        var lst = stat()
        // Names are looked up relative to the open directory: no walk of the whole path per entry.
        switch Int(type) {
        case Int(DT_DIR): mode = S_IFDIR
        // Hard links are told later, from the stat the reader makes when it opens the file.
        case Int(DT_REG) where !options.followSymlinks:
            items.appendFile(directory: prefix, name: name)
            return
        case Int(DT_LNK) where !options.followSymlinks:
            links.appendFile(directory: prefix, name: name)
            return
        case Int(DT_FIFO), Int(DT_SOCK), Int(DT_CHR), Int(DT_BLK): return  // never opened
        default:
            guard fstatat(fd, name, &lst, AT_SYMLINK_NOFOLLOW) == 0 else {
                items.append(ScanItem(path: path, kind: .unreadable(errnoText()), explicit: false))
                return
            }
            mode = lst.st_mode & S_IFMT
        }
        var followed = false
        if mode == S_IFLNK {
            guard options.followSymlinks else {
                links.appendFile(directory: prefix, name: name)
                return
            }
            guard fstatat(fd, name, &lst, 0) == 0 else { return }  // dangling links are not files
            mode = lst.st_mode & S_IFMT
            followed = true
        }
        switch mode {
        case S_IFDIR:
            walk(
                directory: path, depth: depth + 1, options: options, visited: &visited, into: &items, links: &links,
                inodes: &inodes)
        case S_IFREG:
            // When following links, a file reached twice (hard or symbolic link) is read once and listed
            // per path; otherwise hard links are told from the reader's stat.
            guard options.followSymlinks else {
                items.appendFile(directory: prefix, name: name)
                return
            }
            let id = DirID(device: UInt64(lst.st_dev), inode: UInt64(lst.st_ino))
            if lst.st_nlink > 1 || followed, let first = inodes[id] {
                items.append(ScanItem(path: path, kind: .file, explicit: false, sameAs: first))
            } else {
                inodes[id] = path
                items.appendFile(directory: prefix, name: name)
            }
        default: return  // FIFOs, sockets and devices are never opened
        }
    }

    /// Byte order of the UTF-8 names, by memcmp: the generic `lexicographicallyPrecedes` was a tenth of
    /// a walk over many small files.
    /// Entries in `bytewiseLess` order of their names, told apart by their first eight bytes as one number
    /// where they can be: sorting the names themselves (each comparison two strings' bytes, each move
    /// retains) was 3% of a walk over /usr.
    static func sortedByName(_ entries: [(name: String, type: UInt8)]) -> [(name: String, type: UInt8)] {
        let keys = entries.map { entry in
            var key: UInt64 = 0
            var shift: UInt64 = 56
            for byte in entry.name.utf8.prefix(8) {
                key |= UInt64(byte) << shift
                shift &-= 8
            }
            return key
        }
        let order = entries.indices.sorted {
            keys[$0] != keys[$1] ? keys[$0] < keys[$1] : bytewiseLess(entries[$0].name, entries[$1].name)
        }
        return order.map { entries[$0] }
    }

    static func bytewiseLess(_ a: String, _ b: String) -> Bool {
        var a = a
        var b = b
        return a.withUTF8 { x in
            b.withUTF8 { y in
                guard let xb = x.baseAddress, let yb = y.baseAddress else { return x.count < y.count }
                let order = memcmp(xb, yb, Swift.min(x.count, y.count))
                return order != 0 ? order < 0 : x.count < y.count
            }
        }
    }

    static func kindName(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFIFO: return "a FIFO"
        case S_IFSOCK: return "a socket"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        case S_IFDIR: return "a directory"
        default: return "not a regular file"
        }
    }

    static func errnoText() -> String { String(cString: strerror(errno)) }
}
