// Reads archives as streams, recognised by content, nested to a bounded depth, and hands each ELF file
// inside to a reader as soon as it is extracted: only its facts are kept, named outer!/inner/path.
// Every limit that is reached is reported, never silently skipped.
import CCompression
import Dispatch
import ELF
import Scripts

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
#if canImport(Glibc)
    import Glibc
#endif

public struct ArchiveLimits: Sendable {
    public var maxDepth = 5
    /// The most bytes of one member held in memory (an ELF file, or a zip inside a stream).
    public var maxMemberBytes = 256 << 20
    /// The most bytes decompressed from one input, whatever its size.
    public var maxTotalBytes = 64 << 30
    /// Past `expansionFloor`, the most bytes decompressed per byte of the input read (bombs).
    public var maxExpansionRatio = 100
    public var expansionFloor = 1 << 30
    public var maxEntries = 200_000
    /// Time for one input, archive and members together: this much, and as much again for each
    /// `secondsScaleBytes` of the input read (a large image read at full speed never runs out).
    public var maxSeconds = 60.0
    public static let secondsScaleBytes = 256 << 20
    /// ELF members read on a second thread while the archive is read on.
    public var decodeAside = true
    /// An image's layers read side by side, this many at once (1: one after the other). Each layer is
    /// decompressed on its own core; members held at once stay within the one-expander bound (`MemberGate`).
    public var layerJobs = 1
    /// Threads the whole run may add for that (nil: `layerJobs` for each image).
    package var layerThreads: LayerThreads?
    /// Shell scripts and Dockerfiles read and parsed (off only to measure what they cost: MUSLCHECK_BENCH_NO_SCRIPTS).
    public var scripts = true
    /// Not a limit: the small files of images to keep besides ELF facts (Capture.swift); nil keeps none.
    public var capture: FileCapture?
    public init() {}
}

public struct ArchiveProblem: Sendable, Hashable {
    public var path: String
    public var message: String
}

/// One ELF file found inside an input, with what its reader made of it (the bytes are gone); or a shell
/// script or Dockerfile (`result` .notELF), parsed as it was read: its facts, not its text.
public struct ExpandedFile: Sendable {
    public var path: String
    public var result: ReadResult
    public var script: ScriptFacts? = nil
}

public struct Expansion: Sendable {
    public var files: [ExpandedFile] = []
    public var problems: [ArchiveProblem] = []
    /// The container images read (docker-save or OCI), with their configurations, in the order read.
    public var images: [ExpandedImage] = []
    /// Files inside that are neither ELF, scripts nor archives: counted, not listed.
    public var otherFiles = 0
    /// The regular files inside that are not ELF files, by their full names as files are named: text, scripts,
    /// archives, compressed files (a compressed ELF file too: musl maps no compressed file). Where musl opens
    /// one while looking for a library, it fails to map it and its search ends. Only those a lookup can reach
    /// are kept: none of an archive or image without an ELF file (nothing else looks a library up), and of one
    /// without links only those named as a library its ELF files need (`Expander.keepingNotELF`). Those an
    /// image's later layers delete or replace are not here. Members that could not be read are `problems`.
    public var notELF: Set<String> = []
    /// Symbolic links inside, by their full names (outer!/inner/path) as files are named, each with its
    /// target as written (relative to the link's directory, or absolute: from the root of the archive or
    /// image holding it); a hard link whose target another archive holds (an earlier layer's file) as an
    /// absolute link to it. Those an image's later layers delete or replace are not here.
    public var links: [String: String] = [:]
    /// Members' bytes still held when the reading ended (always 0), and the most held at once.
    public var liveMemberBuffers = 0
    public var peakMemberBuffers = 0
}

/// Reads one ELF member's bytes, within the time given. The bytes are the reader's to use in place (libelf
/// may write to them) and are dropped after.
public typealias MemberReader = @Sendable (_ bytes: inout [UInt8], _ deadline: Deadline) -> ReadResult

