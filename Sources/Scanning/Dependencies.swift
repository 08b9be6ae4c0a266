import Assessment
import ELF
import Synchronization
// Finds the libraries a binary loads (its NEEDED entries, then theirs) where musl's loader would
// (ldso/dynlink.c, load_library): names musl answers itself (libc., libm., libpthread., …) are never
// files; then the RPATH/RUNPATH of the requesting object and of each object that loaded it ($ORIGIN
// expanded; RUNPATH replaces RPATH when both are present), then the target system's library path
// (--root: its /etc/ld-musl-ARCH.path, else /lib:/usr/local/lib:/usr/lib; or --library-path). The first
// file found is the one musl maps: one of another ELF class or machine fails to load there. Only when
// asked (`searchScanned`) is a library also looked for beside the binary and anywhere in the scanned
// tree, as if the scanned files were installed on the library path together. Reads each library once.
//
// Nothing outside the trees named on the command line is ever opened: the scanned paths, --library-path
// directories and --root. Paths are resolved by hand, a component at a time (symbolic links read with
// readlink, never followed by the kernel), so that neither "..", nor a link, nor an absolute name can
// reach the host's own files:
// - Inside --root (and inside an archive or image, whose root is "/" once installed) ".." stops at the
//   root and absolute names and link targets are taken inside it, as the kernel does for a chrooted
//   program: exactly what musl meets once the tree is installed there.
// - A scanned directory is installed somewhere unknown: a path reached through $ORIGIN, or a link target,
//   that leaves every tree named on the command line is not searched (the host's file there says
//   nothing about the target system, and its name must not reach a report); it is reported
//   (`Dependencies.notSearched`) and the library is taken as not found there, so musl's search goes on.
//   A link inside the scan whose target stays inside it is followed, as it will be once installed
//   together. A file given alone is a tree of one file: its $ORIGIN (its directory) lies outside it.
import TextSupport

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
#if canImport(Glibc)
    import Glibc
#endif

public final class DependencyResolver: Sendable {
    struct Library: Sendable {
        var needed: [String]
        /// Its own RPATH/RUNPATH directories, $ORIGIN expanded (searched for its NEEDED before its requesters').
        var rpath: [Place]
        var exports: Set<String>
        var problem: String?
    }

    /// A tree files may be read from: a scanned path, a --library-path directory or --root.
    struct Tree: Sendable {
        /// As given, lexically normalized (what reports show).
        var path: String
        /// Absolute and lexically normalized, in components (what containment is decided on).
        var absolute: [Substring]
        /// --root: ".." stops at it and absolute names are taken inside it.
        var isRoot: Bool
    }

    /// A directory of a tree, relative to it as written (it may hold ".." and links, resolved on lookup);
    /// `label` says where it came from in a report.
    struct Place: Sendable {
        var tree: Int
        var path: String
        var label: String
        var key: String { "\(tree):\(path)" }
    }

    /// The target system's library path: --library-path, then the musl path inside --root.
    public let libraryPaths: [String]
    /// A root filesystem: absolute paths (RPATH entries, symlink targets) are taken inside it.
    public let root: String?
    /// Files of the scanned tree by name (regular files and the links the walk did not follow).
    let tree: [String: String]
    /// The scanned paths, --library-path directories and --root (first, when given): nothing else is read.
    let trees: Trees
    let cwd: String
    /// Where `libraryPaths` are, as places in `trees`.
    let searchPath: [Place]
    /// Also search beside the binary and anywhere in the scanned tree (musl itself never does).
    public let searchScanned: Bool
    /// NEEDED names never looked for on disk (musl itself, compat packages, glibc-only libraries).
    let skip: @Sendable (String) -> Bool
    /// The only export names worth remembering (those a libc import could be missing); nil keeps all.
    let interesting: NameFilter?
    let cache = Mutex<[String: Library]>([:])
    static let maxLibraries = 256
    static let maxLinks = 40
    static let maxSearchEntries = 64
    static let outside = "outside the scanned paths"

