/// The sender's side of flow control: how many bytes may go now, and whether sending them now
/// would be silly.
///
/// All quantities are bytes. The peer's window (SND.WND) is already scaled (RFC 7323 §2.3);
/// `congestionWindow` is cwnd in bytes (RFC 5681 §2).
public enum SendWindow {
    /// The usable window: `min(cwnd, SND.WND) − bytes in flight`, never negative
    /// (RFC 9293 §3.8.6.2.1 "U = SND.UNA + SND.WND − SND.NXT", bounded by cwnd per RFC 5681 §3.1).
    /// Nothing is ever sent past the peer's right edge (SND.UNA + SND.WND) except a one-byte
    /// zero-window probe (RFC 9293 §3.8.6.1), which `PersistTimer` governs, not this.
    @inlinable public static func usable(congestionWindow: Int, peerWindow: Int, bytesInFlight: Int) -> Int {
        max(0, min(congestionWindow, peerWindow) - bytesInFlight)
    }

    /// Bytes the peer's window alone still admits past SND.NXT: `SND.UNA + SND.WND − SND.NXT`.
    @inlinable public static func peerUsable(peerWindow: Int, bytesInFlight: Int) -> Int {
        max(0, peerWindow - bytesInFlight)
    }
}

/// What the sender does with the data it has queued, per silly-window avoidance and Nagle.
public enum SendDecision: Hashable, Sendable {
    /// Send a segment of this many bytes now (1 ≤ bytes ≤ MSS).
    case send(bytes: Int)
    /// Nothing queued (or nothing usable and nothing the override could send).
    case idle
    /// Nagle (RFC 896): a small segment waits for the outstanding data to be acknowledged.
    case holdForAck
    /// Silly-window avoidance holds a small segment; if nothing changes, the override timeout
    /// at this instant lets it go (RFC 9293 §3.8.6.2.1 rule 4).
    case holdUntil(Instant)
    /// The peer's window admits nothing and nothing is in flight: the persist timer probes.
    case zeroWindow
    /// The usable window is zero with data in flight: an ACK will open it.
    case windowFull
}

/// Sender silly-window avoidance (RFC 9293 §3.8.6.2.1, RFC 1122 §4.2.3.4) with the Nagle
/// algorithm (RFC 896, RFC 9293 §3.7.4) as a switch.
///
/// With D the bytes queued and not yet sent and U the usable window, a segment goes when:
/// 1. a maximum-sized segment can be sent: `min(D, U) ≥ Eff.snd.MSS`;
/// 2. or all queued data can be sent now: `D ≤ U` (all application data counts as pushed;
///    with Nagle on, only when nothing is unacknowledged, `SND.NXT = SND.UNA`);
/// 3. or at least half the largest window the peer ever offered can be sent:
///    `min(D, U) ≥ Fs · max(SND.WND)`, Fs = 1/2 (with Nagle on, only when nothing is
///    unacknowledged);
/// 4. or the override timeout fires: data held by rules 1–3 while the window is small goes after
///    `overrideTimeout` (RFC 1122 §4.2.3.4 suggests 0.1–1 s; see `defaultOverrideTimeout`).
///
/// Nagle holds the sub-MSS tail of the queue while a previous sub-MSS segment is
/// unacknowledged: Minshall's refinement of RFC 896 (draft-minshall-nagle-01, Linux
/// `tcp_minshall_check`), so a write that ends in a partial segment goes out whole instead of
/// waiting a delayed ACK for the full segments before it. A queued FIN lifts it (Linux
/// `tcp_nagle_check` does not delay the segment that carries the FIN), and it never applies to a
/// full segment.
public struct SenderSillyWindowAvoidance: Hashable, Sendable {
    /// Nagle's algorithm on (RFC 9293 §3.7.4: SHLD-7 implement it, MUST-17 let the application
    /// turn it off; on by default as everywhere, `TCP_NODELAY` in sockets).
    public var nagle: Bool
    /// How long a small segment may be held for silly-window avoidance (rule 4).
    public var overrideTimeout: Duration
    /// The instant the override timer fires, while a small segment is held.
    public private(set) var overrideDeadline: Instant? = nil
    /// The largest window the peer ever offered, `max(SND.WND)` in rule 3.
    public private(set) var maxPeerWindow: Int = 0

    public init(nagle: Bool = true, overrideTimeout: Duration = SenderSillyWindowAvoidance.defaultOverrideTimeout) {
        self.nagle = nagle
        self.overrideTimeout = overrideTimeout
    }

    /// Record every window the peer advertises (scaled).
    public mutating func observePeerWindow(_ window: Int) {
        if window > maxPeerWindow { maxPeerWindow = window }
    }

    /// Decides what to send now.
    /// - Parameters:
    ///   - queued: D, bytes written by the application and not yet sent.
    ///   - usable: U, from `SendWindow.usable` (peer window and cwnd, minus bytes in flight).
    ///   - peerUsable: what the peer's window alone admits (`SendWindow.peerUsable`).
    ///   - bytesInFlight: SND.NXT − SND.UNA.
    ///   - smallSegmentInFlight: a segment shorter than the MSS is sent and unacknowledged
    ///     (what Nagle, in Minshall's form, waits on).
    ///   - mss: Eff.snd.MSS.
    ///   - finQueued: the application has shut down: the FIN follows the queued data.
    ///   - now: the current time (arms the override timer).
    public mutating func decide(queued: Int, usable: Int, peerUsable: Int, bytesInFlight: Int,
                                smallSegmentInFlight: Bool, mss: Int, finQueued: Bool, now: Instant) -> SendDecision {
        let mss = max(1, mss)
        guard queued > 0 else {
            overrideDeadline = nil
            return .idle
        }
        if usable <= 0 {
            overrideDeadline = nil
            return (bytesInFlight == 0 && peerUsable <= 0) ? .zeroWindow : .windowFull
        }
        let sendable = min(queued, usable, mss)
        let nothingUnacknowledged = bytesInFlight == 0

        // Rule 1: a full-sized segment.
        if min(queued, usable) >= mss { return sent(sendable) }
        // Rule 2: everything queued fits (pushed), subject to Nagle (Minshall's form).
        if queued <= usable {
            if !nagle || !smallSegmentInFlight || finQueued { return sent(sendable) }
            overrideDeadline = nil
            return .holdForAck
        }
        // Here the window, not the application, makes the segment small (U < D, U < MSS).
        // Rule 3: at least half the largest window the peer ever offered (with Nagle: only when
        // nothing is unacknowledged, the bracketed condition of RFC 9293 §3.8.6.2.1).
        if (!nagle || nothingUnacknowledged || finQueued) && maxPeerWindow > 0 && usable * 2 >= maxPeerWindow {
            return sent(sendable)
        }
        // Rule 4: the override timeout.
        if let deadline = overrideDeadline {
            if now >= deadline { return sent(sendable) }
            return .holdUntil(deadline)
        }
        let deadline = now + overrideTimeout
        overrideDeadline = deadline
        return .holdUntil(deadline)
    }

    private mutating func sent(_ bytes: Int) -> SendDecision {
        overrideDeadline = nil
        return .send(bytes: bytes)
    }

    /// RFC 1122 §4.2.3.4: "the override timeout should be in the range 0.1 − 1.0 seconds". We take
    /// 200 ms: Linux's minimum RTO and delayed-ACK ceiling, long enough for an ACK on most paths
    /// to open the window first, short enough not to stall an interactive flow.
    public static let defaultOverrideTimeout: Duration = .milliseconds(200)
}
