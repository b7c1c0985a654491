// Timestamps (RFC 7323 §3–5): the checks an arriving segment meets before the sequence test
// (TSopt present, PAWS), the TS.Recent update, and RTT samples from echoed timestamps.
//
// Negotiation is in `negotiateOptions` (Connection+Receive.swift): timestamps are on only when
// both SYNs carried TSopt (RFC 7323 §3.2); otherwise none of this runs and no segment carries
// TSopt. TSval is `timestampClock(now)` (Connection+Send.swift): a 1 ms clock plus a
// per-connection offset (RFC 7323 §5.4), echoed as TSecr = TS.Recent in every segment.

/// What a connection keeps between segments for the timestamp rules.
struct TimestampState {
    /// When the last segment reached the connection (its creation before that).
    var lastArrival = Instant.zero
    /// The segment being processed came after more than `timestampIdleLimit` of silence:
    /// TS.Recent is no longer valid for it (RFC 7323 §5.5).
    var tsRecentExpired = false
    /// TSecr of the segment being processed, when it carried TSopt and ACK (RFC 7323 §3.2:
    /// TSecr is valid only with ACK); consumed by the first RTT sample it gives.
    var echo: UInt32?
    /// Our clock when the connection was created: no valid echo is older (an echo before it, or
    /// after our clock now, is not one of ours and gives no RTT sample).
    var firstValue: UInt32 = 0
    /// TSval of our last SYN (or SYN-ACK) when it was sent more than once: an echo older than
    /// it names an earlier transmission of the SYN and gives no RTT sample.
    var retransmittedSYNValue: UInt32?
}

extension Connection {
    /// Called for every segment that reaches the connection, before anything else: notes the
    /// arrival (PAWS idle rule, keep-alive) and the segment's TSecr.
    func noteArrival(_ seg: TCPHeader, at now: Instant) {
        timestamps.tsRecentExpired = now - timestamps.lastArrival > timestampIdleLimit
        timestamps.lastArrival = now
        timestamps.echo = seg.flags.contains(.ack) ? seg.options.timestamps?.echoReply : nil
        noteKeepAliveHeard(at: now)
    }

    /// The timestamp checks of a synchronized connection (and SYN-RECEIVED), made before the
    /// sequence-number test. Returns the outcome when the segment is dropped.
    ///
    /// - RFC 7323 §3.2: "If a non-<RST> segment is received without a TSopt, a TCP SHOULD
    ///   silently drop the segment." (Counted; an attacker cannot skip PAWS by leaving TSopt out.)
    /// - RFC 7323 §5.3 R1 (PAWS): "If there is a Timestamps option in the arriving segment,
    ///   SEG.TSval < TS.Recent, and if TS.Recent is valid, then treat the arriving segment as not
    ///   acceptable: Send an acknowledgment in reply [...] and drop the segment." RSTs are not
    ///   subject to it (Appendix D: "If SEG.TSval < TS.Recent and the RST bit is off").
    /// - RFC 7323 §5.5: after more than 24 days idle TS.Recent is invalid: the segment is taken
    ///   and its TSval becomes TS.Recent.
    func checkTimestamps(_ seg: TCPHeader, at now: Instant) -> SegmentOutcome? {
        guard timestampsEnabled, !seg.flags.contains(.rst) else { return nil }
        guard let ts = seg.options.timestamps else {
            stats.missingTimestampDrops += 1
            return .dropped(.missingTimestamp)
        }
        guard isOlderThanTSRecent(ts.value) else { return nil }
        if timestamps.tsRecentExpired {
            tsRecent = ts.value
            return nil
        }
        stats.pawsDrops += 1
        ackNow = true
        return .dropped(.paws)
    }

    /// RFC 7323 §5.3: SEG.TSval < TS.Recent in the modular (2^31) order of timestamps.
    func isOlderThanTSRecent(_ value: UInt32) -> Bool {
        Int32(bitPattern: value &- tsRecent) < 0
    }

    /// RFC 7323 §4.3 (2): "If SEG.TSval >= TS.Recent and SEG.SEQ <= Last.ACK.sent, then SEG.TSval
    /// is copied to TS.Recent; otherwise, it is ignored." Called once the segment passed the
    /// sequence test and its RST, SYN and ACK were found acceptable (RFC 5961 §5.2), so that a
    /// blind segment cannot move TS.Recent forward and make PAWS reject the real peer.
    func updateTSRecent(_ seg: TCPHeader) {
        guard timestampsEnabled, let ts = seg.options.timestamps,
              seg.sequenceNumber.isBeforeOrEqual(lastAckSent),
              !isOlderThanTSRecent(ts.value) else { return }
        tsRecent = ts.value
    }

    /// RFC 7323 §4.1 (RTTM): an ACK that acknowledges new data gives the sample
    /// `now − SEG.TSecr` in timestamp-clock units (1 ms). The echo names the very segment it
    /// answers, so retransmissions need no Karn rule (RFC 7323 §4.2 / RFC 6298 §3 note). An echo
    /// that our clock cannot have produced (from the future, or before the connection) is ignored
    /// and counted.
    /// - Returns: whether the caller's sequence-based sample is replaced (timestamps are on).
    func sampleRTTFromTimestamp(at now: Instant) -> Bool {
        guard timestampsEnabled else { return false }
        guard let echo = timestamps.echo else { return true }
        timestamps.echo = nil
        let clock = timestampClock(now)
        let elapsed = Int32(bitPattern: clock &- echo)
        let sinceStart = Int32(bitPattern: clock &- timestamps.firstValue)
        guard elapsed >= 0, elapsed <= sinceStart else {
            stats.invalidTimestampEchoes += 1
            return true
        }
        // Karn's rule for the handshake (RFC 6298 §3, §5.7): a SYN-ACK that echoes the TSval of
        // an earlier transmission of our SYN (Linux's request socket answers a retransmitted
        // SYN echoing the first one) would time the SYN timeout itself: a 1 s "RTT", SRTT 1 s,
        // RTO 3 s, that the real samples take dozens of ACKs to wear down.
        if let syn = timestamps.retransmittedSYNValue, Int32(bitPattern: echo &- syn) < 0 {
            stats.staleTimestampEchoes += 1
            return true
        }
        rtt.addSample(.milliseconds(Int64(elapsed)))
        stats.timestampRTTSamples += 1
        return true
    }
}

/// RFC 7323 §5.5: "If a connection remains idle for more than 24 days, TS.Recent is
/// invalidated": at 1 ms per tick the sign bit of a 32-bit timestamp flips after 24.8 days.
let timestampIdleLimit: Duration = .seconds(24 * 24 * 3600)