    /// `scannedRoots`: the paths given to scan. $ORIGIN-relative and absolute entries are searched only
    /// inside them (and inside --root and the library paths): with none, only the library paths are read.
    public init(
        libraryPaths: [String] = [], root: String? = nil, tree: [String: String] = [:], scannedRoots: [String] = [],
        searchScanned: Bool = false, interesting: NameFilter? = nil, skip: @escaping @Sendable (String) -> Bool
    ) {
        let root = root.map { $0.hasSuffix("/") && $0.count > 1 ? String($0.dropLast()) : $0 }
        self.root = root
        self.tree = tree
        let cwd = FileManager.default.currentDirectoryPath
        self.cwd = cwd
        func make(_ given: String, isRoot: Bool) -> Tree {
            let absolute = Self.lexicallyNormalized(given.hasPrefix("/") ? given : cwd + "/" + given)
            return Tree(path: Self.lexicallyNormalized(given), absolute: absolute.split(separator: "/"), isRoot: isRoot)
        }
        var all = root.map { [make($0, isRoot: true)] } ?? []
        all += (scannedRoots + libraryPaths).filter { !$0.isEmpty }.map { make($0, isRoot: false) }
        var byPath: [String: Int] = [:]
        for (i, t) in all.enumerated() where !t.isRoot {
            let key = t.absolute.joined(separator: "/")
            if byPath[key] == nil { byPath[key] = i }
        }
        let trees = Trees(all: all, byPath: byPath)
        self.trees = trees
        var searchPath: [Place] = []
        for dir in libraryPaths where !dir.isEmpty {
            if let place = trees.enter(Self.lexicallyNormalized(dir.hasPrefix("/") ? dir : cwd + "/" + dir)) {
                searchPath.append(Place(tree: place.tree, path: place.path, label: "library path \(dir)"))
            }
        }
        var muslPath: [String] = []
        if let root {
            for dir in Self.muslDirectories(trees) {
                muslPath.append(root + dir)
                searchPath.append(Place(tree: 0, path: String(dir.dropFirst()), label: "library path \(dir) in --root"))
            }
        }
        self.libraryPaths = libraryPaths + muslPath
        self.searchPath = searchPath
        self.searchScanned = searchScanned
        self.interesting = interesting
        self.skip = skip
    }

    /// The trees, and the ones not --root by absolute path (they can be many: --files-from).
    struct Trees: Sendable {
        var all: [Tree]
        var byPath: [String: Int]
        subscript(_ i: Int) -> Tree { all[i] }

        /// The tree holding an absolute, lexically normalized path, and the path inside it: --root first,
        /// else the outermost (so that ".." between nested scanned paths stays inside the scan).
        func enter(_ absolute: String) -> (tree: Int, path: String)? {
            let parts = absolute.split(separator: "/")
            if let first = all.first, first.isRoot, parts.starts(with: first.absolute) {
                return (0, parts.dropFirst(first.absolute.count).joined(separator: "/"))
            }
            if let whole = byPath[""] { return (whole, parts.joined(separator: "/")) }  // "/" itself was named
            var prefix = ""
            for (n, part) in parts.enumerated() {
                prefix += prefix.isEmpty ? String(part) : "/" + part
                if let i = byPath[prefix] { return (i, parts.dropFirst(n + 1).joined(separator: "/")) }
            }
            return nil
        }
    }

