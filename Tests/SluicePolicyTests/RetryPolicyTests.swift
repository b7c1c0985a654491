import SluiceCore
import SluiceHarness
import SluicePolicy
import Testing

/// Exponential backoff with full jitter: ceilings, the distribution of the waits, and the
/// attempt count of a schedule. Seeded; the seed is in each expectation's message.
@Suite struct RetryPolicyTests {
    static let policy = RetryPolicy(base: .milliseconds(100), cap: .seconds(10), maxRetries: 5)

    @Test func ceilingsDoubleUntilTheCap() {
        let p = RetryPolicy(base: .milliseconds(100), cap: .seconds(1), maxRetries: 10)
        let ceilings = (0..<6).map { p.ceiling(beforeRetry: $0) }
        #expect(ceilings == [.milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(800), .seconds(1), .seconds(1)])
        // No overflow for absurd k; zero base means no wait.
        #expect(p.ceiling(beforeRetry: 10_000) == .seconds(1))
        #expect(p.ceiling(beforeRetry: -3) == .milliseconds(100))
        #expect(RetryPolicy(base: .zero, cap: .seconds(1)).ceiling(beforeRetry: 3) == .zero)
        #expect(RetryPolicy(base: .seconds(1), cap: .seconds(Int64.max / 2)).ceiling(beforeRetry: 80) > .seconds(1))
    }

    /// Every wait lies in [0, min(cap, base·2^k)], and the waits fill that range uniformly:
    /// 20,000 draws per k, in ten bins, each within 15% of the expected count; the mean within
    /// 3% of half the ceiling.
    @Test(arguments: [0, 1, 2, 5, 7, 12])
    func delaysAreUniformUpToTheCeiling(k: Int) {
        let seed: UInt64 = 0x5EED_0000 + UInt64(k)
        var rng = SplitMix64(seed: seed)
        let ceiling = Self.policy.ceiling(beforeRetry: k)
        let top = Double(ceiling.components.seconds) * 1e9 + Double(ceiling.components.attoseconds) / 1e9
        let draws = 20_000
        var bins = [Int](repeating: 0, count: 10)
        var sum = 0.0
        for _ in 0..<draws {
            let d = Self.policy.delay(beforeRetry: k, using: &rng)
            #expect(d >= .zero && d <= ceiling, "seed \(seed): \(d) outside [0, \(ceiling)]")
            let ns = Double(d.components.seconds) * 1e9 + Double(d.components.attoseconds) / 1e9
            sum += ns
            bins[min(9, Int(ns / top * 10))] += 1
        }
        for (i, count) in bins.enumerated() {
            #expect(abs(count - draws / 10) < draws / 10 * 15 / 100, "seed \(seed): bin \(i) holds \(count) of \(draws)")
        }
        let mean = sum / Double(draws)
        #expect(abs(mean - top / 2) < top * 0.03, "seed \(seed): mean \(mean) ns, ceiling \(top) ns")
    }

    @Test func sameSeedSameWaits() {
        var a = SplitMix64(seed: 7)
        var b = SplitMix64(seed: 7)
        let x = (0..<8).map { Self.policy.delay(beforeRetry: $0, using: &a) }
        let y = (0..<8).map { Self.policy.delay(beforeRetry: $0, using: &b) }
        #expect(x == y)
    }

    /// Five retries: six attempts, each retry scheduled after a wait within its ceiling, then
    /// give up; on virtual time.
    @Test func scheduleMakesMaxRetriesPlusOneAttempts() {
        var rng = SplitMix64(seed: 11)
        var schedule = RetrySchedule(policy: Self.policy)
        var now = Instant.zero
        var attemptTimes = [now]
        while case let .retry(at) = schedule.attemptFailed(at: now + .milliseconds(5), using: &rng) {
            let k = attemptTimes.count - 1
            let wait = at - (now + .milliseconds(5))
            #expect(wait >= .zero && wait <= Self.policy.ceiling(beforeRetry: k), "retry \(k): wait \(wait)")
            now = at
            attemptTimes.append(now)
            #expect(schedule.attempts == attemptTimes.count)
        }
        #expect(attemptTimes.count == 6)
        #expect(schedule.failures == 6)
        #expect(schedule.attempts == 6)
        // Once given up, it stays given up.
        #expect(schedule.attemptFailed(at: now, using: &rng) == .giveUp)
    }

    @Test func noRetriesMeansOneAttempt() {
        var rng = SplitMix64(seed: 1)
        var schedule = RetrySchedule(policy: RetryPolicy(maxRetries: 0))
        #expect(schedule.attemptFailed(at: .zero, using: &rng) == .giveUp)
        #expect(schedule.attempts == 1)
    }
}