public enum ArchiveKind: String, Sendable { case zip, gzip, xz, zstd, tar, ar, lzma, bzip2 }

public enum Archives {
    /// The archive format the bytes start with, if any (the extension says nothing). lzma and bzip2 are
    /// only told inside Debian packages (`debianData`), where the member's name says so.
    public static func kind(_ b: [UInt8]) -> ArchiveKind? {
        if b.count >= 4, b[0] == 0x50, b[1] == 0x4B, (b[2] == 3 && b[3] == 4) || (b[2] == 5 && b[3] == 6) {
            return .zip
        }
        if b.count >= 3, b[0] == 0x1F, b[1] == 0x8B, b[2] == 8 { return .gzip }
        if b.count >= 6, b[0..<6].elementsEqual([0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00]) { return .xz }
        if b.count >= 4, b[0..<4].elementsEqual([0x28, 0xB5, 0x2F, 0xFD]) { return .zstd }
        // A zstd skippable frame (pzstd starts its output with one) before the first real frame.
        if b.count >= 4, b[0] & 0xF0 == 0x50, b[1] == 0x2A, b[2] == 0x4D, b[3] == 0x18 { return .zstd }
        // Only Debian packages among ar archives: static libraries (.a) hold objects no loader ever loads.
        if Ar.looksLikeAr(b), b.count >= 68, b[8..<21].elementsEqual("debian-binary".utf8) { return .ar }
        if Tar.looksLikeTar(b) { return .tar }
        return nil
    }

    public static let defaultReader: MemberReader = { bytes, deadline in
        var options = ReadOptions()
        options.deadline = deadline
        return ELFReader.read(buffer: &bytes, options: options)
    }

    /// Every ELF file inside `bytes` (an archive named `name`), recursively.
    public static func expand(
        name: String, bytes: [UInt8], limits: ArchiveLimits = ArchiveLimits(),
        read: @escaping MemberReader = defaultReader
    ) -> Expansion {
        let e = Expander(limits: limits, meter: Meter(limits: limits, progress: nil), read: read)
        e.meter.read(bytes.count)
        e.visit(name: name, source: MemorySource(bytes), size: bytes.count, depth: 0, container: true)
        return e.result
    }

    /// Every ELF file inside the archive open as `fd` (`size` bytes), read in place with positioned reads.
    /// `progress` hears the bytes of the file read so far, now and then.
    public static func expand(
        fd: Int32, size: Int, name: String, limits: ArchiveLimits = ArchiveLimits(),
        progress: (@Sendable (Int) -> Void)? = nil, read: @escaping MemberReader = defaultReader
    ) -> Expansion {
        let meter = Meter(limits: limits, progress: progress)
        let e = Expander(limits: limits, meter: meter, read: read)
        let file = OpenFile(fd: fd, size: size, meter: meter, owned: false)
        e.visit(name: name, source: FileRange(file), size: size, depth: 0, container: true)
        return e.result
    }

    /// Whether a member whose first bytes `peek(n)` decompresses may be an ELF file or an archive. 262 bytes
    /// settle it for all but a tar without ustar magic (the decoding cost grows with the bytes asked for,
    /// and most members of a large jar are class files); true when the bytes cannot be decoded, so that
    /// the reader reports the damage.
    /// `scripts`: a `#!` line is worth reading too.
    static func worthReading(scripts: Bool = false, _ peek: (Int) -> [UInt8]?) -> Bool {
        guard let head = peek(262) else { return true }
        if isELF(head) || kind(head) != nil { return true }
        if scripts, Scripts.isCandidate(head: head, name: "") { return true }
        guard Tar.couldBeHeader(head) else { return false }
        guard let full = peek(512) else { return true }
        return kind(full) != nil
    }

