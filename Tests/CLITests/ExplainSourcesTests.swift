// `explain` and `kb` show where the knowledge comes from, as addresses users can open.
import Foundation
import Testing

@Suite struct ExplainSources {
    /// Every rule's sources are printed one a line, each a public address.
    @Test func ruleSourcesArePublicAddresses() throws {
        let kb = try json(muslcheck("kb", "--format", "json").stdout)
        let rules = try #require(kb["rules"] as? [[String: Any]])
        for rule in rules {
            let id = try #require(rule["id"] as? String)
            let out = muslcheck("explain", id).stdout
            let sources = out.components(separatedBy: "Sources:\n").last?.split(separator: "\n") ?? []
            #expect(!sources.isEmpty && sources.contains { $0.contains("https://") }, "\(id)")
            #expect(!out.contains("FACTS.md"), "\(id)")
        }
    }

    /// A library name is explained from its libraries.tsv row, with the APKBUILD it comes from.
    @Test func libraryNamesAreExplained() {
        let pam = muslcheck("explain", "libpam.so.0")
        #expect(pam.exitCode == 0)
        #expect(pam.stdout.contains("linux-pam") && pam.stdout.contains("https://github.com/alpinelinux/aports/blob/"))
        let selinux = muslcheck("explain", "libselinux.so.1")
        #expect(
            selinux.stdout.hasPrefix("libselinux.so.1 (package)") && selinux.stdout.contains("community/libselinux"))
        #expect(muslcheck("explain", "libc.so.6").stdout.contains("musl-self, row libc.*"))
    }

    /// The data files `kb` lists include the new ones, each with its provenance.
    @Test func kbListsNewDataWithProvenance() throws {
        let kb = try json(muslcheck("kb", "--format", "json").stdout)
        let sources = try #require(kb["sources"] as? [[String: Any]])
        for file in ["gcompat-1.1.0-aarch64.txt", "glibc-beside-musl.tsv", "libraries.tsv"] {
            let source = try #require(sources.first { $0["file"] as? String == file }, "\(file) not listed")
            #expect((source["provenance"] as? String)?.contains("https://") == true, "\(file)")
            #expect((source["entries"] as? Int ?? 0) > 0)
        }
    }
}
