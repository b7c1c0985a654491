import SluiceCore

/// The flow-control rules `--check` verifies.
package enum ConformanceRule: Int, CaseIterable, Sendable {
    /// Data sent past the largest right edge the receiver advertised (RFC 9293 §3.8.6: the
    /// sender must not send beyond SND.UNA + SND.WND); a one-byte zero-window probe is allowed
    /// (RFC 9293 §3.8.6.1).
    case beyondWindow
    /// The advertised right edge moved left by more than the window-scale rounding
    /// (RFC 9293 §3.8.6 "shrinking the window" is strongly discouraged; RFC 7323 §2.4).
    case windowShrank
    /// Intervals between zero-window probes in one episode got shorter (RFC 1122 §4.2.2.17 and
    /// RFC 9293 §3.8.6.1: the persist timer backs off exponentially).
    case persistIntervalShrank
    /// A probe the receiver did not answer: one carrying data, or an empty one sent at least
    /// 500 ms after the receiver's previous ACK (RFC 9293 §3.8.6.1: the receiver must answer;
    /// Linux rate-limits answers to out-of-window empty segments to one per 500 ms).
    case probeUnanswered
    /// A non-zero window smaller than min(MSS, half the largest window) opened by moving the
    /// right edge (receiver silly-window avoidance, RFC 9293 §3.8.6.2.2).
    case sillyWindow
    /// A segment shorter than the MSS sent while an earlier short segment was still
    /// unacknowledged and the window allowed a full one (sender silly-window avoidance and
    /// Nagle, RFC 9293 §3.8.6.2.1 and §3.7.4).
    case tinySegment

    package var name: String {
        switch self {
        case .beyondWindow: "beyond_window"
        case .windowShrank: "window_shrank"
        case .persistIntervalShrank: "persist_interval_shrank"
        case .probeUnanswered: "probe_unanswered"
        case .sillyWindow: "silly_window"
        case .tinySegment: "tiny_segment"
        }
    }
}

/// One broken rule, at one packet.
package struct Violation: Sendable {
    package var rule: ConformanceRule
    package var frame: Int
    package var time: Instant
    package var stream: Int
    /// 0: sent by the connection's first side (A→B); 1: B→A.
    package var direction: Int
    package var detail: String
}

/// Per-direction state the rules need (for the side that sends data and probes).
struct ConformanceState {
    /// Probe times in the current zero-window episode of the peer.
    var lastProbeTime: Instant? = nil
    var lastProbeInterval: Duration? = nil
    /// The probe not answered yet: frame, time, and whether silence would break the rule.
    var pendingProbe: (frame: Int, time: Instant, mustAnswer: Bool)? = nil
    /// The end sequence number of the latest short segment (for the tiny-segment rule).
    var shortSegmentEnd: UInt32? = nil
}

/// Slack for timer jitter when comparing persist intervals: 10% and 2 ms.
let persistJitterFraction = 0.10
let persistJitterFloor: Duration = .milliseconds(2)
/// Linux's `tcp_invalid_ratelimit` default: answers to out-of-window segments at most every 500 ms.
let probeAnswerRateLimit: Duration = .milliseconds(500)
/// A probe is judged unanswered at the end of the trace only if the trace went on this long after it.
let probeAnswerGrace: Duration = .seconds(1)
/// Violations kept per connection (all are counted).
package let violationListLimit = 1000
