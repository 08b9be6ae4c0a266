// `muslcheck inspect`: the raw ELF facts, as the version-1 JSON contract (README, "The JSON reports") and as
// readable text.
import ELF
import Scanning

/// One file in `inspect --format json`. Field names are a contract: add, never rename.
public struct InspectedFile: Sendable {
    /// Whether the file could be read, as the inspect report's `status` names it.
    public enum Status: String, Sendable {
        case ok
        case notELF = "not-elf"
        case error
    }

    public var path: String
    public var status: Status
    public var error: String?
    public var facts: BinaryFacts?

    public init(_ scanned: ScannedFile) {
        path = scanned.item.path
        switch scanned.result {
        case .elf(let f):
            status = .ok
            facts = f
        case .notELF: status = .notELF
        case .failed(let message):
            status = .error
            error = message
        }
    }
}

public enum InspectReport {
    /// The version-1 document from per-file fragments (`JSON.fragment(file, indent: 2)`), in order.
    public static func json(files: [String]) -> String { jsonParts(files: files).joined() }

    public static func jsonParts(files: [String]) -> [String] {
        JSON.documentParts([("schemaVersion", .value("1")), ("files", .elements(files))])
    }
}

func permissions(_ flags: UInt32) -> String {
    (flags & 4 != 0 ? "R" : "") + (flags & 2 != 0 ? "W" : "") + (flags & 1 != 0 ? "E" : "")
}

public enum InspectText {
    /// A condensed `readelf -h -l -d -V`: what decides loading, one screen per file.
    public static func render(_ file: InspectedFile) -> String {
        // Every name from the file is escaped: no control character reaches a terminal raw.
        let e = Escape.terminal
        var out = "\(e(file.path)): "
        do {
            guard let f = file.facts else {
                out += file.status == .error ? "error: \(e(file.error ?? ""))\n" : "\(file.status.rawValue)\n"
                return out
            }
            out +=
                "\(f.is64 ? "ELF64" : "ELF32") \(f.bigEndian ? "big" : "little")-endian \(f.arch) \(f.type.name), \(f.linkage.rawValue)"
            if f.pie { out += ", PIE" }
            if f.bindNow { out += ", BIND_NOW" }
            out += "\n"
            func line(_ label: String, _ value: String) { out += "  " + label.padded(12) + value + "\n" }
            if let i = f.interpreter { line("interpreter", e(i)) }
            if let s = f.soname { line("soname", e(s)) }
            if !f.needed.isEmpty { line("needed", e(f.needed.joined(separator: ", "))) }
            if !f.rpath.isEmpty { line("rpath", e(f.rpath.joined(separator: ":"))) }
            if !f.runpath.isEmpty { line("runpath", e(f.runpath.joined(separator: ":"))) }
            for r in f.versionRequirements {
                line(
                    "requires",
                    e(
                        "\(r.library): "
                            + r.versions.map { $0.weak ? "\($0.name) (weak)" : $0.name }.joined(separator: " ")))
            }
            if !f.versionDefinitions.isEmpty { line("defines", e(f.versionDefinitions.joined(separator: " "))) }
            line(
                "symbols",
                "\(f.imports.count) imported (\(f.imports.filter(\.weak).count) weak), \(f.exportCount) exported"
                    + (f.copyImports.isEmpty
                        ? ""
                        : ", \(f.copyImports.count) copied from libraries: "
                            + e(f.copyImports.map(\.name).joined(separator: " "))))
            let imports = f.imports.map { s -> String in
                var text = e(s.name)
                if let v = s.version { text += "@" + e(v) }
                if s.weak { text += " (weak)" }
                return text
            }
            if !imports.isEmpty { out += wrap(imports, indent: 14) }
            var notes: [String] = []
            if let tag = f.abiTag { notes.append("ABI tag \(tag.os) \(tag.version)") }
            if let id = f.buildID { notes.append("build-id \(id)") }
            if f.goBuildID != nil { notes.append("Go build-id") }
            if f.hasTLS { notes.append("TLS") }
            if f.hasIRelative { notes.append("IRELATIVE relocations") }
            if let flags = f.stackFlags {
                notes.append(
                    "stack \(permissions(flags))" + ((f.stackSize ?? 0) > 0 ? " \(f.stackSize ?? 0) bytes" : ""))
            }
            if !notes.isEmpty { line("notes", notes.joined(separator: ", ")) }
            if let go = f.goBuildInfo {
                var text = go.goVersion
                if let p = go.path { text += " \(p)" }
                if let cgo = go.cgoEnabled { text += ", CGO_ENABLED=\(cgo ? 1 : 0)" }
                if !go.tags.isEmpty { text += ", tags \(go.tags.joined(separator: ","))" }
                line("go", e(text))
            }
            for c in f.comments { line("comment", e(c)) }
            for gap in f.gaps { line("damaged", "\(gap.part.rawValue): \(e(gap.message))") }
        }
        return out
    }

