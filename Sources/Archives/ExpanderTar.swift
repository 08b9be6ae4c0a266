// The expander's tar reading: members streamed in order, images recognised from their headers and read by
// offset, layers applied; see Expander.swift for the limits and the naming of what is found.
import CCompression
import Dispatch
import ELF
import Scripts
import TextSupport

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
#if canImport(Glibc)
    import Glibc
#endif

extension Expander {
    // MARK: tar

    func readTar(name: String, source: ByteSource, depth: Int, layer: LayerRecord?, hide: LayerMerge?) throws {
        try keepingNotELF(always: layer != nil || hide != nil) {
            try readTarMembers(name: name, source: source, depth: depth, layer: layer, hide: hide)
        }
    }

    /// What reading one tar keeps from member to member.
    private struct TarState {
        /// Where each member's files are in `files`, for hard links to it.
        var fileRanges: [String: Range<Int>] = [:]
        /// Small JSON members, to tell an image.
        var json: [String: [UInt8]] = [:]
        var jsonBytes = 0
        /// Members that are tars themselves: layers, if the tar proves to be an image.
        var layers: [String: LayerRecord] = [:]
        /// Regular files a later layer hides, never read: a hard link to one cannot be judged.
        var hiddenFiles = Set<String>()
    }

    private func readTarMembers(
        name: String, source: ByteSource, depth: Int, layer: LayerRecord?, hide: LayerMerge?
    ) throws {
        layer?.isTar = true
        let firstFile = files.count
        let reader = TarReader(source, maxEntries: limits.maxEntries - entries)
        defer { entries += reader.count }
        var state = TarState()
        while let (entry, data) = try reader.next() {
            if reader.count & 0xFF == 0, timeUp(name) { return }
            if let entryBudget, !entryBudget.take() {
                throw ArchiveError("more than \(entryBudget.limit) entries in the image's layers; the rest not read")
            }
            layer?.entries.append((entry.path, entry.kind))
            if entry.kind == .symlink { layer?.links[entry.path] = entry.linkTarget }
            if let hide, hide.hidden(entry.path) {
                if entry.kind == .file { state.hiddenFiles.insert(entry.path) }
                continue
            }
            let path = name + "!/" + entry.path
            let start = files.count
            // A later entry of the same name replaces a link, as extracting it does.
            if entry.kind == .symlink { links[path] = entry.linkTarget } else { links[path] = nil }
            if entry.kind == .symlink || entry.kind == .hardlink { linksSeen += 1 }
            let others = otherFiles
            // Read beside other layers (`gate`), a layer's counts are taken in only for entries no later layer hides.
            defer {
                if let layer, gate != nil, otherFiles > others {
                    layer.otherFiles.append((entry.path, otherFiles - others))
                }
            }
            switch entry.kind {
            case .file:
                guard try readTarFile(entry, data, path: path, depth: depth, layer: layer, state: &state) else {
                    continue
                }
            case .hardlink:
                guard readTarHardLink(entry, path: path, in: name, layer: layer, state: &state) else { continue }
            case .symlink:
                if let layer { _ = try capture(entry, source: data, into: layer) }
                continue
            case .other, .directory:
                // A FIFO, device node or directory: what musl's search opens under that name and cannot map (a
                // FIFO blocks the open), so a library lookup that reaches it ends there.
                notELF.insert(path)
                continue
            }
            if files.count > start {
                state.fileRanges[entry.path] = start..<files.count
                layer?.entryFiles.append((entry.path, start..<files.count))
            }
        }
        if let images = ImageIndex.inTar(
            json: state.json, layers: Set(state.layers.keys), name: name, problems: &problems)
        {
            settle()
            let applied = applyLayers(name: name, images: images, layers: state.layers, firstFile: firstFile)
            for (image, (tree, captured)) in zip(images, applied) {
                self.image(
                    name + (image.label.map { "!/" + $0 } ?? ""), config: image.config,
                    bytes: image.config.flatMap { state.json[$0] },
                    tree: tree, captured: captured)
            }
        }
    }

