// How the resolver finds a program's libraries among the members of the archive or image holding it, as
// musl would once the archive is unpacked as a root filesystem: symbolic links (and a layer's hard links to
// an earlier layer's file) followed a component at a time inside that root, as the kernel follows them for a
// chrooted program; what musl then maps is the link's target, so the target's own verdict is the one folded in.
import Assessment
import ELF
import TextSupport

/// A member of an archive or image that musl cannot map as a library: its search for a name ends there all the
/// same, as on disk the first file of the name found does.
public enum UnmappableMember: Sendable, Hashable {
    /// A regular file that is not an ELF file (text, a linker script, a script, an archive, a compressed file):
    /// musl fails to map it ("found at X, but not an ELF file").
    case notELF
    /// A member that could not be read (damaged, over a limit, in a format not read): what musl would do with it
    /// is not known, so neither is what the program loads (as for a library on disk that cannot be read).
    case unreadable
}

/// What an ELF member asks of musl's loader when it is loaded: its NEEDED names and the search path musl
/// reads for it (RUNPATH when present, else RPATH), kept per member so that a program's libraries inside an
/// archive are followed down the chain without the members' other facts.
public struct LoaderRequest: Sendable {
    public var needed: [String]
    public var entries: [String]
    public init(_ facts: BinaryFacts) {
        needed = Array(facts.needed.prefix(DependencyResolver.maxLibraries))
        entries = Array(DependencyResolver.searchEntries(facts))
    }
}

