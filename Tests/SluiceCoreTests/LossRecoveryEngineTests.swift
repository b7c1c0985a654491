import Testing
@testable import SluiceCore

/// Loss recovery in the connection, with whole-segment expectations at explicit times:
/// fast retransmit (RFC 5681 §3.2), NewReno partial ACKs (RFC 6582), SACK recovery (RFC 6675).
@Suite struct LossRecoveryEngineTests {
    static let mss = 1460

    /// Established passive connection (as `makeEstablished`) with a 32 KiB send ring; `sack`
    /// negotiates SACK. The peer advertises 65,535 bytes; RTO 200 ms after a 10 ms sample.
    static func makeSender(sack: Bool) -> (EngineTest, ConnectionID) {
        let config = EngineTest.config { c in
            c.connection.sendBufferSize = 32 * 1024
            c.connection.sackEnabled = sack
            c.connection.flowControl.pacing = .off   // whole windows at one instant
        }
        let t = EngineTest(config: config)
        do { try t.endpoint.listen(port: 80) } catch { Issue.record("listen failed: \(error)") }
        t.send(Seg(flags: .syn, seq: peerISS, window: 65535,
                   options: TCPOptions(maximumSegmentSize: 1460, sackPermitted: sack)), at: .zero)
        t.expectTransmit(Seg(flags: [.syn, .ack], seq: ourISS, ack: peerISS + 1, window: 4096,
                             options: TCPOptions(maximumSegmentSize: 1460, sackPermitted: sack)), at: .zero)
        t.send(Seg(flags: .ack, seq: peerISS + 1, ack: ourISS + 1, window: 65535), at: .milliseconds(10))
        _ = t.events()
        guard let id = t.endpoint.accept(port: 80) else {
            Issue.record("accept returned nil")
            return (t, ConnectionID(index: 0, generation: 0))
        }
        return (t, id)
    }

    /// Segment `i` (0-based) of the stream: seq 1001 + 1460·i.
    static func seq(_ i: Int) -> UInt32 { ourISS + 1 + UInt32(i * mss) }
    static func data(_ i: Int, last: Bool = false) -> Seg {
        Seg(flags: last ? [.ack, .psh] : .ack, seq: seq(i), ack: peerISS + 1, window: 4096,
            payload: streamBytes(i * mss ..< (i + 1) * mss))
    }
    static func ack(_ n: UInt32, at t: EngineTest, time: Instant, sack: [(UInt32, UInt32)] = []) {
        var options = TCPOptions()
        options.sackBlocks = SACKBlocks(sack.map { SACKBlock(left: SequenceNumber($0.0), right: SequenceNumber($0.1)) })
        t.send(Seg(flags: .ack, seq: peerISS + 1, ack: n, window: 65535, options: options), at: time)
    }

    /// Writes `count` full segments at 20 ms and expects all of them at once (IW = 10 segments).
    static func sendSegments(_ count: Int, _ t: EngineTest, _ id: ConnectionID) {
        #expect(t.write(id, streamBytes(0 ..< count * mss)) == count * mss)
        for i in 0..<count { t.expectTransmit(data(i, last: i == count - 1), at: .milliseconds(20)) }
        t.expectNothing(at: .milliseconds(20))
    }

    @Test func initialWindowIsTenSegments() {
        let (t, id) = Self.makeSender(sack: false)
        #expect(t.write(id, streamBytes(0 ..< 12 * Self.mss)) == 12 * Self.mss)
        for i in 0..<10 { t.expectTransmit(Self.data(i), at: .milliseconds(20)) }
        t.expectNothing(at: .milliseconds(20))   // RFC 6928: 14,600 bytes, then wait for ACKs
        #expect(t.endpoint.stats(of: id)?.congestionWindow == 14_600)
    }

    @Test func threeDuplicateAcksTriggerOneFastRetransmit() {
        let (t, id) = Self.makeSender(sack: false)
        Self.sendSegments(5, t, id)
        // Segment 0 is lost; the peer acknowledges 1001 for each of segments 1, 2, 3, 4.
        Self.ack(Self.seq(0), at: t, time: .milliseconds(30))
        t.expectNothing(at: .milliseconds(30))
        Self.ack(Self.seq(0), at: t, time: .milliseconds(31))
        t.expectNothing(at: .milliseconds(31))
        Self.ack(Self.seq(0), at: t, time: .milliseconds(32))
        t.expectTransmit(Self.data(0), at: .milliseconds(32))   // long before the 220 ms RTO
        t.expectNothing(at: .milliseconds(32))
        Self.ack(Self.seq(0), at: t, time: .milliseconds(33))
        t.expectNothing(at: .milliseconds(33))                  // only one fast retransmit
        let stats = t.endpoint.stats(of: id)
        #expect(stats?.fastRetransmits == 1)
        #expect(stats?.slowStartThreshold == 3650)              // FlightSize 7300 / 2
        #expect(stats?.retransmissionTimeouts == 0)
        // The full ACK ends recovery.
        Self.ack(Self.seq(5), at: t, time: .milliseconds(40))
        t.expectNothing(at: .milliseconds(40))
        #expect(t.endpoint.stats(of: id)?.bytesRetransmitted == Self.mss)
    }

