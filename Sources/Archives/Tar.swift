// tar (ustar, GNU long names, pax paths) and ar (.deb) read from memory. Every size comes from the file,
// so each is checked against what is really there.

struct ArchiveEntry {
    enum Kind { case file, directory, symlink, hardlink, other }
    var path: String
    var kind: Kind
    var data: ArraySlice<UInt8>
    var linkTarget: String = ""
}

enum Tar {
    /// Whether the bytes start with a tar header (ustar magic, or a valid old-style checksum).
    static func looksLikeTar(_ b: [UInt8]) -> Bool {
        guard b.count >= 512 else { return false }
        if b[257..<262].elementsEqual("ustar".utf8) { return true }
        guard let stored = octal(b[148..<156]) else { return false }
        var sum = 0
        for i in 0..<512 { sum += (148..<156).contains(i) ? 32 : Int(b[i]) }
        return sum == stored && b[0] != 0
    }

    static func entries(_ b: [UInt8], maxEntries: Int) throws -> [ArchiveEntry] {
        var out: [ArchiveEntry] = []
        var at = 0
        var longName: String?
        var paxPath: String?
        var zeroBlocks = 0
        while at + 512 <= b.count {
            let header = b[at..<(at + 512)]
            if header.allSatisfy({ $0 == 0 }) {
                // Two zero blocks end an archive; Alpine's .apk concatenates several, so keep looking.
                zeroBlocks += 1
                at += 512
                continue
            }
            zeroBlocks = 0
            guard out.count < maxEntries else { throw ArchiveError("more than \(maxEntries) tar entries") }
            guard let size = number(b[(at + 124)..<(at + 136)]) else { throw ArchiveError("tar header at offset \(at) has a bad size field") }
            let type = b[at + 156]
            let dataStart = at + 512
            guard size >= 0, size <= b.count - dataStart else {
                throw ArchiveError("tar entry at offset \(at) claims \(size) bytes but the archive ends \(b.count - dataStart) bytes later")
            }
            let data = b[dataStart..<(dataStart + size)]
            let h = at  // this entry's header
            at = dataStart + ((size + 511) / 512) * 512
            switch type {
            case UInt8(ascii: "L"): longName = cString(data); continue
            case UInt8(ascii: "x"): paxPath = paxValue(data, key: "path"); continue
            case UInt8(ascii: "g"): continue
            default: break
            }
            var name = cString(b[h..<(h + 100)])
            let prefix = cString(b[(h + 345)..<(h + 500)])
            if b[(h + 257)..<(h + 262)].elementsEqual("ustar".utf8), !prefix.isEmpty { name = prefix + "/" + name }
            if let p = paxPath ?? longName { name = p }
            paxPath = nil; longName = nil
            let kind: ArchiveEntry.Kind
            switch type {
            case 0, UInt8(ascii: "0"), UInt8(ascii: "7"): kind = .file
            case UInt8(ascii: "5"): kind = .directory
            case UInt8(ascii: "2"): kind = .symlink
            case UInt8(ascii: "1"): kind = .hardlink
            default: kind = .other
            }
            let link = cString(b[(h + 157)..<(h + 257)])
            out.append(ArchiveEntry(path: normalize(name), kind: kind, data: kind == .file ? data : [], linkTarget: link))
        }
        return out
    }

    static func normalize(_ name: String) -> String {
        var n = Substring(name)
        while n.hasPrefix("./") { n = n.dropFirst(2) }
        while n.hasPrefix("/") { n = n.dropFirst() }
        return String(n)
    }

    static func cString(_ s: ArraySlice<UInt8>) -> String {
        String(decoding: s.prefix { $0 != 0 }, as: UTF8.self)
    }

    /// Whether the first 262 bytes of something (ustar's magic ends there) leave it possible that it is a
    /// tar header, so that the other 250 need decompressing: the magic is there, or the checksum field
    /// holds a value the 512-byte sum could still reach. Exact: never false for a header `looksLikeTar` takes.
    static func couldBeHeader(_ b: [UInt8]) -> Bool {
        guard b.count >= 262, b[0] != 0 else { return false }
        if b[257..<262].elementsEqual("ustar".utf8) { return true }
        guard let stored = octal(b[148..<156]) else { return false }
        var partial = 0
        for i in 0..<262 { partial += (148..<156).contains(i) ? 32 : Int(b[i]) }
        return stored >= partial && stored <= partial + 250 * 255
    }

    static func octal(_ s: ArraySlice<UInt8>) -> Int? {
        // Leading spaces, then octal digits up to a NUL or space (asked of every file's first block).
        var value = 0, digits = 0, started = false
        for byte in s {
            if byte == UInt8(ascii: " ") { if started { break } else { continue } }
            if byte == 0 { break }
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "7"), digits < 21 else { return nil }
            started = true
            value = value << 3 | Int(byte - UInt8(ascii: "0"))
            digits += 1
        }
        return value
    }

    /// Octal, or GNU base-256 (high bit set) for large sizes.
    static func number(_ s: ArraySlice<UInt8>) -> Int? {
        guard let first = s.first else { return nil }
        if first & 0x80 != 0 {
            var value = 0
            for (i, byte) in s.enumerated() {
                let b = i == 0 ? Int(byte & 0x7f) : Int(byte)
                guard value <= (Int.max >> 8) else { return nil }
                value = (value << 8) | b
            }
            return value
        }
        return octal(s.drop { $0 == UInt8(ascii: " ") })
    }

    static func paxValue(_ data: ArraySlice<UInt8>, key: String) -> String? {
        for record in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            guard let space = record.firstIndex(of: " ") else { continue }
            let kv = record[record.index(after: space)...]
            if kv.hasPrefix(key + "=") { return String(kv.dropFirst(key.count + 1)) }
        }
        return nil
    }
}

enum Ar {
    static func looksLikeAr(_ b: [UInt8]) -> Bool { b.count >= 8 && b[0..<8].elementsEqual("!<arch>\n".utf8) }

    static func entries(_ b: [UInt8], maxEntries: Int) throws -> [ArchiveEntry] {
        var out: [ArchiveEntry] = []
        var at = 8
        while at + 60 <= b.count {
            guard out.count < maxEntries else { throw ArchiveError("more than \(maxEntries) ar members") }
            let name = String(decoding: b[at..<(at + 16)], as: UTF8.self).trimmingSpaces().replacingSlash()
            guard let size = Int(String(decoding: b[(at + 48)..<(at + 58)], as: UTF8.self).trimmingSpaces()),
                  size >= 0, size <= b.count - (at + 60) else {
                throw ArchiveError("ar member header at offset \(at) has a bad size")
            }
            out.append(ArchiveEntry(path: name, kind: .file, data: b[(at + 60)..<(at + 60 + size)]))
            at += 60 + size + (size % 2)
        }
        return out
    }
}

extension String {
    func trimmingSpaces() -> String {
        String(self.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
    func replacingSlash() -> String { hasSuffix("/") ? String(dropLast()) : self }
}
