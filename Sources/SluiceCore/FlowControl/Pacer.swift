/// How the sender spaces its data segments in time.
public enum PacingMode: Hashable, Sendable {
    /// Rate = ratio × cwnd / SRTT (Linux `tcp_update_pacing_rate`): `slowStartRatio` while in
    /// slow start, `congestionAvoidanceRatio` after (Linux `tcp_pacing_ss_ratio` = 200 %,
    /// `tcp_pacing_ca_ratio` = 120 %). Unpaced until the first RTT sample.
    case automatic(slowStartRatio: Double = 2.0, congestionAvoidanceRatio: Double = 1.2)
    /// A fixed rate in payload bytes per second (the engine reports each segment's payload).
    case fixed(bytesPerSecond: Int)
    /// No pacing: segments leave as fast as the windows allow.
    case off
}

/// The pacer: spaces data segments so that a window leaves over a round trip instead of in one
/// burst (the idea of Linux's `sk_pacing_rate` with the `fq` qdisc's per-flow release time).
///
/// Sans-IO: it keeps the earliest instant the next data segment may leave (`nextSendTime`);
/// the engine checks `isReady(at:)` before each data segment, reports each one with
/// `didSend(bytes:at:)`, and adds `nextSendTime` to `nextDeadline` while data waits on it. Pure
/// ACKs, window updates and zero-window probes are not paced (they are not reported).
///
/// After an idle period (or a late wake-up) the sender may catch up by the burst allowance:
/// the larger of `burstSegments` segments and `burstTime` worth of the rate (Linux sizes its
/// bursts the same way, `tcp_tso_autosize`: about 1 ms of `sk_pacing_rate`, at least
/// `tcp_min_tso_segs` = 2); then each segment of L bytes moves the release time L / rate later.
/// The time part matters on a real clock: a driver wakes up tens of microseconds after
/// `nextSendTime` (timer slack, system calls), and without it every microsecond of that beyond one
/// segment would be lost, capping the rate at about two segments per wake-up whatever the rate.
/// A sender whose data waited on the pacer alone (`hold()`) catches up a longer lateness, up to
/// `catchUpTime`: a descheduled run loop does not lower the rate.
public struct Pacer: Hashable, Sendable {
    public var mode: PacingMode
    /// Segments allowed back to back after an idle period (at least 1).
    public var burstSegments: Int
    /// The rate-proportional part of the burst allowance.
    public var burstTime: Duration {
        get { .nanoseconds(burstNanoseconds) }
        set { burstNanoseconds = Swift.max(.zero, newValue).nanosecondsClamped }
    }
    /// The current rate in bytes per second; `nil` when unpaced (mode `.off`, or automatic
    /// before the first RTT sample).
    public private(set) var rate: Double?
    /// The earliest instant the next data segment may leave (far in the past until the first
    /// segment, so the first one gets the burst allowance).
    public private(set) var nextSendTime: Instant = Instant(nanoseconds: .min / 2)
    /// How far behind a backlogged sender may catch up (see `hold()`): a late wake-up of up
    /// to this long is made good by sending what was due at once.
    public var catchUpTime: Duration {
        get { .nanoseconds(catchUpNanoseconds) }
        set { catchUpNanoseconds = Swift.max(.zero, newValue).nanosecondsClamped }
    }
    /// `burstTime` and `catchUpTime` in nanoseconds: `didSend` runs for every data segment, and
    /// converting a `Duration` there (128-bit arithmetic) was 4.6% of sluice-send's samples.
    private var burstNanoseconds: Int64 = 0
    private var catchUpNanoseconds: Int64 = 0
    /// Data waited on the pacer and only on it (`hold()`): the time since `nextSendTime` is the
    /// run loop's lateness, not idleness, until the sender has caught up or stops.
    public private(set) var backlogged = false
    /// The fraction of a nanosecond carried from one release time to the next, so that the
    /// average rate is exact.
    private var carry: Double = 0

    public init(mode: PacingMode = .automatic(), burstSegments: Int = Pacer.defaultBurstSegments,
                burstTime: Duration = Pacer.defaultBurstTime, catchUpTime: Duration = Pacer.defaultCatchUpTime) {
        self.mode = mode
        self.burstSegments = max(1, burstSegments)
        self.burstNanoseconds = max(.zero, burstTime).nanosecondsClamped
        self.catchUpNanoseconds = max(.zero, catchUpTime).nanosecondsClamped
        if case .fixed(let r) = mode, r > 0 { rate = Double(r) }
    }

    /// Recomputes the rate (call on every ACK that changes cwnd or SRTT, and when the mode
    /// changes).
    /// - Parameters:
    ///   - congestionWindow: cwnd in bytes.
    ///   - smoothedRTT: SRTT, `nil` before the first sample.
    ///   - inSlowStart: which ratio applies (Linux: `cwnd < ssthresh / 2`).
    public mutating func updateRate(congestionWindow: Int, smoothedRTT: Duration?, inSlowStart: Bool) {
        updateRate(congestionWindow: congestionWindow, smoothedRTTNanoseconds: smoothedRTT?.nanosecondsClamped,
                   inSlowStart: inSlowStart)
    }

