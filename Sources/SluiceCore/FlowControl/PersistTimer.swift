/// How a zero-window probe looks on the wire (RFC 9293 §3.8.6.1 leaves the form open).
public enum ZeroWindowProbeStyle: Hashable, Sendable {
    /// One byte of new data at SND.NXT, the window's edge (lwIP, smoltcp; the default). A peer
    /// that has room takes the byte; one that has none answers with its RCV.NXT and window.
    /// Linux rate-limits its answers to *empty* out-of-window segments, not to this.
    case oneByteOfData
    /// An empty segment with SEQ = SND.UNA − 1, i.e. old data (Linux `tcp_xmit_probe_skb`); the
    /// peer answers with an ACK as for any unacceptable segment (RFC 9293 §3.10.7.4).
    case emptyBelowUnacknowledged
}

/// The persist timer (RFC 9293 §3.8.6.1, RFC 1122 §4.2.2.17): while the peer's window is zero,
/// data is waiting and nothing is in flight, probe the peer so that a lost window update cannot
/// deadlock the connection.
///
/// - The first probe goes one RTO after the window closed; each next one after twice the
///   previous interval, up to `maxInterval` (RFC 1122 §4.2.2.17: "exponential backoff").
///   Sequence: 1×RTO, 2×, 4×, 8× … capped.
/// - The connection stays up for as long as the peer answers (RFC 9293 §3.8.6.1 MUST-26:
///   "the sending TCP MUST allow the connection to stay open as long as the receiving TCP
///   continues to send acknowledgments in response to the probe segments"); answers do not
///   reset the backoff while the window stays zero (as Linux `tcp_ack_probe`).
/// - `userTimeout` (optional, RFC 9293 §3.8.3 / RFC 5482): when the peer has answered nothing
///   for that long, `fire` reports `.abort`.
///
/// A value type: the engine keeps one per connection, calls `start` when the window closes with
/// data waiting, `stop` when it opens, `fire` when `deadline` passes, and `probeAnswered` when an
/// ACK arrives while it runs.
public struct PersistTimer: Hashable, Sendable {
    public enum Action: Hashable, Sendable {
        /// Send a probe of the configured style now; the next deadline is set.
        case probe(ZeroWindowProbeStyle)
        /// The user timeout passed without an answer: abort the connection.
        case abort
        /// Nothing due.
        case none
    }

    public var style: ZeroWindowProbeStyle
    /// The cap on the interval between probes (default 60 s, RFC 6298 §2.5's RTO ceiling and
    /// Linux's `TCP_RTO_MAX`-bounded probe interval).
    public var maxInterval: Duration
    /// Abort when the peer answers nothing for this long; `nil` keeps probing forever.
    public var userTimeout: Duration?

    /// When the next probe is due; `nil` when the timer is not running.
    public private(set) var probeDeadline: Instant? = nil
    /// The interval that led to `deadline`.
    public private(set) var interval: Duration = .zero
    /// Probes sent in this episode and in total; answers received in total.
    public private(set) var probesInEpisode: Int = 0
    public private(set) var probesSent: Int = 0
    public private(set) var probesAnswered: Int = 0
    /// The last time the peer was heard from while the timer ran (for `userTimeout`).
    public private(set) var lastHeard: Instant = .zero

    public init(style: ZeroWindowProbeStyle = .oneByteOfData, maxInterval: Duration = .seconds(60), userTimeout: Duration? = nil) {
        self.style = style
        self.maxInterval = maxInterval
        self.userTimeout = userTimeout
    }

    /// A probe was sent and no ACK has come since.
    public private(set) var awaitingAnswer: Bool = false

    public var isRunning: Bool { probeDeadline != nil }

    /// When `fire` has work: the next probe, or the user timeout if that comes first.
    public var deadline: Instant? {
        guard let probe = probeDeadline else { return nil }
        guard let limit = userTimeout else { return probe }
        return min(probe, lastHeard + limit)
    }

    /// Arms the timer (if not running): first probe one RTO from `now`.
    public mutating func start(at now: Instant, rto: Duration) {
        guard probeDeadline == nil else { return }
        interval = min(max(rto, .nanoseconds(1)), maxInterval)
        probeDeadline = now + interval
        probesInEpisode = 0
        awaitingAnswer = false
        lastHeard = now
    }

    /// Disarms the timer: the window opened (or the connection left the state that sends).
    public mutating func stop() {
        probeDeadline = nil
        probesInEpisode = 0
        awaitingAnswer = false
    }

    /// Runs the timer at `now`: `.abort` when the user timeout passed without an answer, else a
    /// probe when due, and the next probe at twice the interval (capped at `maxInterval`).
    public mutating func fire(at now: Instant) -> Action {
        guard let due = probeDeadline else { return .none }
        if let limit = userTimeout, now - lastHeard >= limit {
            stop()
            return .abort
        }
        guard due <= now else { return .none }
        probesSent += 1
        probesInEpisode += 1
        awaitingAnswer = true
        interval = min(interval * 2, maxInterval)
        probeDeadline = now + interval
        return .probe(style)
    }

    /// An ACK arrived while the timer runs (whatever its window): the peer is alive. Counts one
    /// answer per probe.
    public mutating func ackReceived(at now: Instant) {
        guard probeDeadline != nil else { return }
        lastHeard = now
        if awaitingAnswer {
            awaitingAnswer = false
            probesAnswered += 1
        }
    }
}