    /// A regular file member, named `path`: read for what it holds (a small JSON member kept, to tell an image;
    /// a layer's wanted files captured). False when it gives nothing: a whiteout, a member in a format not read.
    private func readTarFile(
        _ entry: TarEntry, _ data: ByteSource, path: String, depth: Int, layer: LayerRecord?, state: inout TarState
    ) throws -> Bool {
        let start = files.count
        // Whiteouts are layer metadata (recorded by the caller), not files.
        if entry.size == 0, entry.path.split(separator: "/").last?.hasPrefix(".wh.") == true { return false }
        if let why = entry.unreadable {
            problem(path, "member in a format not read (\(why)); not judged")
            return false
        }
        var source: ByteSource = entry.sparseMap.map { SparseSource(data, map: $0, size: entry.size) } ?? data
        if entry.size <= Self.maxJSONMember, Self.mayBeImageJSON(entry.path) {
            let bytes = try source.read(upTo: entry.size)
            if bytes.first == UInt8(ascii: "{") || bytes.first == UInt8(ascii: "["),
                state.jsonBytes + bytes.count <= Self.maxJSONBytes
            {
                state.json[entry.path] = bytes
                state.jsonBytes += bytes.count
            }
            source = MemorySource(bytes)
        }
        if let layer { source = try capture(entry, source: source, into: layer) }
        let record = LayerRecord(prefix: path + "!/")
        visit(name: path, source: source, size: entry.size, depth: depth + 1, layer: record)
        record.range = start..<files.count
        if record.isTar { state.layers[entry.path] = record }
        return true
    }

    /// A hard link member, named `path` in the tar `name`: the same bytes under another name, so what was found
    /// for its target, again. False when its target is not in this tar (a layer's link to an earlier layer's
    /// file: kept as a link to that file, by name).
    private func readTarHardLink(
        _ entry: TarEntry, path: String, in name: String, layer: LayerRecord?, state: inout TarState
    ) -> Bool {
        let target = Tar.normalize(entry.linkTarget)
        // A hard link to a symbolic link is that link again (its target read from its new place).
        if let symlink = links[name + "!/" + target] { links[path] = symlink }
        guard let range = state.fileRanges[target] else {
            if state.hiddenFiles.contains(target) {
                // Its bytes are the replaced file's, which was never read; by name it would be the new one.
                problem(path, "hard link to \(target), which a later layer replaced: not read; not judged")
                return false
            }
            if links[path] == nil, !target.isEmpty {
                links[path] = "/" + target
                layer?.links[entry.path] = "/" + target
            }
            return false
        }
        settle()
        let from = name + "!/" + target
        let copies = files.count
        for file in files[range] where file.path == from || file.path.hasPrefix(from + "!/") {
            files.append(
                ExpandedFile(path: path + file.path.dropFirst(from.count), result: file.result, script: file.script))
        }
        copyNotELF(from: from, to: path, nested: files[copies...].contains { $0.path != path })
        // A link to a tar that may be a layer is that layer under this name too (its files copied).
        if let original = state.layers[target], files.count - copies == original.range.count {
            let shift = copies - original.range.lowerBound
            let alias = LayerRecord(prefix: path + "!/")
            alias.isTar = true
            alias.entries = original.entries
            alias.links = original.links
            alias.entryFiles = original.entryFiles.map {
                ($0.path, ($0.range.lowerBound + shift)..<($0.range.upperBound + shift))
            }
            alias.range = copies..<files.count
            state.layers[entry.path] = alias
        }
        return true
    }

    /// A hard link's non-ELF names: its target's (a compressed ELF file is one), and when the target is an archive
    /// holding ELF files (`nested`), the non-ELF members inside it, found by looking through the names kept so
    /// far: within `maxNameCopies` names looked at in all, past which it is reported (a copy's programs would
    /// otherwise be judged without them).
    func copyNotELF(from: String, to path: String, nested: Bool) {
        if notELF.contains(from) { notELF.insert(path) }
        guard nested else { return }
        nameCopyBudget -= notELF.count
        guard nameCopyBudget >= 0 else {
            problem(
                path,
                "hard link to an archive: more than \(Self.maxNameCopies) member names to look through for its files that are not ELF; not judged"
            )
            return
        }
        let inside = from + "!/"
        let copies = notELF.filter { $0.hasPrefix(inside) }.map { path + $0.dropFirst(from.count) }
        notELF.formUnion(copies)
    }

