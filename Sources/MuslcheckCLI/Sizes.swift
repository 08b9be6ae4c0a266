import ArgumentParser
// Byte limits as people write them: 1048576, 512K, 512M, 2G, 1T (powers of 1024; "MiB", "MB" and "M" alike).
import TextSupport

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

struct ByteSize: ExpressibleByArgument, Sendable, Equatable {
    var bytes: Int
    init(_ bytes: Int) { self.bytes = bytes }

    static let units: [(suffix: Character, shift: Int)] = [("K", 10), ("M", 20), ("G", 30), ("T", 40)]

    init?(argument: String) {
        var text = Substring(argument.trimmed()).uppercased()[...]
        if text.hasSuffix("IB") { text = text.dropLast(2) } else if text.hasSuffix("B") { text = text.dropLast() }
        var shift = 0
        if let last = text.last, let unit = Self.units.first(where: { $0.suffix == last }) {
            shift = unit.shift
            text = text.dropLast()
        }
        guard !text.isEmpty, text.allSatisfy(\.isNumber), let n = Int(text) else { return nil }
        let (value, overflow) = n.multipliedReportingOverflow(by: 1 << shift)
        guard !overflow else { return nil }
        bytes = value
    }

    /// The shortest exact form: 268435456 → 256M.
    var text: String {
        for unit in Self.units.reversed() where bytes > 0 && bytes % (1 << unit.shift) == 0 {
            return "\(bytes >> unit.shift)\(unit.suffix)"
        }
        return String(bytes)
    }
    var defaultValueDescription: String { text }
}
