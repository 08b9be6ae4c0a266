// The facts one ELF file gives about how it will load: plain values, safe to pass between threads.
#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// ELF e_machine: an open set. Unknown values survive as their number.
public struct Machine: RawRepresentable, Hashable, Sendable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let i386 = Machine(rawValue: 3)
    public static let mips = Machine(rawValue: 8)
    public static let ppc = Machine(rawValue: 20)
    public static let ppc64 = Machine(rawValue: 21)
    public static let s390 = Machine(rawValue: 22)
    public static let arm = Machine(rawValue: 40)
    public static let x86_64 = Machine(rawValue: 62)
    public static let aarch64 = Machine(rawValue: 183)
    public static let riscv = Machine(rawValue: 243)
    public static let loongarch = Machine(rawValue: 258)

    /// The usual architecture name; class and byte order pick between 32/64-bit and endian variants.
    public func name(is64: Bool, bigEndian: Bool) -> String {
        switch self {
        case .i386: return "i386"
        case .x86_64: return "x86_64"
        case .aarch64: return bigEndian ? "aarch64_be" : "aarch64"
        case .arm: return bigEndian ? "armeb" : "arm"
        case .riscv: return is64 ? "riscv64" : "riscv32"
        case .ppc64: return bigEndian ? "ppc64" : "ppc64le"
        case .ppc: return "ppc"
        case .s390: return is64 ? "s390x" : "s390"
        case .loongarch: return is64 ? "loongarch64" : "loongarch32"
        case .mips: return (is64 ? "mips64" : "mips") + (bigEndian ? "" : "el")
        default: return "unknown-\(rawValue)"
        }
    }
}

/// ELF e_type: an open set.
public struct FileType: RawRepresentable, Hashable, Sendable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public static let rel = FileType(rawValue: 1)
    public static let exec = FileType(rawValue: 2)
    public static let dyn = FileType(rawValue: 3)
    public static let core = FileType(rawValue: 4)

    public var name: String {
        switch rawValue {
        case 1: return "REL"
        case 2: return "EXEC"
        case 3: return "DYN"
        case 4: return "CORE"
        default: return "unknown-\(rawValue)"
        }
    }
}

public enum Linkage: String, Sendable, Codable {
    case dynamic
    case `static`
    case staticPIE = "static-pie"
}

public enum SymbolType: String, Sendable, Codable {
    case notype, object, `func`, section, file, common, tls, ifunc, other

    init(stType: UInt8) {
        switch stType {
        case 0: self = .notype
        case 1: self = .object
        case 2: self = .func
        case 3: self = .section
        case 4: self = .file
        case 5: self = .common
        case 6: self = .tls
        case 10: self = .ifunc
        default: self = .other
        }
    }
}

/// An undefined dynamic symbol: what the file needs someone else to provide.
public struct ImportedSymbol: Hashable, Sendable, Codable {
    public var name: String
    /// The version from .gnu.version_r (`GLIBC_2.14`), nil when unversioned.
    public var version: String?
    /// The library that version belongs to (`libc.so.6`), nil when unversioned.
    public var library: String?
    public var weak: Bool
    public var type: SymbolType
    /// Whether a dynamic relocation names it. musl looks a symbol up only for a relocation (ldso/dynlink.c,
    /// do_relocs), so an import none names can never fail to load. True when that is not known.
    public var referenced: Bool

    public init(
        name: String, version: String? = nil, library: String? = nil, weak: Bool = false, type: SymbolType = .func,
        referenced: Bool = true
    ) {
        self.name = name
        self.version = version
        self.library = library
        self.weak = weak
        self.type = type
        self.referenced = referenced
    }

    // Explicit so that an unversioned import says `"version": null` as the JSON contract shows.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        // Spelled out (not `encode(Optional)`): this runs once per import, the bulk of a large report.
        if let version { try c.encode(version, forKey: .version) } else { try c.encodeNil(forKey: .version) }
        if let library { try c.encode(library, forKey: .library) } else { try c.encodeNil(forKey: .library) }
        try c.encode(weak, forKey: .weak)
        try c.encode(type.rawValue, forKey: .type)
    }
}

