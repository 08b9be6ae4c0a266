import ELF

// A small streaming JSON encoder for our Codable report types. Foundation's JSONEncoder (and a tree
// built before writing) spent most of a batch run's time on large reports; this one writes bytes as the
// values encode themselves.
//
// Codable never says when a container is finished, so containers are closed lazily: writing into a
// container first closes every container opened deeper than it, and the end of encoding closes the rest.
// That holds because values encode depth-first, which is how every Codable type of ours behaves.
//
// Layout: two-space indentation and keys in encoding order; an array whose first element is a scalar,
// and any container nested four or more levels deep (an import, a finding), stay on one line.

public enum JSON {
    public static func encode<T: Encodable>(_ value: T) throws -> String {
        try fragment(value, indent: 0) + "\n"
    }

    /// `value` as it appears nested `indent` levels deep in a document (no trailing newline), so that large
    /// reports can be written element by element, on all cores, and joined with `document`.
    public static func fragment<T: Encodable>(_ value: T, indent: Int) throws -> String {
        let writer = JSONWriter(baseIndent: indent)
        try writer.value(value, depth: 0)
        writer.close(toDepth: 0)
        return String(decoding: writer.out, as: UTF8.self)
    }

    /// The same for a value that writes itself (an `inspect` file).
    public static func fragment(_ value: InspectedFile, indent: Int) -> String {
        let writer = JSONWriter(baseIndent: indent)
        value.writeJSON(writer, depth: 0)
        writer.close(toDepth: 0)
        return String(decoding: writer.out, as: UTF8.self)
    }

    /// A top-level object from fields already rendered with `fragment(_:indent: 1)`; a field given as
    /// `.elements` is an array of fragments rendered with `indent: 2`.
    public enum Field {
        case value(String)
        case elements([String])
    }

    public static func document(_ fields: [(String, Field)]) -> String {
        documentParts(fields).joined()
    }

    /// The same document as consecutive parts, for writing out without first joining what may be many
    /// megabytes into one string.
    public static func documentParts(_ fields: [(String, Field)]) -> [String] {
        var parts: [String] = ["{"]
        var glue = ""  // literal text between fragments, flushed as one part
        for (i, (key, field)) in fields.enumerated() {
            glue += (i == 0 ? "\n  " : ",\n  ") + quoted(key) + ": "
            switch field {
            case .value(let text): glue += text
            case .elements(let items):
                if items.isEmpty {
                    glue += "[]"
                    continue
                }
                glue += "[\n    "
                for (j, item) in items.enumerated() {
                    if j > 0 { glue += ",\n    " }
                    parts.append(glue)
                    parts.append(item)  // not joined to the glue: that would copy every fragment once more
                    glue = ""
                }
                glue += "\n  ]"
            }
        }
        parts.append(glue + "\n}\n")
        return parts
    }

    static func quoted(_ text: String) -> String {
        var out: [UInt8] = []
        quote(text, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    static func quote(_ text: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        // Fast path: most names need no escaping and are copied in one go.
        let plain = text.utf8.withContiguousStorageIfAvailable { bytes -> Bool in
            for b in bytes where b < 0x20 || b == 0x22 || b == 0x5C || b == 0x7F { return false }
            out.append(contentsOf: bytes)
            return true
        }
        if plain == true {
            out.append(UInt8(ascii: "\""))
            return
        }
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""):
                out.append(UInt8(ascii: "\\"))
                out.append(byte)
            case UInt8(ascii: "\\"):
                out.append(UInt8(ascii: "\\"))
                out.append(byte)
            case 0x0A:
                out.append(UInt8(ascii: "\\"))
                out.append(UInt8(ascii: "n"))
            case 0x0D:
                out.append(UInt8(ascii: "\\"))
                out.append(UInt8(ascii: "r"))
            case 0x09:
                out.append(UInt8(ascii: "\\"))
                out.append(UInt8(ascii: "t"))
            case 0..<0x20, 0x7F:
                let hex = Array("0123456789abcdef".utf8)
                out.append(contentsOf: "\\u00".utf8)
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0xF)])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}

final class JSONWriter {
    struct Frame {
        var object: Bool
        var count = 0
        var inline = false
        var decided = false  // for arrays: inline or not is settled by the first element
    }
    // Appended to millions of times for a large report: dynamic exclusivity checks on these two were a tenth
    // of its time. Each writer is used by one thread and never hands out overlapping accesses.
    @exclusivity(unchecked) var out: [UInt8] = []
    @exclusivity(unchecked) var frames: [Frame] = []  // frames[i] is the container at depth i + 1
    /// Indentation levels the whole output is nested in (for fragments of a larger document).
    let baseIndent: Int

    init(baseIndent: Int = 0) {
        self.baseIndent = baseIndent
        out.reserveCapacity(1 << 12)
    }

