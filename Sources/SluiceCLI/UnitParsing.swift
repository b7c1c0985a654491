/// Sizes and rates as users type them on the command line.
///
/// - A size is a plain number of bytes (`65536`) or takes a binary unit: `KiB`, `MiB`, `GiB`
///   (2^10, 2^20, 2^30 bytes). A `B` suffix is accepted for plain bytes.
/// - A rate is a plain number of bytes per second (`500000`) or takes a bit unit `kbit`, `mbit`,
///   `gbit` (10^3, 10^6, 10^9 bits per second) or a byte unit `KB`, `MB`, `GB` (10^3, 10^6,
///   10^9 bytes per second). Bit units are case-insensitive (`Mbit` = `mbit`); byte units are not,
///   so `kb` (kilobit or kilobyte?) is refused rather than guessed.
///
/// A space between number and unit is allowed; fractions are allowed (`1.5MiB`) and a size
/// is rounded down to whole bytes.
package enum UnitParseError: Error, Hashable, Sendable, CustomStringConvertible {
    case empty(kind: String)
    case notANumber(kind: String, text: String)
    case unknownUnit(kind: String, unit: String, accepted: String)
    case negative(kind: String, text: String)
    case tooLarge(kind: String, text: String)

    package var description: String {
        switch self {
        case .empty(let kind):
            return "empty \(kind): give a number, e.g. \(Self.example(kind))"
        case .notANumber(let kind, let text):
            return "'\(text)' is not a \(kind): give a number with an optional unit, e.g. \(Self.example(kind))"
        case .unknownUnit(let kind, let unit, let accepted):
            return "unknown \(kind) unit '\(unit)': use \(accepted)"
        case .negative(let kind, let text):
            return "'\(text)' is negative: a \(kind) must be 0 or more"
        case .tooLarge(let kind, let text):
            return "'\(text)' is too large for a \(kind)"
        }
    }

    private static func example(_ kind: String) -> String {
        kind == "rate" ? "'10mbit', '500KB' or '250000' (bytes/s)" : "'64KiB', '1MiB' or '65536' (bytes)"
    }
}

/// Parses a size in bytes (`"64KiB"` → 65536). See `UnitParseError` for the grammar.
package func parseByteSize(_ text: String) throws(UnitParseError) -> Int {
    let (value, unit) = try splitNumber(text, kind: "size")
    let multiplier: Double
    switch unit {
    case "", "B": multiplier = 1
    case "KiB": multiplier = 1024
    case "MiB": multiplier = 1024 * 1024
    case "GiB": multiplier = 1024 * 1024 * 1024
    default: throw .unknownUnit(kind: "size", unit: unit, accepted: "bytes (no unit), KiB, MiB or GiB")
    }
    let bytes = (value * multiplier).rounded(.down)
    guard bytes < Double(maximumByteCount) else { throw .tooLarge(kind: "size", text: text) }
    return Int(bytes)
}

/// Parses a rate in bytes per second (`"8mbit"` → 1_000_000). See `UnitParseError` for the grammar.
package func parseByteRate(_ text: String) throws(UnitParseError) -> Double {
    let (value, unit) = try splitNumber(text, kind: "rate")
    let bytesPerSecond: Double
    switch unit.lowercased() {
    case "kbit": bytesPerSecond = value * 1e3 / 8
    case "mbit": bytesPerSecond = value * 1e6 / 8
    case "gbit": bytesPerSecond = value * 1e9 / 8
    default:
        switch unit {
        case "", "B", "B/s": bytesPerSecond = value
        case "KB", "KB/s": bytesPerSecond = value * 1e3
        case "MB", "MB/s": bytesPerSecond = value * 1e6
        case "GB", "GB/s": bytesPerSecond = value * 1e9
        default:
            throw .unknownUnit(kind: "rate", unit: unit,
                               accepted: "bytes/s (no unit), kbit, mbit, gbit (bits/s) or KB, MB, GB (bytes/s)")
        }
    }
    guard bytesPerSecond < maximumRate else { throw .tooLarge(kind: "rate", text: text) }
    return bytesPerSecond
}

/// Splits `"1.5 MiB"` into `(1.5, "MiB")`.
private func splitNumber(_ raw: String, kind: String) throws(UnitParseError) -> (Double, String) {
    let text = raw.trimmingWhitespace()
    guard !text.isEmpty else { throw .empty(kind: kind) }
    var numberEnd = text.startIndex
    var sawDigit = false
    for i in text.indices {
        let c = text[i]
        if c.isASCII, c.isNumber { sawDigit = true }
        else if c == "." { }
        else if c == "-", i == text.startIndex { }
        else { break }
        numberEnd = text.index(after: i)
    }
    let numberText = text[..<numberEnd]
    guard sawDigit, let value = Double(numberText), value.isFinite else {
        throw .notANumber(kind: kind, text: raw)
    }
    guard value >= 0 else { throw .negative(kind: kind, text: raw) }
    let unit = String(text[numberEnd...]).trimmingWhitespace()
    return (value, unit)
}

extension String {
    fileprivate func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }
}

/// Bigger sizes are refused: 2^50 bytes is a petabyte, beyond any buffer or transfer here.
private let maximumByteCount: Int = 1 << 50
/// Bigger rates are refused: 10^13 bytes/s is 80 Tbit/s, beyond any link here.
private let maximumRate: Double = 1e13
