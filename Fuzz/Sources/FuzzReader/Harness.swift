// libFuzzer entry point: every input goes through the ELF reader and the verdict engine, and inputs that
// look like archives through the archive reader with small limits. Any crash, hang or sanitizer report
// is a bug; the inputs that found one are kept in fixtures-bin/fuzz-regressions/.
import Archives
import Assessment
import ELF
import Knowledge

let assessor: Assessor? = {
    guard case .success(let kb) = KnowledgeBase.shared, let release = kb.release(named: "3.20") else { return nil }
    return Assessor(kb: kb, release: release)
}()

let limits: ArchiveLimits = {
    var l = ArchiveLimits()
    l.maxDepth = 3; l.maxMemberBytes = 1 << 20; l.maxTotalBytes = 4 << 20; l.maxEntries = 1000
    return l
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if case .elf(let facts) = ELFReader.read(bytes: bytes, options: ReadOptions(exportNames: true)) {
        _ = assessor?.assess(facts, path: "fuzz/input")
    }
    if let kind = Archives.kind(bytes) {
        // The scanner's peek: a compressed file judged from its first 512 bytes only.
        _ = Archives.holdsCandidate(kind, bytes.prefix(512))
        _ = Archives.expand(name: "input", bytes: bytes, limits: limits)  // each ELF member read as found
    }
    return 0
}

// SwiftPM names an executable's entry point <Target>_main; hand control to libFuzzer's driver from there.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Int32

@_cdecl("FuzzReader_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var count = argc
    var args = argv
    return LLVMFuzzerRunDriver(&count, &args, fuzz)
}
