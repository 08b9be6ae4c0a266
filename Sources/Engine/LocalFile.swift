// Files the user names on the command line or in the policy (--output, --config, --baseline,
// --write-baseline) are read and written with POSIX calls, not Foundation's path APIs: those expand a
// leading "~" through the user database (getpwnam/getpwuid), and the shipped static executable must never
// reach glibc's NSS, which loads modules built for another glibc at run time. A path is taken literally,
// as the shell left it.
import FileIO

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
#if canImport(Glibc)
    import Glibc
#endif

/// Why a file could not be read or written (the strerror text); callers name the file.
public struct LocalFileError: LocalizedError, CustomStringConvertible {
    public var reason: String
    public var description: String { reason }
    public var errorDescription: String? { reason }
}

public enum LocalFile {
    /// Policy and baseline files are small; a larger one is an error, not a read of unbounded size.
    public static let maxReadBytes = 64 << 20

    /// The whole file, refused when it holds more than `maxBytes`.
    public static func read(_ path: String, maxBytes: Int = maxReadBytes) throws(LocalFileError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw failure() }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: Self.chunkBytes)
        while true {
            let (n, error) = chunk.withUnsafeMutableBytes { FileIO.readFully(fd, into: $0) }
            if let error { throw LocalFileError(reason: String(cString: strerror(error))) }
            guard bytes.count + n <= maxBytes else {
                throw LocalFileError(reason: "larger than \(maxBytes) bytes")
            }
            bytes.append(contentsOf: chunk[0..<n])
            if n < chunk.count { return bytes }  // the end of the file
        }
    }

    static let chunkBytes = 64 << 10

    /// Everything readable from `fd` (standard input) until its end; a read error ends it like the end.
    public static func readAll(fd: Int32) -> [UInt8] {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: Self.chunkBytes)
        while true {
            let n = chunk.withUnsafeMutableBytes { FileIO.readFully(fd, into: $0).count }
            bytes.append(contentsOf: chunk[0..<n])
            if n < chunk.count { return bytes }  // the end, or an error
        }
    }

    /// At most `count` bytes from the start of the file (fewer when it is shorter); nil when it cannot be
    /// opened or read (a directory, say).
    public static func head(_ path: String, count: Int) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: max(0, count))
        let (filled, error) = bytes.withUnsafeMutableBytes { FileIO.readFully(fd, into: $0) }
        return error == nil ? Array(bytes[0..<filled]) : nil
    }

    /// Creates `path` and the directories above it that are missing (mkdir -p).
    public static func createDirectories(_ path: String) throws(LocalFileError) {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/") {
            prefix += component
            if mkdir(prefix, 0o777) != 0 && errno != EEXIST { throw failure() }
            prefix += "/"
        }
        var st = stat()
        guard stat(path, &st) == 0 else { throw failure() }
        guard st.st_mode & S_IFMT == S_IFDIR else { throw LocalFileError(reason: "not a directory") }
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
        return text.withUTF8 { FileIO.writeAll(fd, UnsafeRawBufferPointer($0)) }
    }
}