    /// The directory holding a file of the scan (or a library found): where its $ORIGIN is. Nil when that
    /// directory is inside no tree (a file given alone).
    func place(ofFile path: String) -> Place? {
        let dir = Self.directory(of: path)
        let absolute = path.hasPrefix("/") ? dir : cwd + "/" + (dir.isEmpty ? "." : dir)
        guard let (tree, inside) = trees.enter(Self.lexicallyNormalized(absolute)) else { return nil }
        return Place(tree: tree, path: inside, label: "")
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
                    if bytes[i] == UInt8(ascii: "."), bytes[i + 1] == UInt8(ascii: "s"),
                        bytes[i + 2] == UInt8(ascii: "o")
                    {
                        return String(decoding: UnsafeBufferPointer(rebasing: bytes[start...]), as: UTF8.self)
                    }
                    i += 1
                }
                return nil
            }
            if let name, tree[name] == nil { tree[name] = path }
        }
        for item in walk.items where item.kind == .file { add(item.path) }
        for link in walk.links { add(link.path) }
        return tree
    }

    /// The directories musl searches inside --root (tree 0): its /etc/ld-musl-ARCH.path, else the default.
    /// The file is found as every other path inside the root (no link out of it is followed).
    static func muslDirectories(_ trees: Trees) -> [String] {
        let etc = trees[0].path + "/etc"
        let pathFile = (try? FileManager.default.contentsOfDirectory(atPath: etc))?
            .filter { $0.hasPrefix("ld-musl-") && $0.hasSuffix(".path") }.sorted().first
        // contents(atPath:) takes the path literally (String(contentsOfFile:) expands a leading "~" through NSS).
        guard let pathFile, case .file(let file) = walk(trees, tree: 0, "etc/" + pathFile),
            let data = FileManager.default.contents(atPath: file)
        else { return defaultMuslPath }
        let text = String(decoding: data.prefix(maxPathFileBytes), as: UTF8.self)
        return text.split(whereSeparator: { $0 == ":" || $0 == "\n" }).prefix(maxSearchEntries).map(String.init).filter
        { $0.hasPrefix("/") }
    }

    static let maxPathFileBytes = 64 << 10

    /// musl's library path when no /etc/ld-musl-ARCH.path exists (ldso/dynlink.c, sys_path).
    public static let defaultMuslPath = ["/lib", "/usr/local/lib", "/usr/lib"]

    /// Where the binary's own NEEDED libraries are (no reading): enough to tell found from missing.
    public func locate(_ facts: BinaryFacts, path: String) -> Dependencies {
        var deps = Dependencies()
        let own = rpath(facts, origin: place(ofFile: path), notes: &deps.notSearched)
        let wanted = Header(facts)
        for soname in facts.needed.prefix(Self.maxLibraries) where !skip(soname) {
            switch locate(soname, chain: own, origin: path, wanted: wanted, notes: &deps.notSearched) {
            case .found(let location, _): deps.found[soname] = location
            case .unusable(let reason): deps.unusable[soname] = reason
            case .missing: break
            }
        }
        return deps
    }

    /// What a file loads, as the batch judges it: where its own NEEDED libraries are, and only when any is
    /// found, the whole closure read for the names those libraries export (most files need no reading).
    public func dependencies(of facts: BinaryFacts, path: String) -> Dependencies {
        let found = locate(facts, path: path)
        return found.found.isEmpty ? found : resolve(facts, path: path)
    }

    /// Every library the binary loads, transitively, with the names musl could bind from them.
    public func resolve(_ facts: BinaryFacts, path: String) -> Dependencies {
        var deps = Dependencies()
        var queue: [(soname: String, chain: [Place], neededBy: String?)] = []
        let own = rpath(facts, origin: place(ofFile: path), notes: &deps.notSearched)
        let wanted = Header(facts)
        for soname in facts.needed where !skip(soname) { queue.append((soname, own, nil)) }
        var seen = Set<String>()
        var index = 0
        while index < queue.count, seen.count < Self.maxLibraries {
            let (soname, chain, neededBy) = queue[index]
            index += 1
            guard seen.insert(soname).inserted else { continue }
            if let neededBy { deps.neededBy[soname] = neededBy }
            let location: String
            let dir: Place
            switch locate(soname, chain: chain, origin: path, wanted: wanted, notes: &deps.notSearched) {
            case .found(let l, let d):
                location = l
                dir = d
            case .unusable(let reason):
                deps.unusable[soname] = reason
                continue
            case .missing: continue
            }
            deps.found[soname] = location
            let library = load(location, origin: dir)
            if !library.exports.isEmpty { deps.exportSets.append(library.exports) }
            // What the library's own entries could not search is said where the library is judged itself.
            // musl searches a library's NEEDED with its own RPATH/RUNPATH and then its requesters'.
            let inherited = Self.chain(library.rpath, then: chain, key: \.key, notes: &deps.notSearched)
            for next in library.needed where !skip(next) && !seen.contains(next) {
                queue.append((next, inherited, location))
            }
        }
        return deps
    }

    /// A library's search path followed by its requesters': a directory already in it (by `key`) is left out
    /// (searching it again finds nothing new), and past `maxChain` directories (libraries that each add 64
    /// entries down a long chain) the rest is reported and not searched. For places on disk and for the
    /// directories of an archive alike.
    static func chain<Dir>(_ own: [Dir], then inherited: [Dir], key: (Dir) -> String, notes: inout [String]) -> [Dir] {
        guard !own.isEmpty else { return inherited }
        var seen = Set<String>()
        var out: [Dir] = []
        for dir in own + inherited where seen.insert(key(dir)).inserted {
            guard out.count < maxChain else {
                note(
                    &notes,
                    "search path of more than \(maxChain) directories (RPATH/RUNPATH down the chain of libraries): the rest not searched"
                )
                break
            }
            out.append(dir)
        }
        return out
    }

    static let maxChain = 1024

    /// musl reads one search string per object: DT_RUNPATH when present, else DT_RPATH (decode_dyn).
    static func searchEntries(_ facts: BinaryFacts) -> ArraySlice<String> {
        (facts.runpath.isEmpty ? facts.rpath : facts.runpath).prefix(maxSearchEntries)
    }

    /// An RPATH/RUNPATH entry musl expands from the object's own directory.
    static func isOriginEntry(_ entry: String) -> Bool { entry.contains("$ORIGIN") || entry.contains("${ORIGIN}") }

    /// Whether the search path musl uses for the object (RUNPATH, else RPATH) starts anywhere from $ORIGIN.
    public static func usesOrigin(_ facts: BinaryFacts) -> Bool { searchEntries(facts).contains(where: isOriginEntry) }

    /// The object's RPATH/RUNPATH directories with $ORIGIN expanded (musl expands no other token), as
    /// places in the trees; `origin`: the object's directory (nil when it is in no tree). Absolute entries
    /// mean the target system: inside --root, else only inside the scan. Relative entries (without a
    /// leading $ORIGIN) depend on the working directory at run time and are not searched. An $ORIGIN
    /// entry that cannot be placed in a tree is reported in `notes`.
    func rpath(_ facts: BinaryFacts, origin: Place?, notes: inout [String]) -> [Place] {
        let kind = facts.runpath.isEmpty ? "RPATH" : "RUNPATH"
        var places: [Place] = []
        for entry in Self.searchEntries(facts) where !entry.isEmpty {
            let label = "\(kind) entry \(entry)"
            if Self.isOriginEntry(entry) {
                guard let origin else {
                    Self.note(
                        &notes,
                        "\(label): the file's directory is \(Self.outside) (give a directory holding it and its libraries to search there): not searched"
                    )
                    continue
                }
                if trees[origin.tree].isRoot {
                    // Installed at its place in the root: $ORIGIN is an absolute directory there.
                    guard let installed = Self.expandOrigin(entry, "/" + origin.path), installed.hasPrefix("/") else {
                        continue
                    }
                    places.append(Place(tree: origin.tree, path: String(installed.dropFirst()), label: label))
                } else if let rest = Self.afterLeadingOrigin(entry) {
                    // "$ORIGINx" names a sibling of the directory: outside the tree when that is the tree's top.
                    if !rest.isEmpty, !rest.hasPrefix("/"), origin.path.isEmpty {
                        Self.note(&notes, "\(label): leads \(Self.outside): not searched")
                    } else {
                        places.append(Place(tree: origin.tree, path: origin.path + rest, label: label))
                    }
                }
                // Anything else ("lib$ORIGIN") names a place relative to where it will be installed: unknown.
                continue
            }
            guard entry.hasPrefix("/") else { continue }
            if root != nil, trees.all.first?.isRoot == true {
                places.append(Place(tree: 0, path: String(entry.dropFirst()), label: label))
            } else if let (tree, inside) = trees.enter(Self.lexicallyNormalized(entry)) {
                places.append(Place(tree: tree, path: inside, label: label))
            }
        }
        return places
    }

    /// The rest of an entry that starts with $ORIGIN or ${ORIGIN} and holds no other token ("/../lib");
    /// nil otherwise.
    static func afterLeadingOrigin(_ entry: String) -> String? {
        for token in ["${ORIGIN}", "$ORIGIN"] where entry.hasPrefix(token) {
            let rest = String(entry.dropFirst(token.count))
            return rest.contains("$ORIGIN") || rest.contains("${ORIGIN}") ? nil : rest
        }
        return nil
    }

    static func note(_ notes: inout [String], _ message: String) {
        if !notes.contains(message) { notes.append(message) }
    }

    /// musl expands $ORIGIN and ${ORIGIN} in RPATH/RUNPATH, and no other token.
    static func expandOrigin(_ entry: String, _ origin: String) -> String? {
        guard entry.utf8.contains(UInt8(ascii: "$")) else { return entry }  // most entries have no token
        return entry.replacingLiteral("${ORIGIN}", with: origin).replacingLiteral("$ORIGIN", with: origin)
    }

    /// The directory part of a path ("" for a bare name), cut on UTF-8 bytes: asked for every binary
    /// and library, where NSString bridging showed in profiles.
    static func directory(of path: String) -> String {
        guard let slash = path.utf8.lastIndex(of: UInt8(ascii: "/")) else { return "" }
        return slash == path.utf8.startIndex ? "/" : String(path[..<slash])
    }

    /// `found`: where, and the directory of the search path it was found in (the library's $ORIGIN, as musl
    /// takes it from the name it opened).
    enum Location {
        case found(String, Place)
        case unusable(String)
        case missing
    }

    /// Where musl would find `soname` for an object whose search chain is `chain` (its RPATH/RUNPATH, then
    /// its requesters'), then the target library path; with `searchScanned`, then beside `origin` and in the
    /// scanned tree (only files of the wanted class and machine there). Places that lead outside the trees
    /// are not searched and are reported in `notes`.
    func locate(_ soname: String, chain: [Place], origin: String, wanted: Header, notes: inout [String]) -> Location {
        guard !soname.isEmpty, soname != ".", soname != "..", !soname.utf8.contains(UInt8(ascii: "/")) else {
            return .missing
        }
        var dirs = chain + searchPath
        if searchScanned, let beside = place(ofFile: origin) { dirs.append(beside) }
        for dir in dirs {
            let found: String
            switch lookup(dir, soname) {
            case .file(let path): found = path
            case .absent: continue
            case .loop(let why):
                Self.note(&notes, "\(soname): \(why)")
                return .missing
            case .notFile(let path, let what):
                return .unusable("found at \(path), but it is \(what), not an ELF file: musl cannot load it")
            case .outside(let what):
                Self.note(
                    &notes,
                    dir.label.isEmpty ? "\(soname): \(what): not searched" : "\(dir.label): \(what): not searched")
                continue
            }
            // The first file found is the one musl maps; another class or machine fails there.
            let mapped = header(found)
            guard let mapped, mapped == wanted else {
                let what = mapped.map { "built for \($0.name), not \(wanted.name)" } ?? "not an ELF file"
                return .unusable("found at \(found), but \(what): musl cannot load it")
            }
            return .found(found, dir)
        }
        if searchScanned, let inTree = tree[soname], let dir = place(ofFile: inTree),
            case .file(let found) = lookup(dir, String(inTree.split(separator: "/").last ?? "")),
            header(found) == wanted
        {
            return .found(found, dir)
        }
        return .missing
    }

    /// Candidate paths already looked at, with their ELF header: every binary of a directory asks for
    /// the same libraries.
    private let headers = Mutex<[String: Header?]>([:])

    func header(_ path: String) -> Header? {
        if let known = headers.withLock({ $0[path] }) { return known }
        let header = Header.read(path)
        headers.withLock { $0[path] = header }
        return header
    }

    /// What a name in a directory of a tree is: a regular file (its path with every link resolved, so
    /// that reading it follows no link), nothing, or a place outside every tree (not looked at).
    enum Lookup: Sendable {
        case file(String)
        case absent
        case outside(String)
        /// More than `maxLinks` links in a row: why (musl stops searching for the name there).
        case loop(String)
        /// Something musl opens under the name but cannot map (a directory, FIFO, device or socket; never
        /// opened here): where, and what it is. musl's search ends there.
        case notFile(String, String)
    }

    /// Candidate paths already looked at: every binary of a directory asks for the same libraries.
    private let looked = Mutex<[String: Lookup]>([:])

    func lookup(_ dir: Place, _ name: String) -> Lookup {
        let key = dir.key + "/" + name
        if let known = looked.withLock({ $0[key] }) { return known }
        let result = Self.walk(trees, tree: dir.tree, dir.path + "/" + name)
        looked.withLock { $0[key] = result }
        return result
    }
}
