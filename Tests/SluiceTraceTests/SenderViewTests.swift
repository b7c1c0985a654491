import Foundation
import Testing
import SluiceCore
@testable import SluiceTrace

/// "Who held the flow back" judged by what the sender could know, on crafted conversations
/// with whole-packet scripts at explicit times (side A sends data to side B).
@Suite struct SenderViewTests {
    static func analyze(_ s: TraceScenario, _ name: String) throws -> ConnectionAnalysis {
        let path = try s.write(name: name)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (r, _) = try TraceFile.analyze(path: path, options: TraceOptions())
        return try #require(r.connections.first)
    }

    static func ms(_ d: DirectionStats, _ c: LimitCause) -> Double {
        (d.limitTime[c.rawValue].secondsDouble * 1000).rounded()
    }

    /// Captured at the receiver B (it answers the SYN at once; A's ACK comes 20 ms after the
    /// SYN/ACK: A's reaction lag is 20 ms): A fills B's 2,920-byte window, B closes it.
    static func receiverSideZeroWindow() -> TraceScenario {
        var s = TraceScenario()
        s.send(.a, atMs: 0, flags: .syn, window: 64_000, mss: 1460)
        s.send(.b, atMs: 0.1, flags: [.syn, .ack], window: 2_920, mss: 1460)
        s.send(.a, atMs: 20.1)
        s.data(atMs: 20.2, 1460, 1460)                                 // fills the window
        s.send(.b, atMs: 20.4, window: 0)                              // zero window
        return s
    }

    /// The receiver's window keeps 312 bytes (less than one MSS) open and nothing is in flight:
    /// the sender waits for the window, not for its application (the demo's case).
    @Test func lessThanOneMSSLeftWinsOverNothingInFlight() throws {
        var s = TraceScenario()
        s.handshake(windowB: 4_000)                                    // captured at A: no lag
        s.data(atMs: 10, 1460, 1460)
        s.send(.b, atMs: 11, window: 1_080)                            // all acked, 1,080 B left < MSS
        s.send(.b, atMs: 211, window: 4_000)                           // a read opens it
        s.data(atMs: 211.1, 1460)
        s.send(.b, atMs: 212)
        s.close(atMs: 300, windowB: 64_000)
        let c = try Self.analyze(s, "sub-mss")
        #expect(Self.ms(c.ab, .rwndLimited) >= 200, "\(c.ab.limitTime)")
        #expect(Self.ms(c.ab, .appLimited) < 100, "\(c.ab.limitTime)")
    }

    /// `receiverSideZeroWindow`, then B reopens its window at 100 ms (2,920 bytes), `then` runs,
    /// and the connection closes at `closeAtMs`; expects the update counted lost or not.
    static func afterWindowUpdate(_ name: String, closeAtMs: Double, lost: Bool, sourceLocation: SourceLocation = #_sourceLocation,
                                  then: (inout TraceScenario) -> Void) throws -> ConnectionAnalysis {
        var s = receiverSideZeroWindow()
        s.send(.b, atMs: 100, window: 2_920)
        then(&s)
        s.close(atMs: closeAtMs, windowB: 64_000)
        let c = try analyze(s, name)
        #expect(c.ba.events[.windowUpdateLost] == (lost ? 1 : 0), sourceLocation: sourceLocation)
        return c
    }

    /// Captured at the receiver (B answers the SYN at once; A's ACK comes 20 ms after the
    /// SYN/ACK: A's reaction lag is 20 ms). B reopens its window; A stays silent 400 ms, then
    /// sends Linux's probe (empty, SND.UNA − 1): the update never reached A. The silence is
    /// `rwnd_limited`, the update counts as lost, and A is `rwnd_limited` until its next data.
    @Test func windowUpdateFollowedByALinuxProbeWasLost() throws {
        let c = try Self.afterWindowUpdate("lost-update", closeAtMs: 600, lost: true) { s in
            s.send(.a, atMs: 500, seq: s.nextA &- 1, advance: false)   // Linux probe
            s.send(.b, atMs: 500.1)                                    // answers with the window
            s.data(atMs: 520.2, 1460)                                  // A reacts one lag later
            s.send(.b, atMs: 521)
        }
        // Only the end is the application's: A's last data is acknowledged 60 ms before its FIN.
        #expect(Self.ms(c.ab, .appLimited) < 100, "\(c.ab.limitTime)")
        #expect(Self.ms(c.ab, .rwndLimited) >= 495, "\(c.ab.limitTime)")
    }

    /// The same update, answered by A one reaction lag later with new data: it arrived; the
    /// lag is `rwnd_limited` (A could not know sooner), and nothing is counted lost.
    @Test func windowUpdateAnsweredOneLagLaterArrived() throws {
        let c = try Self.afterWindowUpdate("arrived-update", closeAtMs: 200, lost: false) { s in
            s.data(atMs: 120, 1460)
            s.send(.b, atMs: 121)
        }
        #expect(Self.ms(c.ab, .appLimited) < 100, "\(c.ab.limitTime)")
        #expect(Self.ms(c.ab, .rwndLimited) >= 99, "\(c.ab.limitTime)")
    }

