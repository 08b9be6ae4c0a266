// A list of imported symbols held as bytes: what an archive member's facts keep while the rest of its
// archive or image is read (members are judged once all are known, to find libraries among them). An
// `ImportedSymbol` is 56 bytes plus a heap string for a name over 15 bytes; packed, it is its name and two
// bytes, so the facts of thousands of members (a 4 GB image) cost a few MiB, not tens.

/// Imported symbols packed into one byte array; `symbols` gives back exactly what was packed.
public struct PackedSymbols: Sendable, Hashable {
    /// Per symbol: flags, the index of its (version, library) pair + 1 (0: unversioned; LEB128), the
    /// name's length (LEB128), the name's UTF-8 bytes.
    private var bytes: [UInt8] = []
    /// The distinct (version, library) pairs, in order of first use: a file has a few dozen at most.
    private var versions: [VersionRef] = []
    public private(set) var count = 0

    struct VersionRef: Hashable, Sendable {
        var version: String?
        var library: String?
    }

    private static let weakBit: UInt8 = 1
    private static let referencedBit: UInt8 = 2
    private static let typeShift: UInt8 = 2
    /// Symbol types in a fixed order (the flag byte stores the position).
    private static let types: [SymbolType] = [.notype, .object, .func, .section, .file, .common, .tls, .ifunc, .other]

    public init(_ symbols: [ImportedSymbol]) {
        var index: [VersionRef: Int] = [:]
        for symbol in symbols {
            let type = UInt8(Self.types.firstIndex(of: symbol.type) ?? Self.types.count - 1)
            bytes.append(
                type << Self.typeShift | (symbol.weak ? Self.weakBit : 0) | (symbol.referenced ? Self.referencedBit : 0)
            )
            var reference = 0
            if symbol.version != nil || symbol.library != nil {
                let ref = VersionRef(version: symbol.version, library: symbol.library)
                if let known = index[ref] {
                    reference = known + 1
                } else {
                    index[ref] = versions.count
                    versions.append(ref)
                    reference = versions.count
                }
            }
            Self.appendLEB(reference, to: &bytes)
            var name = symbol.name
            name.withUTF8 { utf8 in
                Self.appendLEB(utf8.count, to: &bytes)
                bytes.append(contentsOf: utf8)
            }
        }
        count = symbols.count
        bytes = Array(bytes[...])  // exact capacity: appending left up to half of it unused
    }

    /// The symbols, as they were packed.
    public var symbols: [ImportedSymbol] {
        var out: [ImportedSymbol] = []
        out.reserveCapacity(count)
        var at = 0
        // Every field was written by `init`, so each read succeeds; a short read ends the list all the same.
        while out.count < count, at < bytes.count {
            let flags = bytes[at]
            at += 1
            guard let reference = Self.readLEB(bytes, &at), let length = Self.readLEB(bytes, &at),
                length <= bytes.count - at
            else { break }
            let name = String(decoding: bytes[at..<(at + length)], as: UTF8.self)
            at += length
            let typeIndex = Int(flags >> Self.typeShift)
            let ref = reference > 0 && reference <= versions.count ? versions[reference - 1] : nil
            out.append(
                ImportedSymbol(
                    name: name, version: ref?.version, library: ref?.library, weak: flags & Self.weakBit != 0,
                    type: typeIndex < Self.types.count ? Self.types[typeIndex] : .other,
                    referenced: flags & Self.referencedBit != 0))
        }
        return out
    }

    /// Bytes held (for the memory accounting in tests).
    public var byteCount: Int { bytes.count }

    private static func appendLEB(_ value: Int, to bytes: inout [UInt8]) {
        var v = UInt(value)
        repeat {
            let low = UInt8(v & 0x7F)
            v >>= 7
            bytes.append(v == 0 ? low : low | 0x80)
        } while v != 0
    }

    private static func readLEB(_ bytes: [UInt8], _ at: inout Int) -> Int? {
        var value = 0
        var shift = 0
        while at < bytes.count, shift < 63 {
            let byte = bytes[at]
            at += 1
            value |= Int(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
        }
        return nil
    }
}
