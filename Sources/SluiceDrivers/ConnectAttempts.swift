import SluiceCore
import SluicePolicy

/// sluice-send's connection attempts: a refused attempt (RST to the SYN) or one without a
/// SYN-ACK within `connectTimeout` is retried after a wait drawn uniformly from
/// [0, min(cap, base·2^k)] for the k-th retry (`RetryPolicy`, full jitter), until
/// `policy.maxAttempts` attempts have failed. Time comes in as arguments; the caller opens and
/// aborts the connections.
package struct ConnectAttempts {
    package enum Outcome: Equatable {
        /// Open a new connection now.
        case connect
        /// Nothing to do before this instant.
        case wait(until: Instant)
        /// Every attempt failed.
        case giveUp
    }

    package let connectTimeout: Duration
    private var schedule: RetrySchedule
    private var random = SystemRandomNumberGenerator()
    private var attemptStartedAt: Instant?
    private var retryAt: Instant?
    package private(set) var refused = 0
    package private(set) var timedOut = 0
    package private(set) var gaveUp = false

    package init(policy: RetryPolicy, connectTimeout: Duration) {
        schedule = RetrySchedule(policy: policy)
        self.connectTimeout = connectTimeout
    }

    /// Attempts started so far.
    package var attempts: Int { refused + timedOut + (attemptStartedAt == nil ? 0 : 1) }

    /// An attempt (a SYN) started at `now`.
    package mutating func started(at now: Instant) {
        attemptStartedAt = now
        retryAt = nil
    }

    /// The attempt's connection reached ESTABLISHED: no more retries.
    package mutating func connected() {
        attemptStartedAt = nil
        retryAt = nil
    }

    /// The attempt was refused (RST in SYN-SENT) or its SYNs went unanswered (the engine gave up).
    package mutating func failed(refused wasRefused: Bool, at now: Instant) -> Outcome {
        guard attemptStartedAt != nil else { return .giveUp }
        attemptStartedAt = nil
        if wasRefused { refused += 1 } else { timedOut += 1 }
        switch schedule.attemptFailed(at: now, using: &random) {
        case let .retry(at):
            retryAt = at
            return at <= now ? .connect : .wait(until: at)
        case .giveUp:
            gaveUp = true
            return .giveUp
        }
    }

    /// What is due at `now`: the connect timeout of the attempt under way (the caller aborts
    /// it and calls `failed(refused: false, ...)`), a retry, or a wait.
    package func due(at now: Instant) -> (timedOut: Bool, retry: Bool, wake: Instant?) {
        if let start = attemptStartedAt {
            let limit = start + connectTimeout
            return (now >= limit, false, limit)
        }
        if let at = retryAt { return (false, now >= at, at) }
        return (false, false, nil)
    }

    /// The one-line message after the last attempt.
    package var failureMessage: String {
        let total = refused + timedOut
        return "\(total) attempt\(total == 1 ? "" : "s") failed: \(refused) refused (RST to the SYN), \(timedOut) timed out (no SYN-ACK within \(formatDuration(connectTimeout)))"
    }
}
