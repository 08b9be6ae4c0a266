import Dispatch

/// A value computed on another thread from the moment this is made; `value` waits for it.
public final class InBackground<T: Sendable>: @unchecked Sendable {
    private var result: T?
    private let done = DispatchSemaphore(value: 0)
    private let work: @Sendable () -> T

    public init(_ work: @escaping @Sendable () -> T) {
        self.work = work
        DispatchQueue.global().async {
            self.result = work()
            self.done.signal()
        }
    }

    /// The result (the semaphore orders the write before this read).
    public var value: T {
        done.wait()
        done.signal()  // later reads do not wait
        return result ?? work()  // never nil once signalled; computing it here beats trapping
    }
}