    static func wrap(_ words: [String], indent: Int, width: Int = 100) -> String {
        let margin = String(repeating: " ", count: indent)
        var out = ""
        var length = 0  // of the current line's words, kept by hand: String.count walks the string
        for word in words {
            let size = word.utf8.count
            if length > 0 && indent + length + 1 + size > width {
                out += "\n"
                length = 0
            }
            if length == 0 {
                out += margin
            } else {
                out += " "
                length += 1
            }
            out += word
            length += size
        }
        if length > 0 { out += "\n" }
        return out
    }
}

/// The object is written directly rather than through Codable: in a large inspect run the generic path
/// (a dynamic cast per field) cost as much as all the imports. The goldens pin the output.
extension InspectedFile: FastJSON {
    func writeJSON(_ w: JSONWriter, depth: Int) {
        let o = ObjectFields(w: w, depth: w.open(object: true, depth: depth))
        o.string("path", path)
        o.string("status", status.rawValue)
        if let error { o.string("error", error) }
        guard let f = facts else { return }
        o.string("class", f.is64 ? "ELF64" : "ELF32")
        o.string("endianness", f.bigEndian ? "big" : "little")
        o.string("machine", f.arch)
        o.number("machineCode", String(f.machine.rawValue))
        o.string("type", f.type.name)
        o.number("osabi", String(f.osABI))
        o.number("entry", String(f.entry))
        o.string("interpreter", f.interpreter)
        o.string("soname", f.soname)
        o.strings("needed", f.needed)
        o.strings("rpath", f.rpath)
        o.strings("runpath", f.runpath)
        o.string("linkage", f.linkage.rawValue)
        o.number("bindNow", f.bindNow ? "true" : "false")
        o.number("pie", f.pie ? "true" : "false")
        w.element(depth: o.depth, key: "imports", scalar: false)
        f.imports.writeJSON(w, depth: o.depth)
        w.element(depth: o.depth, key: "copyImports", scalar: false)
        f.copyImports.writeJSON(w, depth: o.depth)
        o.objects("versionRequirements", f.versionRequirements) { r, fields in
            fields.string("library", r.library)
            fields.strings("versions", r.versions.map(\.name))
            fields.strings("weakVersions", r.versions.filter(\.weak).map(\.name))
        }
        o.strings("versionDefinitions", f.versionDefinitions)
        o.number("exportCount", String(f.exportCount))
        if let exports = f.exports { o.other("exports", exports) }
        o.object("abiTag", f.abiTag) { tag, fields in
            fields.string("os", tag.os)
            fields.string("version", tag.version)
        }
        o.string("buildId", f.buildID)
        o.string("goBuildId", f.goBuildID)
        o.strings("comments", f.comments)
        if let info = f.goBuildInfo { o.other("goBuildInfo", info) } else { o.string("goBuildInfo", nil) }
        o.strings("goUses", f.goUses)
        o.number("irelative", f.hasIRelative ? "true" : "false")
        o.number("tls", f.hasTLS ? "true" : "false")
        o.object("stack", f.stackFlags) { flags, fields in
            fields.string("flags", permissions(flags))
            fields.number("size", String(f.stackSize ?? 0))
        }
        o.objects("gaps", f.gaps) { g, fields in
            fields.string("part", g.part.rawValue)
            fields.string("message", g.message)
        }
    }
}

/// The fields of one JSON object being written at `depth`.
private struct ObjectFields {
    let w: JSONWriter
    let depth: Int

    func string(_ key: String, _ value: String?) {
        w.element(depth: depth, key: key, scalar: true)
        if let value { w.string(value) } else { w.scalar("null") }
    }

    func number(_ key: String, _ value: String) {
        w.element(depth: depth, key: key, scalar: true)
        w.scalar(value)
    }

    func strings(_ key: String, _ list: [String]) {
        w.element(depth: depth, key: key, scalar: false)
        let inner = w.open(object: false, depth: depth)
        for s in list {
            w.element(depth: inner, key: nil, scalar: true)
            w.string(s)
        }
    }

    /// An object written by `fields`, or null.
    func object<T>(_ key: String, _ value: T?, _ fields: (T, ObjectFields) -> Void) {
        guard let value else { return string(key, nil) }
        w.element(depth: depth, key: key, scalar: false)
        fields(value, ObjectFields(w: w, depth: w.open(object: true, depth: depth)))
    }

    /// An array of objects, each written by `fields`.
    func objects<T>(_ key: String, _ list: [T], _ fields: (T, ObjectFields) -> Void) {
        w.element(depth: depth, key: key, scalar: false)
        let array = w.open(object: false, depth: depth)
        for item in list {
            w.element(depth: array, key: nil, scalar: false)
            fields(item, ObjectFields(w: w, depth: w.open(object: true, depth: array)))
        }
    }

    func other<T: Encodable>(_ key: String, _ value: T) {
        w.element(depth: depth, key: key, scalar: false)
        try? w.value(value, depth: depth)
    }
}
