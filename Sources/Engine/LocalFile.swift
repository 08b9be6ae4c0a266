// Files the user names on the command line or in the policy (--output, --config, --baseline,
// --write-baseline) are read and written with POSIX calls, not Foundation's path APIs: those expand a
// leading "~" through the user database (getpwnam/getpwuid), and the shipped static executable must never
// reach glibc's NSS, which loads modules built for another glibc at run time. A path is taken literally,
// as the shell left it.
import Foundation

/// Why a file could not be read or written (the strerror text); callers name the file.
public struct LocalFileError: LocalizedError, CustomStringConvertible {
    public var reason: String
    public var description: String { reason }
    public var errorDescription: String? { reason }
}

public enum LocalFile {
    /// Policy and baseline files are small; a larger one is an error, not a read of unbounded size.
    public static let maxReadBytes = 64 << 20

    /// The whole file.
    public static func read(_ path: String) throws(LocalFileError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw failure() }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let n = chunk.withUnsafeMutableBytes { Foundation.read(fd, $0.baseAddress, $0.count) }
            if n < 0 { if errno == EINTR { continue } else { throw failure() } }
            if n == 0 { return bytes }
            guard bytes.count + n <= maxReadBytes else {
                throw LocalFileError(reason: "larger than \(maxReadBytes) bytes")
            }
            bytes.append(contentsOf: chunk[0..<n])
        }
    }

    /// Creates or truncates `path` and writes `parts` one after another.
    public static func write(_ parts: [String], to path: String) throws(LocalFileError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o666)
        guard fd >= 0 else { throw failure() }
        for part in parts where !writeAll(part, to: fd) {
            let error = failure()
            close(fd)
            throw error
        }
        guard close(fd) == 0 else { throw failure() }
    }

    private static func failure() -> LocalFileError {
        LocalFileError(reason: String(cString: strerror(errno)))
    }

    /// Writes all of `text` to `fd`, retrying interrupted writes; false when a write failed.
    public static func writeAll(_ text: String, to fd: Int32) -> Bool {
        var text = text
        return text.withUTF8 { bytes -> Bool in
            var offset = 0
            while offset < bytes.count, let base = bytes.baseAddress {
                let n = Foundation.write(fd, base + offset, bytes.count - offset)
                if n <= 0 { if n < 0 && errno == EINTR { continue } else { return false } }
                offset += n
            }
            return true
        }
    }
}
