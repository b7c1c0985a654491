import Testing
@testable import SluiceCore

/// The endpoint around the connections: options negotiated on the SYN, RST in every
/// synchronized state, bounds (reassembly ranges, ports, events), handles.
@Suite struct EndpointTests {
    static let ms = Instant.milliseconds

    // MARK: - Options negotiated on the SYN

    @Test func synOptionsAreNegotiatedAndUsed() throws {
        let config = EngineTest.config {
            $0.connection.receiveBufferSize = 1 << 20
            $0.connection.windowScaleEnabled = true
            $0.connection.sackEnabled = true
            $0.connection.timestampsEnabled = true
        }
        let t = EngineTest(config: config)
        try t.endpoint.listen(port: 80)
        t.send(Seg(flags: .syn, seq: peerISS, window: 65535,
                   options: TCPOptions(maximumSegmentSize: 1400, windowScale: 7, sackPermitted: true,
                                       timestamps: TCPTimestamps(value: 100, echoReply: 0))), at: .zero)
        // Shift 5 covers 1 MiB; TSval = ms clock + the ISS as offset (RFC 7323 §5.4).
        t.expectTransmit(Seg(flags: [.syn, .ack], seq: ourISS, ack: peerISS + 1, window: 65535,
                             options: TCPOptions(maximumSegmentSize: 1460, windowScale: 5, sackPermitted: true,
                                                 timestamps: TCPTimestamps(value: ourISS, echoReply: 100))), at: .zero)
        t.send(Seg(flags: .ack, seq: peerISS + 1, ack: ourISS + 1, window: 100,
                   options: TCPOptions(timestamps: TCPTimestamps(value: 110, echoReply: ourISS))), at: Self.ms(10))
        guard let id = t.endpoint.accept(port: 80) else { Issue.record("not accepted"); return }
        let stats = try #require(t.endpoint.stats(of: id))
        #expect(stats.peerWindow == 12800)        // 100 << 7
        #expect(stats.sendWindowShift == 7 && stats.receiveWindowShift == 5)
        #expect(stats.sackEnabled && stats.timestampsEnabled)
        #expect(stats.sendMSS == 1400)
        // Data: MSS 1400 less 12 bytes of timestamps option; the window field is scaled: 1 MiB
        // less the rounding reserve (ReceiveWindow.roundingReserve, 22 258 bytes at shift 5), >> 5.
        #expect(t.write(id, streamBytes(0..<2000)) == 2000)
        let ts = TCPTimestamps(value: ourISS + 20, echoReply: 110)
        t.expectTransmit(Seg(flags: .ack, seq: ourISS + 1, ack: peerISS + 1, window: 32072,
                             options: TCPOptions(timestamps: ts), payload: streamBytes(0..<1388)), at: Self.ms(20))
        t.expectTransmit(Seg(flags: [.ack, .psh], seq: ourISS + 1389, ack: peerISS + 1, window: 32072,
                             options: TCPOptions(timestamps: ts), payload: streamBytes(1388..<2000)), at: Self.ms(20))
    }

    @Test func peerWithoutOptionsGetsNone() throws {
        let config = EngineTest.configWithAllOptions()
        let t = EngineTest(config: config)
        try t.endpoint.listen(port: 80)
        // (A window of 8192: segments are also bounded by half the peer's largest window.)
        t.send(Seg(flags: .syn, seq: peerISS, window: 8192), at: .zero)
        t.expectTransmit(Seg(flags: [.syn, .ack], seq: ourISS, ack: peerISS + 1, window: 4096,
                             options: TCPOptions(maximumSegmentSize: 1460)), at: .zero)
        t.send(Seg(flags: .ack, seq: peerISS + 1, ack: ourISS + 1, window: 8192), at: Self.ms(10))
        guard let id = t.endpoint.accept(port: 80) else { Issue.record("not accepted"); return }
        // RFC 9293 §3.7.1: no MSS option means 536.
        #expect(t.endpoint.stats(of: id)?.sendMSS == 536)
        _ = t.write(id, streamBytes(0..<600))
        t.expectTransmit(Seg(flags: .ack, seq: ourISS + 1, ack: peerISS + 1, window: 4096, payload: streamBytes(0..<536)), at: Self.ms(20))
        t.expectTransmit(Seg(flags: [.ack, .psh], seq: ourISS + 537, ack: peerISS + 1, window: 4096, payload: streamBytes(536..<600)), at: Self.ms(20))
    }

