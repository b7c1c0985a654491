/// The retransmission timeout of RFC 6298: smoothed RTT, RTT variation, the RTO with its
/// bounds, and exponential backoff. Times are nanoseconds (`Int64`) inside; `Duration` outside.
///
/// Karn's rule (RFC 6298 §3) is the caller's part: it feeds only samples from segments that were
/// not retransmitted. A valid sample also ends the backoff (RFC 6298 §5.7 note: "the backed-off
/// RTO is kept until an ACK for a segment that was not retransmitted").
struct RTTEstimator: Hashable, Sendable {
    /// SRTT, RTTVAR in nanoseconds; `nil` before the first sample.
    private(set) var smoothedRTT: Int64?
    private(set) var rttVariation: Int64 = 0
    /// The RTO before backoff.
    private(set) var baseRTO: Int64
    /// How many times the RTO was doubled (RFC 6298 §5.5).
    private(set) var backoff: Int = 0

    let minRTO: Int64
    let maxRTO: Int64

    init(initial: Duration, min: Duration, max: Duration) {
        minRTO = Swift.max(1, min.nanosecondsClamped)
        maxRTO = Swift.max(minRTO, max.nanosecondsClamped)
        baseRTO = Swift.min(Swift.max(initial.nanosecondsClamped, minRTO), maxRTO)
    }

    /// The RTO in force: base RTO doubled `backoff` times, capped at `maxRTO` (RFC 6298 §5.5, §2.5).
    var rto: Int64 {
        var value = baseRTO
        for _ in 0..<Swift.min(backoff, 62) {
            if value >= maxRTO { break }
            value = value &* 2
        }
        return Swift.min(value, maxRTO)
    }

    var rtoDuration: Duration { .nanoseconds(rto) }

    /// Takes one RTT measurement `r` (RFC 6298 §2.2, §2.3) and clears the backoff.
    mutating func addSample(_ r: Duration) {
        let sample = Swift.max(0, r.nanosecondsClamped)
        if let srtt = smoothedRTT {
            // RTTVAR <- (1 - beta) * RTTVAR + beta * |SRTT - R'|;  SRTT <- (1 - alpha) * SRTT + alpha * R'
            let delta = srtt > sample ? srtt - sample : sample - srtt
            rttVariation = rttVariation - rttVariation / 4 + delta / 4
            smoothedRTT = srtt - srtt / 8 + sample / 8
        } else {
            // First measurement: SRTT <- R, RTTVAR <- R/2.
            smoothedRTT = sample
            rttVariation = sample / 2
        }
        let srtt = smoothedRTT ?? sample
        // RTO <- SRTT + max(G, K*RTTVAR), then the bounds of §2.4 and §2.5.
        let (k, overflow) = rttVariation.multipliedReportingOverflow(by: 4)
        let spread = overflow ? Int64.max : Swift.max(clockGranularity, k)
        let (sum, o2) = srtt.addingReportingOverflow(spread)
        baseRTO = Swift.min(Swift.max(o2 ? Int64.max : sum, minRTO), maxRTO)
        backoff = 0
    }

    /// The timer expired: double the RTO (RFC 6298 §5.5).
    mutating func backOff() {
        if rto < maxRTO { backoff += 1 }
    }

    /// The handshake completed after a SYN (or SYN-ACK) timeout. RFC 6298 §5.7: "if the timer
    /// expires awaiting the ACK of a SYN segment and the TCP implementation is using an RTO less
    /// than 3 seconds, the RTO MUST be re-initialized to 3 seconds when data transmission
    /// begins". With a valid sample from the handshake (which already ended the backoff) the
    /// estimate stands; without one, the backoff ends and the RTO is `fallback` (Linux
    /// `TCP_TIMEOUT_FALLBACK`) until the first sample.
    mutating func restartAfterSYNTimeout(fallback: Duration) {
        guard smoothedRTT == nil else { return }
        backoff = 0
        baseRTO = Swift.min(Swift.max(baseRTO, fallback.nanosecondsClamped), maxRTO)
    }
}

/// RFC 6298 §5.7: the RTO after a SYN timeout when the handshake gave no RTT sample.
let synTimeoutFallbackRTO: Duration = .seconds(3)

/// RFC 6298 §2 "G": the clock granularity. Our clock is nanoseconds; 1 ms keeps the RTO from
/// collapsing onto SRTT when RTTVAR is tiny on a perfectly regular simulated link.
private let clockGranularity: Int64 = 1_000_000