    /// Whether a compressed stream holds an ELF file or an archive, told from its first decompressed bytes
    /// as `worthReading` does; nil when `bytes` (perhaps only the start of a file) do not say, or are damaged.
    public static func holdsCandidate(_ kind: ArchiveKind, _ bytes: ArraySlice<UInt8>) -> Bool? {
        var undecided = false
        let answer = worthReading { count in
            guard let (inner, ended) = Decompress.peek(kind, bytes, count: count), inner.count == count || ended else {
                undecided = true
                return nil
            }
            return inner
        }
        return undecided ? nil : answer
    }
}

func isELF<C: Collection>(_ b: C) -> Bool where C.Element == UInt8 {
    var i = b.makeIterator()
    return i.next() == 0x7F && i.next() == 0x45 && i.next() == 0x4C && i.next() == 0x46
}

/// Whether the first bytes are an ELF header as far as the resolver tells one from another file (the Scanning
/// module's `Header.parse`): the magic, a known class and data encoding, and room for the machine.
func hasELFIdentification(_ b: [UInt8]) -> Bool {
    b.count >= 20 && isELF(b) && (b[4] == 1 || b[4] == 2) && (b[5] == 1 || b[5] == 2)
}

/// What a tar member that is itself a tar held (a layer, if the outer tar proves to be an image): its
/// entries, and which of the files found came from which entry.
final class LayerRecord {
    /// What the names of the files it gave start with (outer!/member!/).
    let prefix: String
    init(prefix: String = "") { self.prefix = prefix }
    var isTar = false
    var entries: [(path: String, kind: TarEntry.Kind)] = []
    /// Its symbolic links and their targets (for the image's file list: `ImageFiles`), and its hard links
    /// to a file it does not hold (an earlier layer's), as absolute links ("/target").
    var links: [String: String] = [:]
    /// For each entry that gave files: the range of `Expander.files` they took.
    var entryFiles: [(path: String, range: Range<Int>)] = []
    /// Entries that were counted in `Expander.otherFiles` (neither ELF nor archives), with how many each gave;
    /// kept only for a layer read beside others, whose count is taken in after what later layers hide.
    var otherFiles: [(path: String, count: Int)] = []
    /// All the files the member gave (the layer's range in `Expander.files`).
    var range: Range<Int> = 0..<0
    /// The wanted files it holds (`ArchiveLimits.capture`).
    var capture = LayerCapture()
}

final class Expander {
    let limits: ArchiveLimits
    let meter: Meter
    let read: MemberReader
    var files: [ExpandedFile] = []
    var problems: [ArchiveProblem] = []
    var images: [ExpandedImage] = []
    var otherFiles = 0
    /// `Expansion.links`.
    var links: [String: String] = [:]
    /// `Expansion.notELF`: those of the archive being read (`keepingNotELF`).
    var notELF = Set<String>()
    /// Symbolic and hard links read so far: an archive that has any keeps every non-ELF name (a link's target
    /// may name any file), one that has none only those named as a library its ELF files need.
    var linksSeen = 0
    /// Names left to look through for the non-ELF members of nested archives that hard links copy.
    var nameCopyBudget = maxNameCopies
    static let maxNameCopies = 1 << 24
    var entries = 0
    /// Bytes of captured files kept so far (`ArchiveLimits.capture`).
    var capturedBytes = 0
    /// Set once the time is up: reported once, and nothing more is opened.
    var stopped = false
    /// Small JSON members of the tar being read are kept (at most this many bytes in all) to tell an image.
    static let maxJSONBytes = 64 << 20
    static let maxJSONMember = 4 << 20

    /// ELF members are read on a second thread while the archive is read on (nil: on this one).
    let pipeline: DecodePipeline?

    /// Held around each ELF member by an expander reading one of several layers side by side.
    let gate: MemberGate?
    /// Held already by this expander (a buffered zip holds it for its members): its members do not wait.
    var gateHeld = 0
    /// The entries of the image whose layer this expander reads, shared with the other layers' expanders.
    let entryBudget: EntryBudget?

