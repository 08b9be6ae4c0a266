// Reads the files a walk found, on all cores, keeping the walk's order in the results.
import ELF
#if canImport(Glibc)
import Glibc
#endif

public struct ScannedFile: Sendable {
    public var item: ScanItem
    public var result: ReadResult
}

public enum Scanner {
    /// Reads every item with `jobs` workers. Results come back in the order of `items`.
    public static func read(_ items: [ScanItem], jobs: Int, options: ReadOptions = ReadOptions()) -> [ScannedFile] {
        parallelMap(items.count, jobs: jobs) { read(items[$0], options: options) }
    }

    public static func read(_ item: ScanItem, options: ReadOptions = ReadOptions()) -> ScannedFile {
        switch item.kind {
        case .file: return ScannedFile(item: item, result: ELFReader.read(path: item.path, options: options))
        case .unreadable(let reason): return ScannedFile(item: item, result: .failed(reason))
        }
    }
}

public enum CPU {
    public static var count: Int {
        #if canImport(Glibc)
        return max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        #else
        return 1
        #endif
    }
}
