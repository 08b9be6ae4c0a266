#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
// Searching the file's bytes for a marker (Go package names, Rust's runtime), bounded by the deadline and,
// in a file mapping, without keeping the searched pages resident.

extension FactsDecoder {
    /// Searched at a time; in a file mapping, the pages of a searched stretch are then given back, so that
    /// a search through a huge (or sparse) file does not keep it all resident.
    static let searchChunk = 4 << 20

    /// The file bytes the loader maps (PT_LOAD), merged and in order; the whole file when none are named.
    /// Trailing bytes no segment covers (a sparse tail of gigabytes) are never searched.
    private var loadedRegions: [Region] {
        var ranges: [(Int, Int)] = []
        for ph in layout.programHeaders where ph.type == SegmentType.load && ph.filesz > 0 {
            if let r = region(offset: ph.offset, size: ph.filesz), r.size > 0 { ranges.append((r.offset, r.end)) }
        }
        guard !ranges.isEmpty else { return [Region(offset: 0, size: bytes.count)] }
        ranges.sort { $0.0 < $1.0 }
        var merged: [(Int, Int)] = []
        for (start, end) in ranges {
            if let last = merged.last, start <= last.1 {
                merged[merged.count - 1].1 = Swift.max(last.1, end)
            } else {
                merged.append((start, end))
            }
        }
        return merged.map { Region(offset: $0.0, size: $0.1 - $0.0) }
    }

    /// Whether `marker` occurs in `within` (default: the bytes the loader maps). The scan jumps between
    /// occurrences of the marker's rarest-looking byte ('/', '_', '.' or a capital), not its first letter:
    /// in the large Go files searched here a common first letter made this the costliest step of reading.
    mutating func contains(_ marker: String, within: Region? = nil) -> Bool {
        let needle = Array(marker.utf8)
        guard !needle.isEmpty else { return false }
        for r in within.map({ [$0] }) ?? loadedRegions {
            guard r.offset >= 0, r.size >= 0, r.offset <= bytes.count, r.size <= bytes.count - r.offset else {
                continue
            }
            var chunkStart = r.offset
            while chunkStart < r.end {
                // Chunks overlap by the needle's length less one, so no occurrence falls between two.
                let chunkEnd = Swift.min(r.end, chunkStart + Self.searchChunk)
                if search(needle, in: Region(offset: chunkStart, size: chunkEnd - chunkStart)) { return true }
                if stopped { return false }
                if chunkEnd == r.end { break }
                release(from: chunkStart, to: chunkEnd - needle.count)
                chunkStart = chunkEnd - (needle.count - 1)
            }
        }
        return false
    }

    /// Gives back the resident pages of a mapped file's stretch (they are read again from the file if
    /// touched later: the mapping is private and this code never writes to it).
    private func release(from start: Int, to end: Int) {
        guard fileMapped, let base = bytes.raw.baseAddress else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        guard page > 0 else { return }
        let first = (start + page - 1) / page * page
        let last = end / page * page
        guard last > first, Int(bitPattern: base) % page == 0 else { return }
        _ = madvise(UnsafeMutableRawPointer(mutating: base + first), last - first, MADV_DONTNEED)
    }

    /// The byte of `needle` the scan jumps between: the first '/' or '_', else the first capital, else the
    /// first '.', else the first byte.
    private static func anchor(of needle: [UInt8]) -> Int {
        needle.firstIndex { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "_") }
            ?? needle.firstIndex { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }
            ?? needle.firstIndex(of: UInt8(ascii: ".")) ?? 0
    }

    private mutating func search(_ needle: [UInt8], in r: Region) -> Bool {
        guard let base = bytes.raw.baseAddress, needle.count <= r.size else { return false }
        let anchor = Self.anchor(of: needle)
        var found = false
        var gaveUp = false
        let deadline = options.deadline
        let last = r.offset + r.size - (needle.count - anchor)  // the last position the anchor byte can take
        needle.withUnsafeBytes { n in
            guard let nb = n.baseAddress else { return }
            var at = r.offset + anchor
            var round = 0
            while at <= last, let hit = memchr(base + at, Int32(needle[anchor]), last - at + 1) {
                let pos = UnsafeRawPointer(hit) - base
                if memcmp(base + (pos - anchor), nb, needle.count) == 0 {
                    found = true
                    return
                }
                at = pos + 1
                round += 1
                if round & (Self.roundsPerDeadlineCheck - 1) == 0, deadline?.passed == true {
                    gaveUp = true
                    return
                }
            }
        }
        if gaveUp { stopped = true }
        return found
    }
}
