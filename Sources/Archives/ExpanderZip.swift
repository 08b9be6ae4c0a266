// The expander's ar (.deb) and zip reading: ar members in order, zip members through the central directory
// with positioned reads; see Expander.swift for the limits and the naming of what is found.
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

extension Expander {
    // MARK: ar (Debian packages)

    func readAr(name: String, source: ByteSource, depth: Int) throws {
        try keepingNotELF(always: false) { try readArMembers(name: name, source: source, depth: depth) }
    }

    private func readArMembers(name: String, source: ByteSource, depth: Int) throws {
        let reader = ArReader(source, maxEntries: limits.maxEntries - entries)
        while let (member, size, data) = try reader.next() {
            entries += 1
            if timeUp(name) { return }
            let path = name + "!/" + member
            // dpkg-deb also reads data.tar.bz2 and data.tar.lzma, whose magic is weak or absent.
            if member.hasSuffix(".lzma") {
                visit(name: path, source: try Decompressed(.lzma, data, meter: meter), size: nil, depth: depth + 2)
            } else if member.hasSuffix(".bz2") {
                problem(path, "member in a format not read (bzip2); not judged")
            } else {
                visit(name: path, source: data, size: size, depth: depth + 1)
            }
        }
    }

    // MARK: zip

    func readZip(name: String, file: RandomAccess, depth: Int) throws {
        let listing = try ZipDirectory.read(
            file, maxEntries: limits.maxEntries - entries, maxBytes: limits.maxMemberBytes)
        // The members found uninteresting from their first bytes, by index: named only if the zip holds an ELF
        // file (most are class files of jars that hold none).
        var uninteresting: [Int] = []
        try keepingNotELF(always: false) {
            try readZipMembers(name: name, file: file, listing: listing, depth: depth, uninteresting: &uninteresting)
        } keep: { wanted in
            uninteresting.compactMap { index in
                guard let member = try? listing.member(index), wanted(Self.lastComponent(member.name)) else {
                    return nil
                }
                return name + "!/" + member.name
            }
        }
    }

    /// Zips whose unpacker writes a symbolic-link member as a file holding the target: pip installs wheels
    /// with Python's zipfile, and Java reads its archives' members as entries, never as links. Other zips are
    /// unpacked by unzip, bsdtar and the like, which make the links.
    static let zipLinksAreFiles = [".whl", ".jar", ".war", ".ear", ".egg"]

    /// A link's target longer than this is not one a system can follow (PATH_MAX).
    static let maxLinkTarget = 4096

    private func readZipMembers(
        name: String, file: RandomAccess, listing: ZipListing, depth: Int, uninteresting: inout [Int]
    ) throws {
        for p in listing.problems { problem(name, p) }
        let window = ReadWindow(file)
        let inflater = DeflateHeads()
        let lowered = Self.lastComponent(name).lowercased()
        let linksAreLinks = !Self.zipLinksAreFiles.contains { lowered.hasSuffix($0) }
        for index in 0..<listing.count {
            let member = try listing.member(index)
            if member.isDirectory { continue }
            if index & 0xFF == 0, timeUp(name) { return }
            entries += 1
            guard entries <= limits.maxEntries else { throw ArchiveError("more than \(limits.maxEntries) entries") }
            // Built only for a member that is read or reported: most are neither.
            var path: String { name + "!/" + member.name }
            if member.encrypted {
                problem(path, "encrypted member; not read")
                continue
            }
            do {
                let start = try ZipDirectory.dataOffset(member, in: window)
                if linksAreLinks && member.isSymlink,
                    let target = try linkTarget(member, at: start, window: window, inflater: inflater)
                {
                    links[path] = target
                    linksSeen += 1
                    continue
                }
                let head = try window.slice(at: start, count: min(member.compressedSize, Self.zipPeekInput))
                guard
                    (limits.scripts && Scripts.isDockerfileName(member.name))
                        || worthReading(head, member, inflater: inflater)
                else {
                    otherFiles += 1
                    uninteresting.append(index)
                    continue
                }
                let stored = file.source(offset: start, length: member.compressedSize)
                switch member.method {
                case 0:
                    visit(name: path, source: stored, size: member.compressedSize, depth: depth + 1)
                case 8:
                    visit(
                        name: path, source: try Decompressed(.gzip, stored, meter: meter, rawDeflate: true),
                        size: member.uncompressedSize, depth: depth + 1, declaredSize: true)
                default:
                    problem(path, "member compressed with zip method \(member.method), which is not read; not judged")
                }
            } catch let error as ArchiveError {
                problem(path, error.description)
            }
        }
    }

    /// A symbolic-link member's target (its data), recorded as a tar's links are: a library lookup follows
    /// it. Nil when the data is no path a link can hold (empty, a NUL byte, over PATH_MAX, not decodable): the
    /// member is then read as the file Python's zipfile would extract, so that an ELF file is still judged.
    private func linkTarget(_ member: ZipMember, at start: Int, window: ReadWindow, inflater: DeflateHeads) throws
        -> String?
    {
        guard member.uncompressedSize > 0, member.uncompressedSize <= Self.maxLinkTarget else { return nil }
        let data = try window.slice(at: start, count: min(member.compressedSize, Self.zipPeekInput))
        let target: [UInt8]?
        switch member.method {
        case 0: target = Array(data.prefix(member.uncompressedSize))
        case 8: target = inflater.head(data, count: member.uncompressedSize)
        default: target = nil
        }
        guard let target, target.count == member.uncompressedSize, !target.contains(0) else { return nil }
        return String(decoding: target, as: UTF8.self)
    }

    /// Compressed bytes handed to the first-bytes decoder: far more than 512 decoded bytes ever need.
    static let zipPeekInput = 1 << 16

    /// Whether a zip member's first bytes say ELF or archive: read directly when stored, decoded when
    /// deflated (a member that starts like an earlier one found to hold nothing of interest is not decoded
    /// again: `ZipHeads`). True when they cannot be told (damaged data, another method), so that the
    /// extraction reports it.
    func worthReading(_ data: ArraySlice<UInt8>, _ member: ZipMember, inflater: DeflateHeads) -> Bool {
        switch member.method {
        case 0: return Archives.worthReading(scripts: limits.scripts) { Array(data.prefix($0)) }
        case 8:
            let partial = data.count < member.compressedSize
            return data.withUnsafeBytes { raw in
                if ZipHeads.shared.knownUninteresting(crc: member.crc, compressedSize: member.compressedSize, data: raw)
                {
                    return false
                }
                var consumed = 0
                let scripts = limits.scripts
                let answer = Archives.worthReading(scripts: scripts) { count in
                    guard let head = inflater.head(data, count: count) else { return nil }
                    consumed = max(consumed, inflater.consumed)
                    // Input cut short here (not the member's end): undecided, so read in full.
                    return head.count < count && partial ? nil : head
                }
                if !answer {
                    ZipHeads.shared.rememberUninteresting(
                        crc: member.crc, compressedSize: member.compressedSize, data: raw, consumed: consumed)
                }
                return answer
            }
        default: return true
        }
    }
}
