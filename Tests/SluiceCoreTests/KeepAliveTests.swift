import Testing
@testable import SluiceCore

/// Keep-alive (RFC 9293 §3.8.4, RFC 1122 §4.2.3.6) against a scripted peer. The connection from
/// `makeEstablished` last heard from the peer at 10 ms; with an idle time of 10 s and an
/// interval of 2 s, probes are due at 10.010 s, 12.010 s, 14.010 s, ...
@Suite struct KeepAliveTests {
    static let ms = Instant.milliseconds
    /// A probe: `<SEQ=SND.NXT−1><ACK=RCV.NXT><CTL=ACK>`, no data.
    static let probe = Seg(flags: .ack, seq: ourISS, ack: peerISS + 1, window: 4096)

    static func config(probes: Int = 3) -> EndpointConfig {
        EngineTest.config {
            $0.connection.keepAlive = KeepAliveConfig(enabled: true, idle: .seconds(10), interval: .seconds(2), probes: probes)
        }
    }

    @Test func keepAliveIsOffByDefault() {
        #expect(ConnectionConfig().keepAlive == KeepAliveConfig(enabled: false, idle: .seconds(7200), interval: .seconds(75), probes: 9))
        let (t, id) = EngineTest.makeEstablished()
        #expect(t.endpoint.nextDeadline == nil)
        t.expectNothing(at: .seconds(3 * 3600))
        #expect(t.endpoint.state(of: id) == .established)
    }

    @Test func unansweredProbesAtTheConfiguredTimesThenAbort() {
        let (t, id) = EngineTest.makeEstablished(config: Self.config())
        #expect(t.endpoint.nextDeadline == Self.ms(10_010))
        t.expectNothing(at: Self.ms(10_009))
        t.expectTransmit(Self.probe, at: Self.ms(10_010))
        t.expectNothing(at: Self.ms(10_010))
        t.expectNothing(at: Self.ms(12_009))
        t.expectTransmit(Self.probe, at: Self.ms(12_010))
        t.expectNothing(at: Self.ms(14_009))
        t.expectTransmit(Self.probe, at: Self.ms(14_010))
        #expect(t.endpoint.stats(of: id)?.keepAliveProbesSent == 3)
        #expect(t.events() == [])
        // One interval after the third unanswered probe: abort, with a RST <SEQ=SND.NXT>.
        t.expectNothing(at: Self.ms(16_009))
        #expect(t.endpoint.state(of: id) == .established)
        t.expectTransmit(Seg(flags: .rst, seq: ourISS + 1), at: Self.ms(16_010))
        t.expectNothing(at: Self.ms(16_010))
        #expect(t.events() == [.closed(id, .keepAliveTimeout)])
        #expect(t.endpoint.state(of: id) == .closed)
        #expect(t.endpoint.nextDeadline == nil)
    }

    @Test func anAnsweredProbeKeepsTheConnectionUp() {
        let (t, id) = EngineTest.makeEstablished(config: Self.config())
        t.expectTransmit(Self.probe, at: Self.ms(10_010))
        t.expectTransmit(Self.probe, at: Self.ms(12_010))
        // The peer is alive: its ACK (to the probe's old sequence number) restarts the idle time.
        t.send(Seg(flags: .ack, seq: peerISS + 1, ack: ourISS + 1, window: 8192), at: Self.ms(12_020))
        t.expectNothing(at: Self.ms(12_020))
        t.expectNothing(at: Self.ms(22_019))
        t.expectTransmit(Self.probe, at: Self.ms(22_020))
        t.send(Seg(flags: .ack, seq: peerISS + 1, ack: ourISS + 1, window: 8192), at: Self.ms(22_030))
        // Many idle periods, each answered: never aborted.
        var heard: Int64 = 22_030
        for _ in 0..<5 {
            t.expectNothing(at: Self.ms(heard + 9_999))
            t.expectTransmit(Self.probe, at: Self.ms(heard + 10_000))
            heard += 10_005
            t.send(Seg(flags: .ack, seq: peerISS + 1, ack: ourISS + 1, window: 8192), at: Self.ms(heard))
        }
        #expect(t.endpoint.state(of: id) == .established)
        #expect(t.events() == [])
        #expect(t.endpoint.stats(of: id)?.keepAliveProbesSent == 8)
    }

    @Test func trafficFromThePeerPostponesTheFirstProbe() {
        let (t, id) = EngineTest.makeEstablished(config: Self.config())
        t.send(Seg(flags: .ack, seq: peerISS + 1, ack: ourISS + 1, window: 8192, payload: [1, 2, 3]), at: Self.ms(5_000))
        t.expectTransmit(Seg(flags: .ack, seq: ourISS + 1, ack: peerISS + 4, window: 4093), at: Self.ms(5_040))
        t.expectNothing(at: Self.ms(14_999))
        t.expectTransmit(Seg(flags: .ack, seq: ourISS, ack: peerISS + 4, window: 4093), at: Self.ms(15_000))
        #expect(t.read(id) == [1, 2, 3])
    }

    @Test func noProbesWhileDataIsInFlight() {
        let config = EngineTest.config {
            $0.connection.keepAlive = KeepAliveConfig(enabled: true, idle: .milliseconds(100), interval: .milliseconds(50), probes: 2)
        }
        let (t, id) = EngineTest.makeEstablished(config: config)
        _ = t.write(id, streamBytes(0..<10))
        let data = Seg(flags: [.ack, .psh], seq: ourISS + 1, ack: peerISS + 1, window: 4096, payload: streamBytes(0..<10))
        t.expectTransmit(data, at: Self.ms(20))
        // The retransmission timer watches the peer (200 ms); no keep-alive at 110 ms.
        t.expectNothing(at: Self.ms(219))
        t.expectTransmit(data, at: Self.ms(220))
        t.send(Seg(flags: .ack, seq: peerISS + 1, ack: ourISS + 11, window: 8192), at: Self.ms(230))
        // All acknowledged: keep-alive resumes from the last segment heard.
        t.expectNothing(at: Self.ms(329))
        t.expectTransmit(Seg(flags: .ack, seq: ourISS + 10, ack: peerISS + 1, window: 4096), at: Self.ms(330))
    }

    @Test func probesCarryTimestampsWhenNegotiated() {
        let (t, _) = TimestampTests.makeEstablished {
            $0.connection.keepAlive = KeepAliveConfig(enabled: true, idle: .seconds(10), interval: .seconds(2), probes: 3)
        }
        t.expectTransmit(Seg(flags: .ack, seq: ourISS, ack: peerISS + 1, window: 4096,
                             options: TCPOptions(timestamps: TCPTimestamps(value: TimestampTests.tsval(10_010), echoReply: 110))),
                         at: Self.ms(10_010))
    }
}
