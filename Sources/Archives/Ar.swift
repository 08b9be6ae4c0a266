// ar archives (Debian packages) read as a stream: each member is a window on it.

enum Ar {
    static func looksLikeAr(_ b: [UInt8]) -> Bool { b.count >= 8 && b[0..<8].elementsEqual("!<arch>\n".utf8) }
}

final class ArReader {
    let source: ByteSource
    let maxEntries: Int
    private var count = 0
    private var offset = 8
    private var current: Window?
    private var padding = 0

    /// `source` is past the 8-byte magic.
    init(_ source: ByteSource, maxEntries: Int) {
        self.source = source
        self.maxEntries = maxEntries
    }

    func next() throws -> (name: String, size: Int, data: ByteSource)? {
        if let window = current {
            try window.finish()
            _ = try source.skip(padding)
            current = nil
        }
        let header = try source.read(upTo: 60)
        if header.isEmpty { return nil }
        guard header.count == 60 else {
            throw ArchiveError("ar archive ends inside the member header at offset \(offset)")
        }
        count += 1
        guard count <= maxEntries else { throw ArchiveError("more than \(maxEntries) ar members") }
        let name = String(decoding: header[0..<16], as: UTF8.self).trimmingSpaces().droppingTrailingSlash()
        guard let size = Int(String(decoding: header[48..<58], as: UTF8.self).trimmingSpaces()), size >= 0,
            size <= TarReader.maxMemberSize
        else {
            throw ArchiveError("ar member header at offset \(offset) has a bad size")
        }
        let window = Window(source, length: size)
        current = window
        padding = size % 2
        offset += 60 + size + padding
        return (name, size, window)
    }
}

extension String {
    func trimmingSpaces() -> String {
        String(self.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
    func droppingTrailingSlash() -> String { hasSuffix("/") ? String(dropLast()) : self }
}