    /// `updateRate` with SRTT in nanoseconds, as the engine keeps it (it runs before every data
    /// segment, so no `Duration` arithmetic here).
    mutating func updateRate(congestionWindow: Int, smoothedRTTNanoseconds srtt: Int64?, inSlowStart: Bool) {
        switch mode {
        case .off:
            rate = nil
        case .fixed(let bytesPerSecond):
            rate = bytesPerSecond > 0 ? Double(bytesPerSecond) : nil
        case .automatic(let ss, let ca):
            guard let srtt, srtt > 0, congestionWindow > 0 else {
                rate = nil
                return
            }
            let ratio = inSlowStart ? ss : ca
            // SRTT in seconds exactly as `Duration.secondsDouble` computes it (whole seconds plus
            // attoseconds / 1e18), so the rate is bit for bit what it was from a `Duration`.
            let seconds = Double(srtt / 1_000_000_000) + Double((srtt % 1_000_000_000) * 1_000_000_000) / 1e18
            rate = ratio * Double(congestionWindow) / seconds
        }
    }

    /// Whether a data segment may leave at `now`.
    @inlinable public func isReady(at now: Instant) -> Bool {
        rate == nil || nextSendTime <= now
    }

    /// The instant to wake up for the pacer while data waits on it, or `nil` when it does not
    /// hold anything back at `now`.
    @inlinable public func deadline(at now: Instant) -> Instant? {
        isReady(at: now) ? nil : nextSendTime
    }

    /// The sender has data to send now and the pacer alone holds it back (no window, Nagle or
    /// silly-window rule does): it waits for `nextSendTime`. When the run loop then wakes up
    /// late (timer slack, a descheduled thread: 4 ms on a loaded 2-core machine), what fell due
    /// meanwhile leaves at once, up to `catchUpTime` of the rate, instead of being forfeited.
    public mutating func hold() {
        backlogged = rate != nil
    }

    /// Something other than the pacer holds the sender back, or it has nothing to send: time
    /// that passes now is idleness, which earns only the burst allowance.
    public mutating func release() {
        backlogged = false
    }

    /// Records a data segment of `bytes` sent at `now` (`mss` sizes the burst allowance).
    public mutating func didSend(bytes: Int, mss: Int, at now: Instant) {
        guard let r = rate, r > 0 else { return }
        let perByteNs = 1e9 / r
        // The burst allowance: an idle sender may be up to (burst − 1) segments, or `burstTime`
        // of the rate (at most `maxBurstBytes`), "behind"; a backlogged one `catchUpTime`.
        let segmentsNs = Double(max(0, burstSegments - 1) * max(1, mss)) * perByteNs
        let timeNs = min(Double(burstNanoseconds), Double(maxBurstBytes) * perByteNs)
        let catchUpNs = backlogged ? Double(catchUpNanoseconds) : 0
        let allowanceNs = max(segmentsNs, timeNs, catchUpNs)
        let earliestBase = now.nanoseconds - Int64(min(allowanceNs, 9e18))
        if nextSendTime.nanoseconds < earliestBase {
            nextSendTime = Instant(nanoseconds: earliestBase)
            carry = 0
        }
        // Truncation is the floor here (step ≥ 0) and needs no libm (the core links nothing).
        let step = min(Double(max(0, bytes)) * perByteNs + carry, 9e18)
        let whole = Int64(step)
        carry = step - Double(whole)
        nextSendTime = Instant(nanoseconds: nextSendTime.nanoseconds &+ whole)
        if nextSendTime > now { backlogged = false }   // caught up: the next wait is a new one
    }

    /// Linux paces in bursts of at least 2 segments (`tcp_min_tso_segs`), which keeps the
    /// per-segment timer cost down without letting a window out at once.
    public static let defaultBurstSegments = 2
    /// Half of Linux's ~1 ms (`sk_pacing_shift` 10), so that a catch-up burst stays within 5 % of
    /// a 10 ms measurement bin, yet covers a run loop's wake-up latency (50 µs of timer slack
    /// plus system calls) with room to spare.
    public static let defaultBurstTime: Duration = .microseconds(500)
    /// One 10 ms measurement bin of `sluice-bench pacing`: a sender descheduled for a few
    /// milliseconds still sends each bin's worth (issue 10's ±10 % per bin).
    public static let defaultCatchUpTime: Duration = .milliseconds(10)
}

/// The most the burst allowance of an idle sender may hold: one 64 KiB super-segment (Linux's
/// `GSO_MAX_SIZE`). A backlogged sender's catch-up (`catchUpTime`) is bounded by time and by
/// the windows instead.
private let maxBurstBytes = 65_536
