// Keep-alive (RFC 9293 §3.8.4, RFC 1122 §4.2.3.6): off by default. When on, a connection that
// has heard nothing from its peer for `idle` sends a probe, then one every `interval`; after
// `probes` unanswered probes it is aborted (`.closed(.keepAliveTimeout)`, with a RST as Linux
// sends). Any segment from the peer starts the idle time again.

/// Keep-alive settings (RFC 1122 §4.2.3.6: "MUST default to off", the idle interval "MUST be
/// configurable and MUST default to no less than two hours").
public struct KeepAliveConfig: Hashable, Sendable {
    /// Send keep-alive probes at all.
    public var enabled: Bool = false
    /// Silence from the peer before the first probe (Linux `tcp_keepalive_time` = 7200 s).
    public var idle: Duration = defaultKeepAliveIdle
    /// Between unanswered probes (Linux `tcp_keepalive_intvl` = 75 s).
    public var interval: Duration = defaultKeepAliveInterval
    /// Unanswered probes before the connection is aborted (Linux `tcp_keepalive_probes` = 9).
    public var probes: Int = defaultKeepAliveProbes

    public init(enabled: Bool = false, idle: Duration = defaultKeepAliveIdle,
                interval: Duration = defaultKeepAliveInterval, probes: Int = defaultKeepAliveProbes) {
        self.enabled = enabled
        self.idle = idle
        self.interval = interval
        self.probes = probes
    }
}

/// Keep-alive bookkeeping.
struct KeepAliveState {
    /// The last time a segment from the peer reached the connection (its creation before).
    var lastHeard = Instant.zero
    /// Probes sent since then.
    var probesSent = 0
    /// The timer fired: the next `nextSegment` is a probe.
    var probeDue = false
}

extension Connection {
    /// Any segment from the peer answers the probes and restarts the idle time (RFC 1122
    /// §4.2.3.6: probes are sent only "when no data or acknowledgement packets have been
    /// received for the connection within an interval").
    func noteKeepAliveHeard(at now: Instant) {
        keepAlive.lastHeard = now
        keepAlive.probesSent = 0
        keepAlive.probeDue = false
    }

    /// Keep-alive runs only on an idle synchronized connection whose own direction is quiet:
    /// nothing in flight or waiting to be sent (the retransmission and persist timers watch the
    /// peer then, as Linux does), in ESTABLISHED, CLOSE-WAIT or FIN-WAIT-2.
    var keepAliveApplies: Bool {
        guard config.keepAlive.enabled, sndUna == sndMax, sendRing.count == 0 else { return false }
        switch state {
        case .established, .closeWait, .finWait2: return true
        default: return false
        }
    }

    /// When the next probe (or the abort after the last one) is due:
    /// last heard + idle + probes sent · interval.
    var keepAliveDeadline: Instant? {
        guard keepAliveApplies else { return nil }
        let k = config.keepAlive
        return keepAlive.lastHeard + k.idle + k.interval * Swift.max(0, keepAlive.probesSent)
    }

    /// The keep-alive timer fired: a probe is due, or, after `probes` unanswered ones, the
    /// connection is aborted with a RST `<SEQ=SND.NXT><CTL=RST>` (RFC 9293 §3.10.5; Linux
    /// `tcp_keepalive_timer` sends one too, in case the peer is alive but cannot reach us).
    func keepAliveTimeout(at now: Instant) {
        guard let deadline = keepAliveDeadline, deadline <= now else { return }
        if keepAlive.probesSent >= config.keepAlive.probes {
            resetDue = true
            enterClosed(.keepAliveTimeout)
            return
        }
        keepAlive.probesSent += 1
        keepAlive.probeDue = true
    }

    /// The probe, when due: "a segment with SEG.SEQ = SND.NXT-1" and no data (RFC 1122
    /// §4.2.3.6; RFC 9293 §3.8.4). It lies before the peer's RCV.NXT, so a live peer answers
    /// with an ACK (RFC 9293 §3.10.7.4: an unacceptable segment is acknowledged). Carries the
    /// current ACK, window and TSopt like any segment. (The optional garbage byte for peers that
    /// ignore zero-length segments is not sent.)
    func nextKeepAliveProbe(at now: Instant) -> OutgoingSegment? {
        guard keepAlive.probeDue else { return nil }
        keepAlive.probeDue = false
        let header = makeHeader(sequence: sndNxt - 1, flags: .ack, at: now)
        noteACKSent(header)
        stats.segmentsSent += 1
        stats.keepAliveProbesSent += 1
        return OutgoingSegment(header: header, payloadOffset: 0, payloadLength: 0)
    }
}

/// RFC 1122 §4.2.3.6: at least two hours; Linux `tcp_keepalive_time`.
public let defaultKeepAliveIdle: Duration = .seconds(7200)
/// Linux `tcp_keepalive_intvl`.
public let defaultKeepAliveInterval: Duration = .seconds(75)
/// Linux `tcp_keepalive_probes`.
public let defaultKeepAliveProbes = 9
