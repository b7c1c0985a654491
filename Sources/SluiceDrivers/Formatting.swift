/// Formats a byte count for people: `1.50 MiB`.
package func formatBytes(_ bytes: Int) -> String {
    let b = Double(bytes)
    if bytes < 1024 { return "\(bytes) B" }
    if b < 1024 * 1024 { return formatFixed(b / 1024, 1) + " KiB" }
    if b < 1024 * 1024 * 1024 { return formatFixed(b / (1024 * 1024), 2) + " MiB" }
    return formatFixed(b / (1024 * 1024 * 1024), 2) + " GiB"
}

/// Formats a rate in bits per second for people: `12.3 Mbit/s`.
package func formatBitRate(_ bitsPerSecond: Double) -> String {
    if bitsPerSecond < 1e3 { return formatFixed(bitsPerSecond, 0) + " bit/s" }
    if bitsPerSecond < 1e6 { return formatFixed(bitsPerSecond / 1e3, 1) + " kbit/s" }
    if bitsPerSecond < 1e9 { return formatFixed(bitsPerSecond / 1e6, 2) + " Mbit/s" }
    return formatFixed(bitsPerSecond / 1e9, 2) + " Gbit/s"
}

/// `value` with `digits` digits after the point, without Foundation.
package func formatFixed(_ value: Double, _ digits: Int) -> String {
    guard value.isFinite else { return "\(value)" }
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let negative = value < 0
    let scaled = (abs(value) * scale).rounded()
    guard scaled < 9e15 else { return "\(value)" }
    let whole = Int64(scaled)
    let intPart = whole / Int64(scale)
    var text = "\(negative && whole != 0 ? "-" : "")\(intPart)"
    if digits > 0 {
        var frac = String(whole % Int64(scale))
        while frac.count < digits { frac = "0" + frac }
        text += "." + frac
    }
    return text
}

/// A duration as the flags take it: `250ms`, `2s`, `1.5s`.
package func formatDuration(_ d: Duration) -> String {
    let (s, atto) = d.components
    let ms = Double(s) * 1000 + Double(atto) / 1e15
    if ms < 1000 { return "\(formatFixed(ms, ms == ms.rounded() ? 0 : 3))ms" }
    let seconds = ms / 1000
    return "\(formatFixed(seconds, seconds == seconds.rounded() ? 0 : 3))s"
}