    /// Reads the tar in `file` as an image when its headers say it is one (a docker-save manifest or an OCI
    /// index whose layers it holds): layers by offset from the last to the first, skipping what later ones
    /// hide; then any other member. False, having read nothing, for any other tar. The headers are read
    /// only while every name is one an image tar has, so an ordinary tar costs a header.
    func readImageByOffset(name: String, file: RandomAccess, depth: Int) throws -> Bool {
        let source = file.source(offset: 0, length: file.size)
        guard let range = source as? FileRange else { return false }
        let reader = TarReader(source, maxEntries: limits.maxEntries - entries)
        var members: [String: (offset: Int, size: Int)] = [:]
        var order: [String] = []
        var json: [String: [UInt8]] = [:]
        var jsonBytes = 0
        do {
            while let (entry, data) = try reader.next() {
                // Headers only, but up to --max-entries of them: the time limit holds here too.
                if reader.count & 0xFF == 0, timeUp(name) { return true }
                guard Self.mayBeInImageTar(entry.path) else { return false }
                if entry.kind == .hardlink, let target = members[Tar.normalize(entry.linkTarget)] {
                    if members[entry.path] == nil { order.append(entry.path) }
                    members[entry.path] = target
                }
                guard entry.kind == .file else { continue }
                guard entry.sparseMap == nil, entry.unreadable == nil else { return false }
                let at = range.position
                if entry.size <= Self.maxJSONMember, Self.mayBeImageJSON(entry.path) {
                    let bytes = try data.read(upTo: entry.size)
                    if bytes.first == UInt8(ascii: "{") || bytes.first == UInt8(ascii: "["),
                        jsonBytes + bytes.count <= Self.maxJSONBytes
                    {
                        json[entry.path] = bytes
                        jsonBytes += bytes.count
                    }
                }
                if members[entry.path] == nil { order.append(entry.path) }
                members[entry.path] = (at, entry.size)
            }
        } catch {
            return false  // read as an ordinary tar, which reports the damage
        }
        var problems: [ArchiveProblem] = []
        guard let images = ImageIndex.inTar(json: json, layers: Set(members.keys), name: name, problems: &problems)
        else { return false }
        entries += reader.count
        self.problems += problems
        var used = Set<String>()
        for image in images {
            let imageName = name + (image.label.map { "!/" + $0 } ?? "")
            let (tree, captured) = readImageLayers(
                name: imageName, container: name, layers: image.layers, depth: depth + 1
            ) { path in
                guard let (offset, size) = members[path] else { return nil }
                used.insert(path)
                return (file.source(offset: offset, length: size), size)
            }
            if stopped { return true }
            self.image(
                imageName, config: image.config, bytes: image.config.flatMap { json[$0] }, tree: tree,
                captured: captured)
        }
        // The rest of the tar (configurations, and anything else beside the images), as in any tar.
        for path in order where !used.contains(path) && json[path] == nil {
            guard let (offset, size) = members[path] else { continue }
            visit(
                name: name + "!/" + path, source: file.source(offset: offset, length: size), size: size,
                depth: depth + 1)
        }
        return true
    }

    /// Whether a tar member's name is one a docker-save or OCI image tar has: manifest.json, index.json,
    /// oci-layout, repositories, blobs/..., the old layout's <64 hex digits>[.json][/...], and layer
    /// tarballs and configurations at the top.
    static func mayBeInImageTar(_ path: String) -> Bool {
        if ["", "manifest.json", "index.json", "oci-layout", "repositories", "blobs"].contains(path)
            || path.hasPrefix("blobs/")
        {
            return true
        }
        if !path.contains("/"),
            [".tar", ".tar.gz", ".tar.zst", ".tar.xz", ".json"].contains(where: { path.hasSuffix($0) })
        {
            return true
        }
        var first = Substring(path.split(separator: "/", maxSplits: 1).first ?? "")
        if first.hasSuffix(".json") { first = first.dropLast(5) }
        return first.count == 64 && first.allSatisfy { ("0"..."9").contains($0) || ("a"..."f").contains($0) }
    }

    /// Names that an image's manifests and index have: kept when small, to tell whether the tar is an image.
    static func mayBeImageJSON(_ path: String) -> Bool {
        // Top-level `<digest>.json`: docker-save's configurations before the OCI form.
        path == "manifest.json" || path == "index.json" || path.hasPrefix("blobs/")
            || (!path.contains("/") && path.hasSuffix(".json"))
    }

