// Every library's own assessment, by where it is: the scanned files (judged in the first pass), and
// libraries outside the scan judged on first use (once each, whichever worker asks first).
import Assessment
import ELF
import Scanning
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

final class LibraryIndex: Sendable {
    let assessor: Assessor
    let resolver: DependencyResolver
    /// A library: its canonical path on disk, or its name inside an archive (kept apart: a member's name
    /// can be a path on disk too).
    struct Key: Hashable { var path: String, inArchive: Bool }
    private let known = Mutex<[Key: Assessment?]>([:])
    /// What each archive member loads directly (members are all judged in the first pass).
    private let direct = Mutex<[String: [String]]>([:])
    static let maxClosure = 256
    private let keys = Mutex<[String: String]>([:])

    init(assessor: Assessor, resolver: DependencyResolver) {
        self.assessor = assessor
        self.resolver = resolver
    }

    func remember(_ own: CheckEngine.Own) {
        let key = key(own.result.path, inArchive: own.inArchive)
        known.withLock { $0[key] = own.result.assessment }
        if own.inArchive { direct.withLock { $0[own.result.path] = own.libraries } }
    }

    /// Archive members loaded by `paths`, transitively (cycles and repeats once each), `paths` first.
    func closure(of paths: [String]) -> [String] {
        var all = paths
        var seen = Set(paths)
        var index = 0
        while index < all.count, all.count < Self.maxClosure {
            for next in direct.withLock({ $0[all[index]] }) ?? [] where seen.insert(next).inserted { all.append(next) }
            index += 1
        }
        return all
    }

    /// `inArchive`: the paths name members of an archive (all judged in the first pass).
    func assessments(of paths: [String], inArchive: Bool) -> [(path: String, assessment: Assessment)] {
        paths.compactMap { path in
            let key = key(path, inArchive: inArchive)
            if let cached = known.withLock({ $0[key] }) { return cached.map { (path, $0) } }
            if inArchive { return nil }
            var assessment: Assessment?
            if case .elf(let facts) = ELFReader.read(path: path) {
                // Judged as the first pass judges a scanned file (what it loads found, and read when there
                // is any), so that a library gives the same answer whether or not this run (or shard) read it.
                let a = assessor.assess(facts, path: path, dependencies: resolver.dependencies(of: facts, path: path))
                assessment = a.unassessable == nil ? a : nil
            }
            known.withLock { $0[key] = .some(assessment) }
            return assessment.map { (path, $0) }
        }
    }

    /// The file's canonical path (links resolved), remembered: the same libraries come up for many binaries.
    func key(_ path: String, inArchive: Bool) -> Key {
        if inArchive { return Key(path: path, inArchive: true) }  // an archive member: its name is its identity
        if let known = keys.withLock({ $0[path] }) { return Key(path: known, inArchive: false) }
        var resolved = path
        if let c = realpath(path, nil) {
            resolved = String(cString: c)
            free(c)
        }
        keys.withLock { $0[path] = resolved }
        return Key(path: resolved, inArchive: false)
    }
}
