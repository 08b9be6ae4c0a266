// ELF numbers the reader uses, named as in the System V gABI and the GNU extensions (glibc's elf.h).
// Per-architecture relocation numbers are in Relocations.swift.

/// Dynamic section tags (d_tag).
enum DynamicTag {
    static let null: Int64 = 0
    static let needed: Int64 = 1
    static let pltRelSize: Int64 = 2
    static let hash: Int64 = 4
    static let strtab: Int64 = 5
    static let symtab: Int64 = 6
    static let rela: Int64 = 7
    static let relaSize: Int64 = 8
    static let strSize: Int64 = 10
    static let soname: Int64 = 14
    static let rpath: Int64 = 15
    static let rel: Int64 = 17
    static let relSize: Int64 = 18
    static let pltRel: Int64 = 20
    static let jmpRel: Int64 = 23
    static let runpath: Int64 = 29
    static let flags: Int64 = 30
    static let gnuHash: Int64 = 0x6fff_fef5
    static let versym: Int64 = 0x6fff_fff0
    static let relaCount: Int64 = 0x6fff_fff9
    static let relCount: Int64 = 0x6fff_fffa
    static let flags1: Int64 = 0x6fff_fffb
    static let verdef: Int64 = 0x6fff_fffc
    static let verdefNum: Int64 = 0x6fff_fffd
    static let verneed: Int64 = 0x6fff_fffe
    static let verneedNum: Int64 = 0x6fff_ffff
}

/// DT_FLAGS bits.
enum DynamicFlag {
    static let bindNow: UInt64 = 0x8
    /// Set by the linker when the object has initial-exec (static TLS model) relocations.
    static let staticTLS: UInt64 = 0x10
}

/// DT_FLAGS_1 bits.
enum DynamicFlag1 {
    static let now: UInt64 = 0x1
    static let pie: UInt64 = 0x0800_0000
}

/// Program header types (p_type).
enum SegmentType {
    static let load: UInt32 = 1
    static let dynamic: UInt32 = 2
    static let interp: UInt32 = 3
    static let note: UInt32 = 4
    static let tls: UInt32 = 7
    static let gnuStack: UInt32 = 0x6474_e551
}

/// Program header flags (p_flags).
enum SegmentFlag {
    static let execute: UInt32 = 0x1
    static let write: UInt32 = 0x2
}

/// Section header types (sh_type).
enum SectionType {
    static let strtab: UInt32 = 3
    static let rela: UInt32 = 4
    static let dynamic: UInt32 = 6
    static let note: UInt32 = 7
    static let nobits: UInt32 = 8
    static let rel: UInt32 = 9
    static let dynsym: UInt32 = 11
    static let gnuVerdef: UInt32 = 0x6fff_fffd
    static let gnuVerneed: UInt32 = 0x6fff_fffe
    static let gnuVersym: UInt32 = 0x6fff_ffff
}

/// Section header flags (sh_flags).
enum SectionFlag {
    static let alloc: UInt64 = 0x2
}

/// Symbol binding (st_info >> 4), type (st_info & 0xf) and special section indexes.
enum SymbolBinding {
    static let local: UInt8 = 0
    static let global: UInt8 = 1
    static let weak: UInt8 = 2
}

enum SymbolKind {
    static let tls: UInt8 = 6
    static let gnuIFunc: UInt8 = 10
}

enum SectionIndex {
    static let undefined: UInt16 = 0
}
