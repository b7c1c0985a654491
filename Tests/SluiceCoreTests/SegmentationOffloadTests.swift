import Testing
@testable import SluiceCore

/// Segmentation offload (`ConnectionConfig.segmentationOffloadBytes`, the TUN offload mode's
/// TSO): a data segment grows into a super-segment of whole full-sized segments, exactly those
/// plain mode would send at the same instant: the congestion window, the peer's window, the
/// unsent data and the pacer each bound it as they bound the segments it stands for;
/// retransmissions stay single segments. Active open from port 49152, MSS 1460, peer window
/// 65535, a 64 KiB send ring, no pacing unless a test sets a rate; whole segments at explicit
/// times.
@Suite struct SegmentationOffloadTests {
    static let ms = Instant.milliseconds
    static let mss = 1460

    /// Segments `i..<j` of the stream (1460 bytes each from ISS + 1), as one segment.
    static func segments(_ i: Int, _ j: Int, flags: TCPFlags = .ack) -> Seg {
        Seg(flags: flags, seq: ourISS + 1 + UInt32(i * mss), ack: peerISS + 1, window: 4096,
            payload: streamBytes(i * mss..<j * mss))
    }

    static func ack(upTo i: Int, window: UInt16 = 65535) -> Seg {
        Seg(flags: .ack, seq: peerISS + 1, ack: ourISS + 1 + UInt32(i * mss), window: window)
    }

    /// SYN at 0, SYN-ACK at 10 ms (window 65535; RTT 10 ms, RTO 200 ms), our ACK, then 40
    /// segments' worth written.
    static func connected(_ tweak: (inout EndpointConfig) -> Void = { _ in }) throws -> EngineTest {
        let t = EngineTest(config: EngineTest.config {
            $0.connection.sendBufferSize = 64 * 1024
            $0.connection.segmentationOffloadBytes = 65_535
            $0.connection.flowControl.pacing = .off   // the pacing test turns it on
            tweak(&$0)
        })
        t.local = SocketAddress(EngineTest.localAddress, 49152)
        t.peer = SocketAddress(EngineTest.peerAddress, 80)
        let id = try t.endpoint.connect(to: t.peer, at: .zero)
        let mssOption = TCPOptions(maximumSegmentSize: 1460)
        t.expectTransmit(Seg(flags: .syn, seq: ourISS, window: 4096, options: mssOption), at: .zero)
        t.send(Seg(flags: [.syn, .ack], seq: peerISS, ack: ourISS + 1, window: 65535, options: mssOption), at: ms(10))
        t.expectTransmit(Seg(flags: .ack, seq: ourISS + 1, ack: peerISS + 1, window: 4096), at: ms(10))
        #expect(t.write(id, streamBytes(0..<40 * mss)) == 40 * mss)
        return t
    }

    @Test func superSegmentsAreTheSegmentsTheWindowsLetGo() throws {
        let t = try Self.connected()
        // The initial window (RFC 6928: 10 segments) as one super-segment.
        t.expectTransmit(Self.segments(0, 10), at: Self.ms(10), segmentSize: Self.mss)
        t.expectNothing(at: Self.ms(10))
        // All acknowledged: slow start adds 2 segments (RFC 3465 L = 2·SMSS): 12 go.
        t.send(Self.ack(upTo: 10), at: Self.ms(20))
        t.expectTransmit(Self.segments(10, 22), at: Self.ms(20), segmentSize: Self.mss)
        t.expectNothing(at: Self.ms(20))
        // 4 of them acknowledged: cwnd 14 segments, 8 in flight: 6 more.
        t.send(Self.ack(upTo: 14), at: Self.ms(30))
        t.expectTransmit(Self.segments(22, 28), at: Self.ms(30), segmentSize: Self.mss)
        t.expectNothing(at: Self.ms(30))
        // All acknowledged, the peer's window down to 2 segments: those 2.
        t.send(Self.ack(upTo: 28, window: UInt16(2 * Self.mss)), at: Self.ms(40))
        t.expectTransmit(Self.segments(28, 30), at: Self.ms(40), segmentSize: Self.mss)
        t.expectNothing(at: Self.ms(40))
        // A window of 2000 bytes admits one full segment, which goes as a plain segment.
        t.send(Self.ack(upTo: 30, window: 2000), at: Self.ms(50))
        t.expectTransmit(Self.segments(30, 31), at: Self.ms(50))
        t.expectNothing(at: Self.ms(50))
        // The last 9 segments empty the ring: the super-segment carries PSH (Linux's GSO puts
        // it on the last piece only).
        t.send(Self.ack(upTo: 31), at: Self.ms(60))
        t.expectTransmit(Self.segments(31, 40, flags: [.ack, .psh]), at: Self.ms(60), segmentSize: Self.mss)
        t.expectNothing(at: Self.ms(60))
        #expect(t.endpoint.counters.superSegmentsSent == 5)
        #expect(t.endpoint.counters.packetsSent == 8)   // SYN, ACK, 5 super-segments, 1 segment
    }