    /// Closes the containers deeper than `depth`.
    func close(toDepth depth: Int) {
        while frames.count > depth {
            let frame = frames.removeLast()
            if frame.count > 0 && !frame.inline {
                out.append(0x0A)
                indent(frames.count)
            }
            out.append(frame.object ? UInt8(ascii: "}") : UInt8(ascii: "]"))
        }
    }

    private func indent(_ level: Int) {
        out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: 2 * (level + baseIndent)))
    }

    /// Starts an element of the container at `depth` (1-based), writing separator and key.
    func element(depth: Int, key: String?, scalar: Bool) {
        close(toDepth: depth)
        guard depth > 0 else { return }
        var frame = frames[depth - 1]
        if !frame.object && !frame.decided {
            frame.inline = frame.inline || scalar
            frame.decided = true
        }
        if frame.inline {
            if frame.count > 0 {
                out.append(UInt8(ascii: ","))
                out.append(UInt8(ascii: " "))
            }
        } else {
            if frame.count > 0 { out.append(UInt8(ascii: ",")) }
            out.append(0x0A)
            indent(depth)
        }
        frame.count += 1
        frames[depth - 1] = frame
        if let key {
            JSON.quote(key, into: &out)
            out.append(UInt8(ascii: ":"))
            out.append(UInt8(ascii: " "))
        }
    }

    /// Whether a container opened as the value just started at `depth` stays on one line.
    func opensInline(depth: Int) -> Bool {
        depth + baseIndent >= 4 || (depth > 0 && depth <= frames.count && frames[depth - 1].inline)
    }

    /// Opens a container as the value just started at `depth`; returns the new container's depth.
    func open(object: Bool, depth: Int) -> Int {
        let inline = opensInline(depth: depth)
        out.append(object ? UInt8(ascii: "{") : UInt8(ascii: "["))
        frames.append(Frame(object: object, inline: inline, decided: inline))
        return frames.count
    }

    func scalar(_ text: String) { out.append(contentsOf: text.utf8) }
    func string(_ text: String) { JSON.quote(text, into: &out) }

    /// Writes any value at `depth` (its key and separator already written).
    func value<T: Encodable>(_ value: T, depth: Int) throws {
        switch value {
        case let v as String: string(v)
        case let v as Bool: scalar(v ? "true" : "false")
        case let v as Int: scalar(String(v))
        case let v as UInt64: scalar(String(v))
        case let v as UInt32: scalar(String(v))
        case let v as UInt16: scalar(String(v))
        case let v as UInt8: scalar(String(v))
        case let v as Int64: scalar(String(v))
        case let v as Double: scalar(v.isFinite ? String(v) : "null")
        default:
            let before = out.count
            try value.encode(to: StreamEncoder(writer: self, depth: depth))
            if out.count == before { scalar("{}") }  // a value that encoded nothing
        }
    }
}

/// Types that write themselves without the Codable machinery: the per-import objects that make up most
/// of a large report. Called directly by the types that hold them (a dynamic check for the protocol on
/// every value cost more than it saved); their output must equal what Codable would write.
protocol FastJSON {
    func writeJSON(_ writer: JSONWriter, depth: Int)
}

extension Array: FastJSON where Element: FastJSON {
    func writeJSON(_ writer: JSONWriter, depth: Int) {
        let inner = writer.open(object: false, depth: depth)
        for element in self {
            writer.element(depth: inner, key: nil, scalar: false)
            element.writeJSON(writer, depth: inner)
        }
    }
}

private struct StreamEncoder: Encoder {
    let writer: JSONWriter
    let depth: Int
    var codingPath: [CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        KeyedEncodingContainer(StreamKeyed<Key>(writer: writer, depth: writer.open(object: true, depth: depth)))
    }
    func unkeyedContainer() -> UnkeyedEncodingContainer {
        StreamUnkeyed(writer: writer, depth: writer.open(object: false, depth: depth))
    }
    func singleValueContainer() -> SingleValueEncodingContainer { StreamSingle(writer: writer, depth: depth) }
}

