import SluiceCore

/// What the receiver last told the sender: its cumulative ACK, the right edge (ACK + scaled
/// window) and the scaled window.
struct ReceiverReport: Sendable {
    var ack: UInt32
    var edge: UInt32
    var window: UInt64
    /// The window scale of the receiver is known (or absent on both SYNs): the edge is exact.
    var scaleKnown: Bool
}

/// The sender's view of its receiver, inferred from a capture that may have been taken at
/// either end of the wire, and the evidence that the sender saw less than the capture did.
///
/// The capture point sees the receiver's packets before the sender does when it sits at the
/// receiver (or between the two): the sender acts on a report one *reaction lag* after the
/// capture saw it. The lag is measured on the handshake (the time from the capture seeing the
/// peer's SYN or SYN/ACK to seeing this side's answer: about zero at the sender, about one
/// round trip at the receiver), and reports reach the view that much later (a bounded delay
/// line; when it is full the oldest report is applied early).
///
/// A report may never reach the sender (lost after the capture point). The evidence comes
/// afterwards: a sender that had room in the window and nothing in flight by the capture's view
/// does not probe (RFC 9293 §3.8.6.1: it probes only a zero window) and does not retransmit
/// acknowledged data (RFC 6298 §5: its retransmission timer runs only while data is
/// unacknowledged). When it does, the time since its view went idle is moved to the cause the
/// sender was really under: the receiver's window after a window update it never saw (counted
/// as `window_update_lost` for the receiver), else waiting for an ACK (`cwnd_limited`).
struct SenderView: Sendable {
    /// The report the sender is believed to hold.
    var known: ReceiverReport? = nil
    /// Capture time from seeing the receiver's packet to seeing the sender react to it (ns).
    var lag: Int64 = 0
    /// Reports the capture saw less than `lag` ago, oldest first (bounded ring).
    private var pending: [(due: Instant, report: ReceiverReport)] = []
    private var pendingHead = 0
    private var pendingCount = 0

    /// The sender's last data segment filled the receiver's window (Wireshark's window_full):
    /// it had more to send.
    var filledWindow = false
    /// The sender sent its FIN: its application has nothing more to send.
    var sentFIN = false
    /// The sender probed or retransmitted after an update the capture saw: it believes the
    /// window is still closed until it sends new data.
    var believesClosed = false
    /// The view has been idle (`app_limited`) since `idleSince`; `idleTime` is the part of that
    /// charged to `app_limited` so far, `idleAfterOpening` says it began when a window update
    /// ended an `rwnd_limited` spell.
    var idle = false
    var idleTime: Int64 = 0
    var idleAfterOpening = false

    /// When the next pending report reaches the sender, if any.
    var nextDue: Instant? { pendingCount > 0 ? pending[pendingHead].due : nil }

    /// The capture saw `report` at `time`: the sender learns it one reaction lag later.
    mutating func receive(_ report: ReceiverReport, at time: Instant) {
        guard lag > 0 else {
            known = report
            return
        }
        if pending.isEmpty { pending.reserveCapacity(pendingReportLimit) }
        if pendingCount == pendingReportLimit {
            // Full: the oldest report is applied early rather than growing the line.
            known = pending[pendingHead].report
            pendingHead = (pendingHead + 1) % pendingReportLimit
            pendingCount -= 1
        }
        let slot = (pendingHead + pendingCount) % pendingReportLimit
        let entry = (due: Instant(nanoseconds: time.nanoseconds &+ lag), report: report)
        if slot < pending.count { pending[slot] = entry } else { pending.append(entry) }
        pendingCount += 1
    }

    /// Applies the oldest pending report (its time has come).
    mutating func deliverNext() {
        guard pendingCount > 0 else { return }
        known = pending[pendingHead].report
        pendingHead = (pendingHead + 1) % pendingReportLimit
        pendingCount -= 1
    }
}

/// Reports held back per direction on a receiver-side capture: a round trip of ACKs. More than
/// this within one reaction lag are applied early (a view slightly ahead of the sender's).
let pendingReportLimit = 256