    /// Data, then all of it acknowledged with room to spare, then 300 ms later new data: the
    /// application had nothing (no probe, no retransmission came first).
    @Test func silenceEndedByNewDataIsTheApplications() throws {
        var s = TraceScenario()
        s.handshake()
        s.data(atMs: 10, 1000)
        s.send(.b, atMs: 11)
        s.data(atMs: 311, 1000)
        s.send(.b, atMs: 312)
        s.close(atMs: 320)
        let c = try Self.analyze(s, "app")
        #expect(Self.ms(c.ab, .appLimited) >= 290, "\(c.ab.limitTime)")
        #expect(c.ba.events[.windowUpdateLost] == 0)
    }

    /// After `s`'s handshake, two bursts (four full segments from A 10 µs apart from each
    /// `start`, all acknowledged by B at `ack`), then close at `closeAtMs`: A's `cwnd_limited`
    /// time is `cwndMs` and its `app_limited` time at least `appAtLeastMs`.
    static func expectTwoBursts(_ s: TraceScenario, _ name: String, _ bursts: [(start: Double, ack: Double)], closeAtMs: Double,
                                cwndMs: Double, appAtLeastMs: Double, sourceLocation: SourceLocation = #_sourceLocation) throws {
        var s = s
        for (start, ack) in bursts {
            s.data(atMs: start, 1460, 1460, 1460, 1460, spacingMs: 0.01)
            s.send(.b, atMs: ack)
        }
        s.close(atMs: closeAtMs)
        let c = try analyze(s, name)
        #expect(ms(c.ab, .cwndLimited) == cwndMs, "\(c.ab.limitTime)", sourceLocation: sourceLocation)
        #expect(ms(c.ab, .appLimited) >= appAtLeastMs, "\(c.ab.limitTime)", sourceLocation: sourceLocation)
    }

    /// A burst, all of it acknowledged 4 ms later, then nothing for 96 ms: the sender had no
    /// more data queued once the burst was out, so its in-flight time was the application's
    /// (the engine's `SenderLimit.classify` says so when nothing is queued), not the ACKs'.
    @Test func inFlightTimeBeforeALongIdleSpellIsTheApplications() throws {
        var s = TraceScenario()
        s.handshake()                                                  // captured at A (lag 1 ms)
        try Self.expectTwoBursts(s, "burst-tail", [(10, 14), (110, 114)], closeAtMs: 200, cwndMs: 0, appAtLeastMs: 190)
    }

    /// The same burst answered at once by new data: the sender had more queued and waited for
    /// the ACK (`cwnd_limited`); only the in-flight time after its last data (before its FIN)
    /// is the application's.
    @Test func inFlightTimeAnsweredAtOnceByNewDataWasTheACKs() throws {
        var s = TraceScenario()
        s.send(.a, atMs: 0, flags: .syn, window: 64_000, mss: 1460)   // captured at A: A answers
        s.send(.b, atMs: 1, flags: [.syn, .ack], window: 64_000, mss: 1460)
        s.send(.a, atMs: 1.001)                                        // the SYN/ACK within 1 µs
        try Self.expectTwoBursts(s, "burst-queued", [(10, 14), (14.05, 18)], closeAtMs: 30, cwndMs: 4, appAtLeastMs: 15)
    }

    /// No handshake captured and no window scale known: a raw window leaving less than a segment
    /// cannot be judged (the scale may multiply it), so the time is `uncertain`.
    @Test func unknownScaleWithASmallRawWindowIsUncertain() throws {
        var s = TraceScenario()
        s.windowA = 500
        s.data(atMs: 0, 1000)
        s.send(.b, atMs: 1, window: 100)
        s.data(atMs: 201, 1000)
        s.send(.b, atMs: 202)
        let c = try Self.analyze(s, "uncertain")
        #expect(Self.ms(c.ab, .uncertain) >= 200, "\(c.ab.limitTime)")
    }

    /// After its FIN the sender has nothing more to send, whatever the window.
    @Test func afterTheFINTheApplicationIsDone() throws {
        var s = TraceScenario()
        s.handshake(windowB: 4_000)
        s.data(atMs: 10, 1000)
        s.send(.a, atMs: 10.1, flags: [.fin, .ack])
        s.send(.b, atMs: 11, window: 100)                              // little room left, A done
        s.send(.b, atMs: 500, flags: [.fin, .ack], window: 4_000)
        s.send(.a, atMs: 501)
        let c = try Self.analyze(s, "fin")
        #expect(Self.ms(c.ab, .rwndLimited) < 5, "\(c.ab.limitTime)")
        #expect(Self.ms(c.ab, .appLimited) >= 480, "\(c.ab.limitTime)")
    }
}