public struct VersionNeed: Hashable, Sendable, Codable {
    public var name: String
    public var weak: Bool
    public init(name: String, weak: Bool) {
        self.name = name
        self.weak = weak
    }
}

/// One Verneed entry: the versions this file requires of one library.
public struct VersionRequirement: Hashable, Sendable, Codable {
    public var library: String
    public var versions: [VersionNeed]
    public init(library: String, versions: [VersionNeed]) {
        self.library = library
        self.versions = versions
    }
}

public struct ExportedSymbol: Hashable, Sendable, Codable {
    public var name: String
    public var version: String?
    /// A non-default version (`name@VER`, not `name@@VER`): musl's lookup never binds to it.
    public var hidden: Bool
    /// STT_GNU_IFUNC: musl's lookup never binds to it either.
    public var ifunc: Bool
    public init(name: String, version: String?, hidden: Bool = false, ifunc: Bool = false) {
        self.name = name
        self.version = version
        self.hidden = hidden
        self.ifunc = ifunc
    }
    /// Whether musl's loader can bind another object's import to this symbol.
    public var bindableByMusl: Bool { !hidden && !ifunc }
}

/// NT_GNU_ABI_TAG: written only by glibc toolchains, so it tells static glibc from static musl.
public struct ABITag: Hashable, Sendable, Codable {
    public var os: String
    public var version: String
    public init(os: String, version: String) {
        self.os = os
        self.version = version
    }
}

/// What `.go.buildinfo` says about how a Go binary was built.
public struct GoBuildInfo: Hashable, Sendable, Codable {
    public var goVersion: String
    public var path: String?
    public var cgoEnabled: Bool?
    public var tags: [String]
    /// The `build` lines as KEY=VALUE, in the order the binary lists them.
    public var settings: [String]
    public init(goVersion: String, path: String?, cgoEnabled: Bool?, tags: [String], settings: [String]) {
        self.goVersion = goVersion
        self.path = path
        self.cgoEnabled = cgoEnabled
        self.tags = tags
        self.settings = settings
    }
}

/// Everything the reader learned about one ELF file.
public struct BinaryFacts: Sendable {
    public var is64: Bool
    public var bigEndian: Bool
    public var machine: Machine
    public var type: FileType
    public var osABI: UInt8
    public var entry: UInt64
    public var interpreter: String?
    public var needed: [String] = []
    public var soname: String?
    public var rpath: [String] = []
    public var runpath: [String] = []
    /// DT_FLAGS and DT_FLAGS_1, 0 when absent.
    public var flags: UInt64 = 0
    public var flags1: UInt64 = 0
    public var linkage: Linkage = .static
    /// Undefined dynamic symbols the file imports. Held packed after `packImports()` (and unpacked on the
    /// first use), so that reading them is always right and a caller may keep many facts cheaply.
    public var imports: [ImportedSymbol] {
        get { packedImports?.symbols ?? importList }
        _modify {
            unpackImports()
            yield &importList
        }
    }
    private var importList: [ImportedSymbol] = []
    private var packedImports: PackedSymbols?
    /// Symbols defined in the file itself but filled from a library at load time by COPY relocations
    /// (an executable's references to library data such as `stderr`): the loader must find these too.
    public var copyImports: [ImportedSymbol] = []
    public var versionRequirements: [VersionRequirement] = []
    public var versionDefinitions: [String] = []
    public var exportCount = 0
    /// Filled only when the reader is asked for export names.
    public var exports: [ExportedSymbol]?
    public var abiTag: ABITag?
    public var buildID: String?
    public var goBuildID: String?
    public var comments: [String] = []
    public var goBuildInfo: GoBuildInfo?
    /// For Go binaries: standard-library packages whose use changes behaviour on Alpine
    /// (crypto/tls, time.LoadLocation, os/user), found by name in the binary.
    public var goUses: [String] = []
    /// Built by rustc: its .comment says so, or (for *-linux-gnu programs without one) its runtime strings do.
    public var hasRustRuntime = false
    public var hasIRelative = false
    /// GNU indirect functions this file defines and its own relocations refer to: musl cannot bind them.
    public var referencedIFuncs: [String] = []
    /// A PT_TLS segment: the file has thread-local variables of its own.
    public var hasTLS = false
    /// Initial-exec TLS relocations (TPOFF kind); nil when the file has none.
    public var initialExecTLS: InitialExecTLS?
    /// Defined dynamic symbols that tell what kind of file this is: plugin entry points, Go's cgo runtime,
    /// a C++ runtime linked in. Read only when another fact asks for them (see FactsDecoder.readKindMarkers).
    public var kindMarkers: [String] = []
    /// A separate debug file (objcopy --only-keep-debug, /usr/lib/debug/.build-id/*.debug): its loadable
    /// segments hold no bytes, so it is never loaded; nothing else was read from it.
    public var isSeparateDebugFile = false
    /// PT_GNU_STACK p_flags and p_memsz, when that header exists.
    public var stackFlags: UInt32?
    public var stackSize: UInt64?
    public var hasSectionHeaders = false
    /// Damaged optional parts: the rest was still read, but these facts are incomplete.
    public var gaps: [Gap] = []

