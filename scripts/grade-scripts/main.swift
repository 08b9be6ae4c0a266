// Grades the script parser on a list of files (one path a line on stdin): reads each, parses it, judges it for
// the newest Alpine release, and prints the figures plus one line per parse error. Built and run by
// scripts/grade-scripts.sh; not part of the package. GRADE_TOP=N also prints the N most frequent (rule, word)
// pairs; GRADE_SHOW=RULE prints every finding of that rule with file:line:column.
import Foundation
import Knowledge

func cpuSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

guard case .success(let kb) = KnowledgeBase.shared, case .success(let scripts) = ScriptKnowledge.shared,
      let release = kb.newestStable else {
    FileHandle.standardError.write(Data("knowledge does not load\n".utf8))
    exit(2)
}
let assessor = ScriptAssessor(kb: kb, scripts: scripts, release: release)
var paths: [String] = []
while let line = readLine() { if !line.isEmpty { paths.append(line) } }
var contents: [(String, [UInt8])] = []
var bytes = 0
for p in paths {
    guard let d = FileManager.default.contents(atPath: p) else { continue }
    contents.append((p, [UInt8](d)))
    bytes += d.count
}
var errors: [String] = []
var ashFlagged: [String] = []
var notScripts = 0, findings = 0, verdicts: [ScriptVerdict: Int] = [:], byRule: [String: Int] = [:], byWord: [String: Int] = [:]
let t0 = cpuSeconds()
var facts: [ScriptFacts] = []
facts.reserveCapacity(contents.count)
for (p, b) in contents {
    guard let f = ScriptFacts.read(path: p, bytes: b) else { notScripts += 1; continue }
    facts.append(f)
}
let t1 = cpuSeconds()
for f in facts {
    let a = assessor.assess(f)
    findings += a.findings.count
    for finding in a.findings where ProcessInfo.processInfo.environment["GRADE_SHOW"] == finding.rule {
        print("show\t\(f.path):\(finding.line):\(finding.column)\t\(finding.message)")
    }
    for f in a.findings {
        byRule[f.rule, default: 0] += 1
        byWord["\(f.rule) \(f.word)", default: 0] += 1
    }
    if a.findings.contains(where: { $0.rule == ScriptAssessor.RuleID.ashError || $0.rule == ScriptAssessor.RuleID.parseError }) {
        ashFlagged.append(f.path)
    }
    verdicts[a.verdict, default: 0] += 1
    for u in f.units {
        if let e = u.script.error {
            let at = f.position(of: e.offset)
            errors.append("\(f.path)\t\(at.line)\t\(at.column)\t\(e.message)")
        }
    }
}
let t2 = cpuSeconds()
print("files\t\(contents.count)")
print("bytes\t\(bytes)")
print("not-scripts\t\(notScripts)")
print("parse-errors\t\(errors.count)")
print(String(format: "parse-cpu-seconds\t%.3f", t1 - t0))
print(String(format: "assess-cpu-seconds\t%.3f", t2 - t1))
print("findings\t\(findings)")
for (r, n) in byRule.sorted(by: { $0.key < $1.key }) { print("findings-\(r)\t\(n)") }
for (w, n) in byWord.sorted(by: { $0.value > $1.value }).prefix(Int(ProcessInfo.processInfo.environment["GRADE_TOP"] ?? "0") ?? 0) {
    print("top\t\(n)\t\(w)")
}
for v in ScriptVerdict.allCases { print("verdict-\(v.rawValue)\t\(verdicts[v] ?? 0)") }
for e in errors { print("error\t\(e)") }
for p in ashFlagged { print("ash-flagged\t\(p)") }
