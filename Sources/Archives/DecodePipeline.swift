// ELF members decoded on a second thread while the archive goes on being read, and the small locking helpers
// it needs.
import CCompression
import Dispatch
import ELF
import Scripts
import Synchronization

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
#if canImport(Glibc)
    import Glibc
#endif

/// ELF members read on a second thread while the archive goes on being read: the decoding overlaps the
/// reading and decompression. Members wait to be read while they hold at most `maxWaitingBytes` in all, or
/// one member of any size alone, so memory stays within that plus the largest member (more waiting
/// overlaps no better, and the heap it used stays with the process).
final class DecodePipeline: @unchecked Sendable {
    static let maxWaitingBytes = 16 << 20
    private let queue = DispatchQueue(label: "muslcheck.decode")
    private let condition = Condition()
    /// Guarded by `condition`.
    private var inFlight = 0
    private var done: [(slot: Int, result: ReadResult)] = []

    /// Blocks until a member of `size` bytes (unknown: any) may be read without passing the bound.
    func makeRoom(for size: Int?) {
        condition.lock()
        while inFlight > 0, inFlight + (size ?? Self.maxWaitingBytes) > Self.maxWaitingBytes { condition.wait() }
        condition.unlock()
    }

    func submit(slot: Int, buffer: MemberBuffer, deadline: Deadline, read: @escaping MemberReader) {
        let size = max(1, buffer.bytes.count)
        condition.lock()
        inFlight += size
        condition.unlock()
        let box = UncheckedBox(buffer)
        queue.async {
            let result = read(&box.value.bytes, deadline)
            box.value = MemberBuffer.released
            self.condition.lock()
            self.inFlight -= size
            self.done.append((slot, result))
            self.condition.broadcast()
            self.condition.unlock()
        }
    }

    /// Every result so far, once nothing is left to read.
    func drain() -> [(slot: Int, result: ReadResult)] {
        condition.lock()
        while inFlight > 0 { condition.wait() }
        let out = done
        done = []
        condition.unlock()
        return out
    }
}

/// Members held at once by the expanders that read an image's layers side by side: at most
/// `DecodePipeline.maxWaitingBytes` in all, or one member of any size alone, the bound one expander keeps
/// with its decoding thread. Each expander holds one member at a time, so waiting here cannot deadlock.
final class MemberGate: @unchecked Sendable {
    private let condition = Condition()
    /// Guarded by `condition`.
    private var held = 0

    /// Waits until a member of `size` bytes (unknown: the whole budget) may be held; returns what it holds.
    func acquire(_ size: Int?) -> Int {
        let want = max(1, size ?? DecodePipeline.maxWaitingBytes)
        condition.lock()
        while held > 0, held + want > DecodePipeline.maxWaitingBytes { condition.wait() }
        held += want
        condition.unlock()
        return want
    }

    func release(_ amount: Int) {
        condition.lock()
        held -= amount
        condition.broadcast()
        condition.unlock()
    }
}

/// The entries an image's layers read side by side may have in all: the limit one after the other would keep.
final class EntryBudget: Sendable {
    let limit: Int
    private let left: Mutex<Int>
    init(_ limit: Int) {
        self.limit = limit
        left = Mutex(limit)
    }
    /// Takes one entry; false once the limit is passed.
    func take() -> Bool {
        left.withLock { n in
            n -= 1
            return n >= 0
        }
    }
}

/// Threads a run may add to read image layers side by side, shared by all its items: the engine already
/// reads as many items at once as it has jobs.
package final class LayerThreads: Sendable {
    private let left: Mutex<Int>
    package init(_ count: Int) { left = Mutex(max(0, count)) }
    /// Up to `wanted` threads (0 when none is free).
    func take(_ wanted: Int) -> Int {
        left.withLock { n in
            let granted = min(n, max(0, wanted))
            n -= granted
            return granted
        }
    }
    func give(_ count: Int) { left.withLock { $0 += count } }
}

/// A mutex with a condition variable (pthread's; Foundation's NSCondition is not in FoundationEssentials).
final class Condition: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let cond = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    init() {
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(cond, nil)
    }

    deinit {
        pthread_cond_destroy(cond)
        pthread_mutex_destroy(mutex)
        cond.deallocate()
        mutex.deallocate()
    }

    func lock() { pthread_mutex_lock(mutex) }
    func unlock() { pthread_mutex_unlock(mutex) }
    /// Waits for `broadcast`; the caller holds the lock and checks its condition again.
    func wait() { pthread_cond_wait(cond, mutex) }
    func broadcast() { pthread_cond_broadcast(cond) }
}

/// Hands a value to the decoding thread, which alone uses it from then on.
final class UncheckedBox<T>: @unchecked Sendable {
    var value: T
    init(_ value: T) { self.value = value }
}
