/// The receiver's side of flow control: which window to advertise in each segment we send.
///
/// ## The rules, in sequence-number terms
/// - **Advertised window = free space** in the receive buffer (RFC 9293 §3.8.6): `freeSpace` is
///   the buffer capacity minus the in-order bytes the application has not read yet (RCV.BUFF −
///   RCV.USER). Out-of-order bytes lie inside the window already granted and need no extra room.
/// - **The right edge never moves left** (RFC 9293 §3.8.6, SHLD-14: "the receiver SHOULD NOT
///   shrink the window, i.e., move the right window edge to the left"). When the buffer fills, the
///   window shrinks toward zero only because the peer's data arrives, never by retraction.
/// - **Window scaling** (RFC 7323 §2): the field counts units of `2^shift` bytes, so the edge it
///   can express is `RCV.NXT + k·2^shift`. When keeping the edge where it is needs a value
///   between two units, the field is **rounded up**, so `RCV.NXT + advertised ≥ previous right
///   edge` and rounding cannot move the edge left either. Rounding up moves the edge right by
///   less than one unit ("creep", `a mod 2^shift` for `a` bytes acknowledged since the last
///   advertisement); to keep that promise storable, grants leave a reserve of the buffer
///   unadvertised (`roundingReserve`, sized for the creep of one full window closing on a
///   stalled reader with MSS-sized segments, at most 1/16 of the buffer). If creep ever used
///   the reserve up (a peer sending many segments smaller than one unit into a stalled reader,
///   or very large shifts), the edge is rounded down instead: it moves left by less than one
///   unit, which RFC 7323 §2.4 anticipates; that is counted in `retractions`, and data up to the
///   largest edge ever advertised is still accepted and still fits in the buffer. Without
///   scaling there is no rounding and no reserve.
/// - **Accept data within the largest right edge ever advertised** (RFC 7323 §2.4):
///   `acceptanceWindow(receiveNext:)` is what the segment acceptability test (RFC 9293
///   §3.10.7.4) uses as RCV.WND. Invariant: `largestRightEdge − RCV.NXT ≤ freeSpace`, so every
///   byte we accepted to take has room in the buffer.
/// - **Receiver silly-window avoidance** (RFC 9293 §3.8.6.2.2, RFC 1122 §4.2.3.3): the right edge
///   is kept fixed until it can advance by at least `min(capacity / 2, MSS)` (Fr = 1/2), so the
///   sender is never offered a sliver of window.
///
/// A value type with no allocation: the engine keeps one per connection and calls
/// `advertise(receiveNext:freeSpace:)` for every non-SYN segment it sends.
public struct ReceiveWindow: Hashable, Sendable {
    /// The receive buffer's capacity in bytes (RCV.BUFF).
    public let capacity: Int
    /// Our receive window shift (RFC 7323 §2.3: the shift we announced, or 0 when the peer did
    /// not agree to scaling).
    public private(set) var shift: Int
    /// The effective MSS of the segments we receive (Eff.snd.MSS in RFC 9293 §3.8.6.2.2).
    public var mss: Int
    /// The right edge of the window we last advertised (RCV.NXT + RCV.WND when it was sent).
    public private(set) var rightEdge: SequenceNumber
    /// The largest right edge ever advertised: we accept data up to here (RFC 7323 §2.4).
    public private(set) var largestRightEdge: SequenceNumber
    /// Times the edge had to move left by less than one scaling unit (see the type's doc).
    public private(set) var retractions: Int = 0

    /// - Parameters:
    ///   - capacity: the receive buffer size in bytes.
    ///   - shift: our receive window shift, 0 when scaling was not negotiated.
    ///   - mss: the largest segment the peer sends us.
    ///   - receiveNext: RCV.NXT when the connection is synchronized (IRS + 1).
    ///   - synWindow: the window our SYN or SYN-ACK advertised, unscaled (RFC 7323 §2.2).
    public init(capacity: Int, shift: Int, mss: Int, receiveNext: SequenceNumber, synWindow: Int) {
        self.capacity = max(0, capacity)
        self.shift = min(max(0, shift), WindowScale.maximumShift)
        self.mss = max(1, mss)
        self.rightEdge = receiveNext + max(0, synWindow)
        self.largestRightEdge = self.rightEdge
    }

    /// The window field for a SYN or SYN-ACK: never scaled (RFC 7323 §2.2), so at most 65535,
    /// and leaving the rounding reserve of the shift we offer.
    public static func synWindowField(freeSpace: Int, capacity: Int, shift: Int, mss: Int) -> UInt16 {
        UInt16(clamping: max(0, freeSpace - roundingReserve(capacity: capacity, shift: shift, mss: mss)))
    }

    /// Bytes of the buffer left out of grants so that rounding the field up (to keep the edge
    /// from moving left) has room: enough for the creep of a window of `capacity` closing with
    /// one advertisement per MSS (under one unit each), at least 64 units, at most 1/16 of the
    /// buffer; 0 without scaling. Our choice (no RFC gives one): at shift ≤ 3 it is under
    /// 0.5 % of the buffer, at shift 5 2 %, from shift 7 on 1/16.
    public static func roundingReserve(capacity: Int, shift: Int, mss: Int) -> Int {
        guard shift > 0, capacity > 0 else { return 0 }
        let unitMinusOne = (1 << min(shift, WindowScale.maximumShift)) - 1
        let forOneWindow = (capacity / max(1, mss)) * unitMinusOne
        return min(max(reserveUnits * unitMinusOne, forOneWindow), capacity / reserveFractionDivisor)
    }

