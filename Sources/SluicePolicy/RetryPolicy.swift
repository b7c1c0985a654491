import SluiceCore

/// Exponential backoff with full jitter ("Exponential Backoff And Jitter", AWS Architecture
/// Blog, 2015): the wait before the k-th retry (k from 0) is drawn uniformly from
/// [0, min(cap, base·2^k)]. Full jitter spreads clients that failed together over the whole
/// window, so they do not come back together (a synchronized retry storm is what a shedding
/// server cannot survive).
///
/// A value: no clock, no randomness of its own. Time comes in as `Instant`s and randomness as a
/// generator the caller owns (seed it for repeatable runs).
public struct RetryPolicy: Hashable, Sendable {
    /// The ceiling of the first retry's wait (k = 0).
    public var base: Duration
    /// The largest ceiling, whatever k.
    public var cap: Duration
    /// Retries after the first attempt (0: one attempt, no retry).
    public var maxRetries: Int

    public init(base: Duration = .milliseconds(100), cap: Duration = .seconds(10), maxRetries: Int = 0) {
        self.base = base
        self.cap = cap
        self.maxRetries = maxRetries
    }

    /// Attempts in all: the first plus `maxRetries`.
    public var maxAttempts: Int { 1 + Swift.max(0, maxRetries) }

    /// min(cap, base·2^k): the upper end of the wait before retry `k` (k ≥ 0). Saturates
    /// instead of overflowing for large k; negative durations count as zero.
    public func ceiling(beforeRetry k: Int) -> Duration {
        let capNs = Swift.max(0, nanoseconds(cap))
        let baseNs = Swift.max(0, nanoseconds(base))
        guard baseNs > 0 else { return .zero }
        let shift = Swift.max(0, k)
        // base·2^k without overflow: compare against cap >> k first.
        if shift >= 62 || baseNs > (capNs >> Int64(shift)) { return .nanoseconds(capNs) }
        return .nanoseconds(Swift.min(capNs, baseNs << Int64(shift)))
    }

    /// A wait before retry `k`, uniform over [0, ceiling(beforeRetry: k)] in nanoseconds.
    public func delay<R: RandomNumberGenerator>(beforeRetry k: Int, using generator: inout R) -> Duration {
        let top = nanoseconds(ceiling(beforeRetry: k))
        guard top > 0 else { return .zero }
        return .nanoseconds(Int64.random(in: 0...top, using: &generator))
    }
}

/// The retry bookkeeping of one operation (a connection attempt, a request): how many attempts
/// were made, and when the next may start. Sans-IO: the caller reports outcomes with the time
/// and asks what to do.
///
///     var retry = RetrySchedule(policy: policy)
///     // attempt fails at `now`:
///     switch retry.attemptFailed(at: now, using: &rng) {
///     case .retry(let at): // start the next attempt at `at`
///     case .giveUp:        // report after retry.attempts attempts
///     }
public struct RetrySchedule: Hashable, Sendable {
    public enum Decision: Hashable, Sendable {
        /// Start the next attempt at this instant.
        case retry(at: Instant)
        /// Every attempt is spent.
        case giveUp
    }

    public let policy: RetryPolicy
    /// Attempts that ended (failed) so far.
    public private(set) var failures = 0
    /// The last wait drawn (nil before the first retry).
    public private(set) var lastDelay: Duration?

    public init(policy: RetryPolicy) { self.policy = policy }

    /// Attempts started so far, counting the one under way: `failures + 1` until it gives up.
    public var attempts: Int { Swift.min(failures + 1, policy.maxAttempts) }

    /// Records a failed attempt at `now`; says when to retry (after a jittered wait), or to
    /// give up once `policy.maxAttempts` attempts have failed.
    public mutating func attemptFailed<R: RandomNumberGenerator>(at now: Instant, using generator: inout R) -> Decision {
        failures += 1
        guard failures < policy.maxAttempts else { return .giveUp }
        let wait = policy.delay(beforeRetry: failures - 1, using: &generator)
        lastDelay = wait
        return .retry(at: now + wait)
    }
}

private func nanoseconds(_ d: Duration) -> Int64 {
    let c = d.components
    let (ns, overflow) = c.seconds.multipliedReportingOverflow(by: 1_000_000_000)
    if overflow { return c.seconds < 0 ? .min : .max }
    let (sum, o2) = ns.addingReportingOverflow(c.attoseconds / 1_000_000_000)
    return o2 ? .max : sum
}
