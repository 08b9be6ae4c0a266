// An image's layers applied into its files, from the last to the first: one after the other, so that what a
// later layer hides is never read, or side by side on several cores, each layer on an expander of its own,
// what later layers hide then dropped before anything is judged (decompressing a layer is most of the work,
// and it is needed whole either way).
import Dispatch
import Scripts
import Synchronization
import TextSupport

extension Expander {
    /// What one layer read on an expander of its own gave.
    struct LayerRead {
        var record: LayerRecord
        var files: [ExpandedFile]
        var problems: [ArchiveProblem]
        var links: [String: String]
        var notELF: Set<String>
        var images: [ExpandedImage]
        var entries: Int
        /// The time limit ran out while it was read: what follows it in the image is not read either.
        var stopped: Bool
    }

    /// Images with more layers are read one layer after the other (overlayfs stacks at most 128).
    static let maxLayersAside = 128

    /// Reads the layers (first to last, as a manifest lists them) of the image named `name` into its files,
    /// sorted by name; returns its file tree after the layers and what was captured. `open`: a layer's bytes
    /// and size, nil when it cannot be had (reported by `open`). `container`: the name a layer that is not a
    /// tar archive is reported under, with its path.
    func readImageLayers(
        name: String, container: String, layers: [String], depth: Int, open: (String) -> (ByteSource, Int)?
    ) -> (ImageFiles, ImageCapture) {
        var read = (ImageFiles(), ImageCapture())
        // The image decides, as one archive, whether its non-ELF names are kept.
        keepingNotELF(always: false) {
            read = applyImageLayers(name: name, container: container, layers: layers, depth: depth, open: open)
        }
        return read
    }

    private func applyImageLayers(
        name: String, container: String, layers: [String], depth: Int, open: (String) -> (ByteSource, Int)?
    ) -> (ImageFiles, ImageCapture) {
        let first = files.count
        var merge = LayerMerge()
        var tree = ImageFiles()
        var captured = ImageCapture()
        let order = Array(layers.reversed())
        let aside = readAside(order, name: name, depth: depth, open: open)
        for path in order {
            if aside == nil, timeUp(name) { break }
            let record: LayerRecord
            if let aside {
                guard let read = aside[path] else { continue }
                record = read.record
                adopt(read, name: name, hiddenBy: merge)
                // As one after the other: what the layer holds after the limit, and the layers below, unread.
                if read.stopped {
                    stopped = true
                    break
                }
            } else {
                guard let (source, size) = open(path) else { continue }
                record = LayerRecord()
                visit(name: name, source: source, size: size, depth: depth, container: true, layer: record, hide: merge)
            }
            if !record.isTar { problem(container + "!/" + path, "layer is not a tar archive; not read") }
            tree.add(record, hiddenBy: merge)
            // One after the other, what the layers above hide was never read; side by side nothing is captured.
            captured.add(record.capture) { _ in false }
            merge.commit(record.entries)
        }
        settle()
        files[first...].sort { ByteOrder.less($0.path, $1.path) }
        return (tree, captured)
    }