    init(
        limits: ArchiveLimits, meter: Meter, read: @escaping MemberReader, gate: MemberGate? = nil,
        entryBudget: EntryBudget? = nil
    ) {
        self.limits = limits
        self.meter = meter
        self.read = read
        self.gate = gate
        self.entryBudget = entryBudget
        // Beside other layers' expanders, members are decoded on this thread: the cores are taken already.
        pipeline = limits.decodeAside && gate == nil ? DecodePipeline() : nil
    }

    var result: Expansion {
        settle()
        let buffers = meter.buffers.withLock { $0 }
        return Expansion(
            files: files, problems: problems, images: images, otherFiles: otherFiles, notELF: notELF, links: links,
            liveMemberBuffers: buffers.live, peakMemberBuffers: buffers.peak)
    }

    func problem(_ path: String, _ message: String) { problems.append(ArchiveProblem(path: path, message: message)) }

    /// Records an image read under `name` with the configuration in `bytes` (from the manifest's `config`),
    /// its file tree after the layers (kept only when the configuration says what runs: the entrypoint is
    /// judged against it) and the files `ArchiveLimits.capture` asked for.
    func image(
        _ name: String, config path: String?, bytes: [UInt8]?, tree: ImageFiles, captured: ImageCapture = ImageCapture()
    ) {
        var config: ImageConfig?
        if let path {
            config = bytes.flatMap(ImageConfig.decode)
            if config == nil {
                problem(name + "!/" + path, "image configuration missing or unreadable; entrypoint not followed")
            }
        }
        let runs = config.map { $0.entrypoint?.isEmpty == false || $0.cmd?.isEmpty == false } ?? false
        let image = ExpandedImage(
            name: name, config: config, tree: runs ? tree : nil, files: captured.files, notCaptured: captured.left)
        images.append(image)
        limits.capture?.received?(image)
    }

    /// Whether the time is up (reported against `name` the first time).
    func timeUp(_ name: String) -> Bool {
        if stopped { return true }
        guard meter.timeUp else { return false }
        stopped = true
        problem(name, meter.timeMessage)
        return true
    }

    func overLimit(_ size: Int) -> String {
        "member of \(size) bytes is over the \(limits.maxMemberBytes)-byte limit (--max-member-bytes); not opened"
    }

    /// One member, or the input itself (`container`: members that are neither ELF nor archives are counted
    /// only below it). Its first bytes say what it is. `size`: its exact size when known, else a declared one.
    /// `scripts`: whether a shell script or Dockerfile is judged (not a compressed one: on disk it is not either).
    /// `member`: whether `name` is recorded as an ELF file or not (`notELF`); by default when not `container`
    /// (the contents of a compressed member are not: the member itself is what musl would open).
    /// `declaredSize`: `size` is only what a directory says (a deflated zip member's).
    func visit(
        name: String, source: ByteSource, size: Int?, depth: Int, container: Bool = false,
        layer: LayerRecord? = nil, hide: LayerMerge? = nil, scripts: Bool = true, member: Bool? = nil,
        declaredSize: Bool = false
    ) {
        if timeUp(name) { return }
        let member = member ?? !container
        do {
            let head = try source.read(upTo: 512)
            let rest = Prefixed(head, source)
            if isELF(head) {
                // A later entry of the same name replaces an earlier one, as extracting it does. Without a valid
                // identification (class and data encoding), not an ELF file to the resolver on disk either.
                if member {
                    if hasELFIdentification(head) { notELF.remove(name) } else { notELF.insert(name) }
                }
                try readELF(name: name, source: rest, size: size, declared: declaredSize)
                return
            }
            // Anything else is a file musl cannot map (an archive, or a compressed file, whatever it holds).
            if member { notELF.insert(name) }
            guard let kind = Archives.kind(head) else {
                if scripts, limits.scripts, !container, Scripts.isCandidate(head: head, name: name) {
                    try readScript(name: name, head: head, source: rest, size: size)
                    return
                }
                if !container { otherFiles += 1 }
                return
            }
            guard depth < limits.maxDepth else {
                problem(name, "archive nested more than \(limits.maxDepth) levels deep; not opened")
                return
            }
            switch kind {
            case .gzip, .xz, .zstd, .lzma:
                // The same file, uncompressed.
                visit(
                    name: name, source: try Decompressed(kind, rest, meter: meter), size: nil, depth: depth + 1,
                    layer: layer, hide: hide,
                    scripts: false, member: false)
            case .bzip2:
                problem(name, "member in a format not read (bzip2); not judged")
            case .tar:
                // A tar that is a range of a file on disk and may be an image: its headers first, then
                // each layer by offset, from the last to the first, so that what a later layer hides is
                // never read.
                if layer == nil, hide == nil, let size, let range = rest.fileRange(length: size),
                    try readImageByOffset(name: name, file: range, depth: depth)
                {
                    return
                }
                try readTar(name: name, source: rest, depth: depth, layer: layer, hide: hide)
            case .ar:
                guard try rest.skip(8) else { return }
                try readAr(name: name, source: rest, depth: depth)
            case .zip:
                try readZip(name: name, source: rest, size: size, depth: depth)
            }
        } catch let error as ArchiveError {
            problem(name, error.description)
        } catch {
            problem(name, "\(error)")
        }
    }

