// Finds a NEEDED library where musl's loader would look beside the binary: its RPATH and RUNPATH
// entries ($ORIGIN expanded; musl treats both alike) and the binary's own directory (bundled copies).
// System directories are not searched: the host's libraries say nothing about an Alpine system.
import ELF
import Foundation

public enum LibraryLocator {
    /// The path of `soname` beside `binaryPath`, if a regular file exists there.
    public static func locate(_ soname: String, facts: BinaryFacts, binaryPath: String) -> String? {
        guard !soname.contains("/") || soname.hasPrefix("/") else { return nil }
        if soname.hasPrefix("/") { return isRegularFile(soname) ? soname : nil }
        let directory = binaryPath.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        let origin = directory.isEmpty ? "." : directory
        var candidates: [String] = []
        for entry in (facts.rpath + facts.runpath).prefix(64) where !entry.isEmpty {
            let expanded = entry.replacingOccurrences(of: "${ORIGIN}", with: origin).replacingOccurrences(of: "$ORIGIN", with: origin)
            // Absolute system paths are part of the target system, not of the scanned artifact.
            guard expanded.hasPrefix(origin) || !entry.hasPrefix("/") else { continue }
            candidates.append(expanded)
        }
        candidates.append(origin)
        for dir in candidates {
            let path = dir.hasSuffix("/") ? dir + soname : dir + "/" + soname
            if isRegularFile(path) { return path }
        }
        return nil
    }

    static func isRegularFile(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && st.st_mode & S_IFMT == S_IFREG
    }
}