private struct StreamKeyed<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let writer: JSONWriter
    let depth: Int
    var codingPath: [CodingKey] { [] }

    mutating func encodeNil(forKey key: Key) throws {
        writer.element(depth: depth, key: key.stringValue, scalar: true)
        writer.scalar("null")
    }
    mutating func encode(_ value: String, forKey key: Key) throws {
        writer.element(depth: depth, key: key.stringValue, scalar: true)
        writer.string(value)
    }
    mutating func encode(_ value: Bool, forKey key: Key) throws {
        writer.element(depth: depth, key: key.stringValue, scalar: true)
        writer.scalar(value ? "true" : "false")
    }
    mutating func encode(_ value: Int, forKey key: Key) throws {
        writer.element(depth: depth, key: key.stringValue, scalar: true)
        writer.scalar(String(value))
    }
    mutating func encode(_ value: UInt64, forKey key: Key) throws {
        writer.element(depth: depth, key: key.stringValue, scalar: true)
        writer.scalar(String(value))
    }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        writer.element(depth: depth, key: key.stringValue, scalar: false)
        try writer.value(value, depth: depth)
    }
    mutating func encodeIfPresent(_ value: String?, forKey key: Key) throws {
        if let value { try encode(value, forKey: key) }
    }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key)
        -> KeyedEncodingContainer<NestedKey>
    {
        writer.element(depth: depth, key: key.stringValue, scalar: false)
        return KeyedEncodingContainer(
            StreamKeyed<NestedKey>(writer: writer, depth: writer.open(object: true, depth: depth)))
    }
    mutating func nestedUnkeyedContainer(forKey key: Key) -> UnkeyedEncodingContainer {
        writer.element(depth: depth, key: key.stringValue, scalar: false)
        return StreamUnkeyed(writer: writer, depth: writer.open(object: false, depth: depth))
    }
    mutating func superEncoder() -> Encoder { superEncoder(named: "super") }
    mutating func superEncoder(forKey key: Key) -> Encoder { superEncoder(named: key.stringValue) }
    private func superEncoder(named name: String) -> Encoder {
        writer.element(depth: depth, key: name, scalar: false)
        return StreamEncoder(writer: writer, depth: depth)
    }
}

private struct StreamUnkeyed: UnkeyedEncodingContainer {
    let writer: JSONWriter
    let depth: Int
    var count = 0
    var codingPath: [CodingKey] { [] }

    mutating func encodeNil() throws {
        writer.element(depth: depth, key: nil, scalar: true)
        writer.scalar("null")
        count += 1
    }
    mutating func encode(_ value: String) throws {
        writer.element(depth: depth, key: nil, scalar: true)
        writer.string(value)
        count += 1
    }
    mutating func encode<T: Encodable>(_ value: T) throws {
        writer.element(depth: depth, key: nil, scalar: isScalar(value))
        try writer.value(value, depth: depth)
        count += 1
    }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<
        NestedKey
    > {
        writer.element(depth: depth, key: nil, scalar: false)
        count += 1
        return KeyedEncodingContainer(
            StreamKeyed<NestedKey>(writer: writer, depth: writer.open(object: true, depth: depth)))
    }
    mutating func nestedUnkeyedContainer() -> UnkeyedEncodingContainer {
        writer.element(depth: depth, key: nil, scalar: false)
        count += 1
        return StreamUnkeyed(writer: writer, depth: writer.open(object: false, depth: depth))
    }
    mutating func superEncoder() -> Encoder {
        writer.element(depth: depth, key: nil, scalar: false)
        count += 1
        return StreamEncoder(writer: writer, depth: depth)
    }
}

private func isScalar<T>(_ value: T) -> Bool {
    value is String || value is Bool || value is Int || value is UInt64 || value is Double
        || value is UInt32 || value is UInt16 || value is UInt8 || value is Int64
}

private struct StreamSingle: SingleValueEncodingContainer {
    let writer: JSONWriter
    let depth: Int
    var codingPath: [CodingKey] { [] }
    mutating func encodeNil() throws { writer.scalar("null") }
    mutating func encode(_ value: String) throws { writer.string(value) }
    mutating func encode(_ value: Bool) throws { writer.scalar(value ? "true" : "false") }
    mutating func encode<T: Encodable>(_ value: T) throws { try writer.value(value, depth: depth) }
}

extension ImportedSymbol: FastJSON {
    func writeJSON(_ writer: JSONWriter, depth: Int) {
        if writer.opensInline(depth: depth) {
            // The usual case (an import is nested deep enough to sit on one line): the whole object at once.
            writer.out.append(contentsOf: #"{"name": "#.utf8)
            JSON.quote(name, into: &writer.out)
            writer.out.append(contentsOf: #", "version": "#.utf8)
            if let version {
                JSON.quote(version, into: &writer.out)
            } else {
                writer.out.append(contentsOf: "null".utf8)
            }
            writer.out.append(contentsOf: #", "library": "#.utf8)
            if let library {
                JSON.quote(library, into: &writer.out)
            } else {
                writer.out.append(contentsOf: "null".utf8)
            }
            writer.out.append(contentsOf: (weak ? #", "weak": true, "type": ""# : #", "weak": false, "type": ""#).utf8)
            writer.out.append(contentsOf: type.rawValue.utf8)
            writer.out.append(contentsOf: #""}"#.utf8)
            return
        }
        let d = writer.open(object: true, depth: depth)
        writer.element(depth: d, key: "name", scalar: true)
        writer.string(name)
        writer.element(depth: d, key: "version", scalar: true)
        if let version { writer.string(version) } else { writer.scalar("null") }
        writer.element(depth: d, key: "library", scalar: true)
        if let library { writer.string(library) } else { writer.scalar("null") }
        writer.element(depth: d, key: "weak", scalar: true)
        writer.scalar(weak ? "true" : "false")
        writer.element(depth: d, key: "type", scalar: true)
        writer.string(type.rawValue)
    }
}
