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

extension DependencyResolver {
    /// For an archive member: the NEEDED libraries that are members of the same archive, found the way musl
    /// would find them once the archive is unpacked (names are outer!/inner/path): its $ORIGIN-relative
    /// RPATH/RUNPATH entries, absolute entries and musl's default path inside the archive (an image's root),
    /// and, with `searchScanned`, its own directory and any member of that name. Names musl answers itself
    /// are never looked for (`skip`). `headers`: each member's class and machine, so that a library of
    /// another architecture is never taken for one the binary can load. `links`: the archive's links by
    /// member name, targets as written (`Expansion.links`); a library reached through them is found under
    /// its target's name. The archive is a root filesystem: ".." stops at its root and absolute link
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
        others: [String: UnmappableMember] = [:], originUsers: Set<String> = []
    ) -> Dependencies {
        var deps = Dependencies()
        let root = Self.containerRoot(of: path)
        let origin = "/" + Self.directory(of: String(path.dropFirst(root.count)))
        var dirs: [String] = []
        for entry in Self.searchEntries(facts) where !entry.isEmpty {
            // Relative entries (without a leading $ORIGIN) depend on the working directory: never searched.
            guard let installed = Self.expandOrigin(entry, origin), installed.hasPrefix("/") else { continue }
            dirs.append(Self.member(root, Self.insideRoot(installed)))
        }
        dirs += Self.defaultMuslPath.map { Self.member(root, Self.insideRoot($0)) }
        if searchScanned { dirs.append(Self.member(root, Self.insideRoot(origin))) }
        // Each directory resolved once (its links followed); then only a name that is itself a link is followed.
        var budget = Self.maxLinkSteps
        let resolved = dirs.map { Self.follow($0, root: root, links: links, budget: &budget) }
        let wanted = Header(facts)
        for soname in facts.needed.prefix(Self.maxLibraries) where !skip(soname) && !soname.contains("/") {
            var placed = false
            search: for (index, dir) in resolved.enumerated() {
                var candidate: String
                switch dir {
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
                if header == wanted {
                    deps.found[soname] = candidate
                    if originUsers.contains(candidate), let why = Self.otherOrigin(candidate, openedIn: dirs[index]) {
                        deps.found[soname] = nil
                        deps.unusable[soname] = why
                    }
                } else {
                    deps.unusable[soname] =
                        "found at \(candidate), but built for \(header.name), not \(wanted.name): musl cannot load it"
                }
                placed = true
                break
            }
            if !placed && searchScanned,
                let match = anyMember(soname, root: root, wanted: wanted, members, links, budget: &budget)
            {
                deps.found[soname] = match
            }
        }
        return deps
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
