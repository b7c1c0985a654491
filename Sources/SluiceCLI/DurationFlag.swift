import SluiceCore

extension FlagValues {
    /// A duration as users type it: a number with a unit `ms` or `s` (`250ms`, `2s`, `1.5s`);
    /// at most one hour, not negative.
    package static func duration(_ text: String) throws(FlagError) -> Duration {
        let trimmed = text.trimmingSpaces
        let unitStart = trimmed.firstIndex { !$0.isNumber && $0 != "." } ?? trimmed.endIndex
        let number = String(trimmed[..<unitStart])
        let unit = String(trimmed[unitStart...]).trimmingSpaces
        guard let value = Double(number), value.isFinite else {
            throw FlagError("'\(text)' is not a duration: write a number and a unit, e.g. 250ms or 2s")
        }
        let scale: Double
        switch unit {
        case "ms": scale = 1e6
        case "s": scale = 1e9
        case "": throw FlagError("'\(text)' has no unit: write ms or s, e.g. 250ms or 2s")
        default: throw FlagError("unknown duration unit '\(unit)': use ms or s, e.g. 250ms or 2s")
        }
        let nanoseconds = value * scale
        guard nanoseconds <= 3600e9 else { throw FlagError("'\(text)' is too long: at most 3600s") }
        return .nanoseconds(Int64(nanoseconds))
    }
}

extension String {
    fileprivate var trimmingSpaces: String {
        var s = Substring(self)
        while s.first == " " { s.removeFirst() }
        while s.last == " " { s.removeLast() }
        return String(s)
    }
}
