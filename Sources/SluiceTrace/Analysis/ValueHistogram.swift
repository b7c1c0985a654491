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
    private var runValue: UInt64 = 0
    private var runCount = 0
    private var buckets: [Int: Int] = [:]
    /// The counts are exact (not yet switched to buckets).
    package var isExact: Bool {
        var h = self
        h.flushRun()
        return h.exactSoFar
    }
    private var exactSoFar = true
    let exactLimit: Int

    package init(exactLimit: Int = defaultExactLimit) { self.exactLimit = exactLimit }

    package mutating func add(_ v: UInt64) {
        count += 1
        // Windows repeat: a run of one value is counted here and added to the table when the
        // value changes (one hash per run, not per packet).
        if v == runValue && runCount > 0 {
            runCount += 1
            return
        }
        flushRun()
        runValue = v
        runCount = 1
        if v < min { min = v }
        if v > max { max = v }
    }

    /// Adds the pending run to the table.
    private mutating func flushRun() {
        guard runCount > 0 else { return }
        let v = runValue, n = runCount
        runCount = 0
        if exactSoFar {
            exact[v, default: 0] += n
            if exact.count > exactLimit {
                exactSoFar = false
                for (value, k) in exact { buckets[Self.bucket(of: value), default: 0] += k }
                exact = [:]
            }
        } else {
            buckets[Self.bucket(of: v), default: 0] += n
        }
    }

    /// The lower median (the value at rank ⌈n/2⌉), exact while `isExact`; otherwise the lower
    /// bound of the bucket holding it, within `relativeError` below the true median.
    package var median: UInt64? {
        guard count > 0 else { return nil }
        var h = self
        h.flushRun()
        return h.flushedMedian
    }

    private var flushedMedian: UInt64? {
        let rank = (count + 1) / 2
        var seen = 0
        if exactSoFar {
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
    package var relativeError: Double {
        var h = self
        h.flushRun()
        return h.exactSoFar ? 0 : 1.0 / Double(Self.subBuckets)
    }

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
