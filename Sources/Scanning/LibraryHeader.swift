// The first bytes of an ELF file that decide whether musl can map it for a binary.
import Assessment
import ELF
import Synchronization
import TextSupport
#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
#if canImport(Glibc)
    import Glibc
#endif

/// What decides whether musl can map a library for a binary: ELF class, data encoding and machine.
public struct Header: Sendable, Hashable {
    public var is64: Bool
    public var bigEndian: Bool
    public var machine: UInt16

    public init(is64: Bool, bigEndian: Bool, machine: UInt16) {
        self.is64 = is64
        self.bigEndian = bigEndian
        self.machine = machine
    }
    public init(_ facts: BinaryFacts) {
        self.init(is64: facts.is64, bigEndian: facts.bigEndian, machine: facts.machine.rawValue)
    }

    public var name: String { Machine(rawValue: machine).name(is64: is64, bigEndian: bigEndian) }

    static let identSize = 20  // e_ident (16 bytes), e_type (2), e_machine (2)

    /// The header of the file at `path`; nil when it is not an ELF file or cannot be read.
    static func read(_ path: String) -> Header? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: identSize)
        let n = bytes.withUnsafeMutableBytes { raw in raw.baseAddress.map { pread(fd, $0, identSize, 0) } ?? -1 }
        guard n == identSize else { return nil }
        return parse(bytes)
    }

    /// The header in a file's first 20 bytes; nil when they are not an ELF header.
    public static func parse(_ b: some Collection<UInt8>) -> Header? {
        let b = Array(b.prefix(identSize))
        guard b.count == identSize, b[0] == 0x7F, b[1] == 0x45, b[2] == 0x4C, b[3] == 0x46,
            b[4] == 1 || b[4] == 2, b[5] == 1 || b[5] == 2
        else { return nil }
        let big = b[5] == 2
        let machine = big ? UInt16(b[18]) << 8 | UInt16(b[19]) : UInt16(b[19]) << 8 | UInt16(b[18])
        return Header(is64: b[4] == 2, bigEndian: big, machine: machine)
    }
}
