/// One JSON object for `--json` output, written without Foundation: keys in insertion order,
/// numbers, strings and booleans.
struct BenchJSON {
    private var fields: [String] = []

    mutating func add(_ key: String, _ value: Double) {
        fields.append("\(quoted(key)): \(value.isFinite ? formatted(value, 4) : "null")")
    }

    mutating func add(_ key: String, _ value: Int) {
        fields.append("\(quoted(key)): \(value)")
    }

    mutating func add(_ key: String, _ value: String) {
        fields.append("\(quoted(key)): \(quoted(value))")
    }

    mutating func add(_ key: String, _ value: Bool) {
        fields.append("\(quoted(key)): \(value)")
    }

    /// Adds `value`, or `null` when it is nil.
    mutating func add(_ key: String, _ value: Double?) {
        if let value { add(key, value) } else { fields.append("\(quoted(key)): null") }
    }

    var text: String { "{" + fields.joined(separator: ", ") + "}" }

    private func quoted(_ s: String) -> String {
        var out = "\""
        for c in s.unicodeScalars {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default:
                if c.value < 0x20 { out += "\\u00" + (c.value < 0x10 ? "0" : "") + String(c.value, radix: 16) } else { out.unicodeScalars.append(c) }
            }
        }
        return out + "\""
    }
}
