// A saved JSON check report read back, and shard reports merged into the outcome of one run over
// everything: the same results in the same order, the same summary and gate (`muslcheck merge`).
import Assessment
import Reporting

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Where a sharded run's results stand in the whole walk: written as the report's "shard" field.
public struct ShardPlacement: Codable, Sendable, Equatable {
    public var index: Int
    public var count: Int
    /// The paths the run was given, as given: every share must have walked the same.
    public var inputs: [String]
    /// How many items the whole walk found (the same in every share of one run).
    public var walked: Int
    /// For each result, the walk position of the item it came from.
    public var items: [Int]

    public init(shard: Shard, inputs: [String], walked: Int, items: [Int]) {
        index = shard.index
        count = shard.count
        self.inputs = inputs
        self.walked = walked
        self.items = items
    }

    public func jsonFields() throws -> [(String, JSON.Field)] {
        [("shard", .value(try JSON.fragment(self, indent: 1)))]
    }
}

/// A report that cannot be read or merged; the message says which file and why.
public struct ReportError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// A check report as `--format json` writes it.
public struct SavedReport: Decodable, Sendable {
    public var schemaVersion: Int
    public var tool: CheckReport.Tool
    public var target: CheckReport.Target
    public var results: [CheckResult]
    public var summary: Counts
    public var gate: CheckReport.Gate
    public var shard: ShardPlacement?

    /// The summary's file count: with the results listed, it tells how many files were only counted.
    public struct Counts: Decodable, Sendable {
        public var files: Int
        /// The C library's own files, counted apart (most of them not listed).
        public var cLibrary: Int?
    }

    public static let schemaVersion = 1
    /// Larger files are refused rather than read into memory (a whole-/usr report is tens of megabytes).
    public static let maxBytes = 4 << 30

    public static func load(_ path: String) throws -> SavedReport {
        let data: Data
        do { data = Data(try LocalFile.read(path, maxBytes: maxBytes)) } catch {
            throw ReportError("cannot read \(path): \(error.reason)")
        }
        return try decode(data, name: path)
    }

    public static func decode(_ data: Data, name: String) throws -> SavedReport {
        let report: SavedReport
        do { report = try JSONDecoder().decode(SavedReport.self, from: data) } catch {
            throw ReportError("\(name) is not a muslcheck check report (--format json): \(describe(error))")
        }
        guard report.schemaVersion == schemaVersion else {
            throw ReportError(
                "\(name): schema version \(report.schemaVersion); this muslcheck reads version \(schemaVersion)")
        }
        guard report.summary.files >= report.results.count else {
            throw ReportError(
                "\(name): the summary counts \(report.summary.files) files but \(report.results.count) are listed")
        }
        if let s = report.shard {
            guard Shard(index: s.index, count: s.count) != nil else {
                throw ReportError("\(name): shard \(s.index)/\(s.count) is not a share")
            }
            guard s.items.count == report.results.count, s.items.allSatisfy({ $0 >= 0 && $0 < s.walked }) else {
                throw ReportError("\(name): its shard placement does not match its results")
            }
        }
        return report
    }

    static func describe(_ error: Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, let context):
            return "no \"\(key.stringValue)\" at \(path(context.codingPath))"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context),
            DecodingError.dataCorrupted(let context):
            return "\(context.debugDescription) at \(path(context.codingPath))"
        default: return "\(error)"
        }
    }

    static func path(_ keys: [CodingKey]) -> String {
        keys.isEmpty ? "the top" : keys.map { $0.intValue.map { "[\($0)]" } ?? "." + $0.stringValue }.joined()
    }
}