    @Test func newRenoPartialAckRetransmitsTheNextHole() {
        let (t, id) = Self.makeSender(sack: false)
        Self.sendSegments(5, t, id)
        // Segments 0 and 2 are lost.
        for ms in 30...32 { Self.ack(Self.seq(0), at: t, time: .milliseconds(Int64(ms))) }
        t.expectTransmit(Self.data(0), at: .milliseconds(32))
        // The retransmission fills the first hole: a partial ACK up to segment 2.
        Self.ack(Self.seq(2), at: t, time: .milliseconds(42))
        t.expectTransmit(Self.data(2), at: .milliseconds(42))
        t.expectNothing(at: .milliseconds(42))
        Self.ack(Self.seq(5), at: t, time: .milliseconds(52))
        t.expectNothing(at: .milliseconds(52))
        let stats = t.endpoint.stats(of: id)
        #expect(stats?.fastRetransmits == 1)
        #expect(stats?.bytesRetransmitted == 2 * Self.mss)
        #expect(stats?.retransmissionTimeouts == 0)
    }

    @Test func sackRecoverySkipsWhatThePeerHolds() {
        let (t, id) = Self.makeSender(sack: true)
        Self.sendSegments(7, t, id)
        // Segments 0 and 2 are lost; the peer SACKs 1, 3, 4, 5, 6 as they arrive.
        let s = Self.seq
        Self.ack(s(0), at: t, time: .milliseconds(30), sack: [(s(1), s(2))])
        t.expectNothing(at: .milliseconds(30))
        Self.ack(s(0), at: t, time: .milliseconds(31), sack: [(s(3), s(4)), (s(1), s(2))])
        t.expectNothing(at: .milliseconds(31))
        Self.ack(s(0), at: t, time: .milliseconds(32), sack: [(s(3), s(5)), (s(1), s(2))])
        // Third duplicate: retransmit segment 0. cwnd = ssthresh = 10,220 / 2 = 5,110; pipe is
        // segment 0 resent, segment 2 (not yet lost: only 2,920 bytes SACKed above it) and
        // segments 5 and 6: 5,840 bytes, so nothing more goes.
        t.expectTransmit(Self.data(0), at: .milliseconds(32))
        t.expectNothing(at: .milliseconds(32))
        // Segment 5 SACKed: segment 2 now has 4,380 bytes SACKed above it and is lost; pipe is
        // 2,920, so one segment fits: segment 2, skipping segment 1, which the peer holds.
        Self.ack(s(0), at: t, time: .milliseconds(33), sack: [(s(3), s(6)), (s(1), s(2))])
        t.expectTransmit(Self.data(2), at: .milliseconds(33))
        t.expectNothing(at: .milliseconds(33))
        // Segment 6 SACKed too: no hole is left to repair and nothing new waits.
        Self.ack(s(0), at: t, time: .milliseconds(34), sack: [(s(3), s(7)), (s(1), s(2))])
        t.expectNothing(at: .milliseconds(34))
        // The repairs arrive: a partial ACK, then the full one.
        Self.ack(s(2), at: t, time: .milliseconds(42), sack: [(s(3), s(7))])
        t.expectNothing(at: .milliseconds(42))
        Self.ack(s(7), at: t, time: .milliseconds(43))
        t.expectNothing(at: .milliseconds(43))
        let stats = t.endpoint.stats(of: id)
        #expect(stats?.fastRetransmits == 1)
        #expect(stats?.bytesRetransmitted == 2 * Self.mss)   // segment 1 was never resent
        #expect(stats?.retransmissionTimeouts == 0)
    }