    /// The smallest advance of the right edge, `min(capacity / 2, MSS)` (RFC 9293 §3.8.6.2.2,
    /// Fr = 1/2).
    @inlinable public var sillyWindowThreshold: Int {
        max(1, min(capacity / 2, mss))
    }

    /// Bytes of the buffer left out of new grants so that rounding up never promises more than
    /// fits (`roundingReserve(capacity:shift:mss:)`).
    public var roundingReserve: Int {
        Self.roundingReserve(capacity: capacity, shift: shift, mss: mss)
    }

    /// The window the peer may still fill: from RCV.NXT to the right edge last advertised.
    @inlinable public func currentWindow(receiveNext: SequenceNumber) -> Int {
        max(0, rightEdge - receiveNext)
    }

    /// RCV.WND for the acceptability test (RFC 9293 §3.10.7.4): up to the largest right edge ever
    /// advertised (RFC 7323 §2.4).
    @inlinable public func acceptanceWindow(receiveNext: SequenceNumber) -> Int {
        max(0, largestRightEdge - receiveNext)
    }

    /// Computes the window field for the next non-SYN segment and records the edge it
    /// advertises. Call it once per segment sent, with the buffer's current free space.
    /// - Returns: the 16-bit field (already shifted right) and the window in bytes it means.
    public mutating func advertise(receiveNext: SequenceNumber, freeSpace: Int) -> (field: UInt16, bytes: Int) {
        let decision = decide(receiveNext: receiveNext, freeSpace: freeSpace)
        let bytes = Int(decision.field) << shift
        rightEdge = receiveNext + bytes
        if decision.retracts { retractions += 1 }
        if largestRightEdge.isBefore(rightEdge) { largestRightEdge = rightEdge }
        return (decision.field, bytes)
    }

    /// The window in bytes that `advertise` would send now, without recording it.
    public func prospectiveWindow(receiveNext: SequenceNumber, freeSpace: Int) -> Int {
        Int(decide(receiveNext: receiveNext, freeSpace: freeSpace).field) << shift
    }

    /// Whether the application's read opened the window enough to send a window update at once,
    /// without waiting for the delayed-ACK timer (smoltcp PR 935 is the bug this avoids: the
    /// update sat behind the delayed ACK while the sender waited on a zero window).
    ///
    /// True when the window the peer knows of is below the silly-window threshold (zero
    /// included) and the new one is not, or when the new window is at least double the old one.
    /// Silly-window avoidance (RFC 9293 §3.8.6.2.2) already keeps the edge from advancing in
    /// small steps; RFC 1122 §4.2.3.3 asks that the update be sent when the edge does advance.
    /// The "doubles" rule is Linux's (`tcp_cleanup_rbuf`).
    public func shouldSendWindowUpdate(receiveNext: SequenceNumber, freeSpace: Int) -> Bool {
        let current = currentWindow(receiveNext: receiveNext)
        let next = prospectiveWindow(receiveNext: receiveNext, freeSpace: freeSpace)
        guard next > current else { return false }
        return current < sillyWindowThreshold || next >= 2 * current
    }

    // MARK: - The decision

    private struct Decision {
        var field: UInt16
        var retracts: Bool
    }

    private func decide(receiveNext: SequenceNumber, freeSpace: Int) -> Decision {
        let unit = 1 << shift
        let free = max(0, freeSpace)
        let current = currentWindow(receiveNext: receiveNext)
        let maxField = Int(UInt16.max)

        // What the buffer could grant now, in whole units (rounded down: a grant never promises
        // more than the free space minus the reserve).
        let grantUnits = min(max(0, free - roundingReserve) >> shift, maxField)
        let grant = grantUnits << shift

        // RFC 9293 §3.8.6.2.2: advance the right edge only by at least min(RCV.BUFF/2, MSS).
        if grant - current >= sillyWindowThreshold {
            return Decision(field: UInt16(grantUnits), retracts: false)
        }

        // Keep the edge: round up so RCV.NXT + field·unit ≥ the previous right edge
        // (RFC 9293 §3.8.6 SHLD-14; RFC 7323 §2.4).
        let keepUnits = min((current + unit - 1) >> shift, maxField)
        if keepUnits << shift <= free {
            return Decision(field: UInt16(keepUnits), retracts: false)
        }
        // Rounding up would promise more than fits: round down (< one unit left, counted).
        let downUnits = min(free >> shift, maxField)
        return Decision(field: UInt16(downUnits), retracts: (downUnits << shift) < current)
    }
}

extension ReceiveWindow {
    /// The least rounding reserve, in scaling units: 64 roundings between two grants. Our choice.
    static let reserveUnits = 64
    /// The most the rounding reserve takes: 1/16 of the buffer. Our choice (Linux keeps far more
    /// of its buffer out of the window for overhead: `tcp_adv_win_scale`).
    static let reserveFractionDivisor = 16
}
