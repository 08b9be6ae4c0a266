// The one helper for reads and writes: full buffers across short reads, the end of a file, and errors.
import FileIO
import Foundation
import Testing

@Suite struct FileIOTests {
    /// A pipe delivers what another thread writes a few bytes at a time: one call reads it all.
    @Test func readsUntilTheBufferIsFullAcrossShortReads() throws {
        var ends: [Int32] = [0, 0]
        #expect(pipe(&ends) == 0)
        let (reader, writer) = (ends[0], ends[1])
        let message = Array((0..<10_000).map { UInt8(truncatingIfNeeded: $0) })
        let thread = Thread {
            var at = 0
            while at < message.count {
                let piece = Array(message[at..<min(message.count, at + 333)])
                _ = piece.withUnsafeBytes { FileIO.writeAll(writer, $0) }
                at += piece.count
                usleep(100)
            }
            close(writer)
        }
        thread.start()
        var buffer = [UInt8](repeating: 0, count: message.count + 100)
        let (count, error) = buffer.withUnsafeMutableBytes { FileIO.readFully(reader, into: $0) }
        close(reader)
        #expect(error == nil)
        #expect(count == message.count, "stops at the end of the file, not at the first short read")
        #expect(Array(buffer[0..<count]) == message)
    }

    @Test func readsAtAnOffsetAndReportsErrors() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("fileio-\(UUID().uuidString)")
        try Data("0123456789".utf8).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let fd = open(url.path, O_RDONLY)
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 4)
        let (count, error) = buffer.withUnsafeMutableBytes { FileIO.readFully(fd, into: $0, at: 7) }
        #expect(error == nil && count == 3 && String(decoding: buffer[0..<3], as: UTF8.self) == "789")
        let bad = buffer.withUnsafeMutableBytes { FileIO.readFully(-1, into: $0) }
        #expect(bad.count == 0 && bad.error == EBADF)
        #expect([UInt8]("x".utf8).withUnsafeBytes { FileIO.writeAll(-1, $0) } == false)
    }
}
