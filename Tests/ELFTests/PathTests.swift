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