    /// A super-segment is paced as its bytes: the run of `PacerEngineTests`
    /// (`lateWakeupSendsWhatFellDueAtOnce`) with offload on sends the same bytes at the same
    /// instants, each instant's segments joined.
    @Test func aSuperSegmentIsPacedAsTheSegmentsItStandsFor() throws {
        let t = try Self.connected { $0.connection.flowControl.pacing = .fixed(bytesPerSecond: 1_460_000) }
        // The burst allowance (two segments) at 10 ms, then one segment per millisecond.
        t.expectTransmit(Self.segments(0, 2), at: Self.ms(10), segmentSize: Self.mss)
        t.expectNothing(at: Self.ms(10))
        t.expectTransmit(Self.segments(2, 3), at: Self.ms(11))
        t.expectNothing(at: Self.ms(11))
        #expect(t.endpoint.nextDeadline == Self.ms(12))
        // A wake-up 3.5 ms late: the four segments due at 12–15 ms leave at once, as one.
        let late = Self.ms(15) + .microseconds(500)
        t.expectTransmit(Self.segments(3, 7), at: late, segmentSize: Self.mss)
        t.expectNothing(at: late)
        t.expectTransmit(Self.segments(7, 8), at: Self.ms(16))
        t.expectNothing(at: Self.ms(16))
    }

    /// A retransmission timeout resends one segment, not the super-segment that was lost
    /// (RFC 5681 §3.1: one segment after a timeout; RFC 6298 §5.4).
    @Test func aRetransmissionIsOneSegment() throws {
        let t = try Self.connected()
        t.expectTransmit(Self.segments(0, 10), at: Self.ms(10), segmentSize: Self.mss)
        t.expectNothing(at: Self.ms(209))
        t.expectTransmit(Self.segments(0, 1), at: Self.ms(210))
        t.expectNothing(at: Self.ms(210))
        // Its ACK lets two more go (cwnd 2 segments): still resends (below SND.MAX), so one at a
        // time, as plain mode sends them and skips SACKed ranges between them.
        t.send(Self.ack(upTo: 1), at: Self.ms(220))
        t.expectTransmit(Self.segments(1, 2), at: Self.ms(220))
        t.expectTransmit(Self.segments(2, 3), at: Self.ms(220))
        t.expectNothing(at: Self.ms(220))
    }

    /// Below two segments of room (or with the default 0) nothing is joined.
    @Test func offloadBelowTwoSegmentsIsOff() throws {
        let t = try Self.connected { $0.connection.segmentationOffloadBytes = 40 + 2 * 1460 - 1 }
        for i in 0..<10 { t.expectTransmit(Self.segments(i, i + 1), at: Self.ms(10)) }
        t.expectNothing(at: Self.ms(10))
        #expect(t.endpoint.counters.superSegmentsSent == 0)
    }
}
