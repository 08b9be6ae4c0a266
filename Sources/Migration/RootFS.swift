// What a root filesystem says about itself: its distribution (/etc/os-release) and the packages its package
// manager installed, with the files each owns (dpkg: /var/lib/dpkg/status and info/*.list; apk:
// /lib/apk/db/installed). Read as text, bounded in size; nothing is executed.
import Archives
import Engine
import TextSupport

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
#if canImport(Glibc)
    import Glibc
#endif

public struct OSRelease: Sendable, Encodable, Equatable {
    public var id: String?
    public var versionID: String?
    public var prettyName: String?

    /// Parses os-release(5): KEY=value lines, values optionally quoted.
    public static func parse(_ text: String) -> OSRelease {
        var fields: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let eq = line.firstIndex(of: "="), !line.hasPrefix("#") else { continue }
            var value = String(line[line.index(after: eq)...]).trimmed()
            if value.count >= 2, let first = value.first, first == "\"" || first == "'", value.last == first {
                value = String(value.dropFirst().dropLast())
            }
            fields[String(line[..<eq])] = value
        }
        return OSRelease(id: fields["ID"], versionID: fields["VERSION_ID"], prettyName: fields["PRETTY_NAME"])
    }
}

public struct InstalledPackage: Sendable, Encodable, Equatable {
    public var name: String
    public var version: String
    public var architecture: String?
    /// dpkg's Priority (required and important packages make up the base system) and Essential flag.
    public var priority: String?
    public var essential = false
    /// Installed only as another package's dependency (apt's extended_states: Auto-Installed: 1).
    public var automatic = false
    /// Absolute paths inside the root, as the package manager lists them (directories included).
    public var files: [String] = []

    enum CodingKeys: String, CodingKey { case name, version, architecture, priority, essential, automatic }
}

public enum PackageManager: String, Sendable, Encodable { case dpkg, apk, rpm, none }

public struct PackageDatabase: Sendable {
    public var manager: PackageManager
    public var packages: [InstalledPackage]
    /// Said when the database exists but is not read (RPM) or is damaged.
    public var note: String?
}

/// Where a root's files are read from: an unpacked directory, or the files kept from an image as it was read.
public struct RootFiles: Sendable {
    /// A regular file's text, by absolute path inside the root; nil when absent, not a regular file, or too large.
    public var text: @Sendable (String) -> String?
    /// Whether anything is at the path (a directory too, or a file too large to keep).
    public var exists: @Sendable (String) -> Bool
    /// A regular file's first bytes (at most `Migration.headBytes`); nil when it is not one (or, in an image,
    /// was not kept).
    public var head: @Sendable (String) -> [UInt8]?
    /// A symbolic link's target, as written; nil when the path is not a link.
    public var link: @Sendable (String) -> String?
    /// Files of an image: only the ones asked for are known.
    public var isImage = false

    public static func directory(_ root: String) -> RootFiles {
        RootFiles(
            text: { RootFS.text(root + $0) }, exists: { FileManager.default.fileExists(atPath: root + $0) },
            head: { RootFS.head(root + $0) }, link: { RootFS.link(root + $0) })
    }

    /// Files captured from an image, by path inside it without the leading `/` (`ExpandedImage.files`);
    /// `left`: wanted files left out over the capture limits (they exist, their text is not known).
    public static func captured(_ files: [String: CapturedFile], left: [String: String]) -> RootFiles {
        RootFiles(
            text: { path in
                guard let file = files[String(path.drop { $0 == "/" })], file.linkTarget == nil, file.isComplete else {
                    return nil
                }
                return String(decoding: file.bytes, as: UTF8.self)
            },
            exists: { path in
                let inside = String(path.drop { $0 == "/" })
                return files[inside] != nil || left[inside] != nil || files.keys.contains { $0.hasPrefix(inside + "/") }
                    || left.keys.contains { $0.hasPrefix(inside + "/") }
            },
            head: { path in
                guard let file = files[String(path.drop { $0 == "/" })], file.linkTarget == nil else { return nil }
                return Array(file.bytes.prefix(Migration.headBytes))
            }, link: { path in files[String(path.drop { $0 == "/" })]?.linkTarget }, isImage: true)
    }
}

public enum RootFS {
    /// Files read as text are never larger than this (a Debian status file is a few MB).
    static let maxTextBytes = 64 << 20

