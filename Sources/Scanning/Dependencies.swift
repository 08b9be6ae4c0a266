// Finds the libraries a binary loads (its NEEDED entries, then theirs) where musl's loader would
// (ldso/dynlink.c, load_library): names musl answers itself (libc., libm., libpthread., …) are never
// files; then the RPATH/RUNPATH of the requesting object and of each object that loaded it ($ORIGIN
// expanded; RUNPATH replaces RPATH when both are present), then the target system's library path
// (--root: its /etc/ld-musl-ARCH.path, else /lib:/usr/local/lib:/usr/lib; or --library-path). The first
// file found is the one musl maps: one of another ELF class or machine fails to load there. Only when
// asked (`searchScanned`) is a library also looked for beside the binary and anywhere in the scanned
// tree, as if the scanned files were installed on the library path together. Reads each library once.
import TextSupport
import Assessment
import ELF
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import Synchronization

public final class DependencyResolver: Sendable {
    struct Library: Sendable {
        var needed: [String]
        /// Its own RPATH/RUNPATH directories, $ORIGIN expanded (searched for its NEEDED before its requesters').
        var rpath: [String]
        var exports: Set<String>
        var problem: String?
    }

    /// The target system's library path: --library-path, then the musl path inside --root.
    public let libraryPaths: [String]
    /// A root filesystem: absolute paths (RPATH entries, symlink targets) are taken inside it.
    public let root: String?
    /// Files of the scanned tree by name (regular files and the links the walk did not follow).
    let tree: [String: String]
    /// Directories absolute RPATH entries may name without --root: the scanned paths.
    let scannedRoots: [String]
    /// Also search beside the binary and anywhere in the scanned tree (musl itself never does).
    public let searchScanned: Bool
    /// NEEDED names never looked for on disk (musl itself, compat packages, glibc-only libraries).
    let skip: @Sendable (String) -> Bool
    /// The only export names worth remembering (those a libc import could be missing); nil keeps all.
    let interesting: NameFilter?
    private let cache = Mutex<[String: Library]>([:])
    static let maxLibraries = 256
    static let maxLinks = 40
    static let maxSearchEntries = 64

    public init(libraryPaths: [String] = [], root: String? = nil, tree: [String: String] = [:], scannedRoots: [String] = [],
                searchScanned: Bool = false, interesting: NameFilter? = nil, skip: @escaping @Sendable (String) -> Bool) {
        let root = root.map { $0.hasSuffix("/") && $0.count > 1 ? String($0.dropLast()) : $0 }
        self.root = root
        self.libraryPaths = libraryPaths + (root.map { Self.muslPath(root: $0) } ?? [])
        self.tree = tree
        self.scannedRoots = scannedRoots
        self.searchScanned = searchScanned
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
        for link in walk.links { add(link.path) }
        return tree
    }

    /// The directories musl searches inside `root`: its /etc/ld-musl-ARCH.path, else the default.
    static func muslPath(root: String) -> [String] {
        let etc = root + "/etc"
        let pathFile = (try? FileManager.default.contentsOfDirectory(atPath: etc))?
            .filter { $0.hasPrefix("ld-musl-") && $0.hasSuffix(".path") }.sorted().first
        var dirs = defaultMuslPath
        // contents(atPath:) takes the path literally (String(contentsOfFile:) expands a leading "~" through NSS).
        if let pathFile, let data = FileManager.default.contents(atPath: etc + "/" + pathFile) {
            let text = String(decoding: data, as: UTF8.self)
            dirs = text.split(whereSeparator: { $0 == ":" || $0 == "\n" }).map(String.init).filter { $0.hasPrefix("/") }
        }
        return dirs.map { root + $0 }
    }

    /// musl's library path when no /etc/ld-musl-ARCH.path exists (ldso/dynlink.c, sys_path).
    public static let defaultMuslPath = ["/lib", "/usr/local/lib", "/usr/lib"]

    /// Where the binary's own NEEDED libraries are (no reading): enough to tell found from missing.
    public func locate(_ facts: BinaryFacts, path: String) -> Dependencies {
        var deps = Dependencies()
        let own = rpath(facts, path: path)
        let wanted = Header(facts)
        for soname in facts.needed.prefix(Self.maxLibraries) where !skip(soname) {
            switch locate(soname, chain: own, origin: path, wanted: wanted) {
            case .found(let location): deps.found[soname] = location
            case .unusable(let reason): deps.unusable[soname] = reason
            case .missing: break
            }
        }
        return deps
    }