    @Test func timeoutCollapsesTheWindowToOneSegment() {
        let (t, id) = Self.makeSender(sack: false)
        Self.sendSegments(3, t, id)
        // Nothing comes back: at 220 ms the RTO resends segment 0 alone (cwnd = 1 SMSS).
        t.expectNothing(at: .milliseconds(219))
        t.expectTransmit(Self.data(0), at: .milliseconds(220))
        t.expectNothing(at: .milliseconds(220))
        #expect(t.endpoint.stats(of: id)?.congestionWindow == Self.mss)
        #expect(t.endpoint.stats(of: id)?.slowStartThreshold == 2 * Self.mss)   // max(4380 / 2, 2·SMSS)
        // Its ACK opens the window to two segments (slow start): segments 1 and 2 go again.
        Self.ack(Self.seq(1), at: t, time: .milliseconds(230))
        t.expectTransmit(Self.data(1), at: .milliseconds(230))
        t.expectTransmit(Self.data(2, last: true), at: .milliseconds(230))
        t.expectNothing(at: .milliseconds(230))
    }

    @Test func lostSynLeavesAnInitialWindowOfOneSegment() throws {
        let t = EngineTest(config: EngineTest.config { $0.connection.sendBufferSize = 32 * 1024 })
        let id = try t.connectFromPort49152()
        let syn = Seg(flags: .syn, seq: ourISS, window: 4096, options: TCPOptions(maximumSegmentSize: 1460))
        t.expectTransmit(syn, at: .zero)
        t.expectTransmit(syn, at: .seconds(1))   // the first SYN was lost
        t.send(Seg(flags: [.syn, .ack], seq: peerISS, ack: ourISS + 1, window: 65535,
                   options: TCPOptions(maximumSegmentSize: 1460)), at: .milliseconds(1010))
        t.expectTransmit(Seg(flags: .ack, seq: ourISS + 1, ack: peerISS + 1, window: 4096), at: .milliseconds(1010))
        #expect(t.write(id, streamBytes(0 ..< 3 * Self.mss)) == 3 * Self.mss)
        // RFC 6928 §2: one segment, not ten.
        t.expectTransmit(Self.data(0), at: .milliseconds(1020))
        t.expectNothing(at: .milliseconds(1020))
        #expect(t.endpoint.stats(of: id)?.congestionWindow == Self.mss)
    }

    @Test func acksOfAClosedWindowAreNotDuplicateAcks() {
        let (t, id) = Self.makeSender(sack: false)
        Self.sendSegments(3, t, id)
        // The reader stalls: the peer takes segment 0 and closes its window, then repeats that
        // ACK. RFC 5681 §2 counts none of them as a loss signal (the window changed, then is 0).
        for ms in Int64(30)...33 {
            t.send(Seg(flags: .ack, seq: peerISS + 1, ack: Self.seq(1), window: 0), at: .milliseconds(ms))
            t.expectNothing(at: .milliseconds(ms))
        }
        #expect(t.endpoint.stats(of: id)?.fastRetransmits == 0)
    }

    @Test func idleConnectionRestartsFromTheInitialWindow() {
        let (t, id) = Self.makeSender(sack: false)
        Self.sendSegments(10, t, id)
        Self.ack(Self.seq(10), at: t, time: .milliseconds(30))
        #expect(t.endpoint.stats(of: id)?.congestionWindow == 17_520)   // 14,600 + 2·SMSS
        // Idle for far more than one RTO (200 ms): RFC 5681 §4.1 restarts from IW = 10 segments.
        #expect(t.write(id, streamBytes(0 ..< 12 * Self.mss)) == 12 * Self.mss)
        for i in 0..<10 {
            t.expectTransmit(Seg(flags: .ack, seq: Self.seq(10 + i), ack: peerISS + 1, window: 4096,
                                 payload: streamBytes(i * Self.mss ..< (i + 1) * Self.mss)), at: .seconds(1))
        }
        t.expectNothing(at: .seconds(1))
        #expect(t.endpoint.stats(of: id)?.congestionWindow == 14_600)
    }

    @Test func resendAfterATimeoutSkipsWhatThePeerSACKed() {
        let (t, id) = Self.makeSender(sack: true)
        Self.sendSegments(4, t, id)
        // Nothing comes back: the RTO resends segment 0 alone and forgets SACK information.
        t.expectTransmit(Self.data(0), at: .milliseconds(220))
        t.expectNothing(at: .milliseconds(220))
        // Segment 1 was lost too; 2 and 3 arrived. cwnd is now 2 segments, but only segment 1
        // goes: 2 and 3 are SACKed (RFC 6675 §5.1).
        Self.ack(Self.seq(1), at: t, time: .milliseconds(230), sack: [(Self.seq(2), Self.seq(4))])
        t.expectTransmit(Self.data(1), at: .milliseconds(230))
        t.expectNothing(at: .milliseconds(230))
        Self.ack(Self.seq(4), at: t, time: .milliseconds(240))
        t.expectNothing(at: .milliseconds(240))
        #expect(t.endpoint.stats(of: id)?.bytesRetransmitted == 2 * Self.mss)
    }
}
