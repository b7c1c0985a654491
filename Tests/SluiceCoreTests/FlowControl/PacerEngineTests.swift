import Testing
@testable import SluiceCore

/// The engine tells its pacer when data waits on it alone (`Pacer.hold()`), so that a run loop
/// that wakes up late sends what fell due meanwhile (issue 10, pacing on a real clock). Fixed
/// pacing at 1,460,000 B/s: one 1460-byte segment per millisecond; the peer's window (65535) and
/// the initial congestion window (10 segments) leave room for every segment sent here.
@Suite struct PacerEngineTests {
    static let ms = Instant.milliseconds

    /// Segment `i` of the stream (1460 bytes at ISS + 1 + 1460 i) as the engine sends it.
    static func segment(_ i: Int) -> Seg {
        Seg(flags: .ack, seq: ourISS + 1 + UInt32(i * 1460), ack: peerISS + 1, window: 4096,
            payload: streamBytes(i * 1460..<(i + 1) * 1460))
    }

    @Test func lateWakeupSendsWhatFellDueAtOnce() throws {
        let t = EngineTest(config: EngineTest.config {
            $0.connection.sendBufferSize = 64 * 1024
            $0.connection.flowControl.pacing = .fixed(bytesPerSecond: 1_460_000)
        })
        t.local = SocketAddress(EngineTest.localAddress, 49152)
        t.peer = SocketAddress(EngineTest.peerAddress, 80)
        let id = try t.endpoint.connect(to: t.peer, at: .zero)
        let mss = TCPOptions(maximumSegmentSize: 1460)
        t.expectTransmit(Seg(flags: .syn, seq: ourISS, window: 4096, options: mss), at: .zero)
        t.send(Seg(flags: [.syn, .ack], seq: peerISS, ack: ourISS + 1, window: 65535, options: mss), at: Self.ms(10))
        t.expectTransmit(Seg(flags: .ack, seq: ourISS + 1, ack: peerISS + 1, window: 4096), at: Self.ms(10))
        #expect(t.write(id, streamBytes(0..<20 * 1460)) == 20 * 1460)

        // The burst allowance (two segments) at 10 ms, then one segment per millisecond.
        t.expectTransmit(Self.segment(0), at: Self.ms(10))
        t.expectTransmit(Self.segment(1), at: Self.ms(10))
        t.expectNothing(at: Self.ms(10))
        t.expectTransmit(Self.segment(2), at: Self.ms(11))
        t.expectNothing(at: Self.ms(11))
        #expect(t.endpoint.nextDeadline == Self.ms(12))

        // The run loop wakes up 3.5 ms late: the four segments due at 12, 13, 14 and 15 ms
        // leave at once (without the catch-up: two, and the rate would drop for good).
        let late = Self.ms(15) + .microseconds(500)
        for i in 3...6 { t.expectTransmit(Self.segment(i), at: late) }
        t.expectNothing(at: late)
        t.expectTransmit(Self.segment(7), at: Self.ms(16))
        t.expectNothing(at: Self.ms(16))

        // At 16.5 ms the pacer alone holds the data again (`hold()`). At 16.6 ms the peer
        // acknowledges everything and closes its window: now the window holds the data
        // (`Pacer.release()`). When it reopens at 30 ms, the wait was idleness for the pacer:
        // only the burst allowance (two segments) leaves at once, then one per millisecond —
        // not the 10 ms of catch-up a backlogged sender would get (eleven segments).
        t.expectNothing(at: Self.ms(16) + .microseconds(500))
        t.send(Seg(flags: .ack, seq: peerISS + 1, ack: ourISS + 1 + 8 * 1460, window: 0), at: Self.ms(16) + .microseconds(600))
        t.expectNothing(at: Self.ms(16) + .microseconds(600))
        t.expectNothing(at: Self.ms(17))
        t.send(Seg(flags: .ack, seq: peerISS + 1, ack: ourISS + 1 + 8 * 1460, window: 65535), at: Self.ms(30))
        t.expectTransmit(Self.segment(8), at: Self.ms(30))
        t.expectTransmit(Self.segment(9), at: Self.ms(30))
        t.expectNothing(at: Self.ms(30))
        t.expectTransmit(Self.segment(10), at: Self.ms(31))
    }
}