    @Test func activeOpenOffersEveryEnabledOption() throws {
        let config = EngineTest.configWithAllOptions()
        let t = EngineTest(config: config)
        t.local = SocketAddress(EngineTest.localAddress, 49152)
        t.peer = SocketAddress(EngineTest.peerAddress, 80)
        let id = try t.endpoint.connect(to: t.peer, at: Self.ms(5))
        t.expectTransmit(Seg(flags: .syn, seq: ourISS, window: 4096,
                             options: TCPOptions(maximumSegmentSize: 1460, windowScale: 0, sackPermitted: true,
                                                 timestamps: TCPTimestamps(value: ourISS + 5, echoReply: 0))), at: Self.ms(5))
        // The peer declines all but timestamps.
        t.send(Seg(flags: [.syn, .ack], seq: peerISS, ack: ourISS + 1, window: 3000,
                   options: TCPOptions(maximumSegmentSize: 1000, timestamps: TCPTimestamps(value: 7, echoReply: ourISS + 5))), at: Self.ms(15))
        t.expectTransmit(Seg(flags: .ack, seq: ourISS + 1, ack: peerISS + 1, window: 4096,
                             options: TCPOptions(timestamps: TCPTimestamps(value: ourISS + 15, echoReply: 7))), at: Self.ms(15))
        let stats = try #require(t.endpoint.stats(of: id))
        #expect(!stats.sackEnabled && stats.timestampsEnabled && stats.sendWindowShift == 0 && stats.sendMSS == 1000)
    }

    // MARK: - RST in every synchronized state (RFC 9293 §3.10.7.4 "second")

    enum ResetState: CaseIterable { case finWait1, closeWait, closing, lastAck }

    @Test(arguments: ResetState.allCases)
    func rstAtRcvNxtResets(in state: ResetState) {
        let (t, id) = EngineTest.makeEstablished()
        var rcvNxt = peerISS + 1
        switch state {
        case .finWait1:
            t.endpoint.shutdown(id)
            _ = t.transmit(at: Self.ms(20))
            #expect(t.endpoint.state(of: id) == .finWait1)
        case .closeWait:
            t.send(Seg(flags: [.ack, .fin], seq: rcvNxt, ack: ourISS + 1, window: 8192), at: Self.ms(20))
            rcvNxt += 1
            #expect(t.endpoint.state(of: id) == .closeWait)
        case .closing:
            t.endpoint.shutdown(id)
            _ = t.transmit(at: Self.ms(20))
            t.send(Seg(flags: [.ack, .fin], seq: rcvNxt, ack: ourISS + 1, window: 8192), at: Self.ms(21))
            rcvNxt += 1
            #expect(t.endpoint.state(of: id) == .closing)
        case .lastAck:
            t.send(Seg(flags: [.ack, .fin], seq: rcvNxt, ack: ourISS + 1, window: 8192), at: Self.ms(20))
            rcvNxt += 1
            t.endpoint.shutdown(id)
            #expect(t.endpoint.state(of: id) == .lastAck)
        }
        while t.transmit(at: Self.ms(25)) != nil {}
        _ = t.events()
        // In the window but not at RCV.NXT: a challenge ACK, nothing else.
        t.send(Seg(flags: .rst, seq: rcvNxt + 10), at: Self.ms(30))
        #expect(t.transmit(at: Self.ms(30))?.seg.flags == .ack)
        #expect(t.events() == [])
        t.send(Seg(flags: .rst, seq: rcvNxt), at: Self.ms(31))
        #expect(t.events() == [.reset(id), .closed(id, .reset)])
        #expect(t.endpoint.state(of: id) == .closed)
        t.expectNothing(at: Self.ms(31))
        t.expectNothing(at: .seconds(5))
    }

    // MARK: - Bounds against hostile input

