import SluiceCore

/// The receiving application's reader: it may take up to `burst` bytes whenever the bucket
/// holds that many tokens; tokens accrue at `rate` bytes per second up to `burst`.
///
/// So over any interval of length T it reads at most `burst + rate × T` bytes: `--read-rate`
/// with `--read-chunk` as the burst. A bucket starts full.
package struct TokenBucket: Sendable {
    package let rate: Double
    package let burst: Int
    private var tokens: Double
    private var updatedAt: Instant?

    package init(rate: Double, burst: Int) {
        self.rate = rate
        self.burst = burst
        tokens = Double(burst)
    }

    /// Whole tokens available at `now` (0 ... burst).
    package func available(at now: Instant) -> Int { Int(tokens(at: now)) }

    /// Whether a full burst may be read at `now`.
    package func isFull(at now: Instant) -> Bool { available(at: now) >= burst }

    /// Spends `bytes` tokens (the bytes actually read).
    package mutating func consume(_ bytes: Int, at now: Instant) {
        tokens = max(0, tokens(at: now) - Double(bytes))
        if let last = updatedAt, now <= last { return }
        updatedAt = now
    }

    /// When the bucket will next be full (`now` if it already is).
    package func fullAt(_ now: Instant) -> Instant {
        let missing = Double(burst) - tokens(at: now)
        if missing <= 0 || rate <= 0 { return now }
        return now + .nanoseconds(Int64((missing / rate * 1e9).rounded(.up)))
    }

    /// Tokens at `now`: what was left at the last read plus what accrued since, up to `burst`.
    /// Time going backwards adds nothing.
    private func tokens(at now: Instant) -> Double {
        guard let last = updatedAt, now > last else { return tokens }
        return min(Double(burst), tokens + rate * (now - last).secondsDouble)
    }
}
