// A result cache entry and its file format: a compact binary record (a run over /usr reads thousands;
// Foundation's JSON decoder spent a quarter of a warm run on them). Reading is bounds-checked: a damaged
// or cut entry decodes to nil and is ignored.
import Assessment
import ELF
import Knowledge
import Reporting

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

struct Watched: Sendable {
    var path: String
    /// nil: the path did not exist (a library that appears there later changes the verdict).
    var stamp: Stamp?
}

struct CacheEntry: Sendable {
    var tool: String
    var knowledgeBase: String
    var environment: String
    var path: String
    var kind: String
    var stamp: Stamp
    var layoutIndex: String?
    var watched: [Watched]
    var skipped: Int
    var hardLinked: Bool
    var owns: [StoredOwn]

    /// 2: results keep their kind (scripts, entrypoints) and findings their line and column.
    /// 3: an archive member's libraries are found through the archive's links (entries of 2 said "not found"),
    /// and a fix keeps its offer of glibc beside musl (entries of 2 lost it).
    /// 4: inside an archive, a member of a library's name that is not ELF (or could not be read) ends musl's
    /// search there (entries of 3 looked past it and could say "runs"); each result keeps whether it is a file
    /// of the C library and whether it is listed (entries of 3 listed every C library file they held).
    /// 5: each result keeps the names its own search found down the chain of what it loads, and an archive
    /// member's libraries are searched with its requesters' RPATH/RUNPATH (entries of 4 blamed a library's
    /// own lookup of a name the program finds).
    static let magic: [UInt8] = Array("muslcheck cache entry 5\n".utf8)

    func encoded() -> Data {
        var w = EntryWriter()
        w.bytes += Self.magic
        for text in [tool, knowledgeBase, environment, path, kind] { w.string(text) }
        w.stamp(stamp)
        w.optional(layoutIndex) { $0.string($1) }
        w.count(watched.count)
        for x in watched {
            w.string(x.path)
            w.optional(x.stamp) { $0.stamp($1) }
        }
        w.count(skipped)
        w.bool(hardLinked)
        w.count(owns.count)
        for own in owns { w.own(own) }
        return Data(w.bytes)
    }

    static func decode(_ data: Data) -> CacheEntry? {
        data.withUnsafeBytes { raw -> CacheEntry? in
            var r = EntryReader(raw: raw)
            guard r.take(magic.count).map(Array.init) == magic,
                let tool = r.string(), let knowledgeBase = r.string(), let environment = r.string(),
                let path = r.string(),
                let kind = r.string(), let stamp = r.stamp(), let layoutIndex = r.optional({ $0.string() }),
                let watched = r.array({ r in
                    r.string().flatMap { path in r.optional({ $0.stamp() }).map { Watched(path: path, stamp: $0) } }
                }),
                let skipped = r.count(), let hardLinked = r.bool(), let owns = r.array({ $0.own() }), r.atEnd
            else { return nil }
            return CacheEntry(
                tool: tool, knowledgeBase: knowledgeBase, environment: environment, path: path, kind: kind,
                stamp: stamp,
                layoutIndex: layoutIndex, watched: watched, skipped: skipped, hardLinked: hardLinked, owns: owns)
        }
    }
}

/// One file's own result as the engine holds it before the folding, with everything the folding uses.
struct StoredOwn: Sendable {
    var result: CheckResult
    var libraries: [String]
    var loaded: [String] = []
    var inArchive: Bool
    var cLibrary = false
    var listed = true

    init(_ own: CheckEngine.Own) {
        result = own.result
        libraries = own.libraries
        loaded = own.loaded
        inArchive = own.inArchive
        cLibrary = own.cLibrary
        listed = own.listed
    }
    init(
        result: CheckResult, libraries: [String], loaded: [String] = [], inArchive: Bool, cLibrary: Bool = false,
        listed: Bool = true
    ) {
        self.result = result
        self.libraries = libraries
        self.loaded = loaded
        self.inArchive = inArchive
        self.cLibrary = cLibrary
        self.listed = listed
    }

    var own: CheckEngine.Own {
        CheckEngine.Own(
            result: result, libraries: libraries, loaded: loaded, inArchive: inArchive, cLibrary: cLibrary,
            listed: listed)
    }
}

/// Numbers as LEB128 varints, strings as a length and UTF-8 bytes, optionals behind a 0/1 byte.
struct EntryWriter {
    var bytes: [UInt8] = []