    /// Each distinct layer of `order` read on an expander of its own, `layerJobs` at once; nil when they are
    /// to be read one after the other: one job, one layer, more than `maxLayersAside`, or files captured
    /// (`migrate` keeps the bound on captured bytes that one expander counts).
    private func readAside(
        _ order: [String], name: String, depth: Int, open: (String) -> (ByteSource, Int)?
    ) -> [String: LayerRead]? {
        var distinct: [String] = []
        var seen = Set<String>()
        for path in order where seen.insert(path).inserted { distinct.append(path) }
        guard limits.layerJobs > 1, limits.capture == nil, distinct.count > 1, distinct.count <= Self.maxLayersAside
        else { return nil }
        // Threads beyond this one, shared by the whole run (its other items may be reading images too).
        let extra =
            limits.layerThreads?.take(min(limits.layerJobs, distinct.count) - 1)
            ?? min(limits.layerJobs, distinct.count) - 1
        guard extra > 0 else { return nil }
        defer { limits.layerThreads?.give(extra) }
        // Opened here, in order, so that a missing layer is reported as it is when read one after the other.
        var opened: [(path: String, source: ByteSource, size: Int)] = []
        for path in distinct {
            if let (source, size) = open(path) { opened.append((path, source, size)) }
        }
        let childLimits = {
            var l = limits
            l.maxEntries = max(0, limits.maxEntries - entries)
            l.layerJobs = 1  // an image inside a layer: its layers one after the other, within this gate
            return l
        }()
        // The entries limit holds for the image as one after the other, not for each layer.
        let budget = EntryBudget(childLimits.maxEntries)
        let (meter, read, gate) = (self.meter, self.read, MemberGate())
        // Each source is used by the one thread that takes its index.
        let sources = UncheckedBox(opened)
        let next = Mutex(0)
        let results = Mutex<[String: UncheckedBox<LayerRead>]>([:])
        let work: @Sendable () -> Void = {
            while true {
                let index = next.withLock { n in
                    defer { n += 1 }
                    return n
                }
                guard index < sources.value.count else { return }
                let layer = sources.value[index]
                let child = Expander(limits: childLimits, meter: meter, read: read, gate: gate, entryBudget: budget)
                let record = LayerRecord()
                child.visit(
                    name: name, source: layer.source, size: layer.size, depth: depth, container: true, layer: record)
                child.settle()
                let done = LayerRead(
                    record: record, files: child.files, problems: child.problems, links: child.links,
                    notELF: child.notELF, images: child.images, entries: child.entries, stopped: child.stopped)
                results.withLock { $0[layer.path] = UncheckedBox(done) }
            }
        }
        // Threads of their own (a serial queue each), not concurrentPerform: nested inside the engine's
        // concurrentPerform, libdispatch would run it on one thread.
        let group = DispatchGroup()
        // No layer opened (all missing, reported by `open`): nothing to read, and no thread to start.
        for worker in 0..<max(0, min(extra, opened.count - 1)) {
            DispatchQueue(label: "muslcheck.layer.\(worker)").async(group: group, execute: work)
        }
        work()
        group.wait()
        return results.withLock { $0 }.mapValues(\.value)
    }

    /// A layer read aside, taken in as if it had been read after the layers above it (`merge`): what they
    /// hide (files, problems, links, non-ELF names) is dropped.
    private func adopt(_ layer: LayerRead, name: String, hiddenBy merge: LayerMerge) {
        let prefix = name + "!/"
        let entries = Set(layer.record.entries.map(\.path))
        let hidden = { (full: String) -> Bool in
            Self.layerEntry(of: full, prefix: prefix, among: entries).map(merge.hidden) ?? false
        }
        var covered = [Bool](repeating: false, count: layer.files.count)
        for (entry, range) in layer.record.entryFiles where range.upperBound <= layer.files.count {
            for i in range { covered[i] = true }
            if !merge.hidden(entry) { files += layer.files[range] }
        }
        // Files no entry accounts for (none are expected): kept, never dropped unseen.
        for (i, file) in layer.files.enumerated() where !covered[i] { files.append(file) }
        problems += layer.problems.filter { !hidden($0.path) }
        for (link, target) in layer.links where !hidden(link) { links[link] = target }
        linksSeen += layer.links.count
        for other in layer.notELF where !hidden(other) { notELF.insert(other) }
        images += layer.images.filter { !hidden($0.name) }
        self.entries += layer.entries
        otherFiles += layer.record.otherFiles.reduce(0) { $0 + (merge.hidden($1.path) ? 0 : $1.count) }
    }

    /// The layer entry a name inside the image comes from: `prefix` then the entry, or the entry then "!/"
    /// and a name inside it (a member of an archive the layer holds). Nil for the image's own name.
    static func layerEntry(of full: String, prefix: String, among entries: Set<String>) -> String? {
        guard full.hasPrefix(prefix) else { return nil }
        let rest = full.dropFirst(prefix.count)
        if entries.contains(String(rest)) { return String(rest) }
        var from = rest.startIndex
        // Entry names may hold "!/" themselves: each place it occurs is tried, the shortest first.
        while let range = rest[from...].literalRange(of: "!/") {
            let candidate = String(rest[..<range.lowerBound])
            if entries.contains(candidate) { return candidate }
            from = range.upperBound
        }
        return nil
    }
}
