// What a root filesystem says about itself: its distribution (/etc/os-release) and the packages its package
// manager installed, with the files each owns (dpkg: /var/lib/dpkg/status and info/*.list; apk:
// /lib/apk/db/installed). Read as text, bounded in size; nothing is executed.
import TextSupport
import Engine
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

public enum RootFS {
    /// Files read as text are never larger than this (a Debian status file is a few MB).
    static let maxTextBytes = 64 << 20

    /// A regular file's text (read with POSIX calls: Foundation's attribute lookups resolve owner names
    /// through NSS, which the static executable must never reach); nil for anything else or a larger file.
    static func text(_ path: String) -> String? {
        var st = stat()
        guard stat(path, &st) == 0, st.st_mode & S_IFMT == S_IFREG, st.st_size <= maxTextBytes,
              let bytes = try? LocalFile.read(path) else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    public static func osRelease(root: String) -> OSRelease? {
        for candidate in ["/etc/os-release", "/usr/lib/os-release"] {
            if let text = text(root + candidate) { return OSRelease.parse(text) }
        }
        return nil
    }

    public static func packages(root: String) -> PackageDatabase {
        if let status = text(root + "/var/lib/dpkg/status") {
            var packages = parseDpkgStatus(status)
            let automatic = text(root + "/var/lib/apt/extended_states").map(parseAutoInstalled) ?? []
            for i in packages.indices {
                let name = packages[i].name
                packages[i].automatic = automatic.contains(name)
                let lists = [name, name + ":" + (packages[i].architecture ?? "")].map { root + "/var/lib/dpkg/info/\($0).list" }
                if let list = lists.lazy.compactMap(text).first {
                    packages[i].files = list.split(separator: "\n").map(String.init).filter { $0.hasPrefix("/") && $0 != "/." }
                }
            }
            return PackageDatabase(manager: .dpkg, packages: packages)
        }
        if let installed = text(root + "/lib/apk/db/installed") {
            return PackageDatabase(manager: .apk, packages: parseApkInstalled(installed))
        }
        for rpm in ["/var/lib/rpm", "/usr/lib/sysimage/rpm"] where FileManager.default.fileExists(atPath: root + rpm) {
            return PackageDatabase(manager: .rpm, packages: [], note: "an RPM database is present at \(rpm); it is not read yet, so every file counts as the application's")
        }
        return PackageDatabase(manager: .none, packages: [], note: "no package database found: every file counts as the application's")
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
            packages.append(InstalledPackage(name: name, version: fields["Version"] ?? "", architecture: fields["Architecture"],
                                             priority: fields["Priority"], essential: fields["Essential"] == "yes"))
        }
        return packages.sorted { $0.name < $1.name }
    }

    /// apt's extended_states: the packages marked Auto-Installed (pulled in as dependencies).
    static func parseAutoInstalled(_ text: String) -> Set<String> {
        var names = Set<String>()
        for paragraph in text.components(separatedBy: "\n\n") {
            var name: String?, auto = false
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
