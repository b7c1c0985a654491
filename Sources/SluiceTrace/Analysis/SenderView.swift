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
/// round trip at the receiver), lowered by the sender's own reactions (`sampleLag`), and grows
/// with the queue the sender's packets meet before the capture (`SenderClock`); reports reach
/// the view that much later (a bounded delay line; when it is full the oldest report is
/// applied early).
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
    /// Capture time from seeing the receiver's packet to seeing the sender react to it (ns),
    /// measured on the handshake.
    var baseLag: Int64 = 0
    /// The sender's clock (its TSvals): the queueing delay behind which the capture sees it.
    var clock = SenderClock()
    /// Reports the capture saw less than `lag` ago, with the time it saw them, oldest first
    /// (bounded ring).
    private var pending: [(seen: Instant, report: ReceiverReport)] = []
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
    /// The `cwnd_limited` time since the sender's last new data when the idle spell began: the
    /// in-flight time at the end of a burst, the application's if the spell proves long.
    var idleTail: Int64 = 0

    /// The reaction lag now (ns): the handshake's, plus the queueing delay behind which the
    /// capture sees the sender (`SenderClock`, read rounded up by up to one tick, so that a
    /// report does not reach the view before the sender could have acted on it).
    var lag: Int64 { clock.queueDelay > 0 ? baseLag &+ clock.reading : baseLag }

    /// When the next pending report reaches the sender, if any: one lag, as it is now, after
    /// the capture saw it. The sender acted on it when it sent the packets the capture sees one
    /// lag later, and the lag is the one those packets meet, so the time is taken with the lag
    /// in force when it comes (the queue may have grown since the report was seen).
    var nextDue: Instant? {
        pendingCount > 0 ? Instant(nanoseconds: pending[pendingHead].seen.nanoseconds &+ lag) : nil
    }

    /// The right edge of the newest report the capture saw, when it first saw that edge, and
    /// the edge before it (`sampleLag`).
    private var latestEdge: UInt32? = nil
    private var latestEdgeTime: Int64 = 0
    private var previousEdge: UInt32? = nil

    /// New data ending at `dataEnd`, seen at `time`: when it passes the edge of every report
    /// but the newest, the sender sent it after learning the newest, so the time since the
    /// capture saw that report (less the queue the data met) bounds the lag from above. The
    /// handshake's lag is lowered to it: a sender slow to answer its handshake (a process
    /// starting up) does not keep the view late for the whole connection.
    mutating func sampleLag(dataEnd: UInt32, at time: Instant) {
        guard let newest = latestEdge, let previous = previousEdge, known?.scaleKnown ?? false,
              Int32(bitPattern: dataEnd &- previous) > 0, Int32(bitPattern: newest &- dataEnd) >= 0
        else { return }
        let queue = clock.queueDelay > 0 ? clock.reading : 0
        let sample = time.nanoseconds &- latestEdgeTime &- queue
        if sample >= 0 && sample < baseLag { baseLag = sample }
    }

    /// Reports wait for the sender.
    var hasPending: Bool { pendingCount > 0 }

    /// The capture saw `report` at `time` and the sender is taken to know it at once.
    mutating func learn(_ report: ReceiverReport, at time: Instant) {
        noteEdge(report, at: time)
        if pendingCount == 0 { known = report } else { receive(report, at: time) }
    }

    private mutating func noteEdge(_ report: ReceiverReport, at time: Instant) {
        if report.edge != latestEdge {
            previousEdge = latestEdge
            latestEdge = report.edge
            latestEdgeTime = time.nanoseconds
        }
    }

    /// The capture saw `report` at `time`: the sender learns it one reaction lag later.
    mutating func receive(_ report: ReceiverReport, at time: Instant) {
        noteEdge(report, at: time)
        guard lag > 0 || pendingCount > 0 else {
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
        let entry = (seen: time, report: report)
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
