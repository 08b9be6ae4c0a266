// Notes (the GNU ABI tag and build ID, Go's build ID) and the .comment section's compiler strings.

extension FactsDecoder {
    /// Longest note name read: the owners that matter are "GNU" and "Go".
    static let maxNoteName = 16
    /// Longest Go build ID read (Go writes four hashes, about 90 bytes).
    static let maxGoBuildID = 1024
    /// Bytes of a build ID shown (SHA-1 IDs are 20; a longer descriptor is cut here).
    static let maxBuildIDBytes = 64
    /// Bytes of .comment read, and distinct strings kept from it.
    static let maxCommentBytes: UInt64 = 1 << 16
    static let maxComments = 64

    /// Notes of every PT_NOTE (or SHT_NOTE) region, each region once: a file can point thousands of headers
    /// at one huge note. At most `maxNotes` notes in all, each read only as far as the facts need.
    mutating func readNotes(_ regions: [Region]) {
        var seen = Set<Int>()
        var total = 0
        for r in regions where seen.insert(r.identity).inserted {
            if total >= Self.maxNotes || stopped { break }
            readNotes(r, total: &total)
        }
        if total >= Self.maxNotes {
            facts.gaps.append(
                Gap(
                    .notes,
                    "more than \(Self.maxNotes) notes (a cap against pathological files); the rest were not read"))
        }
    }

    private mutating func readNotes(_ r: Region, total: inout Int) {
        var at = r.offset
        while at + NoteLayout.headerSize <= r.end, total < Self.maxNotes {
            total += 1
            if timeUp(total) { return }
            guard let namesz = bytes.u32(at), let descsz = bytes.u32(at + NoteLayout.descriptorSize),
                let type = bytes.u32(at + NoteLayout.type)
            else { break }
            let nameAt = at + NoteLayout.headerSize
            let descAt = nameAt + align(Int(namesz), NoteLayout.alignment)
            let descEnd = descAt + Int(descsz)
            guard descEnd <= r.end else {
                facts.gaps.append(Gap(.notes, "note at offset \(at) runs past its segment"))
                break
            }
            let name = bytes.cString(nameAt, end: nameAt + Swift.min(Int(namesz), Self.maxNoteName)) ?? ""
            readNote(owner: name, type: type, descriptor: Region(offset: descAt, size: Int(descsz)))
            at = descAt + align(Int(descsz), NoteLayout.alignment)
        }
    }

    /// One note whose descriptor lies inside the file.
    private mutating func readNote(owner: String, type: UInt32, descriptor d: Region) {
        switch (owner, type) {
        case ("GNU", NoteType.gnuABITag):
            // Four words: the OS, then the kernel's major, minor and patch level.
            guard d.size >= 16, let os = bytes.u32(d.offset), let a = bytes.u32(d.offset + 4),
                let b = bytes.u32(d.offset + 8), let c = bytes.u32(d.offset + 12)
            else { return }
            let names = NoteType.abiTagOSNames
            let osName = names.indices.contains(Int(os)) ? names[Int(os)] : "os-\(os)"
            facts.abiTag = ABITag(os: osName, version: "\(a).\(b).\(c)")
        case ("GNU", NoteType.gnuBuildID):
            facts.buildID = hexString(d.offset, d.size)
        case ("Go", NoteType.goBuildID):
            facts.goBuildID = bytes.cStringOrRest(d.offset, end: d.offset + Swift.min(d.size, Self.maxGoBuildID))
        default:
            break
        }
    }

    private func align(_ value: Int, _ to: Int) -> Int { (value + to - 1) & ~(to - 1) }

    private func hexString(_ at: Int, _ count: Int) -> String {
        let digits: [Character] = Array("0123456789abcdef")
        var out = ""
        out.reserveCapacity(count * 2)
        for i in 0..<Swift.min(count, Self.maxBuildIDBytes) {
            guard let byte = bytes.u8(at + i) else { break }
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0xf)])
        }
        return out
    }

    // MARK: .comment

    mutating func readComments() {
        guard let s = section(named: ".comment"), s.type != SectionType.nobits,
            let r = region(offset: s.offset, size: Swift.min(s.size, Self.maxCommentBytes))
        else { return }
        var at = r.offset
        var seen = Set<String>()
        while at < r.end, facts.comments.count < Self.maxComments {
            let text = bytes.cStringOrRest(at, end: r.end)
            if !text.isEmpty && seen.insert(text).inserted { facts.comments.append(text) }
            at += text.utf8.count + 1
        }
    }
}