    public var arch: String { machine.name(is64: is64, bigEndian: bigEndian) }
    public var isGo: Bool { goBuildInfo != nil || goBuildID != nil }
    public var bindNow: Bool { flags & DynamicFlag.bindNow != 0 || flags1 & DynamicFlag1.now != 0 }
    public var pie: Bool { flags1 & DynamicFlag1.pie != 0 }
    /// DF_STATIC_TLS: the linker saw initial-exec TLS accesses in this object.
    public var staticTLSFlag: Bool { flags & DynamicFlag.staticTLS != 0 }

    /// Keeps `imports` packed (see `PackedSymbols`): for facts that wait, many at once, to be judged.
    public mutating func packImports() {
        guard packedImports == nil else { return }
        packedImports = PackedSymbols(importList)
        importList = []
    }

    /// Unpacks `imports` once before they are read many times (a packed list is decoded on each read).
    public mutating func unpackImports() {
        guard let packed = packedImports else { return }
        importList = packed.symbols
        packedImports = nil
    }

    /// Whether `imports` are held packed.
    public var importsArePacked: Bool { packedImports != nil }

    public init(is64: Bool, bigEndian: Bool, machine: Machine, type: FileType, osABI: UInt8, entry: UInt64) {
        self.is64 = is64
        self.bigEndian = bigEndian
        self.machine = machine
        self.type = type
        self.osABI = osABI
        self.entry = entry
    }
}

/// Initial-exec TLS relocations: musl resolves them only into static TLS (the program, its preloads and the
/// libraries loaded at start) and refuses to dlopen a library whose own ones point into itself.
public struct InitialExecTLS: Hashable, Sendable, Codable {
    /// How many of their targets are in this file's own TLS block: symbol index 0 (counted once), a local
    /// symbol, or a symbol it defines (barring interposition).
    public var own: Int
    /// The named ones among those (index 0 has no name), at most `InitialExecTLS.maxNames`.
    public var ownSymbols: [String]
    /// Undefined symbols such relocations name: another library's TLS, fine while that one loads at start.
    public var external: [String]
    public static let maxNames = 16
    public init(own: Int, ownSymbols: [String], external: [String]) {
        self.own = own
        self.ownSymbols = ownSymbols
        self.external = external
    }
}

/// A damaged part of a readable file, recorded instead of failing the whole file.
public struct Gap: Hashable, Sendable, Codable {
    public enum Part: String, Sendable, Codable {
        case sections, dynamic, symbols, versions, notes, relocations
        case buildInfo = "build-info"
        /// The section headers describe other symbol tables than the dynamic segment the loader reads.
        case sectionsDisagree = "sections-disagree"
    }
    public var part: Part
    public var message: String
    public init(_ part: Part, _ message: String) {
        self.part = part
        self.message = message
    }
}

