import Testing
@testable import SluiceCore

/// Issue 10 item 2: after a SYN timeout the RTO must not stay backed off, nor be inflated by an
/// RTT "sample" that times the SYN timeout itself (RFC 6298 §3 Karn, §5.7). Over TUN a Linux
/// receiver whose SYN-ACK echoed the first (lost) SYN's TSval gave Sluice a 1 s sample: SRTT
/// 1 s, RTO 3 s, a lost segment retransmitted after 3.2 s and a zero window probed after more
/// than 1.28 s although the path's RTT was 0.16 ms. Our TSval at t ms is 1000 + t.
@Suite struct SYNTimeoutRTOTests: TimestampScript {
    static let ms = Instant.milliseconds

    static func config(timestamps: Bool) -> EndpointConfig {
        EngineTest.config {
            $0.connection.timestampsEnabled = timestamps
            $0.connection.flowControl.pacing = .off
        }
    }

    /// The SYN at 0 is lost, the retransmission at 1 s gets a SYN-ACK that echoes the first
    /// SYN's TSval (as a Linux request socket does): no RTT sample from it. The first data ACK
    /// gives the real 1 ms RTT, so the RTO is the 200 ms minimum and a lost segment is
    /// retransmitted 200 ms after it left.
    @Test func synACKEchoingTheFirstSYNGivesNoSample() throws {
        let t = EngineTest(config: Self.config(timestamps: true))
        t.local = SocketAddress(EngineTest.localAddress, 49152)
        t.peer = SocketAddress(EngineTest.peerAddress, 80)
        let id = try t.endpoint.connect(to: t.peer, at: .zero)
        let syn = TCPOptions(maximumSegmentSize: 1460, timestamps: TCPTimestamps(value: Self.tsval(0), echoReply: 0))
        t.expectTransmit(Seg(flags: .syn, seq: ourISS, window: 4096, options: syn), at: .zero)
        t.expectNothing(at: Self.ms(999))
        let resent = TCPOptions(maximumSegmentSize: 1460, timestamps: TCPTimestamps(value: Self.tsval(1000), echoReply: 0))
        t.expectTransmit(Seg(flags: .syn, seq: ourISS, window: 4096, options: resent), at: Self.ms(1000))
        t.send(Seg(flags: [.syn, .ack], seq: peerISS, ack: ourISS + 1, window: 8192,
                   options: TCPOptions(maximumSegmentSize: 1460, timestamps: TCPTimestamps(value: 300, echoReply: Self.tsval(0)))),
               at: Self.ms(1010))
        Self.expectAck(t, ack: peerISS + 1, window: 4096, echo: 300, atMs: 1010)
        var stats = try #require(t.endpoint.stats(of: id))
        #expect(stats.smoothedRTT == nil)
        #expect(stats.staleTimestampEchoes == 1)
        #expect(stats.retransmissionTimeout == .seconds(3))   // RFC 6298 §5.7, backoff gone

        // Data, acknowledged 1 ms later: SRTT 1 ms, RTO 200 ms (the minimum).
        _ = t.write(id, streamBytes(0..<100))
        t.expectTransmit(Seg(flags: [.ack, .psh], seq: ourISS + 1, ack: peerISS + 1, window: 4096,
                             options: Self.ts(Self.tsval(1020), 300), payload: streamBytes(0..<100)), at: Self.ms(1020))
        t.send(Seg(flags: .ack, seq: peerISS + 1, ack: ourISS + 101, window: 8192, options: Self.ts(301, Self.tsval(1020))),
               at: Self.ms(1021))
        stats = try #require(t.endpoint.stats(of: id))
        #expect(stats.smoothedRTT == .milliseconds(1))
        #expect(stats.retransmissionTimeout == .milliseconds(200))

        // The next segment is lost: retransmitted one minimum RTO later, not seconds later.
        _ = t.write(id, streamBytes(100..<200))
        t.expectTransmit(Seg(flags: [.ack, .psh], seq: ourISS + 101, ack: peerISS + 1, window: 4096,
                             options: Self.ts(Self.tsval(1030), 301), payload: streamBytes(100..<200)), at: Self.ms(1030))
        t.expectNothing(at: Self.ms(1229))
        t.expectTransmit(Seg(flags: [.ack, .psh], seq: ourISS + 101, ack: peerISS + 1, window: 4096,
                             options: Self.ts(Self.tsval(1230), 301), payload: streamBytes(100..<200)), at: Self.ms(1230))
    }

    /// Without timestamps the handshake after a SYN timeout gives no sample (Karn): the RTO is
    /// re-initialized to 3 s with no backoff left from the SYN (RFC 6298 §5.7), and the first
    /// data ACK's sample replaces it.
    @Test func rtoAfterSYNTimeoutWithoutSampleIsThreeSeconds() throws {
        let t = EngineTest(config: Self.config(timestamps: false))
        t.local = SocketAddress(EngineTest.localAddress, 49152)
        t.peer = SocketAddress(EngineTest.peerAddress, 80)
        let id = try t.endpoint.connect(to: t.peer, at: .zero)
        let syn = TCPOptions(maximumSegmentSize: 1460)
        t.expectTransmit(Seg(flags: .syn, seq: ourISS, window: 4096, options: syn), at: .zero)
        t.expectTransmit(Seg(flags: .syn, seq: ourISS, window: 4096, options: syn), at: Self.ms(1000))
        t.send(Seg(flags: [.syn, .ack], seq: peerISS, ack: ourISS + 1, window: 8192, options: syn), at: Self.ms(1010))
        t.expectTransmit(Seg(flags: .ack, seq: ourISS + 1, ack: peerISS + 1, window: 4096), at: Self.ms(1010))
        #expect(try #require(t.endpoint.stats(of: id)).retransmissionTimeout == .seconds(3))

        _ = t.write(id, streamBytes(0..<100))
        t.expectTransmit(Seg(flags: [.ack, .psh], seq: ourISS + 1, ack: peerISS + 1, window: 4096,
                             payload: streamBytes(0..<100)), at: Self.ms(1020))
        t.expectNothing(at: Self.ms(4019))
        t.expectTransmit(Seg(flags: [.ack, .psh], seq: ourISS + 1, ack: peerISS + 1, window: 4096,
                             payload: streamBytes(0..<100)), at: Self.ms(4020))
        // Acknowledged 1 ms after the retransmission: Karn, no sample; the next segment is timed.
        t.send(Seg(flags: .ack, seq: peerISS + 1, ack: ourISS + 101, window: 8192), at: Self.ms(4021))
        _ = t.write(id, streamBytes(100..<200))
        t.expectTransmit(Seg(flags: [.ack, .psh], seq: ourISS + 101, ack: peerISS + 1, window: 4096,
                             payload: streamBytes(100..<200)), at: Self.ms(4030))
        t.send(Seg(flags: .ack, seq: peerISS + 1, ack: ourISS + 201, window: 8192), at: Self.ms(4040))
        #expect(try #require(t.endpoint.stats(of: id)).retransmissionTimeout == .milliseconds(200))
    }
}
