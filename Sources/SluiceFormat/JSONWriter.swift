/// The package's one JSON writer (no Foundation): keys stay in the order they are written, so
/// the output matches the documented schemas byte for byte (README: the `--json` summaries of
/// sluice-send and sluice-recv, and sluice-trace's `--json` report; pinned by golden tests).
///
/// Two layouts: `.compact` (one line, no spaces: the binaries' one-object-per-line summaries)
/// and `.indented` (two spaces per level, `"key": value`: sluice-trace's report).
package struct JSONWriter {
    package enum Layout: Sendable { case compact, indented }

    package private(set) var text = ""
    private let layout: Layout
    /// Per open container (and the top level): whether a value was written in it yet.
    private var needsComma = [false]

    package init(layout: Layout = .indented) { self.layout = layout }

    /// An object: a member of the open object when `key` is given, else an element (or the top).
    package mutating func beginObject(_ key: String? = nil) {
        if needsComma.count > 1 || !text.isEmpty { prefix(key: key) }
        open("{")
    }
    package mutating func endObject() { close("}") }
    package mutating func beginArray(_ key: String? = nil) {
        prefix(key: key)
        open("[")
    }
    package mutating func endArray() { close("]") }

    /// A value written as given (a literal the caller has formatted).
    package mutating func raw(_ key: String?, _ literal: String) {
        prefix(key: key)
        text += literal
    }
    /// A string, or `null`.
    package mutating func string(_ key: String?, _ v: String?) { raw(key, v.map(Self.quote) ?? "null") }
    /// An integer, or `null`.
    package mutating func int<T: BinaryInteger>(_ key: String?, _ v: T?) { raw(key, v.map { "\($0)" } ?? "null") }
    package mutating func bool(_ key: String?, _ v: Bool) { raw(key, v ? "true" : "false") }
    /// Up to 6 decimals, trailing zeros dropped, no exponent (`0.25`, `3`); `null` when absent
    /// or not finite.
    package mutating func number(_ key: String?, _ v: Double?) {
        guard let v, v.isFinite else { raw(key, "null"); return }
        raw(key, formatTrimmed(v, 6))
    }
    private mutating func open(_ bracket: String) {
        text += bracket
        needsComma.append(false)
    }

    private mutating func close(_ bracket: String) {
        let hadValues = needsComma.removeLast()
        if hadValues { newline() }
        text += bracket
    }

    private mutating func prefix(key: String?) {
        if needsComma[needsComma.count - 1] { text += "," }
        needsComma[needsComma.count - 1] = true
        newline()
        if let key { text += Self.quote(key) + (layout == .compact ? ":" : ": ") }
    }

    private mutating func newline() {
        guard layout == .indented else { return }
        text += "\n" + String(repeating: "  ", count: needsComma.count - 1)
    }

    /// One object of `(key, literal)` fields (literals already formatted: `quote(s)`, numbers).
    package static func object(_ fields: [(String, String)], layout: Layout) -> String {
        var w = JSONWriter(layout: layout)
        w.beginObject()
        for (key, literal) in fields { w.raw(key, literal) }
        w.endObject()
        return w.text
    }

    /// A JSON string literal: quotes, backslashes and control characters escaped.
    package static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if u.value < 0x20 {
                    let h = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - h.count) + h
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + "\""
    }
}
