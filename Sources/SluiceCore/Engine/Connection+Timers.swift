// Timers as data: retransmission (RFC 6298), delayed ACK (RFC 9293 §3.8.6.3, RFC 5681 §4.2),
// persist (RFC 9293 §3.8.6.1), TIME-WAIT (RFC 9293 §3.4.2). `nextDeadline` is their minimum.

extension Connection {
    /// The earliest instant at which `handleTimeout` has work, or `nil`.
    var nextDeadline: Instant? {
        var earliest = Connection.earlier(retransmitDeadline, delayedACKDeadline)
        earliest = Connection.earlier(earliest, persistDeadline)
        earliest = Connection.earlier(earliest, keepAliveDeadline)   // Connection+KeepAlive.swift
        if case .timeWait(let until) = state { earliest = Connection.earlier(earliest, until) }
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

    /// Schedules the ACK for in-order data: at once for every second full-sized segment, or
    /// when delayed ACKs are off; otherwise within `delayedACKTimeout` (RFC 5681 §4.2, RFC 9293
    /// §3.8.6.3: "an ACK SHOULD be generated for at least every second full-sized segment").
    func scheduleACK(at now: Instant) {
        if !config.delayedACKEnabled || bytesSinceLastACK >= 2 * receiveMSS {
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

    /// The persist timer fired: send a one-byte probe and back off (RFC 9293 §3.8.6.1, RFC 1122
    /// §4.2.2.17: the interval doubles up to `maxPersistInterval`).
    func persistTimeout(at now: Instant) {
        if probeOutstanding {
            sndNxt = sndUna
            probeOutstanding = false
        }
        probeDue = true
        persistBackoff += 1
        persistDeadline = now + persistInterval()
    }

    /// The persist interval: the RTO doubled per unanswered probe, capped.
    func persistInterval() -> Duration {
        var interval = rtt.rto
        let cap = Swift.max(config.maxPersistInterval.nanosecondsClamped, 1)
        for _ in 0..<Swift.min(persistBackoff, 62) where interval < cap { interval = interval &* 2 }
        return .nanoseconds(Swift.min(interval, cap))
    }

    /// Arms the persist timer when data waits, nothing is in flight and the peer's window is
    /// zero, so that a lost window update cannot deadlock the connection (RFC 9293 §3.8.6.1).
    func armPersistTimerIfNeeded(unsent: Int, at now: Instant) {
        guard unsent > 0, sndNxt == sndUna, usableWindow() == 0,
              retransmitDeadline == nil, persistDeadline == nil else { return }
        persistDeadline = now + persistInterval()
    }
}
