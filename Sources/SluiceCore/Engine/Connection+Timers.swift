// Timers as data: retransmission (RFC 6298), delayed ACK (RFC 9293 §3.8.6.3, RFC 5681 §4.2),
// persist (RFC 9293 §3.8.6.1), TIME-WAIT (RFC 9293 §3.4.2). `nextDeadline` is their minimum.

extension Connection {
    /// The earliest instant at which `handleTimeout` has work, or `nil`.
    var nextDeadline: Instant? {
        var earliest = Connection.earlier(retransmitDeadline, delayedACKDeadline)
        earliest = Connection.earlier(earliest, persistDeadline)
        earliest = Connection.earlier(earliest, keepAliveDeadline)   // Connection+KeepAlive.swift
        if case .timeWait(let until) = state { earliest = Connection.earlier(earliest, until) }
        earliest = Connection.earlier(earliest, flow.wakeup)   // pacer, silly-window override (Connection+FlowControl.swift)
        return earliest
    }

    /// The earlier of two optional instants.
    static func earlier(_ a: Instant?, _ b: Instant?) -> Instant? {
        guard let a else { return b }
        guard let b else { return a }
        return b < a ? b : a
    }

    /// Runs every timer due at `now`.
    func handleTimeout(at now: Instant) {
        flow.lastSeen = now
        flowWakeupDue(at: now)
        if case .timeWait(let until) = state, until <= now {
            // 2·MSL are over: CLOSED ("delete the TCB"); `.closed` was reported on entry.
            state = .closed(.normal)
            delayedACKDeadline = nil
            return
        }
        if let t = delayedACKDeadline, t <= now {
            delayedACKDeadline = nil
            ackNow = true
        }
        if let t = retransmitDeadline, t <= now {
            retransmissionTimeout(at: now)
        }
        if let t = persistDeadline, t <= now {
            persistTimeout(at: now)
        }
        keepAliveTimeout(at: now)
    }

    /// Schedules the ACK for in-order data: at once when delayed ACKs are off or more than one
    /// full-sized segment is unacknowledged; otherwise within `delayedACKTimeout` (RFC 5681 §4.2,
    /// RFC 1122 §4.2.3.2, RFC 9293 §3.8.6.3: "an ACK SHOULD be generated for at least every
    /// second full-sized segment").
    ///
    /// "More than one" (Linux `__tcp_ack_snd_check`) rather than "two MSS": with timestamps a
    /// full segment carries MSS − 12 bytes, so two of them never reach 2 × MSS and the ACK would
    /// wait for the third. Full-sized is at most half the receive buffer (`fullSizedSegment`):
    /// when one MSS exceeds half the buffer, a window never holds two MSS, and a sender
    /// filling it would otherwise wait for the delayed-ACK timer on every window.
    func scheduleACK(segmentLength: Int, at now: Instant) {
        // Short of full-sized by more than the options can take (TSopt, SACK): small.
        if segmentLength + TCPOptions.maximumLength < fullSizedSegment { smallSegmentUnacknowledged = true }
        if !config.delayedACKEnabled || bytesSinceLastACK > fullSizedSegment {
            ackNow = true
        } else if delayedACKDeadline == nil {
            delayedACKDeadline = now + config.delayedACKTimeout
        }
    }

    /// RFC 6298 §5.4–5.6: retransmit the earliest unacknowledged segment, double the RTO, restart
    /// the timer. We go back to SND.UNA and resend from there (the send path takes over). Karn:
    /// the segment being timed is forgotten. After `maxRetransmissions` (or
    /// `maxSynRetransmissions` for a SYN) the connection is aborted (RFC 1122 §4.2.3.5).
    func retransmissionTimeout(at now: Instant) {
        let limit = publicState.isSynchronized ? config.maxRetransmissions : config.maxSynRetransmissions
        if retransmitCount >= limit {
            enterClosed(.retransmissionLimit)
            return
        }
        retransmitCount += 1
        stats.retransmissionTimeouts += 1
        lossRecoveryOnTimeout()
        rtt.backOff()
        rttSampleEnd = nil
        sndNxt = sndUna
        probeOutstanding = false
        retransmitDeadline = now + rtt.rtoDuration
        if publicState.isSynchronized && sndWnd == 0 && !(finQueued && sndUna == finSequence) {
            // The peer's window closed on data in flight: nothing may be resent into it, so the
            // persist timer takes over (armed by the send path) and probes instead.
            retransmitDeadline = nil
        }
    }

    // Zero-window probing (the persist timer) lives in Connection+FlowControl.swift.
}
