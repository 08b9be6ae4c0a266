// Edits a copy of a little-endian ELF64 fixture the way a hostile or unusual file would differ: section
// headers that say one thing while the dynamic segment says another, tables appended and mapped, many
// program headers. Tests build their inputs with it instead of committing more binaries.

public struct ELFImage {
    public var bytes: [UInt8]
    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public func u(_ at: Int, _ n: Int) -> Int { (0..<n).reduce(0) { $0 | Int(bytes[at + $1]) << (8 * $1) } }
    public mutating func put(_ at: Int, _ value: Int, _ n: Int = 8) {
        for i in 0..<n { bytes[at + i] = UInt8(truncatingIfNeeded: value >> (8 * i)) }
    }

    public var phoff: Int { u(0x20, 8) }
    public var phentsize: Int { u(0x36, 2) }
    public var phnum: Int { u(0x38, 2) }
    public var shoff: Int { u(0x28, 8) }
    public var shentsize: Int { u(0x3A, 2) }
    public var shnum: Int { u(0x3C, 2) }

    /// Offsets of the program headers of one type (PT_LOAD 1, PT_DYNAMIC 2, PT_NOTE 4).
    public func programHeaders(type: Int) -> [Int] {
        (0..<phnum).map { phoff + $0 * phentsize }.filter { u($0, 4) == type }
    }

    /// Offset of the first section header of one type (SHT_STRTAB 3, SHT_DYNSYM 11).
    public func sectionHeader(type: Int) -> Int? {
        (0..<shnum).map { shoff + $0 * shentsize }.first { u($0 + 4, 4) == type }
    }

    /// Offset of the section header .dynsym links to (its string table).
    public var dynstrHeader: Int? {
        guard let dynsym = sectionHeader(type: 11) else { return nil }
        return shoff + u(dynsym + 0x28, 4) * shentsize
    }

    /// The file offset of a virtual address inside a PT_LOAD.
    public func fileOffset(ofAddress address: Int) -> Int? {
        for ph in programHeaders(type: 1) {
            let vaddr = u(ph + 0x10, 8)
            let filesz = u(ph + 0x20, 8)
            if address >= vaddr && address < vaddr + filesz { return u(ph + 8, 8) + address - vaddr }
        }
        return nil
    }

    /// Offset of the dynamic entry with this tag.
    public func dynamicEntry(_ tag: Int) -> Int? {
        guard let ph = programHeaders(type: 2).first else { return nil }
        let start = u(ph + 8, 8)
        let size = u(ph + 0x20, 8)
        return stride(from: start, to: start + size, by: 16).first { u($0, 8) == tag }
    }

    public func dynamic(_ tag: Int) -> Int? { dynamicEntry(tag).map { u($0 + 8, 8) } }

    /// Sets the value of an existing dynamic entry (and, with `newTag`, its tag).
    public mutating func setDynamic(_ tag: Int, _ value: Int, newTag: Int? = nil) {
        guard let at = dynamicEntry(tag) else { return }
        if let newTag { put(at, newTag) }
        put(at + 8, value)
    }

    /// Appends `data` at the end of the file, 8-aligned, inside the last PT_LOAD (grown to cover it, as if
    /// the linker had put it there); returns its virtual address.
    public mutating func appendLoaded(_ data: [UInt8]) -> Int {
        while bytes.count % 8 != 0 { bytes.append(0) }
        let offset = bytes.count
        bytes += data
        guard let last = programHeaders(type: 1).max(by: { u($0 + 8, 8) < u($1 + 8, 8) }) else { return 0 }
        let pOffset = u(last + 8, 8)
        let vaddr = u(last + 0x10, 8)
        let size = bytes.count - pOffset
        put(last + 0x20, size)
        put(last + 0x28, max(size, u(last + 0x28, 8)))
        return vaddr + offset - pOffset
    }
}
