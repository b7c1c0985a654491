/// Numbers as text without Foundation.

/// `value` rounded to at most `digits` decimals, trailing zeros dropped, no exponent
/// (`formatTrimmed(0.25, 6)` = `0.25`, `formatTrimmed(3, 6)` = `3`).
package func formatTrimmed(_ value: Double, _ digits: Int) -> String {
    var scale: Int64 = 1
    for _ in 0..<digits { scale *= 10 }
    let scaled = (value * Double(scale)).rounded()
    guard scaled.isFinite, abs(scaled) < 9e18 else { return "\(value)" }
    let i = Int64(scaled)
    let whole = i / scale
    var f = String(abs(i % scale))
    while f.count < digits { f = "0" + f }
    while f.hasSuffix("0") { f.removeLast() }
    let sign = (i < 0 && whole == 0) ? "-" : ""
    return f.isEmpty ? "\(sign)\(whole)" : "\(sign)\(whole).\(f)"
}