    /// For an archive member: the NEEDED libraries that are members of the same archive, found the way musl
    /// would find them once the archive is unpacked (names are outer!/inner/path): its $ORIGIN-relative
    /// RPATH/RUNPATH entries, absolute entries and musl's default path inside the archive (an image's root),
    /// and, with `searchScanned`, its own directory and any member of that name. Names musl answers itself
    /// are never looked for (`skip`). `headers`: each member's class and machine, so that a library of
    /// another architecture is never taken for one the binary can load.
    public func locate(_ facts: BinaryFacts, path: String, among members: [String: Header]) -> Dependencies {
        var deps = Dependencies()
        let dir = Self.directory(of: path)
        let root = Self.containerRoot(of: path)
        var dirs: [String] = []
        for entry in Self.searchEntries(facts) {
            if entry.contains("$ORIGIN") || entry.contains("${ORIGIN}") { dirs.append(Self.expandOrigin(entry, dir)) }
            else if entry.hasPrefix("/") { dirs.append(root + entry.dropFirst()) }
        }
        dirs += Self.defaultMuslPath.map { root + $0.dropFirst() }
        if searchScanned { dirs.append(dir) }
        let wanted = Header(facts)
        for soname in facts.needed.prefix(Self.maxLibraries) where !skip(soname) {
            var placed = false
            for d in dirs {
                let candidate = Self.lexicallyNormalized(d + "/" + soname)
                guard let header = members[candidate] else { continue }
                if header == wanted { deps.found[soname] = candidate } else {
                    deps.unusable[soname] = "found at \(candidate), but built for \(header.name), not \(wanted.name): musl cannot load it"
                }
                placed = true
                break
            }
            if !placed && searchScanned {
                // Installed together: any member of that name and of the binary's architecture.
                // The first such member by name, found in one pass (no sorted copy of every member per lookup).
                let suffix = "/" + soname
                var match: String?
                for (member, header) in members where header == wanted && member.hasSuffix(suffix) && member.hasPrefix(root) {
                    if match.map({ member < $0 }) ?? true { match = member }
                }
                if let match { deps.found[soname] = match }
            }
        }
        return deps
    }

    /// The part of a member's name that stands for the root of the archive holding it ("a.tar!/" for
    /// "a.tar!/usr/bin/x"); "" for a file on disk.
    static func containerRoot(of path: String) -> String {
        guard let range = path.lastLiteralRange(of: "!/") else { return "" }
        return String(path[..<range.upperBound])
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
        var queue: [(soname: String, chain: [String])] = []
        let own = rpath(facts, path: path)
        let wanted = Header(facts)
        for soname in facts.needed where !skip(soname) { queue.append((soname, own)) }
        var seen = Set<String>()
        var index = 0
        while index < queue.count, seen.count < Self.maxLibraries {
            let (soname, chain) = queue[index]
            index += 1
            guard seen.insert(soname).inserted else { continue }
            let location: String
            switch locate(soname, chain: chain, origin: path, wanted: wanted) {
            case .found(let l): location = l
            case .unusable(let reason): deps.unusable[soname] = reason; continue
            case .missing: continue
            }
            deps.found[soname] = location
            let library = load(location)
            if !library.exports.isEmpty { deps.exportSets.append(library.exports) }
            // musl searches a library's NEEDED with its own RPATH/RUNPATH and then its requesters'.
            for next in library.needed where !skip(next) && !seen.contains(next) {
                queue.append((next, library.rpath + chain))
            }
        }
        return deps
    }

    /// musl reads one search string per object: DT_RUNPATH when present, else DT_RPATH (decode_dyn).
    static func searchEntries(_ facts: BinaryFacts) -> ArraySlice<String> {
        (facts.runpath.isEmpty ? facts.rpath : facts.runpath).prefix(maxSearchEntries)
    }

    /// The object's RPATH/RUNPATH directories with $ORIGIN expanded (musl expands no other token).
    /// Absolute entries mean the target system: inside --root, else only inside the scan. Relative entries
    /// without $ORIGIN depend on the working directory at run time and are not searched.
    func rpath(_ facts: BinaryFacts, path: String) -> [String] {
        let origin = Self.directory(of: path)
        let dir = origin.isEmpty ? "." : origin
        var paths: [String] = []
        for entry in Self.searchEntries(facts) where !entry.isEmpty {
            let expanded = Self.expandOrigin(entry, dir)
            if entry.hasPrefix("/") {
                if let root { paths.append(root + expanded) }
                else if scannedRoots.contains(where: { expanded.hasPrefix($0) }) { paths.append(expanded) }
            } else if expanded != entry {
                paths.append(expanded)
            }
        }
        return paths
    }

