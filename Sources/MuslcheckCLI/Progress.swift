import Reporting
import Synchronization

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
#if canImport(Glibc)
    import Glibc
#endif

/// Files done, rate and the current path on standard error, only when it is a terminal.
final class Progress: Sendable {
    private let state = Mutex<(done: Int, last: Double)>((0, 0))
    let total: Int
    let enabled: Bool
    let start = Date().timeIntervalSince1970
    static let interval = 0.1
    static let mebibyte = 1 << 20

    init(total: Int) {
        self.total = total
        enabled = isatty(2) != 0 && total >= 1
    }

    func step(_ path: String) {
        guard enabled else { return }
        let now = Date().timeIntervalSince1970
        let line: String? = state.withLock { s in
            s.done += 1
            guard now - s.last > Self.interval || s.done == total else { return nil }
            s.last = now
            let rate = Double(s.done) / max(now - start, 0.001)
            return "\r\u{1B}[K\(s.done)/\(total) files, \(Int(rate))/s  \(Escape.terminal(String(path.suffix(60))))"
        }
        if let line { _ = writeAll(line, to: 2) }
    }

    /// A large input being read: how far, so a multi-GB image shows it is moving.
    func bytes(_ path: String, _ count: Int) {
        guard enabled else { return }
        let now = Date().timeIntervalSince1970
        let line: String? = state.withLock { s in
            guard now - s.last > Self.interval else { return nil }
            s.last = now
            return
                "\r\u{1B}[K\(s.done)/\(total) files, \(count / Self.mebibyte) MiB of \(Escape.terminal(String(path.suffix(50)))) read"
        }
        if let line { _ = writeAll(line, to: 2) }
    }

    func finish() { if enabled { _ = writeAll("\r\u{1B}[K", to: 2) } }
}
