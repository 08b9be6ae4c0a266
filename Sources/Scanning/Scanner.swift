#if canImport(Glibc)
import Glibc
#endif
// Reads the files a walk found, on all cores, keeping the walk's order in the results.
import Dispatch
import ELF
import Synchronization

public struct ScannedFile: Sendable {
    public var item: ScanItem
    public var result: ReadResult
}

public enum Scanner {
    /// Reads every item with `jobs` workers. Results come back in the order of `items`.
    public static func read(_ items: [ScanItem], jobs: Int, options: ReadOptions = ReadOptions()) -> [ScannedFile] {
        let results = ResultSlots(count: items.count)
        let next = Atomic<Int>(0)
        let workers = max(1, min(jobs, items.count))
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            while true {
                let index = next.wrappingAdd(1, ordering: .relaxed).oldValue
                guard index < items.count else { return }
                let item = items[index]
                let result: ReadResult
                switch item.kind {
                case .file: result = ELFReader.read(path: item.path, options: options)
                case .unreadable(let reason): result = .failed(reason)
                }
                results.set(index, ScannedFile(item: item, result: result))
            }
        }
        return results.collect()
    }
}

/// Each worker writes only its own indices, so the slots need no lock; the mutex guards the hand-over.
private final class ResultSlots: @unchecked Sendable {
    private var slots: [ScannedFile?]
    private let lock = Mutex(())
    init(count: Int) { slots = Array(repeating: nil, count: count) }
    func set(_ index: Int, _ value: ScannedFile) { lock.withLock { _ in slots[index] = value } }
    func collect() -> [ScannedFile] { lock.withLock { _ in slots.compactMap { $0 } } }
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
