import Testing
@testable import SluiceCore

/// Explicit backpressure at the listener: a full backlog either ignores a SYN (`.drop`) or
/// refuses it with RST (`.reset`), per listener, counted either way; memory stays bounded and
/// a legitimate client is served once the flood stops.
@Suite struct ListenerOverflowTests {
    static let floodSize = 1_000
    static let backlog = 16

    /// The flooder `i`: a distinct address (11.0.x.y) and port, which never answers.
    static func flooder(_ i: Int) -> SocketAddress {
        SocketAddress(IPv4Address(rawValue: 0x0B00_0000 + UInt32(i) + 1), UInt16(20_000 + i))
    }

    /// What the endpoint sent during the flood, by kind.
    struct Sent {
        var synACKs = 0
        var resets = 0
        var other = 0
    }

    /// 1,000 SYNs, one every millisecond, at a listener with backlog 16; every packet the
    /// endpoint sends is drained and classified; memory is checked after every SYN.
    /// SYN-RECEIVED gives up after 2 retransmissions (1 s + 2 s + 4 s), so the backlog empties.
    func flood(_ policy: ListenerOverflow) -> (EngineTest, Sent) {
        let t = EngineTest(config: EngineTest.config { $0.connection.maxSynRetransmissions = 2 })
        do { try t.endpoint.listen(port: 80, backlog: Self.backlog, overflow: policy) } catch {
            Issue.record("listen: \(error)")
        }
        var sent = Sent()
        func drain(at time: Instant) {
            while let (ip, tcp, seg) = t.transmit(at: time) {
                if seg.flags == [.syn, .ack] {
                    sent.synACKs += 1
                } else if seg.flags == [.rst, .ack] {
                    sent.resets += 1
                    // <SEQ=0><ACK=SEG.SEQ+1><CTL=RST,ACK>, to the flooder that sent the SYN.
                    let i = Int(tcp.destinationPort) - 20_000
                    #expect(ip.destination == Self.flooder(i).address)
                    #expect(seg == Seg(flags: [.rst, .ack], seq: 0, ack: UInt32(7_000 + i) + 1))
                } else {
                    sent.other += 1
                }
            }
        }
        for i in 0..<Self.floodSize {
            let time = Instant.milliseconds(Int64(i))
            t.send(Seg(flags: .syn, seq: UInt32(7_000 + i), window: 1000), at: time, from: Self.flooder(i))
            drain(at: time)
            // Bounded at every step: no more connections than the backlog, whatever arrives.
            #expect(t.endpoint.connectionCount <= Self.backlog)
            #expect((t.endpoint.listenerOccupancy(port: 80) ?? .max) <= Self.backlog)
        }
        t.expectInvariants()
        // The flood stops; the half-open connections time out (SYN-ACK retransmitted twice).
        for ms in stride(from: 1_000, through: 10_000, by: 10) { drain(at: .milliseconds(Int64(ms))) }
        #expect(t.endpoint.connectionCount == 0)
        #expect(t.endpoint.listenerOccupancy(port: 80) == 0)
        return (t, sent)
    }

    /// After the flood, a legitimate client connects at 10 s and is served.
    func expectServed(_ t: EngineTest) {
        let at = Instant.seconds(10)
        t.send(Seg(flags: .syn, seq: peerISS, window: 8192, options: TCPOptions(maximumSegmentSize: 1460)), at: at)
        t.expectTransmit(Seg(flags: [.syn, .ack], seq: ourISS, ack: peerISS + 1, window: 4096,
                             options: TCPOptions(maximumSegmentSize: 1460)), at: at)
        t.send(Seg(flags: .ack, seq: peerISS + 1, ack: ourISS + 1, window: 8192, payload: [1, 2, 3]), at: at + .milliseconds(10))
        #expect(t.events() == [.acceptable(port: 80)])
        guard let id = t.endpoint.accept(port: 80) else {
            Issue.record("the legitimate client was not accepted")
            return
        }
        #expect(t.read(id) == [1, 2, 3])
        #expect(t.write(id, [4, 5]) == 2)
        t.expectTransmit(Seg(flags: [.ack, .psh], seq: ourISS + 1, ack: peerISS + 4, window: 4093, payload: [4, 5]),
                         at: at + .milliseconds(10))
    }

    @Test func dropPolicyIgnoresTheSYNsBeyondTheBacklog() {
        let (t, sent) = flood(.drop)
        let expectedRefused = Self.floodSize - Self.backlog
        #expect(t.endpoint.listenerCounters(port: 80) == ListenerCounters(synsAccepted: 16, dropped: expectedRefused, refused: 0))
        #expect(t.endpoint.counters.droppedBacklogFull == expectedRefused)
        #expect(t.endpoint.counters.refusedBacklogFull == 0)
        // 16 SYN-ACKs, each retransmitted twice; no RST for a dropped SYN.
        #expect(sent.synACKs == Self.backlog * 3)
        #expect(sent.resets == 0)
        expectServed(t)
    }

    @Test func resetPolicyRefusesTheSYNsBeyondTheBacklog() {
        let (t, sent) = flood(.reset)
        let expectedRefused = Self.floodSize - Self.backlog
        #expect(t.endpoint.listenerCounters(port: 80) == ListenerCounters(synsAccepted: 16, dropped: 0, refused: expectedRefused))
        #expect(t.endpoint.counters.refusedBacklogFull == expectedRefused)
        #expect(t.endpoint.counters.droppedBacklogFull == 0)
        #expect(t.endpoint.counters.droppedResetQueueFull == 0)
        #expect(sent.synACKs == Self.backlog * 3)
        #expect(sent.resets == expectedRefused)
        expectServed(t)
    }

    @Test func resetPolicyAlsoAppliesWhenTheTableIsFull() throws {
        let t = EngineTest(config: EngineTest.config { $0.maxConnections = 2 })
        try t.endpoint.listen(port: 80, backlog: 16, overflow: .reset)
        for i in 0..<3 {
            t.send(Seg(flags: .syn, seq: 7_000, window: 1000), at: .zero, from: Self.flooder(i))
        }
        #expect(t.endpoint.connectionCount == 2)
        #expect(t.endpoint.listenerCounters(port: 80)?.refused == 1)
        #expect(t.endpoint.counters.droppedConnectionLimit == 0)
        t.expectTransmit(Seg(flags: [.rst, .ack], seq: 0, ack: 7_001), at: .zero, to: Self.flooder(2))
    }

    @Test func policiesArePerListener() throws {
        let t = EngineTest()
        try t.endpoint.listen(port: 80, backlog: 1, overflow: .reset)
        try t.endpoint.listen(port: 81, backlog: 1, overflow: .drop)
        for port: UInt16 in [80, 81] {
            for i in 0..<2 {
                t.send(Seg(flags: .syn, seq: 7_000, window: 1000), at: .zero, from: Self.flooder(i),
                       to: SocketAddress(EngineTest.localAddress, port))
            }
        }
        #expect(t.endpoint.listenerCounters(port: 80) == ListenerCounters(synsAccepted: 1, dropped: 0, refused: 1))
        #expect(t.endpoint.listenerCounters(port: 81) == ListenerCounters(synsAccepted: 1, dropped: 1, refused: 0))
        #expect(t.endpoint.listenerCounters(port: 82) == nil)
    }
}
