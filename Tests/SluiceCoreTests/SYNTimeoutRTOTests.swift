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

    /// The SYN at 0 gets no answer in time; the peer's SYN-ACK (its own retransmission, echoing
    /// our only SYN) arrives 100 µs after our retransmission timer fell due, before the timer was
    /// handled: no sample (it would say 1 s), the RTO stays the initial 1 s, no backoff.
    @Test func synACKAfterTheSYNTimerExpiredGivesNoSample() throws {
        let t = EngineTest(config: Self.config(timestamps: true))
        let id = try Self.synACKArrives(at: Self.ms(1000) + .microseconds(100), t)
        let stats = try #require(t.endpoint.stats(of: id))
        #expect(stats.smoothedRTT == nil)
        #expect(stats.lateHandshakeACKs == 1)
        #expect(stats.timestampRTTSamples == 0)
        #expect(stats.retransmissionTimeout == .seconds(1))
    }

    /// The contrast: the same SYN-ACK 1 ms before the timer falls due is a valid sample of 999 ms
    /// (RFC 6298 §2.2: SRTT 999 ms, RTO = SRTT + 4 × 499.5 ms).
    @Test func synACKBeforeTheSYNTimerExpiresIsASample() throws {
        let t = EngineTest(config: Self.config(timestamps: true))
        let id = try Self.synACKArrives(at: Self.ms(999), t)
        let stats = try #require(t.endpoint.stats(of: id))
        #expect(stats.smoothedRTT == .milliseconds(999))
        #expect(stats.lateHandshakeACKs == 0)
        #expect(stats.timestampRTTSamples == 1)
        #expect(stats.retransmissionTimeout == .milliseconds(2997))
    }

    /// Connects at 0 and delivers the peer's SYN-ACK echoing our SYN's TSval at `time`, then
    /// expects our ACK at once.
    static func synACKArrives(at time: Instant, _ t: EngineTest) throws -> ConnectionID {
        t.local = SocketAddress(EngineTest.localAddress, 49152)
        t.peer = SocketAddress(EngineTest.peerAddress, 80)
        let id = try t.endpoint.connect(to: t.peer, at: .zero)
        let syn = TCPOptions(maximumSegmentSize: 1460, timestamps: TCPTimestamps(value: tsval(0), echoReply: 0))
        t.expectTransmit(Seg(flags: .syn, seq: ourISS, window: 4096, options: syn), at: .zero)
        t.expectNothing(at: ms(998))
        t.send(Seg(flags: [.syn, .ack], seq: peerISS, ack: ourISS + 1, window: 8192,
                   options: TCPOptions(maximumSegmentSize: 1460, timestamps: TCPTimestamps(value: 300, echoReply: tsval(0)))),
               at: time)
        t.expectTransmit(Seg(flags: .ack, seq: ourISS + 1, ack: peerISS + 1, window: 4096,
                             options: ts(tsval(time.nanoseconds / 1_000_000), 300)), at: time)
        return id
    }
}
