// What a file's path says about the container it came in: archive members are named outer!/inner, so the
// wheel, Debian package or image a file belongs to is part of its name.
enum ContainerPath {
    /// The platform tag of the innermost wheel holding the file (`manylinux_2_17_x86_64.manylinux2014_x86_64`),
    /// from the wheel's file name (name-version(-build)?-python-abi-platform.whl, PEP 427).
    static func wheelPlatformTag(_ path: String) -> String? {
        let parts = path.components(separatedBy: "!/")
        for container in parts.dropLast().reversed() {
            let file = container.split(separator: "/").last.map(String.init) ?? container
            guard file.hasSuffix(".whl") else { continue }
            let fields = file.dropLast(4).split(separator: "-")
            guard fields.count >= 5, let platform = fields.last else { return nil }
            return String(platform)
        }
        return nil
    }

    /// `mod.cpython-311-x86_64-linux-gnu.so`: the suffix CPython uses on glibc; on musl it looks for
    /// `-linux-musl.so`, `.abi3.so` and `.so` only.
    static func isGlibcExtensionModule(_ name: String) -> Bool {
        guard name.hasSuffix("-linux-gnu.so"), let range = name.firstRange(of: ".cpython-") else { return false }
        return !name[range.upperBound...].isEmpty
    }

    /// The command name of a program inside a Debian package (outer.deb!/data.tar.xz!/usr/bin/NAME): the
    /// directories abuild turns into `cmd:` provides (bin, sbin, usr/bin, usr/sbin).
    static func debianCommand(_ path: String) -> String? {
        let parts = path.components(separatedBy: "!/")
        guard parts.count >= 2, parts.dropLast().contains(where: { $0.hasSuffix(".deb") }), var member = parts.last
        else { return nil }
        while member.hasPrefix("./") { member.removeFirst(2) }
        for dir in ["bin/", "sbin/", "usr/bin/", "usr/sbin/"] where member.hasPrefix(dir) {
            let name = member.dropFirst(dir.count)
            return name.isEmpty || name.contains("/") ? nil : String(name)
        }
        return nil
    }
}