    /// The tar was an image: the files of its layers are replaced by each image's merged files, named
    /// `name!/path` (or `name!/label!/path` when the tar holds several images).
    /// Returns each image's file tree after its layers and its captured files, merged the same way.
    @discardableResult
    func applyLayers(name: String, images: [ImageIndex.Image], layers: [String: LayerRecord], firstFile: Int) -> [(
        ImageFiles, ImageCapture
    )] {
        var merged: [ExpandedFile] = []
        var mergedLinks: [String: String] = [:]
        var applied: [(ImageFiles, ImageCapture)] = []
        var used = Set<String>()
        // The layers' own non-ELF names (name!/layer!/path), by layer, give way to each image's as files do.
        let outer = name + "!/"
        let layerPrefixes = Set(images.flatMap(\.layers).compactMap { layers[$0]?.prefix })
        let layerNotELF = takeNotELF(of: layerPrefixes, outer: outer)
        for image in images {
            var tree = ImageFiles()
            var merge = LayerMerge()
            var captured = ImageCapture()
            var kept: [ExpandedFile] = []
            let prefix = name + "!/" + (image.label.map { $0 + "!/" } ?? "")
            for path in image.layers.reversed() {
                guard let record = layers[path] else { continue }
                used.insert(path)
                let layerPrefix = record.prefix
                for (entry, range) in record.entryFiles where !merge.hidden(entry) {
                    for file in files[range] where file.path.hasPrefix(layerPrefix) {
                        kept.append(
                            ExpandedFile(
                                path: prefix + file.path.dropFirst(layerPrefix.count), result: file.result,
                                script: file.script))
                    }
                }
                // Its links as the image holds them (what a later layer deleted or replaced is gone).
                for (entry, target) in record.links where !merge.hidden(entry) { mergedLinks[prefix + entry] = target }
                if let others = layerNotELF[layerPrefix] {
                    adoptNotELF(others, of: record, as: prefix, hiddenBy: merge)
                }
                tree.add(record, hiddenBy: merge)
                captured.add(record.capture, hidden: merge.hidden)
                merge.commit(record.entries)
            }
            merged += kept.sorted { ByteOrder.less($0.path, $1.path) }
            applied.append((tree, captured))
        }
        let dropped = used.compactMap { layers[$0]?.range }
        let others = files[firstFile...].indices.filter { i in !dropped.contains { $0.contains(i) } }.map { files[$0] }
        files.removeSubrange(firstFile...)
        files += others + merged
        // The layer tars themselves are not files of the image.
        for path in used { notELF.remove(outer + path) }
        // The layers' own links (named inside each layer tar: name!/layer!/path) give way to each image's, as
        // the files do.
        if !layerPrefixes.isEmpty {
            links = links.filter { link, _ in Self.layerPrefix(of: link, outer: outer, among: layerPrefixes) == nil }
        }
        links.merge(mergedLinks) { _, image in image }
        return applied
    }

    /// Takes the non-ELF names inside the layers (outer!/layer!/path) out of `notELF`, by layer prefix: they
    /// give way to each image's, as files do.
    private func takeNotELF(of layerPrefixes: Set<String>, outer: String) -> [String: [String]] {
        var byLayer: [String: [String]] = [:]
        guard !layerPrefixes.isEmpty else { return byLayer }
        notELF = notELF.filter { other in
            guard let prefix = Self.layerPrefix(of: other, outer: outer, among: layerPrefixes) else { return true }
            byLayer[prefix, default: []].append(other)
            return false
        }
        return byLayer
    }

    /// A layer's non-ELF names, under the image's prefix, but those the layers above it hide.
    private func adoptNotELF(_ others: [String], of record: LayerRecord, as prefix: String, hiddenBy merge: LayerMerge)
    {
        let entries = Set(record.entries.map(\.path))
        for other in others {
            guard let entry = Self.layerEntry(of: other, prefix: record.prefix, among: entries), !merge.hidden(entry)
            else { continue }
            notELF.insert(prefix + other.dropFirst(record.prefix.count))
        }
    }

    /// The layer prefix (outer!/layer!/) a name inside the tar `outer` starts with, among `prefixes`; told by
    /// the name up to the second "!/", one lookup per name.
    static func layerPrefix(of name: String, outer: String, among prefixes: Set<String>) -> String? {
        guard name.hasPrefix(outer), let end = name.dropFirst(outer.count).literalRange(of: "!/") else { return nil }
        let prefix = String(name[..<end.upperBound])
        return prefixes.contains(prefix) ? prefix : nil
    }
}
