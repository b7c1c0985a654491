import SluiceCore
import SluicePolicy

/// How the server of the overload experiment meets more load than it can serve, and how its
/// clients answer a refusal.
public enum OverloadMode: String, CaseIterable, Sendable {
    /// Accept everything into an unbounded work queue: latency grows past every client's
    /// deadline and the server spends its capacity on requests nobody waits for any more.
    case implicit
    /// Shed what cannot be finished within the deadline: the server admits at most what it can
    /// serve in time and its listener refuses the rest with RST (`ListenerOverflow.reset`).
    /// Refused clients give up.
    case explicit
    /// As `explicit`, and refused clients retry at once, until their deadline.
    case explicitImpatient = "explicit+impatient"
    /// As `explicit`, and refused clients retry after exponential backoff with full jitter,
    /// behind a circuit breaker (one per client address).
    case explicitPolite = "explicit+polite"

    var sheds: Bool { self != .implicit }
}

/// The overload experiment's knobs. Defaults: a server of 50 requests/s (20 ms of work per
/// request), 1 s client deadline, 10 s warm-up then 60 s measured.
public struct OverloadConfig: Sendable {
    /// Requests the server's worker completes per second (one at a time, 1/C s each).
    public var capacity: Int = 50
    /// A client gives up (RST) this long after its request first started.
    public var deadline: Duration = .seconds(1)
    /// Virtual time before measuring, and the measured window.
    public var warmUp: Duration = .seconds(10)
    public var measured: Duration = .seconds(60)
    /// The request upload and the response, in bytes.
    public var requestBytes = 256
    public var responseBytes = 4096
    /// Share of one request's service time that refusing a connection costs the server.
    public var rejectCostShare = 0.05
    /// Client addresses (one endpoint each), so ephemeral ports never run out.
    public var clientAddresses = 16
    /// Each client link, both ways.
    public var link = LinkConfig(latency: .milliseconds(10), rate: 100_000_000)
    /// The explicit server's listener backlog (refusals beyond it).
    public var backlog = 8
    /// The explicit server admits requests (backlog included) while the wait they face stays
    /// within this share of the deadline.
    public var admissionShare = 0.8
    /// The polite clients' backoff (full jitter) and breaker.
    public var retry = RetryPolicy(base: .milliseconds(100), cap: .seconds(1), maxRetries: 20)
    public var breaker = CircuitBreaker.Configuration(failureThreshold: 3, coolDown: .milliseconds(500))
    public var seed: UInt64 = 1

    public init() {}

    /// One request's service time: 1/C.
    public var serviceTime: Duration { .nanoseconds(1_000_000_000 / Int64(max(1, capacity))) }
    /// Requests the explicit server holds at once (queued, in service, and in its backlog).
    public var admissionLimit: Int {
        max(backlog + 1, Int(admissionShare * deadline.secondsValue * Double(capacity)))
    }
}

/// One point of the experiment: a mode at an offered load.
public struct OverloadRow: Sendable, Hashable {
    public var mode: OverloadMode
    public var offeredRPS: Double
    /// Requests the server finished per second (in time or not: work done).
    public var throughputRPS: Double
    /// Responses clients received in full within their deadline, per second.
    public var goodputRPS: Double
    /// Latency from a request's first attempt to the server finishing it (all finished
    /// requests of the window); nil when none finished.
    public var p50ms: Double?
    public var p99ms: Double?
    /// Connections the server refused (listener RST) in the window.
    public var shed: Int
    /// Attempts clients made after the first of a request, in the window.
    public var retries: Int
    /// Requests started in the window, and those that ran out of time.
    public var requests: Int
    public var timedOut: Int
    /// Attempts the polite clients' breakers failed fast.
    public var breakerRejections: Int
}

extension Duration {
    var secondsValue: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) / 1e18
    }
}