extension DependencyResolver {
    /// For an archive member: the libraries it loads that are members of the same archive, found the way musl
    /// would find them once the archive is unpacked (names are outer!/inner/path), down the whole chain: a
    /// library's NEEDED names are searched with its own RPATH/RUNPATH, then with those of what loads it (as
    /// musl's load_library walks needed_by), then musl's default path inside the archive (an image's root),
    /// and, with `searchScanned`, the binary's own directory and any member of that name. Each name is
    /// looked for once, where it is first needed (musl loads a name once). Names musl answers itself are
    /// never looked for (`skip`). `headers`: each member's class and machine, so that a library of
    /// another architecture is never taken for one the binary can load. `libraries`: what each ELF member
    /// asks of the loader (its NEEDED names and search path), to follow the chain. `links`: the archive's
    /// links by member name, targets as written (`Expansion.links`); a library reached through them is found
    /// under its target's name. The archive is a root filesystem: ".." stops at its root and absolute link
    /// targets start there, so no path leaves it (nor reaches the archive holding it). A chain of more
    /// than `maxLinks` links (a loop) stops the search for that name, as ELOOP stops musl's (ldso/dynlink.c,
    /// path_open), and is reported. `others`: the members that are not ELF files or could not be read; the first
    /// file of the name found is the one musl opens, so one of these ends the search there too: not an ELF file
    /// is unusable, one that could not be read is "found" (what loads it cannot be judged, and is reported so
    /// when the libraries' verdicts are folded in). One is taken for what it is on disk once unpacked: a
    /// compressed ELF member, listed among `members` by what it holds, is not an ELF file.
    ///
    /// `originUsers`: the members whose own RPATH/RUNPATH holds $ORIGIN. musl takes a library's $ORIGIN from the
    /// directory it opened it in; a member is judged from the directory it is stored in. Where the two differ
    /// (reached through a link from elsewhere) for one of these, its own libraries may be found elsewhere than
    /// its verdict says: it is reported unusable, never taken as judged.
    public func locate(
        _ facts: BinaryFacts, path: String, among members: [String: Header], links: [String: String] = [:],
        others: [String: UnmappableMember] = [:], originUsers: Set<String> = [],
        libraries: [String: LoaderRequest] = [:]
    ) -> Dependencies {
        var deps = Dependencies()
        let root = Self.containerRoot(of: path)
        let origin = "/" + Self.directory(of: String(path.dropFirst(root.count)))
        var last = Self.defaultMuslPath.map { Self.member(root, Self.insideRoot($0)) }
        if searchScanned { last.append(Self.member(root, Self.insideRoot(origin))) }
        // Each directory resolved once (its links followed); then only a name that is itself a link is followed.
        var budget = Self.maxLinkSteps
        var resolvedDirs: [String: MemberName] = [:]
        let wanted = Header(facts)
        let own = Self.searchDirs(Self.searchEntries(facts), origin: origin, root: root)
        var queue: [(soname: String, chain: [String], neededBy: String?)] = facts.needed.prefix(Self.maxLibraries)
            .map { ($0, own, nil) }
        var seen = Set<String>()
        var index = 0
        while index < queue.count, seen.count < Self.maxLibraries {
            let (soname, chain, neededBy) = queue[index]
            index += 1
            guard !skip(soname), !soname.contains("/"), seen.insert(soname).inserted else { continue }
            if let neededBy { deps.neededBy[soname] = neededBy }
            var placed = false
            let dirs = chain + last
            search: for dir in dirs {
                let resolved: MemberName
                if let known = resolvedDirs[dir] {
                    resolved = known
                } else {
                    resolved = Self.follow(dir, root: root, links: links, budget: &budget)
                    resolvedDirs[dir] = resolved
                }
                var candidate: String
                switch resolved {
                case .name(let name): candidate = name.hasSuffix("/") ? name + soname : name + "/" + soname
                case .unresolved(let why):
                    Self.note(&deps.notSearched, "\(soname): \(why)")
                    placed = true  // musl's search ends there: not found
                    break search
                }
                if links[candidate] != nil {
                    switch Self.follow(candidate, root: root, links: links, budget: &budget) {
                    case .name(let name): candidate = name
                    case .unresolved(let why):
                        Self.note(&deps.notSearched, "\(soname): \(why)")
                        placed = true
                        break search
                    }
                }
                if let other = others[candidate] {
                    switch other {
                    case .notELF:
                        deps.unusable[soname] = "found at \(candidate), but not an ELF file: musl cannot load it"
                    case .unreadable: deps.found[soname] = candidate
                    }
                    placed = true
                    break
                }
                guard let header = members[candidate] else { continue }
                placed = true
                guard header == wanted else {
                    deps.unusable[soname] =
                        "found at \(candidate), but built for \(header.name), not \(wanted.name): musl cannot load it"
                    break
                }
                if originUsers.contains(candidate), let why = Self.otherOrigin(candidate, openedIn: dir) {
                    deps.unusable[soname] = why
                    break
                }
                deps.found[soname] = candidate
                break
            }
            if !placed && searchScanned,
                let match = anyMember(soname, root: root, wanted: wanted, members, links, budget: &budget)
            {
                deps.found[soname] = match
            }
            // What it loads in turn: searched with its own path, then with those of what loads it.
            guard let library = deps.found[soname], let request = libraries[library] else { continue }
            let own = Self.searchDirs(
                request.entries, origin: "/" + Self.directory(of: String(library.dropFirst(root.count))), root: root)
            let inherited = Self.chain(own, then: chain, key: { $0 }, notes: &deps.notSearched)
            for next in request.needed.prefix(Self.maxLibraries) where !seen.contains(next) {
                queue.append((next, inherited, library))
            }
        }
        return deps
    }

    /// An archive member's search directories as member names (outer!/dir/): its RPATH/RUNPATH entries with
    /// $ORIGIN expanded from `origin` (its directory inside the archive), inside the archive's root. Relative
    /// entries (without a leading $ORIGIN) depend on the working directory: never searched.
    static func searchDirs(_ entries: some Sequence<String>, origin: String, root: String) -> [String] {
        entries.compactMap { entry in
            guard !entry.isEmpty, let installed = expandOrigin(entry, origin), installed.hasPrefix("/") else {
                return nil
            }
            return member(root, insideRoot(installed))
        }
    }

    /// Why a library stored at `member` but opened in the directory `opened` (a search directory, its links not
    /// followed) has another $ORIGIN than the one it was judged with; nil when they are the same.
    static func otherOrigin(_ member: String, openedIn opened: String) -> String? {
        let dir = opened.count > 1 && opened.hasSuffix("/") ? String(opened.dropLast()) : opened
        guard directory(of: member) != dir else { return nil }
        return
            "found at \(member) through \(dir), whose $ORIGIN musl takes for its own RUNPATH/RPATH: its libraries were not looked for from there; not judged"
    }

