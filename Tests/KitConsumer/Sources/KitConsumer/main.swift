import Assessment
import ELF
import Engine
import Knowledge
import Reporting

// Judges each path given against the newest Alpine release through the library's public API: one file
// through the reader and the assessor, then all of them as one batch through the engine.
// Prints "PATH: VERDICT" lines; exits 2 when a path cannot be read or judged.
#if canImport(Glibc)
    import Glibc
#endif

let paths = Array(CommandLine.arguments.dropFirst())
guard case .success(let kb) = KnowledgeBase.shared, let release = kb.newestStable else {
    print("the knowledge base did not load")
    exit(2)
}
var status: Int32 = 0
if let first = paths.first {
    guard case .elf(let facts) = ELFReader.read(path: first) else {
        print("\(first): not an ELF file that could be read")
        exit(2)
    }
    print("\(first) alone: \(Assessor(kb: kb, release: release).assess(facts, path: first).verdict.rawValue)")
}
let outcome = CheckEngine.run(CheckRequest(paths: paths, release: release, jobs: 1), kb: kb)
for result in outcome.results {
    guard let assessment = result.assessment else {
        print("\(result.path): \(result.status.rawValue)")
        status = 2
        continue
    }
    print("\(result.path): \(assessment.verdict.rawValue)")
}
exit(status)
