import CLibElf
// The one file that calls libelf: it opens a file or a byte buffer, checks the kind, and turns the ELF
// header, program headers and section headers into plain values. Everything after that (the dynamic
// segment, symbols, versions, notes) is decoded from the raw image by FactsDecoder, the same way whether
// or not the file has section headers.
import FileIO
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

struct ProgramHeader {
    var type: UInt32, flags: UInt32, offset: UInt64, vaddr: UInt64, filesz: UInt64, memsz: UInt64
}

struct SectionHeader {
    var name: String, type: UInt32, flags: UInt64, addr: UInt64, offset: UInt64, size: UInt64
    var link: UInt32, info: UInt32, entsize: UInt64
}

/// The header-level view libelf gives of one file, plus the raw image it maps.
struct ELFLayout {
    var is64: Bool, bigEndian: Bool, machine: UInt16, type: UInt16, osABI: UInt8, entry: UInt64
    var programHeaders: [ProgramHeader]
    var sections: [SectionHeader]
    var gaps: [Gap]
}

public enum ELFReader {
    /// libelf wants its version negotiated once per process before any other call.
    private static let libelfReady: Bool = elf_version(UInt32(EV_CURRENT)) != UInt32(EV_NONE)

    /// Files over this size are not mapped (a sparse multi-gigabyte file is no binary we can judge).
    public static let maxFileSize: Int64 = 4 << 30
    static let maxProgramHeaders = 4096
    static let maxSections = 65536

    /// Reads one file. Never blocks on FIFOs or devices: they are refused before any read.
    public static func read(path: String, options: ReadOptions = ReadOptions()) -> ReadResult {
        var head: [UInt8] = []
        var identity: FileIdentity?
        return read(path: path, options: options, head: &head, identity: &identity)
    }

    /// As `read(path:options:)`, and hands back the file's first bytes (up to 512) when it is not ELF, so
    /// that a caller can recognise an archive without opening the file again, and the file's identity when
    /// it has several hard links (the walk does not stat each file; this stat is made anyway).
    public static func read(
        path: String, options: ReadOptions, head: inout [UInt8], identity: inout FileIdentity?,
        walkedAsRegular: Bool = false
    ) -> ReadResult {
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)
        if fd < 0 { return .failed("cannot open: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var st = stat()
        // A file the walk saw as regular is stat'ed only once it proves to be ELF: most files of a tree are
        // not, and a stat each was a tenth of the system time of a walk over /usr.
        if !walkedAsRegular {
            if fstat(fd, &st) != 0 { return .failed("cannot stat: \(String(cString: strerror(errno)))") }
            if st.st_mode & S_IFMT != S_IFREG { return .failed("not a regular file") }
        }
        // Read straight into the caller's array: one allocation a file, not a buffer and then a copy.
        var readError: Int32 = 0
        head = [UInt8](unsafeUninitializedCapacity: Self.headBytes) { buffer, count in
            let got = pread(fd, buffer.baseAddress, Self.headBytes, 0)
            if got < 0 { readError = errno }
            count = max(0, got)
        }
        guard readError == 0 else { return .failed("cannot read: \(String(cString: strerror(readError)))") }
        guard head.count >= ELFMagic.bytes.count, head.starts(with: ELFMagic.bytes) else { return .notELF }
        head = []
        if walkedAsRegular {
            if fstat(fd, &st) != 0 { return .failed("cannot stat: \(String(cString: strerror(errno)))") }
            if st.st_mode & S_IFMT != S_IFREG { return .failed("not a regular file") }
        }
        if st.st_nlink > 1 { identity = FileIdentity(device: UInt64(st.st_dev), inode: UInt64(st.st_ino)) }
        let size = Int64(st.st_size)
        if size > maxFileSize { return .failed("file of \(size) bytes is over the \(maxFileSize)-byte limit") }
        guard libelfReady else { return .failed("libelf refused EV_CURRENT") }
        if size <= copyLimit, let buffer = SmallFileBuffers.take() {
            defer { SmallFileBuffers.give(buffer) }
            let (done, error) = FileIO.readFully(
                fd, into: UnsafeMutableRawBufferPointer(start: buffer.base, count: Int(size)), at: 0)
            if let error { return .failed("cannot read: " + String(cString: strerror(error))) }
            guard done == Int(size) else { return .failed("cannot read: file ended at \(done) of \(size) bytes") }
            guard let elf = elf_memory(buffer.base.assumingMemoryBound(to: CChar.self), done) else {
                return .failed(libelfError("elf_memory"))
            }
            defer { elf_end(elf) }
            return decode(elf, options: options)
        }
        return readMapped(fd: fd, size: Int(size), options: options)
    }

    /// SIGBUS on a truncated mapping becomes a zero page and a flag (see busguard.h); installed once.
    private static let busGuard: Bool = muslcheck_guard_install() == 0

    /// Maps a larger file privately (only what is read is paged in) and decodes it under the SIGBUS guard:
    /// a file truncated while it is read is reported as changed, never a crash of the batch.
    /// `afterMapping` lets a test truncate the file at the worst moment.
    static func readMapped(fd: Int32, size: Int, options: ReadOptions, afterMapping: (() -> Void)? = nil) -> ReadResult
    {
        guard size > 0, busGuard else { return .failed("cannot guard the mapping of the file (sigaction failed)") }
        let map = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0)
        guard let map, map != MAP_FAILED else { return .failed("cannot map: \(String(cString: strerror(errno)))") }
        defer { munmap(map, size) }
        afterMapping?()
        muslcheck_guard_begin(map, size)
        var result: ReadResult
        if let elf = elf_memory(map.assumingMemoryBound(to: CChar.self), size) {
            result = decode(elf, options: options, fileMapped: true)
            elf_end(elf)
        } else {
            result = .failed(libelfError("elf_memory"))
        }
        if muslcheck_guard_finish() != 0 {
            result = .failed(
                "the file changed while it was read: it ended before its \(size) bytes (truncated by another process?); not judged"
            )
        }
        return result
    }

