/// What the connection should do after telling `CongestionControl` about an ACK or a timeout.
package enum CongestionAction: Hashable, Sendable {
    /// Nothing beyond sending what `cwnd` (and the peer's window) allows.
    case none
    /// The third duplicate ACK started loss recovery: retransmit the segment at SND.UNA now
    /// (RFC 5681 §3.2 steps 2–3, RFC 6582 §3.2 step 2, RFC 6675 §5 step 3).
    case fastRetransmit
    /// A partial ACK during recovery (RFC 6582 §3.2 step 5): with NewReno, retransmit the first
    /// unacknowledged segment (at the new SND.UNA) now; with SACK recovery, send what the
    /// scoreboard's `nextSegment` picks (RFC 6675 §5 (B), (C)). `restartTimer` is true for the
    /// first partial ACK of the recovery: restart the retransmission timer (RFC 6582 §3.2 step 5,
    /// the "Impatient" variant of §4).
    case partialAck(restartTimer: Bool)
    /// A full ACK (it covers `recover`): loss recovery is over (RFC 6582 §3.2 step 6,
    /// RFC 6675 §5 (A)); `cwnd` has been deflated.
    case recoveryEnded
}

/// Which algorithm picks the segments to resend during loss recovery; it changes how `cwnd` is
/// managed while recovering.
package enum LossRecoveryMode: Hashable, Sendable {
    /// NewReno (RFC 6582): `cwnd` is inflated by one SMSS per duplicate ACK and deflated on
    /// partial ACKs; the sender retransmits the segment at SND.UNA on each partial ACK.
    case newReno
    /// SACK-based recovery (RFC 6675): `cwnd` = `ssthresh` during recovery and the sender
    /// transmits while `cwnd - pipe >= SMSS`, choosing segments with `SACKScoreboard.nextSegment`.
    case sack
}

/// Counters for the embedder's statistics.
package struct CongestionCounters: Hashable, Sendable {
    /// Loss recoveries entered on the third duplicate ACK (or on `enterRecovery`).
    package var fastRetransmits: Int = 0
    package var partialAcks: Int = 0
    package var recoveriesCompleted: Int = 0
    package var retransmitTimeouts: Int = 0
    /// Third duplicate ACKs that did not start a recovery because they do not cover `recover`
    /// (RFC 6582 §3.2 step 1: they belong to a loss event already handled).
    package var duplicateAcksIgnoredBelowRecover: Int = 0
    package init() {}
}

