// The script assessor's checks of ash builtins and of command options against the target's BusyBox
// (ScriptAssessor.swift has the verdict, the findings and the checks of commands).
import Knowledge

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

extension ScriptContext {
    // MARK: ash builtins and options

    mutating func checkAshCommand(
        _ name: String, _ w: ShellWord, _ args: ArraySlice<ShellWord>, inFunction: Bool, busybox: BusyBoxVersion
    ) {
        guard let rows = assessor.syntaxByCommand[name] else { return }
        let literal = args.map { $0.literal ?? "" }
        for row in rows where row.versions.contains(busybox) {
            switch row.kind {
            case .command where row.feature == name:
                reportSyntax(row, offset: w.offset, length: w.length, word: name, busybox: busybox)
            case .option:
                let parts = row.words
                guard parts.first == name, parts.count > 1 else { continue }
                let wanted = Array(parts.dropFirst())
                // `set -o posix`: consecutive words; `read -a`: the option anywhere before `--`.
                let found: Bool
                if wanted.count == 1 && ["[", "test", "printf"].contains(name) {
                    found = literal.first == wanted[0]
                } else if wanted.count == 1 {
                    // `read -ra` holds -a too; `[ -v X ]` and `printf -v` only as the word itself.
                    let letter = wanted[0].count == 2 && name == "read" ? wanted[0].utf8.last : nil
                    found = literal.prefix { $0 != "--" }.contains { lit in
                        lit == wanted[0]
                            || (letter.map { l in
                                lit.hasPrefix("-") && !lit.hasPrefix("--") && lit.utf8.dropFirst().contains(l)
                            } ?? false)
                    }
                } else {
                    found =
                        literal.count >= wanted.count
                        && (0...(literal.count - wanted.count)).contains {
                            Array(literal[$0..<($0 + wanted.count)]) == wanted
                        }
                }
                if found { reportSyntax(row, offset: w.offset, length: w.length, word: row.feature, busybox: busybox) }
            case .outsideFunction where row.feature == name && !inFunction:
                reportSyntax(row, offset: w.offset, length: w.length, word: name, busybox: busybox)
            default: continue
            }
        }
    }

    mutating func checkOptions(
        _ name: String, _ rows: [ScriptKnowledge.OptionRow], _ args: ArraySlice<ShellWord>, busybox: BusyBoxVersion
    ) {
        let rows = rows.filter { $0.versions.contains(busybox) }
        guard !rows.isEmpty else { return }
        let valueLetters = scripts.valueLetters[name] ?? []
        let words = Array(args)
        var endOfOptions = false
        var i = 0
        while i < words.count {
            let w = words[i]
            defer { i += 1 }
            guard let lit = w.literal else { continue }
            for row in rows {
                switch row.match {
                case .word where lit == row.option: reportOption(row, w, name, busybox)
                case .arg where assessor.patterns.matches(row.pattern, lit): reportOption(row, w, name, busybox)
                default: continue
                }
            }
            guard !endOfOptions, lit.hasPrefix("-"), lit.count > 1 else { continue }
            if lit == "--" {
                endOfOptions = true
                continue
            }
            let next = i + 1 < words.count ? words[i + 1] : nil
            if lit.hasPrefix("--") {
                checkLongOption(lit, w, next: next, rows, name, busybox)
                continue
            }
            // A word option (find -type) or a cluster of short options (-rP), values taken into account.
            for row in rows where row.match == .value && row.spellings.contains(lit) && lit.count > 2 {
                if let next, valueMatches(row, next) { reportOption(row, next, name, busybox) }
            }
            if checkShortOptions(lit, w, next: next, rows, name, busybox, valueLetters: valueLetters) {
                i += 1  // the value is the next word
            }
        }
    }

    /// `--key` or `--key=value` against the rows that spell it.
    mutating func checkLongOption(
        _ lit: String, _ w: ShellWord, next: ShellWord?, _ rows: [ScriptKnowledge.OptionRow], _ name: String,
        _ busybox: BusyBoxVersion
    ) {
        let key = String(lit.prefix { $0 != "=" })
        for row in rows where row.spellings.contains(key) {
            if row.match == .flag { reportOption(row, w, name, busybox) }
            if row.match == .value {
                let value =
                    lit.utf8.contains(UInt8(ascii: "="))
                    ? ShellWord(
                        offset: w.offset, length: w.length, literal: String(lit.drop { $0 != "=" }.dropFirst()),
                        text: "")
                    : next
                if valueMatches(row, value) {
                    reportOption(row, value?.offset == w.offset ? w : (value ?? w), name, busybox)
                }
            }
        }
    }

    /// A cluster of short options (`-rP`) against the rows that spell each letter; true when a letter that
    /// takes a value ends the cluster, so that the next word is its value.
    mutating func checkShortOptions(
        _ lit: String, _ w: ShellWord, next: ShellWord?, _ rows: [ScriptKnowledge.OptionRow], _ name: String,
        _ busybox: BusyBoxVersion, valueLetters: Set<UInt8>
    ) -> Bool {
        let letters = Array(lit.utf8.dropFirst())
        for (k, letter) in letters.enumerated() {
            let option = "-" + String(UnicodeScalar(letter))
            for row in rows where row.spellings.contains(option) {
                if row.match == .flag { reportOption(row, w, name, busybox) }
                if row.match == .value {
                    let rest = letters[(k + 1)...]
                    let value =
                        rest.isEmpty
                        ? next
                        : ShellWord(
                            offset: w.offset, length: w.length, literal: String(decoding: rest, as: UTF8.self),
                            text: "")
                    if valueMatches(row, value) {
                        reportOption(row, value?.offset == w.offset ? w : (value ?? w), name, busybox)
                    }
                }
            }
            if valueLetters.contains(letter) { return k == letters.count - 1 }
        }
        return false
    }

    func valueMatches(_ row: ScriptKnowledge.OptionRow, _ value: ShellWord?) -> Bool {
        guard let v = value?.literal else { return false }
        return assessor.patterns.matches(row.pattern, v)
    }

    mutating func reportOption(
        _ row: ScriptKnowledge.OptionRow, _ w: ShellWord, _ name: String, _ busybox: BusyBoxVersion
    ) {
        let shown = "\(name) \(w.literal ?? w.text)"
        let fix = row.fix.map { "; apk add \($0) for the GNU tool" } ?? ""
        if row.status == .silent {
            add(
                RuleID.busyboxOptionSilent, "'\(shown)': \(row.message) (BusyBox \(busybox))\(fix)",
                offset: w.offset, length: w.length, word: w.literal ?? w.text, packages: [])
        } else {
            add(
                RuleID.busyboxOptionRejected,
                "'\(shown)': \(row.message) (BusyBox \(busybox) on Alpine \(assessor.release.name))\(fix)",
                offset: w.offset, length: w.length, word: w.literal ?? w.text, packages: row.fix.map { [$0] } ?? [])
        }
    }
}