    @Test func outOfOrderFloodIsBoundedByTheRangeLimit() {
        let config = EngineTest.config { $0.connection.maxReassemblyRanges = 4 }
        let (t, id) = EngineTest.makeEstablished(config: config)
        for k in 1...20 {
            let offset = UInt32(k * 100)
            t.send(Seg(flags: .ack, seq: peerISS + 1 + offset, ack: ourISS + 1, window: 8192,
                       payload: streamBytes(Int(offset)..<Int(offset) + 10)), at: Self.ms(20))
        }
        #expect(t.endpoint.counters.droppedReassemblyLimit == 16)
        #expect(t.endpoint.counters.droppedPayloadBytes == 160)
        t.expectInvariants()
        // The next expected segment is always taken, and fills the first hole.
        t.send(Seg(flags: .ack, seq: peerISS + 1, ack: ourISS + 1, window: 8192, payload: streamBytes(0..<100)), at: Self.ms(21))
        #expect(t.endpoint.readableBytes(id) == 110)
        #expect(t.read(id) == streamBytes(0..<110))
    }

    @Test func ephemeralPortsAreTakenInOrderUntilExhausted() throws {
        let t = EngineTest(config: EngineTest.config { $0.ephemeralPorts = 50000...50002 })
        let remote = SocketAddress(EngineTest.peerAddress, 80)
        var ports: [UInt16] = []
        for _ in 0..<3 {
            let id = try t.endpoint.connect(to: remote, at: .zero)
            ports.append(try #require(t.endpoint.tuple(of: id)).local.port)
        }
        #expect(ports == [50000, 50001, 50002])
        #expect(throws: EndpointError.noFreePort) { try t.endpoint.connect(to: remote, at: .zero) }
        // Another remote port makes other 4-tuples.
        let other = try t.endpoint.connect(to: SocketAddress(EngineTest.peerAddress, 81), at: .zero)
        #expect(t.endpoint.tuple(of: other)?.local.port == 50000)
    }

    @Test func eventQueueIsBounded() throws {
        let t = EngineTest(config: EngineTest.config { $0.maxPendingEvents = 2 })
        try t.endpoint.listen(port: 80)
        for port: UInt16 in 40001...40003 {
            let peer = SocketAddress(EngineTest.peerAddress, port)
            t.send(Seg(flags: .syn, seq: peerISS, window: 1000), at: .zero, from: peer)
            #expect(t.transmit(at: .zero)?.seg.flags == [.syn, .ack])
            t.send(Seg(flags: .ack, seq: peerISS + 1, ack: ourISS + 1, window: 1000), at: .zero, from: peer)
        }
        #expect(t.events() == [.acceptable(port: 80), .acceptable(port: 80)])
        #expect(t.endpoint.counters.eventsDropped == 1)
        // The connections themselves are all there.
        #expect(t.endpoint.accept(port: 80) != nil)
        #expect(t.endpoint.accept(port: 80) != nil)
        #expect(t.endpoint.accept(port: 80) != nil)
        #expect(t.endpoint.accept(port: 80) == nil)
    }

    @Test func staleHandlesDoNotReachTheSlotsNextOccupant() throws {
        let t = EngineTest()
        let remote = SocketAddress(EngineTest.peerAddress, 80)
        let first = try t.endpoint.connect(to: remote, at: .zero)
        t.endpoint.abort(first)
        let second = try t.endpoint.connect(to: remote, at: .zero)
        #expect(first.index == second.index && first.generation != second.generation)
        #expect(t.endpoint.state(of: first) == nil)
        #expect(t.endpoint.state(of: second) == .synSent)
        t.endpoint.close(first)
        #expect(t.endpoint.state(of: second) == .synSent)
    }

    @Test func listenErrors() throws {
        let t = EngineTest(config: EngineTest.config { $0.maxListeners = 1 })
        try t.endpoint.listen(port: 80)
        #expect(throws: EndpointError.portInUse) { try t.endpoint.listen(port: 80) }
        #expect(throws: EndpointError.tooManyListeners) { try t.endpoint.listen(port: 81) }
        #expect(throws: EndpointError.invalidArgument) { try t.endpoint.listen(port: 82, backlog: 0) }
        t.endpoint.stopListening(port: 80)
        try t.endpoint.listen(port: 81)
    }

    @Test func fullTableRecyclesTheOldestTimeWait() throws {
        let t = EngineTest(config: EngineTest.config { $0.maxConnections = 1 })
        let (p, id) = EngineTest.makeConnectedPair(t)
        t.endpoint.close(id)
        _ = t.transmit(at: Self.ms(20))
        t.send(Seg(flags: [.ack, .fin], seq: peerISS + 1, ack: ourISS + 2, window: 8192), at: Self.ms(30), from: p)
        #expect(t.transmit(at: Self.ms(30))?.seg.flags == .ack)
        #expect(t.endpoint.state(of: id) == .timeWait)
        let next = try t.endpoint.connect(to: SocketAddress(EngineTest.peerAddress, 81), at: Self.ms(40))
        #expect(t.endpoint.state(of: id) == nil)
        #expect(t.endpoint.state(of: next) == .synSent)
        #expect(t.endpoint.counters.timeWaitRecycled == 1)
    }

    @Test func connectionsTransmitInRoundRobin() throws {
        let t = EngineTest()
        var ids: [ConnectionID] = []
        for port: UInt16 in 1...3 {
            ids.append(try t.endpoint.connect(to: SocketAddress(EngineTest.peerAddress, port), at: .zero))
        }
        var order: [UInt16] = []
        while let (_, tcp, _) = t.transmit(at: .zero) { order.append(tcp.destinationPort) }
        #expect(order == [1, 2, 3])
    }

    /// The per-call scans stop at `occupiedEnd`, one past the highest occupied slot, so a
    /// table raised to 10,000 slots costs nothing while three connections are open; freeing
    /// the top slot lowers it, a freed slot below keeps it, and round-robin continues over what
    /// is left in slot order (a cursor past the end starts again at slot 0).
    @Test func scansStopAtTheHighestOccupiedSlot() throws {
        let t = EngineTest(config: EngineTest.config { $0.maxConnections = 10_000 })
        #expect(t.endpoint.occupiedEnd == 0)
        #expect(t.endpoint.nextDeadline == nil)
        var ids: [ConnectionID] = []
        for port: UInt16 in 1...3 {
            ids.append(try t.endpoint.connect(to: SocketAddress(EngineTest.peerAddress, port), at: .zero))
        }
        #expect(t.endpoint.occupiedEnd == 3)
        var order: [UInt16] = []
        while let (_, tcp, _) = t.transmit(at: .zero) { order.append(tcp.destinationPort) }
        #expect(order == [1, 2, 3])
        #expect(t.endpoint.transmitCursor == 0)
        #expect(t.endpoint.nextDeadline == .seconds(1), "the SYN timers")

        t.endpoint.abort(ids[1])                 // a hole below the top: the end stays
        #expect(t.endpoint.occupiedEnd == 3)
        t.endpoint.abort(ids[2])                 // the top: the end drops past the hole
        #expect(t.endpoint.occupiedEnd == 1)
        #expect(t.endpoint.connectionCount == 1)
        while t.transmit(at: .zero) != nil {}    // the two RSTs
        // Slot 0's SYN times out and is sent again; nothing past the end is looked at.
        #expect(t.endpoint.nextDeadline == .seconds(1))
        #expect(t.transmit(at: .seconds(1))?.tcp.destinationPort == 1)

        // The lowest free slot is taken again; round-robin goes on in slot order.
        let again = try t.endpoint.connect(to: SocketAddress(EngineTest.peerAddress, 4), at: .seconds(1))
        #expect(again.index == 1)
        #expect(t.endpoint.occupiedEnd == 2)
        #expect(t.transmit(at: .seconds(1))?.tcp.destinationPort == 4)
        t.endpoint.abort(again)
        t.endpoint.abort(ids[0])
        #expect(t.endpoint.occupiedEnd == 0)
        #expect(t.endpoint.nextDeadline == nil)
        t.expectInvariants()
    }
}