    /// How much of a file is read first: enough to tell ELF, an archive (a tar's magic ends at 262) or a script.
    public static let headBytes = 512

    /// Files up to this size are read into a reused buffer rather than mapped: unmapping a file in a
    /// process with a thread on every core flushes the TLB of every core, which profiles showed as an
    /// eighth of the run over a system's libraries. Larger files are mapped, so only what is read is paged in.
    static let copyLimit: Int64 = 256 << 10

    /// Reads an ELF image already in memory (an archive member).
    public static func read(bytes: [UInt8], options: ReadOptions = ReadOptions()) -> ReadResult {
        var copy = bytes  // libelf may write to the buffer it is given
        return read(buffer: &copy, options: options)
    }

    /// Reads an ELF image in place, without a copy (libelf may write to it: the caller drops it after).
    public static func read(buffer bytes: inout [UInt8], options: ReadOptions = ReadOptions()) -> ReadResult {
        guard bytes.starts(with: ELFMagic.bytes) else { return .notELF }
        guard libelfReady else { return .failed("libelf refused EV_CURRENT") }
        return bytes.withUnsafeMutableBytes { buffer -> ReadResult in
            guard let base = buffer.baseAddress,
                let elf = elf_memory(base.assumingMemoryBound(to: CChar.self), buffer.count)
            else { return .failed(libelfError("elf_memory")) }
            defer { elf_end(elf) }
            return decode(elf, options: options)
        }
    }

    private static func libelfError(_ call: String) -> String {
        let code = elf_errno()  // read at once: thread-local and reset by the next call
        if let message = elf_errmsg(code) { return "\(call): \(String(cString: message))" }
        return "\(call) failed"
    }

