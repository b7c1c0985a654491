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
        s.send(.a, atMs: 20.1, window: 64_000)
        s.send(.a, atMs: 20.2, window: 64_000, length: 1460)
        s.send(.a, atMs: 20.3, window: 64_000, length: 1460)           // fills the window
        s.send(.b, atMs: 20.4, window: 0)                              // zero window
        return s
    }

    /// The receiver's window keeps 312 bytes (less than one MSS) open and nothing is in flight:
    /// the sender waits for the window, not for its application (the demo's case).
    @Test func lessThanOneMSSLeftWinsOverNothingInFlight() throws {
        var s = TraceScenario()
        s.handshake(windowA: 64_000, windowB: 4_000)                 // captured at A: no lag
        s.send(.a, atMs: 10, window: 64_000, length: 1460)
        s.send(.a, atMs: 10.1, window: 64_000, length: 1460)
        s.send(.b, atMs: 11, window: 1_080)                            // all acked, 1,080 B left < MSS
        s.send(.b, atMs: 211, window: 4_000)                           // a read opens it
        s.send(.a, atMs: 211.1, window: 64_000, length: 1460)
        s.send(.b, atMs: 212, window: 4_000)
        s.close(atMs: 300)
        let c = try Self.analyze(s, "sub-mss")
        #expect(Self.ms(c.ab, .rwndLimited) >= 200, "\(c.ab.limitTime)")
        #expect(Self.ms(c.ab, .appLimited) < 100, "\(c.ab.limitTime)")
    }

    /// Captured at the receiver (B answers the SYN at once; A's ACK comes 20 ms after the
    /// SYN/ACK: A's reaction lag is 20 ms). B reopens its window; A stays silent 400 ms, then
    /// sends Linux's probe (empty, SND.UNA − 1): the update never reached A. The silence is
    /// `rwnd_limited`, the update counts as lost, and A is `rwnd_limited` until its next data.
    @Test func windowUpdateFollowedByALinuxProbeWasLost() throws {
        var s = Self.receiverSideZeroWindow()
        s.send(.b, atMs: 100, window: 2_920)                           // update: lost after the capture
        s.send(.a, atMs: 500, seq: s.nextA &- 1, window: 64_000, advance: false)   // Linux probe
        s.send(.b, atMs: 500.1, window: 2_920)                         // answers with the window
        s.send(.a, atMs: 520.2, window: 64_000, length: 1460)          // A reacts one lag later
        s.send(.b, atMs: 521, window: 2_920)
        s.close(atMs: 600)
        let c = try Self.analyze(s, "lost-update")
        #expect(c.ba.events[.windowUpdateLost] == 1)
        // Only the end is the application's: A's last data is acknowledged 60 ms before its FIN.
        #expect(Self.ms(c.ab, .appLimited) < 100, "\(c.ab.limitTime)")
        #expect(Self.ms(c.ab, .rwndLimited) >= 495, "\(c.ab.limitTime)")
    }

    /// The same update, answered by A one reaction lag later with new data: it arrived; the
    /// lag is `rwnd_limited` (A could not know sooner), and nothing is counted lost.
    @Test func windowUpdateAnsweredOneLagLaterArrived() throws {
        var s = Self.receiverSideZeroWindow()
        s.send(.b, atMs: 100, window: 2_920)
        s.send(.a, atMs: 120, window: 64_000, length: 1460)
        s.send(.b, atMs: 121, window: 2_920)
        s.close(atMs: 200)
        let c = try Self.analyze(s, "arrived-update")
        #expect(c.ba.events[.windowUpdateLost] == 0)
        #expect(Self.ms(c.ab, .appLimited) < 100, "\(c.ab.limitTime)")
        #expect(Self.ms(c.ab, .rwndLimited) >= 99, "\(c.ab.limitTime)")
    }

    /// Data, then all of it acknowledged with room to spare, then 300 ms later new data: the
    /// application had nothing (no probe, no retransmission came first).
    @Test func silenceEndedByNewDataIsTheApplications() throws {
        var s = TraceScenario()
        s.handshake(windowA: 64_000, windowB: 64_000)
        s.send(.a, atMs: 10, window: 64_000, length: 1000)
        s.send(.b, atMs: 11, window: 64_000)
        s.send(.a, atMs: 311, window: 64_000, length: 1000)
        s.send(.b, atMs: 312, window: 64_000)
        s.close(atMs: 320)
        let c = try Self.analyze(s, "app")
        #expect(Self.ms(c.ab, .appLimited) >= 290, "\(c.ab.limitTime)")
        #expect(c.ba.events[.windowUpdateLost] == 0)
    }

    /// Four full segments from A 10 µs apart from `start`, all acknowledged by B at `ack`.
    static func burst(_ s: inout TraceScenario, atMs start: Double, ackedAtMs ack: Double) {
        for i in 0..<4 { s.send(.a, atMs: start + Double(i) * 0.01, window: 64_000, length: 1460) }
        s.send(.b, atMs: ack, window: 64_000)
    }

    /// A burst, all of it acknowledged 4 ms later, then nothing for 96 ms: the sender had no
    /// more data queued once the burst was out, so its in-flight time was the application's
    /// (the engine's `SenderLimit.classify` says so when nothing is queued), not the ACKs'.
    @Test func inFlightTimeBeforeALongIdleSpellIsTheApplications() throws {
        var s = TraceScenario()
        s.handshake(windowA: 64_000, windowB: 64_000)                 // captured at A (lag 1 ms)
        Self.burst(&s, atMs: 10, ackedAtMs: 14)
        Self.burst(&s, atMs: 110, ackedAtMs: 114)
        s.close(atMs: 200)
        let c = try Self.analyze(s, "burst-tail")
        #expect(Self.ms(c.ab, .cwndLimited) == 0, "\(c.ab.limitTime)")
        #expect(Self.ms(c.ab, .appLimited) >= 190, "\(c.ab.limitTime)")
    }

    /// The same burst answered at once by new data: the sender had more queued and waited for
    /// the ACK (`cwnd_limited`); only the in-flight time after its last data (before its FIN)
    /// is the application's.
    @Test func inFlightTimeAnsweredAtOnceByNewDataWasTheACKs() throws {
        var s = TraceScenario()
        s.send(.a, atMs: 0, flags: .syn, window: 64_000, mss: 1460)   // captured at A: A answers
        s.send(.b, atMs: 1, flags: [.syn, .ack], window: 64_000, mss: 1460)
        s.send(.a, atMs: 1.001, window: 64_000)                        // the SYN/ACK within 1 µs
        Self.burst(&s, atMs: 10, ackedAtMs: 14)
        Self.burst(&s, atMs: 14.05, ackedAtMs: 18)
        s.close(atMs: 30)
        let c = try Self.analyze(s, "burst-queued")
        #expect(Self.ms(c.ab, .cwndLimited) == 4, "\(c.ab.limitTime)")
        #expect(Self.ms(c.ab, .appLimited) >= 15, "\(c.ab.limitTime)")
    }

    /// No handshake captured and no window scale known: a raw window leaving less than a segment
    /// cannot be judged (the scale may multiply it), so the time is `uncertain`.
    @Test func unknownScaleWithASmallRawWindowIsUncertain() throws {
        var s = TraceScenario()
        s.send(.a, atMs: 0, window: 500, length: 1000)
        s.send(.b, atMs: 1, window: 100)
        s.send(.a, atMs: 201, window: 500, length: 1000)
        s.send(.b, atMs: 202, window: 100)
        let c = try Self.analyze(s, "uncertain")
        #expect(Self.ms(c.ab, .uncertain) >= 200, "\(c.ab.limitTime)")
    }

    /// After its FIN the sender has nothing more to send, whatever the window.
    @Test func afterTheFINTheApplicationIsDone() throws {
        var s = TraceScenario()
        s.handshake(windowA: 64_000, windowB: 4_000)
        s.send(.a, atMs: 10, window: 64_000, length: 1000)
        s.send(.a, atMs: 10.1, flags: [.fin, .ack], window: 64_000)
        s.send(.b, atMs: 11, window: 100)                              // little room left, A done
        s.send(.b, atMs: 500, flags: [.fin, .ack], window: 4_000)
        s.send(.a, atMs: 501, window: 64_000)
        let c = try Self.analyze(s, "fin")
        #expect(Self.ms(c.ab, .rwndLimited) < 5, "\(c.ab.limitTime)")
        #expect(Self.ms(c.ab, .appLimited) >= 480, "\(c.ab.limitTime)")
    }
}
