import ELF
import Engine
import Knowledge
import Reporting
import Scanning

// Encodes the results of a real `check` and `inspect` over the given directories (default /usr/bin) with
// the project's JSON writer and with FoundationEssentials' JSONEncoder, on one thread each, ROUNDS times
// (default 7) in turn, and prints the median and fastest time of each and the ratio of the medians.
// Only the encoding is timed: the files are read and judged once, before.
#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
#if canImport(Glibc)
    import Glibc
#endif

let directories = CommandLine.arguments.count > 1 ? Array(CommandLine.arguments.dropFirst()) : ["/usr/bin"]
let rounds = Int(ProcessInfo.processInfo.environment["ROUNDS"] ?? "") ?? 7

guard case .success(let kb) = KnowledgeBase.shared, let release = kb.newestStable else {
    print("json-bench: the knowledge base did not load")
    exit(2)
}

// What `check --format json` writes: one CheckResult per file.
let outcome = CheckEngine.run(CheckRequest(paths: directories, release: release), kb: kb)
let results = outcome.results

// What `inspect --format json` writes: one InspectedFile per ELF file.
let items = Walker.collect(directories)
let inspected: [InspectedFile] = items.flatMap { item in
    Scanner.scan(item).compactMap { scanned in
        guard case .elf = scanned.result else { return nil }
        return InspectedFile(scanned)
    }
}
let imports: [[ImportedSymbol]] = inspected.map { $0.facts?.imports ?? [] }
let importCount = imports.reduce(0) { $0 + $1.count }

/// Seconds `body` takes; its result's byte count is kept so that no encoding is optimised away.
func time(_ body: () throws -> Int) rethrows -> (seconds: Double, bytes: Int) {
    let clock = ContinuousClock()
    var bytes = 0
    let elapsed = try clock.measure { bytes = try body() }
    let (s, atto) = elapsed.components
    return (Double(s) + Double(atto) / 1e18, bytes)
}

func jsonEncoder() -> JSONEncoder {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .withoutEscapingSlashes]
    return encoder
}

struct Case {
    var name: String
    var body: () throws -> Int
    var times: [Double] = []
    var bytes = 0
}

var cases = [
    Case(name: "check results, this writer") {
        let fragments = try results.map { try JSON.fragment($0, indent: 2) }
        return JSON.documentParts([("results", .elements(fragments))]).reduce(0) { $0 + $1.utf8.count }
    },
    Case(name: "check results, JSONEncoder") { try jsonEncoder().encode(results).count },
    Case(name: "inspect files, this writer") {
        let fragments = inspected.map { JSON.fragment($0, indent: 2) }
        return InspectReport.jsonParts(files: fragments).reduce(0) { $0 + $1.utf8.count }
    },
    Case(name: "inspect imports alone, this writer's Codable path") {
        try JSON.fragment(imports, indent: 0).utf8.count
    },
    Case(name: "inspect imports alone, JSONEncoder") { try jsonEncoder().encode(imports).count },
]

for _ in 0..<rounds {
    for i in cases.indices {
        let (seconds, bytes) = try time(cases[i].body)
        cases[i].times.append(seconds)
        cases[i].bytes = bytes
    }
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
}
func seconds(_ value: Double) -> String {
    let milli = Int((value * 1000).rounded())
    return "\(milli / 1000).\(String(repeating: "0", count: 3 - String(milli % 1000).count))\(milli % 1000) s"
}
func ratio(_ a: Double, _ b: Double) -> String {
    let r = Int((a / max(b, 1e-9) * 10).rounded())
    return "\(r / 10).\(r % 10)x"
}

print(
    "\(directories.joined(separator: " ")): \(results.count) check results, \(inspected.count) ELF files inspected"
        + " (\(importCount) imports); \(rounds) rounds, one thread")
for c in cases {
    print(
        "  \(c.name): median \(seconds(median(c.times))), fastest \(seconds(c.times.min() ?? 0)), \(c.bytes) bytes")
}
print("  check results: JSONEncoder / this writer = \(ratio(median(cases[1].times), median(cases[0].times)))")
print(
    "  inspect: JSONEncoder on the imports alone / this writer on whole files = "
        + ratio(median(cases[4].times), median(cases[2].times)))
print(
    "  inspect imports alone: JSONEncoder / this writer's Codable path = "
        + ratio(median(cases[4].times), median(cases[3].times)))