    /// `fileMapped`: the image is a private mapping of the file, whose pages may be dropped once read.
    private static func decode(_ elf: OpaquePointer, options: ReadOptions, fileMapped: Bool = false) -> ReadResult {
        // The caller saw the ELF magic, so anything libelf will not take as ELF is a damaged one.
        guard elf_kind(elf) == ELF_K_ELF else {
            return .failed("ELF magic present but the identification bytes are truncated or invalid")
        }
        var size = 0
        guard let rawPointer = elf_rawfile(elf, &size) else { return .failed(libelfError("elf_rawfile")) }
        let raw = UnsafeRawBufferPointer(start: UnsafeRawPointer(rawPointer), count: size)
        switch layout(elf, fileSize: size) {
        case .failure(let error): return .failed(error.message)
        case .success(let layout):
            return FactsDecoder(layout: layout, raw: raw, options: options, fileMapped: fileMapped).decode()
        }
    }

    private static func layout(_ elf: OpaquePointer, fileSize: Int) -> Result<ELFLayout, ELFError> {
        var ehdr = GElf_Ehdr()
        guard gelf_getehdr(elf, &ehdr) != nil else {
            return .failure(
                ELFError(
                    libelfError("gelf_getehdr") + " (file is \(fileSize) bytes; an ELF header needs \(ehdrSize(elf)))"))
        }
        let ident = withUnsafeBytes(of: ehdr.e_ident) { Array($0) }  // EI_NIDENT (16) bytes
        let is64 = ident[Int(EI_CLASS)] == UInt8(ELFCLASS64)
        let bigEndian = ident[Int(EI_DATA)] == UInt8(ELFDATA2MSB)
        var gaps: [Gap] = []
        let headers: [ProgramHeader]
        switch programHeaders(elf, ehdr, fileSize: fileSize, gaps: &gaps) {
        case .failure(let error): return .failure(error)
        case .success(let read): headers = read
        }
        let sections = sectionHeaders(elf, ehdr, fileSize: fileSize, gaps: &gaps)
        return .success(
            ELFLayout(
                is64: is64, bigEndian: bigEndian, machine: ehdr.e_machine, type: ehdr.e_type,
                osABI: ident[Int(EI_OSABI)], entry: ehdr.e_entry, programHeaders: headers,
                sections: sections, gaps: gaps))
    }

    /// The program headers. libelf can report none for a truncated table, so e_phoff/e_phnum are checked too.
    private static func programHeaders(
        _ elf: OpaquePointer, _ ehdr: GElf_Ehdr, fileSize: Int,
        gaps: inout [Gap]
    ) -> Result<[ProgramHeader], ELFError> {
        var phnum = 0
        var headers: [ProgramHeader] = []
        if elf_getphdrnum(elf, &phnum) != 0 {
            return .failure(
                ELFError(
                    libelfError("elf_getphdrnum")
                        + ": program header table at e_phoff \(ehdr.e_phoff) with e_phnum \(ehdr.e_phnum) does not fit the \(fileSize)-byte file"
                ))
        }
        if phnum == 0 && (ehdr.e_type == UInt16(ET_EXEC) || ehdr.e_type == UInt16(ET_DYN)) {
            gaps.append(
                Gap(.dynamic, "no program headers (e_phnum \(ehdr.e_phnum)): interpreter and dynamic segment unknown"))
        }
        let phentsize = Int(ehdr.e_phentsize)
        if phnum > 0 {
            guard phnum <= maxProgramHeaders else {
                return .failure(ELFError("e_phnum \(phnum) is over the limit of \(maxProgramHeaders)"))
            }
            let tableEnd = UInt64(phnum) &* UInt64(phentsize)
            guard ehdr.e_phoff <= UInt64(fileSize), tableEnd <= UInt64(fileSize) - ehdr.e_phoff else {
                return .failure(
                    ELFError(
                        "program header table at offset \(ehdr.e_phoff) (\(phnum) × \(phentsize) bytes) runs past the end of the \(fileSize)-byte file"
                    ))
            }
            headers.reserveCapacity(phnum)
            for index in 0..<phnum {
                var phdr = GElf_Phdr()
                guard gelf_getphdr(elf, Int32(index), &phdr) != nil else {
                    return .failure(ELFError(libelfError("gelf_getphdr(\(index))") + " at offset \(ehdr.e_phoff)"))
                }
                headers.append(
                    ProgramHeader(
                        type: phdr.p_type, flags: phdr.p_flags, offset: phdr.p_offset,
                        vaddr: phdr.p_vaddr, filesz: phdr.p_filesz, memsz: phdr.p_memsz))
            }
        }
        return .success(headers)
    }

