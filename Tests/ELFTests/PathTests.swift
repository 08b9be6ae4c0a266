import Testing

@testable import Scanning

/// Library paths are normalised without the file system; most need nothing done and are returned as
/// they are, the rest lose "." and "dir/.." components, doubled and trailing slashes.
@Suite struct PathNormalisation {
    @Test(arguments: [
        ("/usr/lib/libfoo.so.1", "/usr/lib/libfoo.so.1"),
        ("bin/../lib/libfoo.so", "lib/libfoo.so"),
        ("/opt/app/bin/../lib/./libx.so", "/opt/app/lib/libx.so"),
        ("a//b", "a/b"),
        ("a/b/", "a/b"),
        ("/", "/"),
        ("", "."),
        (".", "."),
        ("./x", "x"),
        ("../x", "../x"),
        ("a/.hidden/..x/...", "a/.hidden/..x/..."),
        ("a/..", "."),
        ("/a/b/..", "/a"),
        ("a/.", "a"),
    ])
    func normalises(_ input: String, _ expected: String) {
        #expect(DependencyResolver.lexicallyNormalized(input) == expected)
    }
}

@Suite struct DirectoryOfPath {
    @Test(arguments: [
        ("/usr/bin/ls", "/usr/bin"), ("/ls", "/"), ("ls", ""), ("a/b", "a"),
        ("app.whl!/pkg/mod.so", "app.whl!/pkg"), ("app.whl!/mod.so", "app.whl!"),
    ])
    func cutsTheLastComponent(_ path: String, _ expected: String) {
        #expect(DependencyResolver.directory(of: path) == expected)
    }
}

/// The walk's compact list gives back exactly the items put in, in order: files found by walking (name and
/// directory kept apart), items kept whole (unreadable, links followed to an earlier path), image layouts,
/// and another list joined after it (its names and directories moved over in blocks).
@Suite struct CompactWalkList {
    @Test func itemsComeBackAsTheyWereGiven() {
        var first = WalkItems()
        first.appendFile(directory: "/usr/bin/", name: "ls")
        first.append(ScanItem(path: "/usr/bin/fifo", kind: .unreadable("a FIFO; not opened"), explicit: false))
        first.appendFile(directory: "/usr/bin/", name: "cat")
        first.append(ScanItem(path: "/img", kind: .imageLayout, explicit: true))
        var second = WalkItems()
        second.appendFile(directory: "/usr/lib/", name: "libc.so.6")
        second.append(ScanItem(path: "/usr/lib/libc.so", kind: .file, explicit: false, sameAs: "/usr/lib/libc.so.6"))
        second.append(ScanItem(path: "relative", kind: .file, explicit: true, inArchive: true))
        first += second
        let expected = [
            ScanItem(path: "/usr/bin/ls", kind: .file, explicit: false),
            ScanItem(path: "/usr/bin/fifo", kind: .unreadable("a FIFO; not opened"), explicit: false),
            ScanItem(path: "/usr/bin/cat", kind: .file, explicit: false),
            ScanItem(path: "/img", kind: .imageLayout, explicit: true),
            ScanItem(path: "/usr/lib/libc.so.6", kind: .file, explicit: false),
            ScanItem(path: "/usr/lib/libc.so", kind: .file, explicit: false, sameAs: "/usr/lib/libc.so.6"),
            ScanItem(path: "relative", kind: .file, explicit: true, inArchive: true),
        ]
        #expect(Array(first) == expected)
        #expect(first.sameAs(5) == "/usr/lib/libc.so.6" && first.sameAs(4) == nil)
        #expect(Array(first.subset([6, 0])) == [expected[6], expected[0]])
        first.shrink()
        #expect(Array(first) == expected)
    }
}

@Suite struct WalkOrder {
    /// Directory entries come out in byte order of their names, whether they differ within their first
    /// eight bytes (told by one number) or only after them (told by their bytes), shorter names first.
    @Test func entriesSortInByteOrder() {
        let names = [
            "libfoo.so.1.2", "libfoo.so.1", "libfoo.so", "libfoo.s", "Zeta", "alpha", "alpha-beta-gamma",
            "alpha-beta-delta", "é-accent", "e", "", "~tilde", "libfoo.so.10", "libfoo.so.9",
        ]
        let entries = names.map { (name: $0, type: UInt8(0)) }
        let sorted = Walker.sortedByName(entries).map(\.name)
        let expected = names.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        #expect(sorted == expected)
        #expect(sorted.first == "" && sorted[1] == "Zeta")
    }
}