    /// A zip, with random access: in place when its bytes are a range of the file on disk, else buffered
    /// (within the member limit).
    func readZip(name: String, source: ByteSource, size: Int?, depth: Int) throws {
        if let size, let range = source.fileRange(length: size) {
            try readZip(name: name, file: range, depth: depth)
            return
        }
        if let size, size > limits.maxMemberBytes {
            problem(name, "zip " + overLimit(size))
            return
        }
        // Beside other layers' expanders: held alone, with its members, as a large member is.
        let held = gateHeld == 0 ? gate?.acquire(nil) : nil
        defer { if let held { gate?.release(held) } }
        guard let bytes = try source.readAll(cap: limits.maxMemberBytes, sizeHint: size) else {
            problem(
                name, "zip member expands past the \(limits.maxMemberBytes)-byte limit (--max-member-bytes); not opened"
            )
            return
        }
        let buffer = MemberBuffer(bytes, meter: meter)
        gateHeld += 1
        defer { gateHeld -= 1 }
        try readZip(name: name, file: MemoryAccess(buffer.bytes), depth: depth)
    }

    /// An ELF member: read whole (it is one member, within the limit), handed to the reader, dropped.
    /// `declared`: `size` is what a directory says (a zip member's), not what the bytes are.
    func readELF(name: String, source: ByteSource, size: Int?, declared: Bool = false) throws {
        if let size, size > limits.maxMemberBytes {
            problem(name, overLimit(size))
            return
        }
        pipeline?.makeRoom(for: size)
        // A declared size (a zip member's) may lie: held alone, as a member of unknown size.
        let held = gateHeld == 0 ? gate?.acquire(declared ? nil : size) : nil
        defer { if let held { gate?.release(held) } }
        if let size, size >= Self.largeMember { Self.returnFreeMemory() }
        guard var bytes = try source.readAll(cap: limits.maxMemberBytes, sizeHint: size) else {
            problem(
                name, "member expands past the \(limits.maxMemberBytes)-byte limit (--max-member-bytes); not opened")
            return
        }
        let buffer = MemberBuffer(bytes, meter: meter)
        bytes = []  // the buffer's the only reference: the reader may use it in place
        let deadline = Deadline(seconds: min(limits.maxSeconds, meter.timeLeft))
        guard let pipeline else {
            let result = read(&buffer.bytes, deadline)
            buffer.release()  // before the gate lets another expander's member in
            files.append(ExpandedFile(path: name, result: result))
            return
        }
        // Read on the decoding thread while this one goes on; the result fills this slot on `settle`.
        pipeline.submit(slot: files.count, buffer: buffer, deadline: deadline, read: read)
        files.append(ExpandedFile(path: name, result: .failed("not read")))
    }

