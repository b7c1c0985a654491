// RFC 5961: blind in-window attacks. The RST rule (§3: reset only at exactly RCV.NXT) and the
// SYN rule (§4: a SYN in a synchronized state is never taken) are applied where RFC 9293
// §3.10.7.4 checks those bits (Connection+Receive.swift); they ask for a challenge ACK here.
// The ACK rule (§5.2) and the challenge-ACK throttle (§7) live in this file.

/// RFC 5961 §7 "ACK Throttling": at most `count` challenge ACKs in any `interval`, per
/// connection. A per-connection limit (rather than Linux's historical system-wide one) cannot be
/// used as a side channel between connections (CVE-2016-5696) and keeps one attacked connection
/// from silencing the others.
public struct ChallengeACKLimit: Hashable, Sendable {
    /// Challenge ACKs allowed per interval; 0 sends none.
    public var count: Int = defaultChallengeACKCount
    /// The interval the count applies to.
    public var interval: Duration = defaultChallengeACKInterval

    public init(count: Int = defaultChallengeACKCount, interval: Duration = defaultChallengeACKInterval) {
        self.count = count
        self.interval = interval
    }
}

/// The throttle's state: how many challenge ACKs went out in the interval that began at `start`.
struct ChallengeACKThrottle {
    var start: Instant?
    var sent = 0

    /// Whether one more challenge ACK may go out at `now`; counts it when it may.
    mutating func allow(at now: Instant, limit: ChallengeACKLimit) -> Bool {
        if let s = start, now - s < limit.interval {
            guard sent < limit.count else { return false }
        } else {
            start = now
            sent = 0
            guard limit.count > 0 else { return false }
        }
        sent += 1
        return true
    }
}

extension Connection {
    /// Asks for a challenge ACK `<SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>` (RFC 5961 §3.2, §4.2, §5.2)
    /// within the per-connection limit (§7); over the limit the segment is dropped silently and
    /// the suppression counted.
    func challengeACK(_ outcome: inout SegmentOutcome, at now: Instant) {
        if challengeThrottle.allow(at: now, limit: config.challengeACKLimit) {
            ackNow = true
            outcome.challengeACK = true
            stats.challengeACKsSent += 1
        } else {
            outcome.challengeACKSuppressed = true
            stats.challengeACKsSuppressed += 1
        }
    }

    /// A SYN in a synchronized state (RFC 5961 §4.2): "If the SYN bit is set, irrespective of the
    /// sequence number, TCP MUST send an ACK (also referred to as challenge ACK) to the remote
    /// peer", and drop the segment. A peer that really restarted answers with a RST at exactly
    /// RCV.NXT, which resets this connection (§3.2).
    func challengeSYN(at now: Instant) -> SegmentOutcome {
        var outcome = SegmentOutcome.dropped(.synInWindow)
        challengeACK(&outcome, at: now)
        return outcome
    }

    /// RFC 5961 §5.2 (blind data injection), in the synchronized states: "the ACK value is
    /// acceptable only if it is in the range of ((SND.UNA - MAX.SND.WND) =< SEG.ACK =< SND.NXT).
    /// All incoming segments whose ACK value doesn't satisfy the above condition MUST be
    /// discarded and an ACK sent back." SND.NXT is the highest sequence sent (`sndMax`: after a
    /// timeout SND.NXT goes back, ACKs up to what was sent stay valid); MAX.SND.WND is the
    /// largest window the peer ever advertised. The ACK sent back is a (throttled) challenge ACK.
    /// - Returns: the outcome when the segment is dropped, `nil` when its ACK is acceptable.
    func checkACKAcceptability(_ seg: TCPHeader, at now: Instant) -> SegmentOutcome? {
        guard publicState.isSynchronized, seg.flags.contains(.ack) else { return nil }
        let ack = seg.acknowledgmentNumber
        var outcome: SegmentOutcome
        if ack.isAfter(sndMax) {
            // RFC 9293 §3.10.7.4 "fifth": "If the ACK acks something not yet sent (SEG.ACK >
            // SND.NXT), then send an ACK, drop the segment, and return."
            outcome = .dropped(.ackOfUnsent)
        } else if ack.isBefore(sndUna - maxPeerWindow) {
            stats.ackTooOldDrops += 1
            outcome = .dropped(.ackTooOld)
        } else {
            return nil
        }
        challengeACK(&outcome, at: now)
        return outcome
    }
}

/// RFC 5961 §7: "For example, in any 5 second window, no more than 10 challenge ACKs should be
/// sent." Taken as the per-connection default. (Linux: `tcp_challenge_ack_limit`, 1000 per
/// second for the whole host until 6.0, plus a per-socket 500 ms limit for other
/// out-of-window replies.)
public let defaultChallengeACKCount = 10
public let defaultChallengeACKInterval: Duration = .seconds(5)