public enum ReportMerge {
    /// One outcome from reports of one run: the shares of a sharded run (all of them, each once), or
    /// unsharded reports (their results one after the other, in the order given). The gate is decided
    /// again with `gate`, as the run would have.
    public static func merge(_ reports: [(name: String, report: SavedReport)], gate: Gate) throws -> CheckOutcome {
        guard let (firstName, first) = reports.first else { throw ReportError("no reports to merge") }
        for (name, r) in reports.dropFirst() {
            if r.tool.name != first.tool.name || r.tool.version != first.tool.version {
                throw ReportError(
                    "\(name) was written by \(r.tool.name) \(r.tool.version), \(firstName) by \(first.tool.name) "
                        + "\(first.tool.version): reports of different tool versions are not merged")
            }
            if r.tool.knowledgeBase != first.tool.knowledgeBase {
                throw ReportError(
                    "\(name) used knowledge base \(r.tool.knowledgeBase), \(firstName) \(first.tool.knowledgeBase): "
                        + "reports of different knowledge bases are not merged")
            }
            if r.target.distribution != first.target.distribution || r.target.release != first.target.release
                || r.target.musl != first.target.musl || r.target.gcompat != first.target.gcompat
            {
                throw ReportError(
                    "\(name) judged against \(r.target.distribution):\(r.target.release), \(firstName) against "
                        + "\(first.target.distribution):\(first.target.release): reports of different targets are not merged"
                )
            }
        }
        let ordered = try order(reports)
        var failing: [Bool] = []
        failing.reserveCapacity(ordered.count)
        var results: [CheckResult] = []
        results.reserveCapacity(ordered.count)
        var summary = CheckSummary()
        let counted = reports.reduce(0) { $0 + $1.report.summary.files - $1.report.results.count }
        for _ in 0..<counted { summary.addWalkedSkip() }
        summary.cLibrary = reports.reduce(0) { $0 + ($1.report.summary.cLibrary ?? 0) }
        for var result in ordered {
            if result.kind != nil { summary.scripts += 1 }
            var fails = false
            if var a = result.assessment {
                gate.filter(&a)
                result.assessment = a
                fails = gate.fails(path: result.path, a)
            }
            let a = result.assessment
            summary.add(
                status: result.status, verdict: a?.verdict, packages: a?.packages ?? [],
                symbols: (a?.missingSymbols ?? []).filter { $0.providedBy == nil }.map(\.name),
                libraries: (a?.missingLibraries ?? []).filter { $0.package == nil }.map(\.soname))
            results.append(result)
            failing.append(fails)
        }
        summary.finish()
        return CheckOutcome(results: results, failing: failing, summary: summary)
    }

    /// The results in the order of one run: a sharded run's by where each item stood in the walk.
    static func order(_ reports: [(name: String, report: SavedReport)]) throws -> [CheckResult] {
        let sharded = reports.filter { $0.report.shard != nil }
        if sharded.isEmpty { return reports.flatMap(\.report.results) }
        guard sharded.count == reports.count, let (firstName, first) = reports.first, let placement = first.shard else {
            let plain = reports.first { $0.report.shard == nil }?.name ?? ""
            throw ReportError(
                "\(plain) is not a shard report, \(sharded[0].name) is: give either the shares of one sharded run or whole reports"
            )
        }
        var byIndex: [Int: String] = [:]
        for (name, r) in reports {
            guard let s = r.shard else { continue }
            if s.count != placement.count || s.inputs != placement.inputs || s.walked != placement.walked {
                throw ReportError(
                    "\(name) is share \(s.index)/\(s.count) of a run over \(s.inputs.count) paths (\(s.walked) items), "
                        + "\(firstName) share \(placement.index)/\(placement.count) over \(placement.inputs.count) paths "
                        + "(\(placement.walked) items): not shares of one run")
            }
            if let other = byIndex[s.index] {
                throw ReportError("\(name) and \(other) are both share \(s.index)/\(s.count)")
            }
            byIndex[s.index] = name
        }
        let missing = (1...placement.count).filter { byIndex[$0] == nil }
        guard missing.isEmpty else {
            throw ReportError(
                "shares missing: " + missing.prefix(20).map { "\($0)/\(placement.count)" }.joined(separator: ", ")
                    + (missing.count > 20 ? ", …" : "") + "; merge needs every share of the run")
        }
        var owner: [Int: Int] = [:]  // walk position → share that read it
        var keyed: [(position: Int, sequence: Int, result: CheckResult)] = []
        for (name, r) in reports {
            guard let s = r.shard else { continue }
            for (i, position) in s.items.enumerated() {
                if let other = owner[position], other != s.index {
                    throw ReportError(
                        "\(name): item \(position) was read by shares \(other) and \(s.index); not shares of one run")
                }
                owner[position] = s.index
                keyed.append((position, keyed.count, r.results[i]))
            }
        }
        keyed.sort { $0.position != $1.position ? $0.position < $1.position : $0.sequence < $1.sequence }
        return keyed.map(\.result)
    }
}
