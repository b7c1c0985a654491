import SluiceCore

/// A circuit breaker (Nygard, "Release It!", 2007): after `failureThreshold` consecutive
/// failures it opens and fails calls fast, without touching the struggling service; after
/// `coolDown` it lets one trial call through (half-open); the trial's success closes it, its
/// failure opens it again for another cool-down.
///
/// ```
///   closed ──N consecutive failures──▶ open ──cool-down over, admit()──▶ half-open (one trial)
///     ▲  ◀───────────── trial succeeds ────────────────────────────────────┘   │
///     │                                   open ◀──── trial fails ──────────────┘
/// ```
///
/// Sans-IO: the caller asks `admit(at:)` before each call and reports the outcome with
/// `recordSuccess(at:)` / `recordFailure(at:)`. Outcomes of calls admitted before the breaker
/// opened, arriving while it is open, change nothing (they say nothing about the cool-down).
public struct CircuitBreaker: Hashable, Sendable {
    public struct Configuration: Hashable, Sendable {
        /// Consecutive failures that open the breaker (at least 1).
        public var failureThreshold: Int
        /// How long it stays open before a trial call.
        public var coolDown: Duration
        public init(failureThreshold: Int = 5, coolDown: Duration = .seconds(5)) {
            self.failureThreshold = failureThreshold
            self.coolDown = coolDown
        }
    }

    public enum State: Hashable, Sendable {
        /// Calls go through; `failures` consecutive ones have failed.
        case closed(failures: Int)
        /// Calls fail fast until `until`.
        case open(until: Instant)
        /// One trial call is under way; other calls fail fast until it ends.
        case halfOpen
    }

    /// What `admit` decided for one call.
    public enum Admission: Hashable, Sendable {
        /// Go ahead (breaker closed).
        case allowed
        /// Go ahead: this call is the trial (breaker half-open). Report its outcome.
        case trial
        /// Fail fast; the breaker may admit a trial at `retryAfter` (nil while a trial runs).
        case rejected(retryAfter: Instant?)

        public var isAllowed: Bool { if case .rejected = self { false } else { true } }
    }

    /// Transitions and fail-fast rejections, for reports and tests.
    public struct Counters: Hashable, Sendable {
        public var opened = 0
        public var closed = 0
        public var trials = 0
        public var rejected = 0
        public init() {}
    }

    public let configuration: Configuration
    public private(set) var state: State = .closed(failures: 0)
    public private(set) var counters = Counters()

    public init(_ configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// Whether a call may start at `now`. Open and past its cool-down: the breaker turns
    /// half-open and this call is the trial.
    public mutating func admit(at now: Instant) -> Admission {
        switch state {
        case .closed:
            return .allowed
        case let .open(until):
            if now >= until {
                state = .halfOpen
                counters.trials += 1
                return .trial
            }
            counters.rejected += 1
            return .rejected(retryAfter: until)
        case .halfOpen:
            counters.rejected += 1
            return .rejected(retryAfter: nil)
        }
    }

    /// A call admitted earlier succeeded.
    public mutating func recordSuccess(at now: Instant) {
        switch state {
        case .closed:
            state = .closed(failures: 0)
        case .halfOpen:
            state = .closed(failures: 0)
            counters.closed += 1
        case .open:
            break
        }
    }

    /// A call admitted earlier failed.
    public mutating func recordFailure(at now: Instant) {
        switch state {
        case let .closed(failures):
            let n = failures + 1
            if n >= Swift.max(1, configuration.failureThreshold) {
                open(at: now)
            } else {
                state = .closed(failures: n)
            }
        case .halfOpen:
            open(at: now)
        case .open:
            break
        }
    }

    private mutating func open(at now: Instant) {
        state = .open(until: now + configuration.coolDown)
        counters.opened += 1
    }
}