    mutating func count(_ n: Int) { varint(UInt64(max(0, n))) }
    mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }
    mutating func signed(_ value: Int64) { varint(UInt64(bitPattern: value)) }
    mutating func bool(_ b: Bool) { bytes.append(b ? 1 : 0) }
    mutating func string(_ s: String) {
        count(s.utf8.count)
        bytes += s.utf8
    }
    mutating func strings(_ list: [String]) {
        count(list.count)
        for s in list { string(s) }
    }
    mutating func optional<T>(_ value: T?, _ write: (inout EntryWriter, T) -> Void) {
        guard let value else {
            bytes.append(0)
            return
        }
        bytes.append(1)
        write(&self, value)
    }
    mutating func stamp(_ s: Stamp) {
        varint(s.device)
        varint(s.inode)
        signed(s.size)
        signed(s.modified)
        signed(s.modifiedNanoseconds)
        signed(s.changed)
        signed(s.changedNanoseconds)
    }

    mutating func own(_ o: StoredOwn) {
        let r = o.result
        string(r.path)
        string(r.status.rawValue)
        optional(r.error) { $0.string($1) }
        optional(r.sameAs) { $0.string($1) }
        optional(r.interpreter) { $0.string($1) }
        strings(r.needed)
        strings(o.libraries)
        strings(o.loaded)
        bool(o.inArchive)
        bool(o.cLibrary)
        bool(o.listed)
        optional(r.kind) { $0.string($1) }
        optional(r.assessment) { $0.assessment($1) }
    }

    mutating func assessment(_ a: Assessment) {
        string(a.verdict.rawValue)
        optional(a.ownVerdict) { $0.string($1.rawValue) }
        string(a.libc.rawValue)
        string(a.linkage.rawValue)
        string(a.arch)
        count(a.missingSymbols.count)
        for m in a.missingSymbols {
            string(m.name)
            for part in [m.version, m.providedBy, m.note, m.firstMusl] { optional(part) { $0.string($1) } }
        }
        count(a.missingLibraries.count)
        for m in a.missingLibraries {
            string(m.soname)
            optional(m.package) { $0.string($1) }
            optional(m.foundAt) { $0.string($1) }
            string(m.reason)
        }
        strings(a.packages)
        optional(a.minimumGlibc) { $0.string($1) }
        count(a.findings.count)
        for f in a.findings {
            string(f.rule.rawValue)
            string(f.severity.rawValue)
            string(f.message)
            strings(f.symbols)
            strings(f.libraries)
            optional(f.line) { $0.count($1) }
            optional(f.column) { $0.count($1) }
        }
        optional(a.language) { $0.string($1.rawValue) }
        optional(a.unassessable) { $0.string($1) }
        optional(a.fix.map(StoredFix.init)) { w, f in
            w.optional(f.apk) { $0.string($1) }
            w.optional(f.rebuild) { $0.string($1) }
            w.string(f.dockerfile)
            w.string(f.app)
            w.string(f.dir)
            w.optional(f.goImage) { $0.string($1) }
            // Rare and rich (caveats, sources): kept as its JSON.
            let beside = f.glibcBesideMusl.flatMap { try? JSONEncoder().encode($0) }
            w.optional(beside.map { String(decoding: $0, as: UTF8.self) }) { $0.string($1) }
        }
    }
}

/// The reading side; every read checks what is left, and every count is bounded by the bytes left.
struct EntryReader {
    let raw: UnsafeRawBufferPointer
    var at = 0

    var atEnd: Bool { at == raw.count }

    mutating func take(_ n: Int) -> UnsafeRawBufferPointer.SubSequence? {
        guard n >= 0, n <= raw.count - at else { return nil }
        defer { at += n }
        return raw[at..<(at + n)]
    }
    mutating func varint() -> UInt64? {
        var value: UInt64 = 0
        for shift in stride(from: 0, to: 64, by: 7) {
            guard at < raw.count else { return nil }
            let byte = raw[at]
            at += 1
            value |= UInt64(byte & 0x7F) << UInt64(shift)
            if byte < 0x80 { return value }
        }
        return nil
    }
    /// A count of things still to read: never more than the bytes left.
    mutating func count() -> Int? {
        guard let v = varint(), v <= UInt64(raw.count - at) else { return nil }
        return Int(v)
    }
    mutating func signed() -> Int64? { varint().map { Int64(bitPattern: $0) } }
    mutating func bool() -> Bool? {
        guard let b = take(1)?.first, b <= 1 else { return nil }
        return b == 1
    }
    mutating func string() -> String? {
        guard let n = count(), let bytes = take(n) else { return nil }
        return String(validating: bytes, as: UTF8.self)
    }
    mutating func strings() -> [String]? { array { $0.string() } }
    mutating func array<T>(_ read: (inout EntryReader) -> T?) -> [T]? {
        guard let n = count() else { return nil }
        var out: [T] = []
        out.reserveCapacity(n)
        for _ in 0..<n {
            guard let x = read(&self) else { return nil }
            out.append(x)
        }
        return out
    }
    /// `.some(nil)` for an absent value, nil for a damaged one.
    mutating func optional<T>(_ read: (inout EntryReader) -> T?) -> T?? {
        guard let flag = bool() else { return nil }
        guard flag else { return .some(nil) }
        guard let x = read(&self) else { return nil }
        return .some(x)
    }
    mutating func stamp() -> Stamp? {
        guard let device = varint(), let inode = varint(), let size = signed(), let m = signed(), let mn = signed(),
            let c = signed(), let cn = signed()
        else { return nil }
        return Stamp(
            device: device, inode: inode, size: size, modified: m, modifiedNanoseconds: mn, changed: c,
            changedNanoseconds: cn)
    }
    mutating func optionalString() -> String?? { optional { $0.string() } }