/// A file's identity on its file system, known for files with more than one hard link.
public struct FileIdentity: Sendable, Hashable {
    public var device: UInt64
    public var inode: UInt64
    public init(device: UInt64, inode: UInt64) {
        self.device = device
        self.inode = inode
    }
}

/// What reading one file gave: facts, "not an ELF file", or a precise error.
public enum ReadResult: Sendable {
    case elf(BinaryFacts)
    case notELF
    case failed(String)
}

public struct ReadOptions: Sendable {
    /// Collect the names of defined dynamic symbols (costly on big libraries; the count is always there).
    public var exportNames: Bool
    /// With `exportNames`: keep only these names. Checked on the raw bytes, so the other names of a large
    /// library cost no allocation.
    public var exportFilter: NameFilter?
    /// When reading must stop: the file is then an error, never a partial read taken as complete.
    public var deadline: Deadline?
    public init(exportNames: Bool = false, exportFilter: NameFilter? = nil, deadline: Deadline? = nil) {
        self.exportNames = exportNames
        self.exportFilter = exportFilter
        self.deadline = deadline
    }
}

/// A time limit on the work for one input (a pathological file must not hold up a batch). Loops over
/// file-controlled counts ask `passed` now and then; the clock is the monotonic one.
public struct Deadline: Sendable {
    public let seconds: Double
    let end: UInt64

    public init(seconds: Double) {
        self.seconds = seconds
        end = Self.now() &+ UInt64(max(0, min(seconds, 1e9)) * 1e9)
    }

    public var passed: Bool { Self.now() >= end }

    /// The error text for a file whose reading was stopped.
    public var message: String {
        "stopped after \(seconds.formatted) s (--max-seconds-per-file): too much work for one file; not judged"
    }

    static func now() -> UInt64 {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return UInt64(t.tv_sec) &* 1_000_000_000 &+ UInt64(t.tv_nsec)
    }
}

extension Double {
    /// 60 rather than 60.0; fractions as given.
    var formatted: String { self == rounded() && abs(self) < 1e15 ? String(Int(self)) : String(self) }
}

/// A set of symbol names tested against raw bytes by hash, confirmed by comparing the name.
public struct NameFilter: Sendable {
    let hashes: Set<UInt64>
    public let names: Set<String>
    /// A bit for each two-byte start a name has: most exports of a large library (C++'s "_Z…") are
    /// turned away by one bit test, before their length is even known.
    let starts: [UInt64]
    public init<S: Sequence>(_ names: S) where S.Element == String {
        self.names = Set(names)
        hashes = Set(
            self.names.map { name in
                name.utf8.withContiguousStorageIfAvailable { Self.hash(UnsafeRawBufferPointer($0)) }
                    ?? Self.hash(Array(name.utf8))
            })
        var bits = [UInt64](repeating: 0, count: 1024)
        for name in self.names {
            let b = Array(name.utf8)
            let key = Int(b.first ?? 0) << 8 | Int(b.count > 1 ? b[1] : 0)
            bits[key >> 6] |= 1 << UInt64(key & 63)
        }
        starts = bits
    }

    /// Whether a name starting with these two bytes (the second 0 for a one-letter name) may be wanted.
    func mightStart(_ first: UInt8, _ second: UInt8) -> Bool {
        let key = Int(first) << 8 | Int(second)
        return starts[key >> 6] & (1 << UInt64(key & 63)) != 0
    }
    /// FNV-1a: cheap and good enough to skip almost every name that is not wanted.
    static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return h
    }
    static func hash(_ bytes: [UInt8]) -> UInt64 { bytes.withUnsafeBytes { hash($0) } }
    func mightContain(_ bytes: UnsafeRawBufferPointer) -> Bool { hashes.contains(Self.hash(bytes)) }
}