    /// musl expands $ORIGIN and ${ORIGIN} in RPATH/RUNPATH, and no other token.
    static func expandOrigin(_ entry: String, _ origin: String) -> String {
        guard entry.utf8.contains(UInt8(ascii: "$")) else { return entry }  // most entries have no token
        return entry.replacingLiteral("${ORIGIN}", with: origin).replacingLiteral("$ORIGIN", with: origin)
    }

    /// The directory part of a path ("" for a bare name), cut on UTF-8 bytes: asked for every binary
    /// and library, where NSString bridging showed in profiles.
    static func directory(of path: String) -> String {
        guard let slash = path.utf8.lastIndex(of: UInt8(ascii: "/")) else { return "" }
        return slash == path.utf8.startIndex ? "/" : String(path[..<slash])
    }

    enum Location { case found(String), unusable(String), missing }

    /// Where musl would find `soname` for an object whose search chain is `chain` (its RPATH/RUNPATH, then
    /// its requesters'), then the target library path; with `searchScanned`, then beside `origin` and in the
    /// scanned tree (only files of the wanted class and machine there).
    func locate(_ soname: String, chain: [String], origin: String, wanted: Header) -> Location {
        guard !soname.isEmpty, !soname.utf8.contains(UInt8(ascii: "/")) else { return .missing }
        var dirs = chain + libraryPaths
        if searchScanned { let d = Self.directory(of: origin); dirs.append(d.isEmpty ? "." : d) }
        for dir in dirs {
            guard let found = resolved(dir.hasSuffix("/") ? dir + soname : dir + "/" + soname) else { continue }
            let location = Self.lexicallyNormalized(found)  // bin/../lib/x reads better as lib/x
            // The first file found is the one musl maps; another class or machine fails there.
            let mapped = header(location)
            guard let mapped, mapped == wanted else {
                let what = mapped.map { "built for \($0.name), not \(wanted.name)" } ?? "not an ELF file"
                return .unusable("found at \(location), but \(what): musl cannot load it")
            }
            return .found(location)
        }
        if searchScanned, let inTree = tree[soname], let found = resolved(inTree), header(found) == wanted { return .found(found) }
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
                    : PathText.appending(PathText.deletingLastComponent(current), target)
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
            library = Library(needed: f.needed, rpath: rpath(f, path: path),
                              exports: Set((f.exports ?? []).filter { $0.bindableByMusl && interesting?.names.contains($0.name) != false }.map(\.name)),
                              problem: nil)
        case .notELF: library = Library(needed: [], rpath: [], exports: [], problem: "not an ELF file")
        case .failed(let message): library = Library(needed: [], rpath: [], exports: [], problem: message)
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

/// What decides whether musl can map a library for a binary: ELF class, data encoding and machine.
public struct Header: Sendable, Hashable {
    public var is64: Bool
    public var bigEndian: Bool
    public var machine: UInt16

    public init(is64: Bool, bigEndian: Bool, machine: UInt16) { self.is64 = is64; self.bigEndian = bigEndian; self.machine = machine }
    public init(_ facts: BinaryFacts) { self.init(is64: facts.is64, bigEndian: facts.bigEndian, machine: facts.machine.rawValue) }

    public var name: String { Machine(rawValue: machine).name(is64: is64, bigEndian: bigEndian) }

    static let identSize = 20  // e_ident (16 bytes), e_type (2), e_machine (2)

    /// The header of the file at `path`; nil when it is not an ELF file or cannot be read.
    static func read(_ path: String) -> Header? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: identSize)
        let n = bytes.withUnsafeMutableBytes { raw in raw.baseAddress.map { pread(fd, $0, identSize, 0) } ?? -1 }
        guard n == identSize else { return nil }
        return parse(bytes)
    }

    /// The header in a file's first 20 bytes; nil when they are not an ELF header.
    public static func parse(_ b: some Collection<UInt8>) -> Header? {
        let b = Array(b.prefix(identSize))
        guard b.count == identSize, b[0] == 0x7F, b[1] == 0x45, b[2] == 0x4C, b[3] == 0x46,
              b[4] == 1 || b[4] == 2, b[5] == 1 || b[5] == 2 else { return nil }
        let big = b[5] == 2
        let machine = big ? UInt16(b[18]) << 8 | UInt16(b[19]) : UInt16(b[19]) << 8 | UInt16(b[18])
        return Header(is64: b[4] == 2, bigEndian: big, machine: machine)
    }
}
