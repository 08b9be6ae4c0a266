// Binding as musl binds: a symbol is looked up only when a relocation names it (ldso/dynlink.c, do_relocs),
// so an undefined symbol no relocation names never stops a file from loading; and a file is judged by what
// the loader reads (the dynamic segment), whatever its section headers say.
import ELF

extension Assessor {
    /// Why a separate debug file is skipped.
    public static let separateDebugFile =
        "separate debug file (its code and dynamic segment are not in it): never loaded"

    /// Imports musl lacks that no relocation names: a note, never a verdict.
    func noteUnreferenced(_ state: inout State, _ names: [String]) {
        guard !names.isEmpty else { return }
        let count = names.count == 1 ? "1 import" : "\(names.count) imports"
        state.find(
            .unreferencedImport,
            "\(count) musl \(release.musl) lacks \(names.count == 1 ? "is" : "are") named by no relocation: musl never looks \(names.count == 1 ? "it" : "them") up, so loading cannot fail on \(names.count == 1 ? "it" : "them")",
            symbols: names)
    }

    /// Section headers that describe other symbol tables than the dynamic segment: the facts are the
    /// loader's, and the report says the file's two views differ (tools that read sections see other imports).
    func checkSections(_ state: inout State) {
        guard let gap = state.facts.gaps.first(where: { $0.part == .sectionsDisagree }) else { return }
        state.find(.sectionsDisagree, gap.message)
    }
}
