// ELF numbers the reader uses, named as in the System V gABI and the GNU extensions (glibc's elf.h).
// Per-architecture relocation numbers are in Relocations.swift.

/// The identification's first four bytes (ELFMAG): 0x7f 'E' 'L' 'F'.
enum ELFMagic {
    static let bytes: [UInt8] = [0x7F, 0x45, 0x4C, 0x46]
}

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

/// Dynamic entry (Elf32_Dyn / Elf64_Dyn): d_tag then d_val, each one address-sized word.
enum DynamicEntry {
    static func size(is64: Bool) -> Int { is64 ? 16 : 8 }
}

/// Where the fields of a symbol table entry lie: Elf32_Sym and Elf64_Sym order them differently
/// (st_name is first in both).
struct SymbolLayout {
    let size: Int
    let info: Int
    let shndx: Int

    static let elf32 = SymbolLayout(size: 16, info: 12, shndx: 14)
    static let elf64 = SymbolLayout(size: 24, info: 4, shndx: 6)
    static func of(is64: Bool) -> SymbolLayout { is64 ? elf64 : elf32 }

    /// ELF_ST_BIND and ELF_ST_TYPE: st_info holds the binding in its high nibble, the type in its low one.
    static func binding(_ info: UInt8) -> UInt8 { info >> 4 }
    static func kind(_ info: UInt8) -> UInt8 { info & 0xf }
}

/// Relocation entries (Elf_Rel, Elf_Rela): r_offset, r_info[, r_addend], each an address-sized word.
enum RelocationEntry {
    static func size(is64: Bool, rela: Bool) -> Int { (is64 ? 8 : 4) * (rela ? 3 : 2) }
    /// r_info follows r_offset.
    static func infoOffset(is64: Bool) -> Int { is64 ? 8 : 4 }
    /// ELF64_R_TYPE / ELF32_R_TYPE.
    static func type(_ info: UInt64, is64: Bool) -> UInt32 {
        is64 ? UInt32(truncatingIfNeeded: info) : UInt32(info & 0xff)
    }
    /// ELF64_R_SYM / ELF32_R_SYM.
    static func symbol(_ info: UInt64, is64: Bool) -> Int { Int(is64 ? info >> 32 : info >> 8) }
}

/// Entries of .gnu.version (Elf_Versym): a version index with the hidden bit on top.
enum VersionSymbol {
    /// VERSYM_HIDDEN: the symbol is not the default version of its name.
    static let hidden: UInt16 = 0x8000
    /// VERSYM_VERSION: the index into the version needs and definitions.
    static let indexMask: UInt16 = 0x7fff
    static let size = 2
}

/// Version indexes with a fixed meaning (VER_NDX_*); needs and definitions number theirs from 2 on.
enum VersionIndex {
    static let local = 0
    static let global = 1
}

/// vna_flags and vd_flags bits.
enum VersionFlag {
    /// VER_FLG_BASE: the definition that names the file itself, not a version.
    static let base: UInt16 = 0x1
    /// VER_FLG_WEAK: a weak version reference.
    static let weak: UInt16 = 0x2
}

/// Elf_Verneed (.gnu.version_r): vn_version, vn_cnt, vn_file, vn_aux, vn_next.
enum VerneedLayout {
    static let size = 16
    static let count = 2
    static let file = 4
    static let aux = 8
    static let next = 12
}

/// Elf_Vernaux: vna_hash, vna_flags, vna_other (the version index), vna_name, vna_next.
enum VernauxLayout {
    static let size = 16
    static let flags = 4
    static let other = 6
    static let name = 8
    static let next = 12
}

/// Elf_Verdef (.gnu.version_d): vd_version, vd_flags, vd_ndx, vd_cnt, vd_hash, vd_aux, vd_next.
enum VerdefLayout {
    static let size = 20
    static let flags = 2
    static let index = 4
    static let aux = 12
    static let next = 16
}

/// Elf_Verdaux: vda_name, vda_next.
enum VerdauxLayout {
    static let size = 8
    static let name = 0
}

/// Note header (Elf_Nhdr): n_namesz, n_descsz, n_type, then the name and the descriptor, each padded to 4.
enum NoteLayout {
    static let headerSize = 12
    static let descriptorSize = 4
    static let type = 8
    static let alignment = 4
}

/// Note types (n_type) of the owners the reader knows.
enum NoteType {
    /// "GNU" NT_GNU_ABI_TAG: OS and minimum kernel version, four words.
    static let gnuABITag: UInt32 = 1
    static let gnuBuildID: UInt32 = 3
    /// "Go" note 4: the Go build ID (ELF_NOTE_GOBUILDID_TAG in Go's cmd/link).
    static let goBuildID: UInt32 = 4
    /// NT_GNU_ABI_TAG's OS word (ELF_NOTE_OS_LINUX, _GNU, _SOLARIS2, _FREEBSD), as names.
    static let abiTagOSNames = ["Linux", "GNU", "Solaris2", "FreeBSD"]
}

/// DT_HASH (nbucket, nchain, ...) and DT_GNU_HASH (nbuckets, symoffset, bloom_size, bloom_shift, ...).
enum HashLayout {
    static let sysvChainCount = 4
    static let sysvHeaderSize = 8
    static let gnuSymbolOffset = 4
    static let gnuBloomSize = 8
    static let gnuHeaderSize = 16
}