    /// The section headers with their names. They are optional: damage there is a gap, not an error.
    private static func sectionHeaders(_ elf: OpaquePointer, _ ehdr: GElf_Ehdr, fileSize: Int, gaps: inout [Gap])
        -> [SectionHeader]
    {
        var sections: [SectionHeader] = []
        var shnum = 0
        var shstrndx = 0
        let shTableEnd = ehdr.e_shoff.addingReportingOverflow(UInt64(ehdr.e_shnum) &* UInt64(ehdr.e_shentsize))
        if ehdr.e_shoff != 0 && (shTableEnd.overflow || shTableEnd.partialValue > UInt64(fileSize)) {
            gaps.append(
                Gap(
                    .sections,
                    "section header table at e_shoff \(ehdr.e_shoff) (\(ehdr.e_shnum) × \(ehdr.e_shentsize) bytes) runs past the end of the \(fileSize)-byte file; read through the program headers instead"
                ))
        } else if ehdr.e_shoff != 0 {
            if elf_getshdrnum(elf, &shnum) != 0 {
                gaps.append(
                    Gap(
                        .sections,
                        "section headers unreadable: \(libelfError("elf_getshdrnum")) (e_shoff \(ehdr.e_shoff))"))
                shnum = 0
            } else if shnum > maxSections {
                gaps.append(
                    Gap(.sections, "\(shnum) section headers is over the limit of \(maxSections); sections ignored"))
                shnum = 0
            } else if elf_getshdrstrndx(elf, &shstrndx) != 0 {
                gaps.append(Gap(.sections, "section name table unreadable: \(libelfError("elf_getshdrstrndx"))"))
                shstrndx = 0
            }
        }
        if shnum > 0 {
            sections.reserveCapacity(shnum)
            var scn = elf_nextscn(elf, nil)
            var count = 0
            while let section = scn, count < shnum {
                var shdr = GElf_Shdr()
                if gelf_getshdr(section, &shdr) == nil {
                    gaps.append(
                        Gap(.sections, "section \(count + 1) header unreadable: \(libelfError("gelf_getshdr"))"))
                    break
                }
                var name = ""
                if shstrndx != 0, let cName = elf_strptr(elf, shstrndx, Int(shdr.sh_name)) {
                    name = String(cString: cName)
                }
                sections.append(
                    SectionHeader(
                        name: name, type: shdr.sh_type, flags: shdr.sh_flags, addr: shdr.sh_addr,
                        offset: shdr.sh_offset, size: shdr.sh_size, link: shdr.sh_link,
                        info: shdr.sh_info, entsize: shdr.sh_entsize))
                count += 1
                scn = elf_nextscn(elf, section)
            }
            if elf_errno() != 0 { _ = elf_errno() }  // a failed elf_strptr leaves an error behind; clear it
        }
        return sections
    }

    private static func ehdrSize(_ elf: OpaquePointer) -> String {
        gelf_getclass(elf) == ELFCLASS32 ? "52 bytes" : "64 bytes"
    }
}

struct ELFError: Error {
    var message: String
    init(_ message: String) { self.message = message }
}

/// A few buffers of `ELFReader.copyLimit` bytes, reused by the reading threads and never freed.
enum SmallFileBuffers {
    struct Buffer: @unchecked Sendable { let base: UnsafeMutableRawPointer }
    private static let pool = Mutex<[Buffer]>([])
    static let keep = 64

    static func take() -> Buffer? {
        if let b = pool.withLock({ $0.popLast() }) { return b }
        guard let base = malloc(Int(ELFReader.copyLimit)) else { return nil }
        return Buffer(base: base)
    }

    static func give(_ b: Buffer) {
        let kept = pool.withLock { list -> Bool in
            guard list.count < keep else { return false }
            list.append(b)
            return true
        }
        if !kept { free(b.base) }
    }
}