    /// Installed together: any member of that name (a file, or a link to one) of the binary's architecture,
    /// under the same root; the first by name, found in one pass (no sorted copy of every member per lookup).
    func anyMember(
        _ soname: String, root: String, wanted: Header, _ members: [String: Header], _ links: [String: String],
        budget: inout Int
    ) -> String? {
        let suffix = "/" + soname
        var match: (name: String, target: String)?
        func consider(_ name: String, _ target: String) {
            if match.map({ name < $0.name }) ?? true { match = (name, target) }
        }
        for (member, header) in members where header == wanted && member.hasSuffix(suffix) && member.hasPrefix(root) {
            consider(member, member)
        }
        for link in links.keys where link.hasSuffix(suffix) && link.hasPrefix(root) {
            if case .name(let target) = Self.follow(link, root: root, links: links, budget: &budget),
                members[target] == wanted
            {
                consider(link, target)
            }
        }
        return match?.target
    }

    /// What a member's name leads to once the archive's links are followed.
    enum MemberName: Equatable {
        /// The name with every link on the way resolved (a member's name when there is one).
        case name(String)
        /// A loop (more than `maxLinks` links in a row, ELOOP), or more than a binary's share of links to
        /// follow (`maxLinkSteps`): why.
        case unresolved(String)
    }

    /// Path components a binary's library lookups may walk through links, in all: far more than any real
    /// tree needs, and a bound on what crafted chains of long link targets can cost.
    static let maxLinkSteps = 1 << 14
    /// Directories deep a name may lead through links (no library lies deeper; bounds each step's cost).
    static let maxLinkDepth = 256

    /// Resolves `name` (a member's full name under `root`) through `links` a component at a time, as the kernel
    /// does once the archive is unpacked as a root: each directory and the last component may be a link;
    /// a relative target is taken from the link's directory, an absolute one from the root, and ".." stops
    /// at the root. Nothing is read: the names are the archive's own. `budget`: components left to walk.
    static func follow(_ name: String, root: String, links: [String: String], budget: inout Int) -> MemberName {
        guard !links.isEmpty, name.hasPrefix(root) else { return .name(name) }
        var done: [Substring] = []
        var todo: [Substring] = name.dropFirst(root.count).split(separator: "/").reversed()
        var followed = 0
        while let part = todo.popLast() {
            if part == "." { continue }
            if part == ".." {
                _ = done.popLast()  // "/.." is "/"
                continue
            }
            budget -= 1
            guard budget >= 0 else {
                return .unresolved(
                    "more than \(maxLinkSteps) path components to walk through the archive's links: not searched")
            }
            guard done.count < maxLinkDepth else {
                return .unresolved(
                    "more than \(maxLinkDepth) directories deep through the archive's links: not searched")
            }
            done.append(part)
            let current = root + done.joined(separator: "/")
            guard let target = links[current] else { continue }
            followed += 1
            guard followed <= maxLinks else {
                return .unresolved(loopMessage(current))
            }
            done.removeLast()
            if target.hasPrefix("/") { done = [] }
            todo += target.split(separator: "/").reversed()
        }
        return .name(root + done.joined(separator: "/"))
    }

    /// The components of an absolute path once ".." stops at "/" (as the kernel resolves "/.."), joined.
    static func insideRoot(_ absolute: String) -> String {
        var parts: [Substring] = []
        for part in absolute.split(separator: "/") where part != "." {
            if part == ".." { _ = parts.popLast() } else { parts.append(part) }
        }
        return parts.joined(separator: "/")
    }

    /// A directory of an archive as the prefix of its members' names ("a.tar!/usr/lib/").
    static func member(_ root: String, _ dir: String) -> String { dir.isEmpty ? root : root + dir + "/" }

    /// The part of a member's name that stands for the root of the archive holding it ("a.tar!/" for
    /// "a.tar!/usr/bin/x"); "" for a file on disk.
    static func containerRoot(of path: String) -> String {
        guard let range = path.lastLiteralRange(of: "!/") else { return "" }
        return String(path[..<range.upperBound])
    }
}
