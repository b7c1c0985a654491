import Testing
@testable import SluiceCore

/// Issue 10 item 1: the receiver's ACK rules and the sender's segment size when buffers are
/// small, against a scripted peer (whole segments at explicit times). Each test names the stall
/// it pins down; before the fix, each of them waited for the 40 ms delayed-ACK timer.
@Suite struct AckRuleTests: TimestampScript {
    static let ms = Instant.milliseconds

    /// RFC 5681 §4.2 / RFC 1122 §4.2.3.2: an ACK for at least every second full-sized segment.
    /// With timestamps a full segment carries 1448 bytes (MSS 1460 − 12): two of them are 2896
    /// bytes, less than 2 × MSS, and the old rule ("2 × MSS received") waited for a third
    /// segment or the delayed-ACK timer.
    @Test func secondFullSegmentWithTimestampsIsAcknowledgedAtOnce() {
        let (t, _) = TimestampTests.makeEstablished()
        t.send(Self.peerSegment(tsval: 120, echoMs: 10, payload: streamBytes(0..<1448)), at: Self.ms(20))
        t.expectNothing(at: Self.ms(20))
        t.send(Self.peerSegment(seq: peerISS + 1449, tsval: 121, echoMs: 10, payload: streamBytes(1448..<2896)), at: Self.ms(21))
        Self.expectAck(t, ack: peerISS + 2897, window: 4096 - 2896, echo: 120, atMs: 21)
    }

    /// MSS > buffer / 2 (RFC 9293 §3.8.6.2.2's min(Fr · RCV.BUFF, Eff.snd.MSS)): with a 4 KiB
    /// buffer and MTU 9000, one segment of more than half the buffer is acknowledged at once —
    /// a window never holds two MSS-sized segments, so "every second full-sized segment" never
    /// came and every window waited for the delayed-ACK timer.
    @Test func segmentOverHalfTheBufferIsAcknowledgedAtOnce() {
        var config = EngineTest.config()
        config.connection.mtu = 9000
        let t = EngineTest.passiveOpen(config: config, peerWindow: 8192, mss: 8960)
        t.send(Seg(flags: .ack, seq: peerISS + 1, ack: ourISS + 1, window: 8192, payload: streamBytes(0..<3000)), at: Self.ms(20))
        t.expectTransmit(Seg(flags: .ack, seq: ourISS + 1, ack: peerISS + 3001, window: 1096), at: Self.ms(20))
    }

    /// A read that empties the buffer while a short segment waits for its ACK sends the ACK at
    /// once (Linux `tcp_cleanup_rbuf`): the peer's Nagle holds its next small segment for it.
    /// Before, the reader's ACK (no window update: the edge moved less than one MSS) waited for
    /// the delayed-ACK timer, 40 ms per small message.
    @Test func readOfASmallSegmentAcknowledgesAtOnce() {
        let (t, id) = EngineTest.makeEstablished()
        t.send(Seg(flags: [.ack, .psh], seq: peerISS + 1, ack: ourISS + 1, window: 8192, payload: streamBytes(0..<100)),
               at: Self.ms(20))
        t.expectNothing(at: Self.ms(20))   // delayed: the application may answer
        #expect(t.read(id) == streamBytes(0..<100))
        t.expectTransmit(Seg(flags: .ack, seq: ourISS + 1, ack: peerISS + 101, window: 3996), at: Self.ms(21))
        // A read that leaves bytes behind keeps the ACK delayed.
        t.send(Seg(flags: [.ack, .psh], seq: peerISS + 101, ack: ourISS + 1, window: 8192, payload: streamBytes(100..<200)),
               at: Self.ms(30))
        #expect(t.read(id, max: 50) == streamBytes(100..<150))
        t.expectNothing(at: Self.ms(31))
        t.expectTransmit(Seg(flags: .ack, seq: ourISS + 1, ack: peerISS + 201, window: 3896), at: Self.ms(70))
    }

    /// Reads that each reopen the window before the next transmit share one ACK, and the
    /// window-update counter counts that ACK once (it counted every read: sluice-recv reported
    /// 50,049 window updates for 6,037 segments sent over TUN).
    @Test func readsBeforeOneTransmitMakeOneWindowUpdate() {
        let (t, id) = EngineTest.makeEstablished()
        t.send(Seg(flags: .ack, seq: peerISS + 1, ack: ourISS + 1, window: 8192, payload: streamBytes(0..<1460)), at: Self.ms(20))
        t.send(Seg(flags: .ack, seq: peerISS + 1461, ack: ourISS + 1, window: 8192, payload: streamBytes(1460..<2920)), at: Self.ms(20))
        t.expectTransmit(Seg(flags: .ack, seq: ourISS + 1, ack: peerISS + 2921, window: 1176), at: Self.ms(20))
        t.send(Seg(flags: .ack, seq: peerISS + 2921, ack: ourISS + 1, window: 8192, payload: streamBytes(2920..<4096)), at: Self.ms(21))
        t.expectNothing(at: Self.ms(21))   // the ACK for the last segment is delayed
        #expect(t.read(id, max: 2048) == streamBytes(0..<2048))
        #expect(t.read(id, max: 2048) == streamBytes(2048..<4096))
        t.expectTransmit(Seg(flags: .ack, seq: ourISS + 1, ack: peerISS + 4097, window: 4096), at: Self.ms(22))
        t.expectNothing(at: Self.ms(22))
        #expect(t.endpoint.stats(of: id)?.flow.windowUpdatesSent == 1)
    }

    /// The sender's segments are at most half the largest window the peer offered (Linux
    /// `tcp_bound_to_half_wnd`): with a 2000-byte window and MSS 1460 it sends two 1000-byte
    /// segments, so the receiver's "second full-sized segment" ACK keeps the window moving.
    /// Before, it sent 1460 bytes, then held the 540-byte remainder (silly-window avoidance with
    /// Nagle) while the receiver delayed its ACK for the single segment: 40 ms per window.
    @Test func segmentsAreBoundedByHalfThePeerWindow() {
        let t = EngineTest.passiveOpen(config: EngineTest.config { $0.connection.flowControl.pacing = .off },
                                       peerWindow: 2000, mss: 1460)
        guard let id = t.endpoint.accept(port: 80) else {
            Issue.record("accept returned nil")
            return
        }
        _ = t.write(id, streamBytes(0..<4000))
        t.expectTransmit(Seg(flags: .ack, seq: ourISS + 1, ack: peerISS + 1, window: 4096, payload: streamBytes(0..<1000)),
                         at: Self.ms(20))
        t.expectTransmit(Seg(flags: .ack, seq: ourISS + 1001, ack: peerISS + 1, window: 4096, payload: streamBytes(1000..<2000)),
                         at: Self.ms(20))
        t.expectNothing(at: Self.ms(20))
        t.send(Seg(flags: .ack, seq: peerISS + 1, ack: ourISS + 2001, window: 2000), at: Self.ms(30))
        t.expectTransmit(Seg(flags: .ack, seq: ourISS + 2001, ack: peerISS + 1, window: 4096, payload: streamBytes(2000..<3000)),
                         at: Self.ms(30))
        t.expectTransmit(Seg(flags: [.ack, .psh], seq: ourISS + 3001, ack: peerISS + 1, window: 4096,
                             payload: streamBytes(3000..<4000)), at: Self.ms(30))
    }
}