    mutating func own() -> StoredOwn? {
        guard let path = string(), let status = string().flatMap(CheckResult.Status.init(rawValue:)),
            let error = optionalString(), let sameAs = optionalString(), let interpreter = optionalString(),
            let needed = strings(), let libraries = strings(), let loaded = strings(), let inArchive = bool(),
            let cLibrary = bool(),
            let listed = bool(), let kind = optionalString(), let assessment = optional({ $0.assessment() })
        else { return nil }
        var result = CheckResult(path: path, status: status, error: error, assessment: assessment)
        result.sameAs = sameAs
        result.interpreter = interpreter
        result.needed = needed
        result.kind = kind
        return StoredOwn(
            result: result, libraries: libraries, loaded: loaded, inArchive: inArchive, cLibrary: cLibrary,
            listed: listed)
    }

    mutating func assessment() -> Assessment? {
        guard let verdict = string().flatMap(Verdict.init(rawValue:)),
            let ownVerdict = optional({ $0.string().flatMap(Verdict.init(rawValue:)) }),
            let libc = string().flatMap(Libc.init(rawValue:)), let linkage = string().flatMap(Linkage.init(rawValue:)),
            let arch = string(),
            let symbols = array({ r -> MissingSymbol? in
                guard let name = r.string(), let version = r.optionalString(), let by = r.optionalString(),
                    let note = r.optionalString(),
                    let first = r.optionalString()
                else { return nil }
                return MissingSymbol.restored(
                    name: name, version: version, providedBy: by, note: note, firstMusl: first)
            }),
            let libraries = array({ r -> MissingLibrary? in
                guard let soname = r.string(), let package = r.optionalString(), let foundAt = r.optionalString(),
                    let reason = r.string()
                else { return nil }
                return MissingLibrary.restored(soname: soname, package: package, foundAt: foundAt, reason: reason)
            }),
            let packages = strings(), let minimumGlibc = optionalString(),
            let findings = array({ r -> Finding? in
                guard let rule = r.string(), let severity = r.string().flatMap(Rule.Severity.init(rawValue:)),
                    let message = r.string(),
                    let symbols = r.strings(), let libraries = r.strings(),
                    let line = r.optional({ $0.varint().flatMap { Int(exactly: $0) } }),
                    let column = r.optional({ $0.varint().flatMap { Int(exactly: $0) } })
                else { return nil }
                return Finding.restored(
                    rule: RuleID(rawValue: rule), severity: severity, message: message, symbols: symbols,
                    libraries: libraries,
                    line: line, column: column)
            }),
            let language = optional({ $0.string().flatMap(Language.init(rawValue:)) }),
            let unassessable = optionalString(),
            let fix = optional({ r -> StoredFix? in
                guard let apk = r.optionalString(), let rebuild = r.optionalString(), let dockerfile = r.string(),
                    let app = r.string(),
                    let dir = r.string(), let goImage = r.optionalString(), let beside = r.optionalString()
                else { return nil }
                let offer = beside.flatMap { try? JSONDecoder().decode(GlibcBesideOffer.self, from: Data($0.utf8)) }
                guard (beside == nil) == (offer == nil) else { return nil }  // damaged: the entry is ignored
                return StoredFix(
                    apk: apk, rebuild: rebuild, dockerfile: dockerfile, glibcBesideMusl: offer, app: app, dir: dir,
                    goImage: goImage)
            })
        else { return nil }
        var a = Assessment(
            verdict: verdict, ownVerdict: ownVerdict, libc: libc, linkage: linkage, arch: arch, missingSymbols: symbols,
            missingLibraries: libraries, packages: packages, minimumGlibc: minimumGlibc, findings: findings,
            language: language, fix: fix?.fix)
        a.unassessable = unassessable
        return a
    }
}