    /// A member this large gets memory of its own from the system (glibc maps blocks over the threshold
    /// CStartup sets), so the heap's free room cannot hold it.
    static let largeMember = 32 << 20

    /// Gives the heap's free room back to the system before a large member is read: the allocator keeps
    /// freed memory for reuse, and an image's earlier members (up to 16 MiB waiting, and their buffers)
    /// left it resident beside the new member's own block. Once per large member: cheap.
    static func returnFreeMemory() {
        #if canImport(Glibc)
            _ = malloc_trim(0)
        #endif
    }

    /// A shell script or Dockerfile member: at most `Scripts.maxScriptBytes` + 1 bytes read (one more says it is
    /// over the limit, which its facts then report: never a pass), parsed at once, the bytes dropped. Only the
    /// facts stay, until the engine judges them. A script for another interpreter: its first bytes only.
    func readScript(name: String, head: [UInt8], source: ByteSource, size: Int?) throws {
        let cap = Scripts.needsWholeFile(head: head, name: name) ? Scripts.maxScriptBytes + 1 : Scripts.headBytes
        let bytes = try source.read(upTo: min(size ?? cap, cap))
        guard let facts = ScriptFacts.read(path: name, bytes: bytes) else {
            otherFiles += 1
            return
        }
        files.append(ExpandedFile(path: name, result: .notELF, script: facts))
    }

    /// Runs `read` (the reading of one archive) with the non-ELF names it finds kept apart, then keeps only those
    /// a library lookup can reach (`lookupNames`): none when the archive gave no ELF file (only a program inside
    /// looks a library up there). `always`: all are kept (a layer, or a tar that may be one: the image, or the
    /// tar holding it, decides). `keep`: the names the archive only counted (zip members found uninteresting
    /// from their first bytes), made only for the last components `wanted` accepts.
    func keepingNotELF(
        always: Bool, _ read: () throws -> Void,
        keep: (_ wanted: (Substring) -> Bool) -> [String] = { _ in [] }
    ) rethrows {
        let outer = notELF
        notELF = []
        let first = files.count
        let linksBefore = linksSeen
        defer {
            let inner = notELF
            notELF = outer
            let names = always ? nil : lookupNames(since: first, linksBefore: linksBefore)
            if names?.isEmpty != true {
                let wanted = { (last: Substring) in names?.contains(String(last)) ?? true }
                notELF.formUnion(names == nil ? inner : inner.filter { wanted(Self.lastComponent($0)) })
                notELF.formUnion(keep(wanted))
            }
        }
        try read()
    }

    /// The last components a library lookup among what was read since file `first` can end on: the NEEDED
    /// names of its ELF files (empty when there is none); nil (any) when links were read since `linksBefore`.
    func lookupNames(since first: Int, linksBefore: Int) -> Set<String>? {
        let first = min(first, files.count)
        guard files[first...].contains(where: { $0.script == nil }) else { return [] }
        guard linksSeen == linksBefore else { return nil }
        settle()
        var names = Set<String>()
        for file in files[first...] { if case .elf(let facts) = file.result { names.formUnion(facts.needed) } }
        // A file read but not judged (damaged, out of time) looks nothing up; an ELF file that needs nothing either.
        return names
    }

    static func lastComponent(_ name: String) -> Substring {
        name.utf8.lastIndex(of: UInt8(ascii: "/")).map { name[name.index(after: $0)...] } ?? Substring(name)
    }

    /// Waits for the members handed to the decoding thread and puts their results in place: before the
    /// files are moved, copied or handed back.
    func settle() {
        guard let pipeline else { return }
        for (slot, result) in pipeline.drain() where slot < files.count { files[slot].result = result }
    }
}

enum ByteOrder {
    /// Byte order of UTF-8 names (the order image files are listed in).
    static func less(_ a: String, _ b: String) -> Bool { a.utf8.lexicographicallyPrecedes(b.utf8) }
}
