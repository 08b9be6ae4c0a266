import Dispatch
// Finds the libraries a binary loads (its NEEDED entries, then theirs) where musl's loader would: the
// requesting object's RPATH/RUNPATH with $ORIGIN, the binary's own directory, then the directories the
// user names as the target system's library path. Reads each library once per run and remembers which
// symbols musl could bind from it.
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
    /// NEEDED names never looked for on disk (musl itself, compat packages, glibc-only libraries).
    let skip: @Sendable (String) -> Bool
    /// The only export names worth remembering (those a libc import could be missing); nil keeps all.
    let interesting: NameFilter?
    private let cache = Mutex<[String: Library]>([:])
    static let maxLibraries = 256

    public init(libraryPaths: [String], interesting: NameFilter? = nil, skip: @escaping @Sendable (String) -> Bool) {
        self.libraryPaths = libraryPaths
        self.interesting = interesting
        self.skip = skip
    }

    /// Where the binary's own NEEDED libraries are (no reading): enough to tell found from missing.
    public func locate(_ facts: BinaryFacts, path: String) -> Dependencies {
        var deps = Dependencies()
        let own = Self.searchPaths(facts, path: path)
        for soname in facts.needed.prefix(Self.maxLibraries) where !skip(soname) {
            if let location = locate(soname, in: own + libraryPaths) { deps.found[soname] = location }
        }
        return deps
    }

    /// Every library the binary loads, transitively, with the names musl could bind from them.
    public func resolve(_ facts: BinaryFacts, path: String) -> Dependencies {
        var deps = Dependencies()
        var queue: [(soname: String, searchPaths: [String])] = []
        let own = Self.searchPaths(facts, path: path)
        for soname in facts.needed where !skip(soname) { queue.append((soname, own)) }
        var seen = Set<String>()
        var index = 0
        while index < queue.count, seen.count < Self.maxLibraries {
            let (soname, paths) = queue[index]
            index += 1
            guard seen.insert(soname).inserted else { continue }
            guard let location = locate(soname, in: paths + libraryPaths) else { continue }
            deps.found[soname] = location
            let library = load(location)
            if let problem = library.problem { deps.problems.append("\(location): \(problem)") }
            deps.exports.formUnion(library.exports)
            for next in library.needed where !skip(next) && !seen.contains(next) {
                queue.append((next, library.searchPaths + own))
            }
        }
        return deps
    }

    /// RPATH and RUNPATH entries with $ORIGIN expanded, then the file's own directory.
    static func searchPaths(_ facts: BinaryFacts, path: String) -> [String] {
        let origin = (path as NSString).deletingLastPathComponent
        let dir = origin.isEmpty ? "." : origin
        var paths: [String] = []
        for entry in (facts.rpath + facts.runpath).prefix(64) where !entry.isEmpty {
            paths.append(entry.replacingOccurrences(of: "${ORIGIN}", with: dir).replacingOccurrences(of: "$ORIGIN", with: dir))
        }
        paths.append(dir)
        return paths
    }

    func locate(_ soname: String, in paths: [String]) -> String? {
        if soname.contains("/") { return Self.isRegularFile(soname) ? soname : nil }
        for dir in paths {
            let candidate = dir.hasSuffix("/") ? dir + soname : dir + "/" + soname
            if Self.isRegularFile(candidate) { return candidate }
        }
        return nil
    }

    private func load(_ path: String) -> Library {
        if let cached = cache.withLock({ $0[path] }) { return cached }
        let library: Library
        switch ELFReader.read(path: path, options: ReadOptions(exportNames: true, exportFilter: interesting)) {
        case .elf(let f):
            library = Library(needed: f.needed, searchPaths: Self.searchPaths(f, path: path),
                              exports: Set((f.exports ?? []).filter { $0.bindableByMusl && interesting?.names.contains($0.name) != false }.map(\.name)),
                              problem: nil)
        case .notELF: library = Library(needed: [], searchPaths: [], exports: [], problem: "not an ELF file")
        case .failed(let message): library = Library(needed: [], searchPaths: [], exports: [], problem: message)
        }
        cache.withLock { $0[path] = library }
        return library
    }

    static func isRegularFile(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && st.st_mode & S_IFMT == S_IFREG
    }
}

/// Runs `body` for 0..<count on `jobs` threads; results in index order.
public func parallelMap<T: Sendable>(_ count: Int, jobs: Int, _ body: @Sendable (Int) -> T) -> [T] {
    let slots = Slots<T>(count: count)
    let next = Atomic<Int>(0)
    DispatchQueue.concurrentPerform(iterations: max(1, min(jobs, count))) { _ in
        while true {
            let index = next.wrappingAdd(1, ordering: .relaxed).oldValue
            guard index < count else { return }
            slots.set(index, body(index))
        }
    }
    return slots.collect()
}

/// Each index is written once, by one worker; the mutex makes the hand-over to the caller safe.
final class Slots<T: Sendable>: @unchecked Sendable {
    private var values: [T?]
    private let lock = Mutex(())
    init(count: Int) { values = Array(repeating: nil, count: count) }
    func set(_ index: Int, _ value: T) { lock.withLock { _ in values[index] = value } }
    func collect() -> [T] { lock.withLock { _ in values.compactMap { $0 } } }
}
