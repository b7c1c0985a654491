/// Counts of values, for an honest median with bounded memory.
///
/// Values are counted exactly, one counter per distinct value, up to `exactLimit` distinct
/// values. Past that the histogram switches to log-linear buckets (64 sub-buckets per power of
/// two: every value is placed in a bucket no wider than 1/64 of its lower bound), and the
/// statistics say they are approximate and by how much. Min and max are always exact.
package struct ValueHistogram: Sendable {
    package private(set) var count = 0
    package private(set) var min: UInt64 = .max
    package private(set) var max: UInt64 = 0
    private var exact: [UInt64: Int] = [:]
    private var buckets: [Int: Int] = [:]
    package private(set) var isExact = true
    let exactLimit: Int

    package init(exactLimit: Int = defaultExactLimit) { self.exactLimit = exactLimit }

    package mutating func add(_ v: UInt64) {
        count += 1
        if v < min { min = v }
        if v > max { max = v }
        if isExact {
            exact[v, default: 0] += 1
            if exact.count > exactLimit {
                isExact = false
                for (value, n) in exact { buckets[Self.bucket(of: value), default: 0] += n }
                exact = [:]
            }
        } else {
            buckets[Self.bucket(of: v), default: 0] += 1
        }
    }

    /// The lower median (the value at rank ⌈n/2⌉), exact while `isExact`; otherwise the lower
    /// bound of the bucket holding it, within `relativeError` below the true median.
    package var median: UInt64? {
        guard count > 0 else { return nil }
        let rank = (count + 1) / 2
        var seen = 0
        if isExact {
            for v in exact.keys.sorted() {
                seen += exact[v] ?? 0
                if seen >= rank { return v }
            }
        } else {
            for b in buckets.keys.sorted() {
                seen += buckets[b] ?? 0
                if seen >= rank { return Swift.max(min, Self.lowerBound(of: b)) }
            }
        }
        return max
    }

    /// Largest relative error of `median` (0 while exact).
    package var relativeError: Double { isExact ? 0 : 1.0 / Double(Self.subBuckets) }

    private static let subBuckets = 64
    static func bucket(of v: UInt64) -> Int {
        if v < UInt64(subBuckets) { return Int(v) }
        let exponent = 63 - v.leadingZeroBitCount            // ≥ 6
        let shift = exponent - 6
        let mantissa = Int(v >> UInt64(shift)) - subBuckets  // 0..<64
        return (shift + 1) * subBuckets + mantissa
    }
    static func lowerBound(of bucket: Int) -> UInt64 {
        if bucket < subBuckets { return UInt64(bucket) }
        let shift = bucket / subBuckets - 1
        let mantissa = bucket % subBuckets
        return UInt64(subBuckets + mantissa) << UInt64(shift)
    }
}

/// Distinct values counted exactly before switching to buckets: window fields take at most
/// 65,536 raw values, and a transfer shows a few hundred; 4,096 keeps a direction under ~100 KiB.
package let defaultExactLimit = 4096