    /// A regular file's text (read with POSIX calls: Foundation's attribute lookups resolve owner names
    /// through NSS, which the static executable must never reach); nil for anything else or a larger file.
    static func text(_ path: String) -> String? {
        var st = stat()
        guard stat(path, &st) == 0, st.st_mode & S_IFMT == S_IFREG, st.st_size <= maxTextBytes,
            let bytes = try? LocalFile.read(path)
        else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// A regular file's first bytes, opened without following a link at its last component.
    static func head(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG else { return nil }
        var bytes = [UInt8](repeating: 0, count: Migration.headBytes)
        let n = bytes.withUnsafeMutableBytes { raw in raw.baseAddress.map { read(fd, $0, Migration.headBytes) } ?? -1 }
        return n >= 0 ? Array(bytes.prefix(n)) : nil
    }

    static func link(_ path: String) -> String? {
        var st = stat()
        guard lstat(path, &st) == 0, st.st_mode & S_IFMT == S_IFLNK else { return nil }
        return try? FileManager.default.destinationOfSymbolicLink(atPath: path)
    }

    public static func osRelease(root: String) -> OSRelease? { osRelease(.directory(root)) }
    public static func packages(root: String) -> PackageDatabase { packages(.directory(root)) }

    public static func osRelease(_ files: RootFiles) -> OSRelease? {
        for candidate in ["/etc/os-release", "/usr/lib/os-release"] {
            if let text = files.text(candidate) { return OSRelease.parse(text) }
        }
        return nil
    }

    public static func packages(_ files: RootFiles) -> PackageDatabase {
        if let status = files.text(dpkgStatus) {
            var packages = parseDpkgStatus(status)
            let automatic = files.text(aptExtendedStates).map(parseAutoInstalled) ?? []
            for i in packages.indices {
                let name = packages[i].name
                packages[i].automatic = automatic.contains(name)
                let lists = [name, name + ":" + (packages[i].architecture ?? "")].map { "\(dpkgInfo)\($0).list" }
                if let list = lists.lazy.compactMap(files.text).first {
                    packages[i].files = list.split(separator: "\n").map(String.init).filter {
                        $0.hasPrefix("/") && $0 != "/."
                    }
                }
            }
            return PackageDatabase(manager: .dpkg, packages: packages)
        }
        if let installed = files.text(apkInstalled) {
            return PackageDatabase(manager: .apk, packages: parseApkInstalled(installed))
        }
        for rpm in rpmDatabases where files.exists(rpm) {
            return PackageDatabase(
                manager: .rpm, packages: [],
                note:
                    "an RPM database is present at \(rpm); it is not read yet, so every file counts as the application's"
            )
        }
        return PackageDatabase(
            manager: .none, packages: [], note: "no package database found: every file counts as the application's")
    }

    static let dpkgStatus = "/var/lib/dpkg/status"
    static let dpkgInfo = "/var/lib/dpkg/info/"
    static let aptExtendedStates = "/var/lib/apt/extended_states"
    static let apkInstalled = "/lib/apk/db/installed"
    static let rpmDatabases = ["/var/lib/rpm", "/usr/lib/sysimage/rpm"]
    static let osReleaseFiles = ["/etc/os-release", "/usr/lib/os-release"]

    /// Whether a file inside the root (absolute path) is one RootFS reads: what to keep of an image.
    static func reads(_ path: String) -> Bool {
        osReleaseFiles.contains(path) || path == dpkgStatus || path == aptExtendedStates || path == apkInstalled
            || (path.hasPrefix(dpkgInfo) && path.hasSuffix(".list") && !path.dropFirst(dpkgInfo.count).contains("/"))
            || rpmDatabases.contains { path.hasPrefix($0 + "/") }
    }

    /// dpkg's status file: paragraphs of "Field: value"; only packages whose Status ends in "installed".
    static func parseDpkgStatus(_ text: String) -> [InstalledPackage] {
        var packages: [InstalledPackage] = []
        for paragraph in text.components(separatedBy: "\n\n") {
            var fields: [String: String] = [:]
            for line in paragraph.split(separator: "\n") where !line.hasPrefix(" ") {
                guard let colon = line.firstIndex(of: ":") else { continue }
                fields[String(line[..<colon])] = line[line.index(after: colon)...].trimmed()
            }
            guard let name = fields["Package"], fields["Status"]?.hasSuffix(" installed") == true else { continue }
            packages.append(
                InstalledPackage(
                    name: name, version: fields["Version"] ?? "", architecture: fields["Architecture"],
                    priority: fields["Priority"], essential: fields["Essential"] == "yes"))
        }
        return packages.sorted { $0.name < $1.name }
    }

    /// apt's extended_states: the packages marked Auto-Installed (pulled in as dependencies).
    static func parseAutoInstalled(_ text: String) -> Set<String> {
        var names = Set<String>()
        for paragraph in text.components(separatedBy: "\n\n") {
            var name: String?
            var auto = false
            for line in paragraph.split(separator: "\n") {
                if line.hasPrefix("Package:") { name = line.dropFirst(8).trimmed() }
                if line.hasPrefix("Auto-Installed:") { auto = line.dropFirst(15).trimmed() == "1" }
            }
            if let name, auto { names.insert(name) }
        }
        return names
    }

    /// apk's installed database: paragraphs of "X:value" lines; P: name, V: version, A: arch, F: directory,
    /// R: a file in the last F: directory.
    static func parseApkInstalled(_ text: String) -> [InstalledPackage] {
        var packages: [InstalledPackage] = []
        for paragraph in text.components(separatedBy: "\n\n") {
            var package = InstalledPackage(name: "", version: "")
            var directory = ""
            for line in paragraph.split(separator: "\n") where line.count >= 2 && line.dropFirst().first == ":" {
                let value = String(line.dropFirst(2))
                switch line.first {
                case "P": package.name = value
                case "V": package.version = value
                case "A": package.architecture = value
                case "F": directory = "/" + value
                case "R": package.files.append(directory + "/" + value)
                default: break
                }
            }
            if !package.name.isEmpty { packages.append(package) }
        }
        return packages.sorted { $0.name < $1.name }
    }
}
