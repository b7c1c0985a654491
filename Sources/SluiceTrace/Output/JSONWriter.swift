/// A minimal JSON writer that keeps keys in the order they are written, so the output's
/// layout is stable and matches the documented schema.
struct JSONWriter {
    private(set) var text = ""
    private var needsComma = [false]
    private let indentUnit = "  "

    private mutating func prefix(key: String?) {
        if needsComma[needsComma.count - 1] { text += "," }
        needsComma[needsComma.count - 1] = true
        text += "\n" + String(repeating: indentUnit, count: needsComma.count - 1)
        if let k = key { text += Self.quote(k) + ": " }
    }

    mutating func beginObject(_ key: String? = nil) {
        if needsComma.count > 1 || !text.isEmpty { prefix(key: key) }
        text += "{"
        needsComma.append(false)
    }
    mutating func endObject() {
        let had = needsComma.removeLast()
        if had { text += "\n" + String(repeating: indentUnit, count: needsComma.count - 1) }
        text += "}"
    }
    mutating func beginArray(_ key: String? = nil) {
        prefix(key: key)
        text += "["
        needsComma.append(false)
    }
    mutating func endArray() {
        let had = needsComma.removeLast()
        if had { text += "\n" + String(repeating: indentUnit, count: needsComma.count - 1) }
        text += "]"
    }
    mutating func raw(_ key: String?, _ literal: String) {
        prefix(key: key)
        text += literal
    }
    mutating func string(_ key: String?, _ v: String?) { raw(key, v.map(Self.quote) ?? "null") }
    mutating func int<T: BinaryInteger>(_ key: String?, _ v: T?) { raw(key, v.map { "\($0)" } ?? "null") }
    mutating func bool(_ key: String?, _ v: Bool) { raw(key, v ? "true" : "false") }
    mutating func number(_ key: String?, _ v: Double?) {
        guard let v, v.isFinite else { raw(key, "null"); return }
        raw(key, Self.format(v))
    }

    /// Up to 6 decimals (microseconds for times in seconds), no exponent.
    static func format(_ v: Double) -> String {
        let scaled = (v * 1_000_000).rounded()
        guard abs(scaled) < 9e18 else { return "\(v)" }
        let i = Int64(scaled)
        let whole = i / 1_000_000
        let frac = abs(i % 1_000_000)
        var f = String(frac)
        while f.count < 6 { f = "0" + f }
        while f.hasSuffix("0") { f.removeLast() }
        let sign = (i < 0 && whole == 0) ? "-" : ""
        return f.isEmpty ? "\(sign)\(whole)" : "\(sign)\(whole).\(f)"
    }

    static func quote(_ s: String) -> String {
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