/// NewReno congestion control, in bytes: slow start and congestion avoidance (RFC 5681 §3.1 with
/// RFC 3465 byte counting), fast retransmit and fast recovery (RFC 5681 §3.2) with NewReno's
/// partial-ACK handling (RFC 6582), or with SACK-based recovery (RFC 6675) where `cwnd` is held
/// at `ssthresh` and the scoreboard chooses what to send.
///
/// The connection calls:
/// - `onAck(ack:bytesAcked:flightSize:at:)` for every ACK that advances SND.UNA;
/// - `onDuplicateAck(ack:flightSize:sndMax:)` for every duplicate ACK (RFC 5681 §2 definition,
///   see `isDuplicateAck`; with SACK, RFC 6675 §2 also counts an ACK whose SACK blocks hold new
///   data);
/// - `onRetransmitTimeout(flightSize:sndMax:)` when the retransmission timer expires;
/// and obeys the returned `CongestionAction`. It may have `sendWindow - flightSize` bytes in
/// flight (or, in SACK recovery, send while `cwnd - pipe >= mss`), also bounded by the peer's
/// window.
///
/// A pure value: no clock, no I/O.
package struct CongestionControl: Hashable, Sendable {
    /// The sender's maximum segment size (SMSS), bytes.
    package let mss: Int
    package let mode: LossRecoveryMode
    /// The initial window (RFC 6928 §2): min(10·SMSS, max(2·SMSS, 14600)).
    package let initialWindow: Int
    /// The congestion window, bytes (RFC 5681 §2).
    package private(set) var cwnd: Int
    /// The slow start threshold, bytes (RFC 5681 §3.1). Initially "arbitrarily high".
    package private(set) var ssthresh: Int
    /// Duplicate ACKs in a row (reset by an ACK of new data or a timeout).
    package private(set) var duplicateAcks: Int = 0
    /// True between entering fast recovery and the full ACK (or a timeout).
    package private(set) var inRecovery: Bool = false
    /// RFC 6582 §3.2 `recover` (RFC 6675 "RecoveryPoint"): the highest sequence number
    /// transmitted when recovery (or the last timeout) began, i.e. SND.MAX − 1. Initialized to
    /// the ISS (RFC 6582 §3.2).
    package private(set) var recover: SequenceNumber
    /// When the last ACK of new data arrived (for diagnostics and time-based refinements).
    package private(set) var lastAckTime: Instant?
    package private(set) var counters = CongestionCounters()

    /// Bytes acknowledged in congestion avoidance not yet turned into window (RFC 3465 §2.1).
    private var bytesAckedInAvoidance: Int = 0
    /// Whether a partial ACK has been seen in the current recovery (first one restarts the timer).
    private var sawPartialAck = false
    /// Timeouts since the last ACK of new data (RFC 5681 §3.1: ssthresh is reduced only by the
    /// first of a series).
    private var consecutiveTimeouts = 0

    /// - Parameters:
    ///   - mss: the sender's SMSS in bytes (clamped to at least 1).
    ///   - initialSequenceNumber: ISS, the initial value of `recover` (RFC 6582 §3.2).
    ///   - mode: how loss recovery picks segments (NewReno or SACK).
    ///   - initialWindow: overrides the RFC 6928 initial window (clamped to at least one SMSS).
    ///   - initialSSThresh: RFC 5681 §3.1 "arbitrarily high" by default (`maxWindow`).
    package init(
        mss: Int,
        initialSequenceNumber: SequenceNumber,
        mode: LossRecoveryMode = .newReno,
        initialWindow: Int? = nil,
        initialSSThresh: Int? = nil
    ) {
        let mss = Swift.max(1, mss)
        self.mss = mss
        self.mode = mode
        let iw = initialWindow ?? Swift.min(10 * mss, Swift.max(2 * mss, rfc6928WindowBytes))
        self.initialWindow = Swift.min(Swift.max(mss, iw), maxCongestionWindow)
        self.cwnd = self.initialWindow
        self.ssthresh = Swift.min(Swift.max(2 * mss, initialSSThresh ?? maxCongestionWindow), maxCongestionWindow)
        self.recover = initialSequenceNumber
    }

    /// Slow start is in force while `cwnd < ssthresh` (RFC 5681 §3.1).
    package var inSlowStart: Bool { cwnd < ssthresh }

    /// How many bytes may be in flight: `cwnd`, plus up to two SMSS for the first two duplicate
    /// ACKs outside recovery (Limited Transmit, RFC 3042 §2: new data only, and only with
    /// FlightSize ≤ cwnd + 2·SMSS).
    package var sendWindow: Int {
        guard !inRecovery, duplicateAcks > 0 else { return cwnd }
        return cwnd + Swift.min(duplicateAcks, Self.duplicateAckThreshold - 1) * mss
    }

    /// RFC 5681 §2 "DUPLICATE ACKNOWLEDGMENT": the receiver of the ACK has outstanding data,
    /// the segment carries no data and neither SYN nor FIN, its ACK number equals SND.UNA, and
    /// its advertised window equals the last one seen.
    package static func isDuplicateAck(
        ack: SequenceNumber, sndUna: SequenceNumber, sndMax: SequenceNumber,
        payloadLength: Int, flags: TCPFlags, window: Int, previousWindow: Int
    ) -> Bool {
        sndUna != sndMax && payloadLength == 0 && !flags.contains(.syn) && !flags.contains(.fin)
            && ack == sndUna && window == previousWindow
    }

    // MARK: - ACK of new data

    /// An ACK that advanced SND.UNA by `bytesAcked` (> 0) to `ack`.
    /// - Parameters:
    ///   - flightSize: bytes outstanding after this ACK (SND.MAX − `ack`).
    /// - Returns: `.partialAck` or `.recoveryEnded` during recovery, else `.none`.
    package mutating func onAck(ack: SequenceNumber, bytesAcked: Int, flightSize: Int, at now: Instant) -> CongestionAction {
        guard bytesAcked > 0 else { return .none }
        lastAckTime = now
        duplicateAcks = 0
        consecutiveTimeouts = 0

        if inRecovery {
            if ack.isAfter(recover) {
                // RFC 6582 §3.2 step 6, option (1): cwnd = min(ssthresh, max(FlightSize, SMSS) + SMSS),
                // which avoids a burst when little is in flight (also used on leaving RFC 6675 recovery).
                cwnd = Swift.min(ssthresh, Swift.max(flightSize, mss) + mss)
                inRecovery = false
                bytesAckedInAvoidance = 0
                counters.recoveriesCompleted += 1
                return .recoveryEnded
            }
            // Partial ACK (RFC 6582 §3.2 step 5).
            counters.partialAcks += 1
            if mode == .newReno {
                // "Deflate the congestion window by the amount of new data acknowledged ... If
                // the partial ACK acknowledges at least one SMSS of new data, then add back SMSS
                // bytes to the congestion window."
                cwnd -= bytesAcked
                if bytesAcked >= mss { cwnd += mss }
                cwnd = Swift.max(cwnd, mss)
            }
            let first = !sawPartialAck
            sawPartialAck = true
            return .partialAck(restartTimer: first)
        }

        if cwnd < ssthresh {
            // Slow start (RFC 5681 §3.1 eq. 2, with RFC 3465 §2.3 limit L = 2·SMSS).
            cwnd += Swift.min(bytesAcked, slowStartLimitSegments * mss)
        } else {
            // Congestion avoidance with byte counting (RFC 3465 §2.1, RFC 5681 §3.1): one SMSS
            // per cwnd bytes acknowledged.
            bytesAckedInAvoidance += bytesAcked
            if bytesAckedInAvoidance >= cwnd {
                bytesAckedInAvoidance -= cwnd
                cwnd += mss
            }
        }
        cwnd = Swift.min(cwnd, maxCongestionWindow)
        return .none
    }

    // MARK: - Duplicate ACKs

    /// A duplicate ACK for `ack` (= SND.UNA).
    /// - Parameters:
    ///   - flightSize: bytes outstanding (SND.MAX − SND.UNA), excluding any sent by Limited
    ///     Transmit (RFC 5681 §3.2 step 2 note) if the caller tracks them.
    ///   - sndMax: SND.MAX, the next sequence number not yet sent.
    /// - Returns: `.fastRetransmit` on the third duplicate ACK when it covers `recover`.
    package mutating func onDuplicateAck(ack: SequenceNumber, flightSize: Int, sndMax: SequenceNumber) -> CongestionAction {
        if inRecovery {
            if mode == .newReno {
                // RFC 5681 §3.2 step 4 / RFC 6582 §3.2 step 4: inflate by one SMSS per
                // additional duplicate ACK (a segment has left the network).
                cwnd = Swift.min(cwnd + mss, maxCongestionWindow)
            }
            return .none
        }
        duplicateAcks += 1
        guard duplicateAcks == Self.duplicateAckThreshold else { return .none }
        // RFC 6582 §3.2 step 1: only if the ACK covers more than `recover`; otherwise these are
        // duplicates of a loss event already handled (by a recovery or a timeout).
        guard ack.isAfter(recover) else {
            counters.duplicateAcksIgnoredBelowRecover += 1
            return .none
        }
        enter(flightSize: flightSize, sndMax: sndMax)
        return .fastRetransmit
    }

    /// Enters loss recovery without waiting for the third duplicate ACK, as RFC 6675 §5 allows
    /// when `IsLost(HighACK + 1)` holds (the scoreboard shows the first segment lost). Does
    /// nothing (returns `.none`) when already recovering or when `ack` does not cover `recover`.
    package mutating func enterRecovery(ack: SequenceNumber, flightSize: Int, sndMax: SequenceNumber) -> CongestionAction {
        guard !inRecovery, ack.isAfter(recover) else { return .none }
        enter(flightSize: flightSize, sndMax: sndMax)
        return .fastRetransmit
    }

    private mutating func enter(flightSize: Int, sndMax: SequenceNumber) {
        // RFC 5681 §3.2 step 2 (eq. 4): ssthresh = max(FlightSize / 2, 2·SMSS).
        ssthresh = Swift.max(flightSize / 2, 2 * mss)
        // RFC 6582 §3.2 step 2: recover = the highest sequence number transmitted.
        recover = sndMax - 1
        switch mode {
        case .newReno:
            // RFC 5681 §3.2 step 3: cwnd = ssthresh + 3·SMSS ("inflates" for the three
            // segments that left the network).
            cwnd = ssthresh + Self.duplicateAckThreshold * mss
        case .sack:
            // RFC 6675 §5 step 2: cwnd = ssthresh = FlightSize / 2 (floored at 2·SMSS per RFC 5681).
            cwnd = ssthresh
        }
        cwnd = Swift.min(cwnd, maxCongestionWindow)
        inRecovery = true
        sawPartialAck = false
        bytesAckedInAvoidance = 0
        counters.fastRetransmits += 1
    }

    // MARK: - Timeout

    /// The retransmission timer expired (RFC 5681 §3.1, RFC 6582 §3.2, RFC 6675 §5.1).
    /// - Parameters:
    ///   - flightSize: bytes outstanding when the timer fired.
    ///   - sndMax: SND.MAX; `recover` becomes SND.MAX − 1, so duplicate ACKs for data sent
    ///     before the timeout cannot start a new recovery.
    package mutating func onRetransmitTimeout(flightSize: Int, sndMax: SequenceNumber) {
        // RFC 5681 §3.1 eq. 4, only for the first timeout of a series ("the value of ssthresh
        // is held constant" when the segment was already retransmitted by the timer).
        if consecutiveTimeouts == 0 {
            ssthresh = Swift.max(flightSize / 2, 2 * mss)
        }
        consecutiveTimeouts += 1
        // RFC 5681 §3.1: "cwnd MUST be set to no more than the loss window, LW, which equals
        // 1 full-sized segment".
        cwnd = mss
        recover = sndMax - 1
        inRecovery = false
        duplicateAcks = 0
        bytesAckedInAvoidance = 0
        counters.retransmitTimeouts += 1
    }

    /// RFC 6928 §2 / RFC 5681 §3.1: "if the SYN or SYN/ACK is lost, the initial window used by
    /// a sender after a correctly transmitted SYN MUST be one segment". Call once, on
    /// establishment, when the SYN or SYN-ACK was retransmitted.
    package mutating func synWasRetransmitted() {
        cwnd = mss
        bytesAckedInAvoidance = 0
    }

    /// RFC 5681 §4.1: after an idle period longer than the retransmission timeout, restart from
    /// the restart window, min(IW, cwnd). The connection calls it before sending when
    /// `now - lastSend > rto`.
    package mutating func restartAfterIdle() {
        cwnd = Swift.min(cwnd, initialWindow)
        bytesAckedInAvoidance = 0
    }
}

// MARK: - Tuning constants

/// RFC 6928 §2: the initial window is min(10·MSS, max(2·MSS, 14600 bytes)).
private let rfc6928WindowBytes = 14_600
extension CongestionControl {
    /// RFC 5681 §3.2 / RFC 6675 §2 DupThresh: three duplicate ACKs signal a loss.
    package static let duplicateAckThreshold = 3
}
/// RFC 3465 §2.3: slow start may grow cwnd by at most L = 2·SMSS per ACK.
private let slowStartLimitSegments = 2
/// An upper bound on cwnd (the largest window RFC 7323 §2.3 lets a peer advertise, 2^30 bytes),
/// so that growth can never overflow.
private let maxCongestionWindow = 1 << 30
