// Reads and writes on file descriptors that retry what a signal interrupted (EINTR) and go on until the
// buffer is full or the file ends: the one place such loops are written.
#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

package enum FileIO {
    /// Reads into `buffer` from `fd`, at `offset` (pread) or at the current position (nil: read), until the
    /// buffer is full or the file ends. `count` is what was read; `error` the errno of a failed read, after
    /// which nothing more was read.
    package static func readFully(
        _ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: Int? = nil
    ) -> (count: Int, error: Int32?) {
        guard let base = buffer.baseAddress else { return (0, nil) }
        var done = 0
        while done < buffer.count {
            let n: Int
            if let offset {
                n = pread(fd, base + done, buffer.count - done, off_t(offset + done))
            } else {
                n = read(fd, base + done, buffer.count - done)
            }
            if n < 0 {
                if errno == EINTR { continue }
                return (done, errno)
            }
            if n == 0 { break }
            done += n
        }
        return (done, nil)
    }

    /// Writes all of `bytes` to `fd`; false when a write fails (errno says why) or writes nothing.
    package static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let base = bytes.baseAddress else { return true }
        var done = 0
        while done < bytes.count {
            let n = write(fd, base + done, bytes.count - done)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return false }
            done += n
        }
        return true
    }
}
