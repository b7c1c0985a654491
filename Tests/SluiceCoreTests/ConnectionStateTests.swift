import Testing
@testable import SluiceCore

/// Per-state behaviour of one endpoint against a scripted peer, with whole-segment
/// expectations at explicit times. Numbers: our ISS 1000, the peer's 5000; rings of 4 KiB
/// (window 4096); MSS 1460; the handshake gives an RTT of 10 ms, so the RTO is 200 ms (minimum).
@Suite struct ConnectionStateTests {
    static let ms = Instant.milliseconds

    // MARK: - CLOSED (no connection, no listener)

    @Test func synToClosedPortIsAnsweredWithRST() {
        let t = EngineTest()
        t.send(Seg(flags: .syn, seq: 7000, window: 1000), at: .zero)
        // RFC 9293 §3.10.7.1: no ACK in the segment: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>.
        t.expectTransmit(Seg(flags: [.rst, .ack], seq: 0, ack: 7001), at: .zero)
        t.expectNothing(at: .zero)
        #expect(t.endpoint.counters.segmentsToClosedPort == 1)
        #expect(t.endpoint.counters.resetsSent == 1)
    }

    @Test func ackToClosedPortIsAnsweredWithRSTAtItsAck() {
        let t = EngineTest()
        t.send(Seg(flags: .ack, seq: 7000, ack: 123_456, window: 1000, payload: [1, 2, 3]), at: .zero)
        t.expectTransmit(Seg(flags: .rst, seq: 123_456), at: .zero)
    }

    @Test func rstToClosedPortIsDropped() {
        let t = EngineTest()
        t.send(Seg(flags: .rst, seq: 7000), at: .zero)
        t.expectNothing(at: .zero)
        #expect(t.endpoint.counters.segmentsToClosedPort == 1)
    }

    /// An endpoint listening on port 80, and a valid SYN to it from the peer.
    static func listenerAndSYN() -> (EngineTest, [UInt8]) {
        let t = EngineTest()
        try? t.endpoint.listen(port: 80)
        let ip = IPv4Header(source: EngineTest.peerAddress, destination: EngineTest.localAddress)
        let tcp = TCPHeader(sourcePort: 40000, destinationPort: 80, sequenceNumber: SequenceNumber(1), flags: .syn, window: 100)
        return (t, IPv4TCPPacket.encode(ip: ip, tcp: tcp, payload: []))
    }

    @Test func badChecksumIsDroppedAndCounted() {
        var (t, bytes) = Self.listenerAndSYN()
        bytes[24] ^= 0x01   // one bit of the sequence number
        bytes.withUnsafeBytes { t.endpoint.receive($0, at: .zero) }
        t.expectNothing(at: .zero)
        #expect(t.endpoint.counters.droppedBadChecksum == 1)
        bytes.withUnsafeBytes { t.endpoint.receive(UnsafeRawBufferPointer(rebasing: $0[0..<30]), at: .zero) }
        #expect(t.endpoint.counters.droppedMalformed == 1)
    }

    /// A link that vouches for the TCP checksum (`LinkChecksum.vouchedByLink`: a TUN packet from
    /// the local kernel) spares the engine reading the payload: the same SYN with a wrong TCP
    /// checksum is dropped when unverified and answered when vouched for; the IPv4 header
    /// checksum is verified either way.
    @Test func vouchedChecksumIsNotVerifiedButTheIPv4HeaderIs() {
        let (t, valid) = Self.listenerAndSYN()
        var badTCP = valid
        badTCP[36] ^= 0xff   // the TCP checksum field, as a partial (pseudo-header-only) one differs
        badTCP.withUnsafeBytes { t.endpoint.receive($0, at: .zero, checksum: .unverified) }
        t.expectNothing(at: .zero)
        #expect(t.endpoint.counters.droppedBadChecksum == 1)
        #expect(t.endpoint.counters.checksumsVouched == 0)

        var badIP = valid
        badIP[10] ^= 0x01    // the IPv4 header checksum
        badIP.withUnsafeBytes { t.endpoint.receive($0, at: .zero, checksum: .vouchedByLink) }
        t.expectNothing(at: .zero)
        #expect(t.endpoint.counters.droppedBadChecksum == 2)
        #expect(t.endpoint.counters.checksumsVouched == 0)

        badTCP.withUnsafeBytes { t.endpoint.receive($0, at: .zero, checksum: .vouchedByLink) }
        #expect(t.endpoint.counters.checksumsVouched == 1)
        #expect(t.endpoint.counters.droppedBadChecksum == 2)
        t.expectTransmit(Seg(flags: [.syn, .ack], seq: 1000, ack: 2, window: 4096,
                             options: TCPOptions(maximumSegmentSize: 1460)), at: .zero)
    }

    // MARK: - LISTEN

    @Test func passiveOpen() {
        let (t, id) = EngineTest.makeEstablished()
        #expect(t.endpoint.state(of: id) == .established)
        let stats = t.endpoint.stats(of: id)
        #expect(stats?.smoothedRTT == .milliseconds(10))
        #expect(stats?.retransmissionTimeout == .milliseconds(200))
        #expect(stats?.peerWindow == 8192)
        #expect(stats?.sendMSS == 1460)
        t.expectNothing(at: Self.ms(10))
    }

    @Test func ackToListenerIsAnsweredWithRST() {
        let t = EngineTest()
        try? t.endpoint.listen(port: 80)
        t.send(Seg(flags: .ack, seq: 5000, ack: 777, window: 100), at: .zero)
        t.expectTransmit(Seg(flags: .rst, seq: 777), at: .zero)
    }

    @Test func synBeyondBacklogIsDropped() throws {
        let t = EngineTest()
        try t.endpoint.listen(port: 80, backlog: 2)
        for port: UInt16 in 40001...40003 {
            t.send(Seg(flags: .syn, seq: peerISS, window: 1000), at: .zero, from: SocketAddress(EngineTest.peerAddress, port))
        }
        for port: UInt16 in 40001...40002 {
            t.expectTransmit(Seg(flags: [.syn, .ack], seq: ourISS, ack: peerISS + 1, window: 4096,
                                 options: TCPOptions(maximumSegmentSize: 1460)),
                             at: .zero, to: SocketAddress(EngineTest.peerAddress, port))
        }
        t.expectNothing(at: .zero)
        #expect(t.endpoint.counters.droppedBacklogFull == 1)
        // Completing one handshake keeps it in the backlog until accepted.
        t.send(Seg(flags: .ack, seq: peerISS + 1, ack: ourISS + 1, window: 1000), at: Self.ms(1),
               from: SocketAddress(EngineTest.peerAddress, 40001))
        t.send(Seg(flags: .syn, seq: peerISS, window: 1000), at: Self.ms(2), from: SocketAddress(EngineTest.peerAddress, 40004))
        t.expectNothing(at: Self.ms(2))
        #expect(t.endpoint.counters.droppedBacklogFull == 2)
        // Accepting frees a place.
        #expect(t.endpoint.accept(port: 80) != nil)
        t.send(Seg(flags: .syn, seq: peerISS, window: 1000), at: Self.ms(3), from: SocketAddress(EngineTest.peerAddress, 40004))
        t.expectTransmit(Seg(flags: [.syn, .ack], seq: ourISS, ack: peerISS + 1, window: 4096,
                             options: TCPOptions(maximumSegmentSize: 1460)),
                         at: Self.ms(3), to: SocketAddress(EngineTest.peerAddress, 40004))
    }

    @Test func synBeyondConnectionLimitIsDropped() throws {
        let t = EngineTest(config: EngineTest.config { $0.maxConnections = 2 })
        try t.endpoint.listen(port: 80)
        for port: UInt16 in 40001...40003 {
            t.send(Seg(flags: .syn, seq: peerISS, window: 1000), at: .zero, from: SocketAddress(EngineTest.peerAddress, port))
        }
        #expect(t.endpoint.counters.droppedConnectionLimit == 1)
        #expect(t.endpoint.connectionCount == 2)
        #expect(throws: EndpointError.tooManyConnections) {
            try t.endpoint.connect(to: SocketAddress(EngineTest.peerAddress, 9), at: .zero)
        }
    }

    @Test func synFloodCannotGrowTheTable() throws {
        let t = EngineTest(config: EngineTest.config { $0.maxConnections = 8 })
        try t.endpoint.listen(port: 80, backlog: 4)
        for port in 0..<10_000 {
            t.send(Seg(flags: .syn, seq: UInt32(port), window: 1000), at: .zero,
                   from: SocketAddress(IPv4Address(rawValue: 0x0B00_0000 + UInt32(port)), UInt16(1024 + port % 60000)))
        }
        #expect(t.endpoint.connectionCount == 4)
        #expect(t.endpoint.counters.droppedBacklogFull == 9_996)
        t.expectInvariants()
    }

    // MARK: - SYN-SENT

    @Test func activeOpen() {
        let (t, id) = EngineTest.makeConnected()
        #expect(t.endpoint.state(of: id) == .established)
        #expect(t.endpoint.stats(of: id)?.smoothedRTT == .milliseconds(10))
    }

    @Test func synIsRetransmittedWithBackoffThenGivesUp() throws {
        let t = EngineTest(config: EngineTest.config { $0.connection.maxSynRetransmissions = 2 })
        let id = try t.connectFromPort49152()
        let syn = Seg(flags: .syn, seq: ourISS, window: 4096, options: TCPOptions(maximumSegmentSize: 1460))
        t.expectTransmit(syn, at: .zero)
        t.expectNothing(at: Self.ms(999))
        t.expectTransmit(syn, at: .seconds(1))          // initial RTO 1 s (RFC 6298 §2.1)
        t.expectNothing(at: Self.ms(2999))
        t.expectTransmit(syn, at: .seconds(3))          // doubled: 2 s
        t.expectNothing(at: Self.ms(6999))
        #expect(t.events() == [])
        t.expectNothing(at: .seconds(7))                // third timeout: limit reached
        #expect(t.events() == [.closed(id, .retransmissionLimit)])
        #expect(t.endpoint.state(of: id) == .closed)
    }

    @Test func rstWithAcceptableAckRefusesTheConnection() throws {
        let t = EngineTest()
        let id = try t.connectFromPort49152()
        _ = t.transmit(at: .zero)
        t.send(Seg(flags: [.rst, .ack], seq: 0, ack: ourISS + 1), at: Self.ms(5))
        #expect(t.events() == [.reset(id), .closed(id, .reset)])
        t.expectNothing(at: Self.ms(5))
        t.expectNothing(at: .seconds(2))   // no SYN retransmission
    }

    @Test func rstWithWrongAckIsIgnoredInSynSent() throws {
        let t = EngineTest()
        let id = try t.connectFromPort49152()
        _ = t.transmit(at: .zero)
        t.send(Seg(flags: [.rst, .ack], seq: 0, ack: ourISS + 7), at: Self.ms(5))
        #expect(t.events() == [])
        #expect(t.endpoint.state(of: id) == .synSent)
    }

    @Test func synAckWithBadAckIsAnsweredWithRST() throws {
        let t = EngineTest()
        let id = try t.connectFromPort49152()
        _ = t.transmit(at: .zero)
        t.send(Seg(flags: [.syn, .ack], seq: peerISS, ack: 4444, window: 100), at: Self.ms(5))
        t.expectTransmit(Seg(flags: .rst, seq: 4444), at: Self.ms(5))
        #expect(t.endpoint.state(of: id) == .synSent)
        #expect(t.endpoint.counters.droppedSynSentInvalid == 1)
    }

    @Test func simultaneousOpen() throws {
        let t = EngineTest()
        let id = try t.connectFromPort49152()
        t.expectTransmit(Seg(flags: .syn, seq: ourISS, window: 4096, options: TCPOptions(maximumSegmentSize: 1460)), at: .zero)
        // The peer's SYN crosses ours (RFC 9293 §3.5 figure 7).
        t.send(Seg(flags: .syn, seq: peerISS, window: 8192, options: TCPOptions(maximumSegmentSize: 1460)), at: Self.ms(5))
        #expect(t.endpoint.state(of: id) == .synReceived)
        t.expectTransmit(Seg(flags: [.syn, .ack], seq: ourISS, ack: peerISS + 1, window: 4096,
                             options: TCPOptions(maximumSegmentSize: 1460)), at: Self.ms(5))
        // The peer's SYN-ACK (its SYN again, now acknowledging ours).
        t.send(Seg(flags: [.syn, .ack], seq: peerISS, ack: ourISS + 1, window: 8192,
                   options: TCPOptions(maximumSegmentSize: 1460)), at: Self.ms(10))
        #expect(t.endpoint.state(of: id) == .established)
        #expect(t.events() == [.connected(id)])
        t.expectNothing(at: Self.ms(10))
        // Data flows.
        #expect(t.write(id, [1, 2, 3]) == 3)
        t.expectTransmit(Seg(flags: [.ack, .psh], seq: ourISS + 1, ack: peerISS + 1, window: 4096, payload: [1, 2, 3]), at: Self.ms(11))
    }

    // MARK: - SYN-RECEIVED

    @Test func duplicateSynResendsSynAck() throws {
        let t = EngineTest()
        try t.endpoint.listen(port: 80)
        let syn = Seg(flags: .syn, seq: peerISS, window: 8192, options: TCPOptions(maximumSegmentSize: 1460))
        let synAck = Seg(flags: [.syn, .ack], seq: ourISS, ack: peerISS + 1, window: 4096, options: TCPOptions(maximumSegmentSize: 1460))
        t.send(syn, at: .zero)
        t.expectTransmit(synAck, at: .zero)
        t.send(syn, at: Self.ms(300))
        t.expectTransmit(synAck, at: Self.ms(300))
        t.expectNothing(at: Self.ms(300))
    }

    @Test func synAckIsRetransmittedOnTimeout() throws {
        let t = EngineTest()
        try t.endpoint.listen(port: 80)
        let synAck = Seg(flags: [.syn, .ack], seq: ourISS, ack: peerISS + 1, window: 4096, options: TCPOptions(maximumSegmentSize: 1460))
        t.send(Seg(flags: .syn, seq: peerISS, window: 8192, options: TCPOptions(maximumSegmentSize: 1460)), at: .zero)
        t.expectTransmit(synAck, at: .zero)
        t.expectNothing(at: Self.ms(999))
        t.expectTransmit(synAck, at: .seconds(1))
        t.expectTransmit(synAck, at: .seconds(3))
        // The ACK of a retransmitted SYN-ACK gives no RTT sample (Karn).
        t.send(Seg(flags: .ack, seq: peerISS + 1, ack: ourISS + 1, window: 8192), at: Self.ms(3010))
        guard let id = t.endpoint.accept(port: 80) else { Issue.record("not accepted"); return }
        #expect(t.endpoint.stats(of: id)?.smoothedRTT == nil)
    }

    @Test func badAckInSynReceivedIsAnsweredWithRST() throws {
        let t = EngineTest()
        try t.endpoint.listen(port: 80)
        t.send(Seg(flags: .syn, seq: peerISS, window: 8192), at: .zero)
        _ = t.transmit(at: .zero)
        t.send(Seg(flags: .ack, seq: peerISS + 1, ack: ourISS + 50, window: 8192), at: Self.ms(5))
        t.expectTransmit(Seg(flags: .rst, seq: ourISS + 50), at: Self.ms(5))
        #expect(t.endpoint.accept(port: 80) == nil)
    }

    @Test func rstInSynReceivedReturnsToListen() throws {
        let t = EngineTest()
        try t.endpoint.listen(port: 80, backlog: 1)
        t.send(Seg(flags: .syn, seq: peerISS, window: 8192), at: .zero)
        _ = t.transmit(at: .zero)
        t.send(Seg(flags: .rst, seq: peerISS + 1), at: Self.ms(5))
        #expect(t.endpoint.connectionCount == 0)
        #expect(t.events() == [])
        // The backlog place is free again.
        t.send(Seg(flags: .syn, seq: peerISS, window: 8192), at: Self.ms(6))
        t.expectTransmit(Seg(flags: [.syn, .ack], seq: ourISS, ack: peerISS + 1, window: 4096,
                             options: TCPOptions(maximumSegmentSize: 1460)), at: Self.ms(6))
        t.expectInvariants()
    }

    // MARK: - ESTABLISHED: receiving

    @Test func inOrderDataIsAcknowledgedAfterTheDelayedAckTimer() {
        let (t, id) = EngineTest.makeEstablished()
        t.send(Seg(flags: [.ack, .psh], seq: peerISS + 1, ack: ourISS + 1, window: 8192, payload: streamBytes(0..<100)), at: Self.ms(20))
        #expect(t.events() == [.readable(id)])
        t.expectNothing(at: Self.ms(59))
        t.expectTransmit(Seg(flags: .ack, seq: ourISS + 1, ack: peerISS + 101, window: 3996), at: Self.ms(60))
        t.expectNothing(at: Self.ms(100))
        #expect(t.read(id) == streamBytes(0..<100))
    }

    @Test func everySecondFullSizedSegmentIsAcknowledgedAtOnce() {
        let (t, _) = EngineTest.makeEstablished()
        t.send(Seg(flags: .ack, seq: peerISS + 1, ack: ourISS + 1, window: 8192, payload: streamBytes(0..<1460)), at: Self.ms(20))
        t.expectNothing(at: Self.ms(20))
        t.send(Seg(flags: .ack, seq: peerISS + 1461, ack: ourISS + 1, window: 8192, payload: streamBytes(1460..<2920)), at: Self.ms(21))
        t.expectTransmit(Seg(flags: .ack, seq: ourISS + 1, ack: peerISS + 2921, window: 4096 - 2920), at: Self.ms(21))
        t.expectNothing(at: Self.ms(100))
    }

    @Test func outOfOrderDataIsAcknowledgedAtOnceAndTheGapFillToo() {
        let (t, id) = EngineTest.makeEstablished()
        t.send(Seg(flags: .ack, seq: peerISS + 101, ack: ourISS + 1, window: 8192, payload: streamBytes(100..<200)), at: Self.ms(20))
        t.expectTransmit(Seg(flags: .ack, seq: ourISS + 1, ack: peerISS + 1, window: 4096), at: Self.ms(20))
        #expect(t.events() == [])
        t.send(Seg(flags: .ack, seq: peerISS + 1, ack: ourISS + 1, window: 8192, payload: streamBytes(0..<100)), at: Self.ms(25))
        t.expectTransmit(Seg(flags: .ack, seq: ourISS + 1, ack: peerISS + 201, window: 3896), at: Self.ms(25))
        #expect(t.events() == [.readable(id)])
        #expect(t.read(id) == streamBytes(0..<200))
    }

    @Test func sackBlocksReportOutOfOrderData() {
        let config = EngineTest.config { $0.connection.sackEnabled = true }
        let t = EngineTest(config: config)
        try? t.endpoint.listen(port: 80)
        t.send(Seg(flags: .syn, seq: peerISS, window: 8192, options: TCPOptions(maximumSegmentSize: 1460, sackPermitted: true)), at: .zero)
        t.expectTransmit(Seg(flags: [.syn, .ack], seq: ourISS, ack: peerISS + 1, window: 4096,
                             options: TCPOptions(maximumSegmentSize: 1460, sackPermitted: true)), at: .zero)
        t.send(Seg(flags: .ack, seq: peerISS + 1, ack: ourISS + 1, window: 8192), at: Self.ms(10))
        t.send(Seg(flags: .ack, seq: peerISS + 101, ack: ourISS + 1, window: 8192, payload: streamBytes(100..<200)), at: Self.ms(20))
        t.expectTransmit(Seg(flags: .ack, seq: ourISS + 1, ack: peerISS + 1, window: 4096,
                             options: TCPOptions(sackBlocks: SACKBlocks([SACKBlock(left: SequenceNumber(peerISS + 101), right: SequenceNumber(peerISS + 201))]))),
                         at: Self.ms(20))
        t.send(Seg(flags: .ack, seq: peerISS + 301, ack: ourISS + 1, window: 8192, payload: streamBytes(300..<400)), at: Self.ms(21))
        // RFC 2018 §4: the block holding the newest segment first.
        t.expectTransmit(Seg(flags: .ack, seq: ourISS + 1, ack: peerISS + 1, window: 4096,
                             options: TCPOptions(sackBlocks: SACKBlocks([
                                SACKBlock(left: SequenceNumber(peerISS + 301), right: SequenceNumber(peerISS + 401)),
                                SACKBlock(left: SequenceNumber(peerISS + 101), right: SequenceNumber(peerISS + 201)),
                             ]))), at: Self.ms(21))
    }

    @Test func unacceptableSegmentIsAnsweredWithAnAck() {
        let (t, _) = EngineTest.makeEstablished()
        // Beyond the window.
        t.send(Seg(flags: .ack, seq: peerISS + 1 + 5000, ack: ourISS + 1, window: 8192, payload: [1, 2, 3]), at: Self.ms(20))
        t.expectTransmit(Seg(flags: .ack, seq: ourISS + 1, ack: peerISS + 1, window: 4096), at: Self.ms(20))
        // Old data (a duplicate): also acknowledged.
        t.send(Seg(flags: .ack, seq: peerISS - 10, ack: ourISS + 1, window: 8192, payload: [1, 2, 3]), at: Self.ms(21))
        t.expectTransmit(Seg(flags: .ack, seq: ourISS + 1, ack: peerISS + 1, window: 4096), at: Self.ms(21))
        #expect(t.endpoint.counters.droppedUnacceptable == 2)
    }

    @Test func dataPastTheWindowIsTrimmed() {
        let (t, id) = EngineTest.makeEstablished()
        t.send(Seg(flags: .ack, seq: peerISS + 1, ack: ourISS + 1, window: 8192, payload: streamBytes(0..<1460)), at: Self.ms(20))
        t.send(Seg(flags: .ack, seq: peerISS + 1461, ack: ourISS + 1, window: 8192, payload: streamBytes(1460..<2920)), at: Self.ms(20))
        t.expectTransmit(Seg(flags: .ack, seq: ourISS + 1, ack: peerISS + 2921, window: 1176), at: Self.ms(20))
        // 1460 bytes against 1176 of room: 284 are dropped.
        t.send(Seg(flags: .ack, seq: peerISS + 2921, ack: ourISS + 1, window: 8192, payload: streamBytes(2920..<4380)), at: Self.ms(21))
        #expect(t.endpoint.counters.droppedPayloadBytes == 284)
        t.expectTransmit(Seg(flags: .ack, seq: ourISS + 1, ack: peerISS + 4097, window: 0), at: Self.ms(61))
        #expect(t.read(id) == streamBytes(0..<4096))
        // Reading everything opens the window: the update goes out at once.
        t.expectTransmit(Seg(flags: .ack, seq: ourISS + 1, ack: peerISS + 4097, window: 4096), at: Self.ms(62))
    }

    @Test func zeroWindowProbeIsAnsweredWithTheWindow() {
        let (t, id) = EngineTest.makeEstablished()
        _ = t.write(id, [])
        t.send(Seg(flags: .ack, seq: peerISS + 1, ack: ourISS + 1, window: 8192, payload: streamBytes(0..<4096)), at: Self.ms(20))
        t.expectTransmit(Seg(flags: .ack, seq: ourISS + 1, ack: peerISS + 4097, window: 0), at: Self.ms(20))
        // A one-byte probe past the zero window: ACK with the current window, the byte not taken.
        t.send(Seg(flags: .ack, seq: peerISS + 4097, ack: ourISS + 1, window: 8192, payload: [9]), at: Self.ms(30))
        t.expectTransmit(Seg(flags: .ack, seq: ourISS + 1, ack: peerISS + 4097, window: 0), at: Self.ms(30))
        // Linux's probe: an empty segment at RCV.NXT − 1.
        t.send(Seg(flags: .ack, seq: peerISS + 4096, ack: ourISS + 1, window: 8192), at: Self.ms(31))
        t.expectTransmit(Seg(flags: .ack, seq: ourISS + 1, ack: peerISS + 4097, window: 0), at: Self.ms(31))
        t.expectInvariants()
    }

    @Test func rstAtRcvNxtResetsTheConnection() {
        let (t, id) = EngineTest.makeEstablished()
        t.send(Seg(flags: .rst, seq: peerISS + 1), at: Self.ms(20))
        #expect(t.events() == [.reset(id), .closed(id, .reset)])
        #expect(t.endpoint.state(of: id) == .closed)
        t.expectNothing(at: Self.ms(20))
        // Later segments on the tuple meet CLOSED: RST.
        t.send(Seg(flags: .ack, seq: peerISS + 1, ack: ourISS + 1, window: 8192, payload: [1]), at: Self.ms(30))
        t.expectTransmit(Seg(flags: .rst, seq: ourISS + 1), at: Self.ms(30))
        t.endpoint.close(id)
        #expect(t.endpoint.state(of: id) == nil)
        #expect(t.endpoint.connectionCount == 0)
    }

    @Test func rstInWindowButNotAtRcvNxtGetsAChallengeAck() {
        let (t, id) = EngineTest.makeEstablished()
        t.send(Seg(flags: .rst, seq: peerISS + 100), at: Self.ms(20))
        t.expectTransmit(Seg(flags: .ack, seq: ourISS + 1, ack: peerISS + 1, window: 4096), at: Self.ms(20))
        #expect(t.endpoint.state(of: id) == .established)
        #expect(t.endpoint.counters.challengeACKsSent == 1)
        // Outside the window: ignored silently.
        t.send(Seg(flags: .rst, seq: peerISS + 100_000), at: Self.ms(21))
        t.expectNothing(at: Self.ms(21))
        #expect(t.endpoint.state(of: id) == .established)
    }

    @Test func synInEstablishedGetsAChallengeAck() {
        let (t, id) = EngineTest.makeEstablished()
        t.send(Seg(flags: .syn, seq: peerISS + 50, window: 8192), at: Self.ms(20))
        t.expectTransmit(Seg(flags: .ack, seq: ourISS + 1, ack: peerISS + 1, window: 4096), at: Self.ms(20))
        #expect(t.endpoint.state(of: id) == .established)
    }

    @Test func ackOfUnsentDataIsAnsweredWithAnAck() {
        let (t, id) = EngineTest.makeEstablished()
        t.send(Seg(flags: .ack, seq: peerISS + 1, ack: ourISS + 500, window: 8192), at: Self.ms(20))
        t.expectTransmit(Seg(flags: .ack, seq: ourISS + 1, ack: peerISS + 1, window: 4096), at: Self.ms(20))
        #expect(t.endpoint.state(of: id) == .established)
        #expect(t.endpoint.counters.droppedAckOfUnsent == 1)
    }

    // MARK: - ESTABLISHED: sending

    @Test func writeSendsDataWithinThePeerWindow() {
        let (t, id) = EngineTest.makeEstablished()
        t.send(Seg(flags: .ack, seq: peerISS + 1, ack: ourISS + 1, window: 2000), at: Self.ms(15))
        #expect(t.write(id, streamBytes(0..<4096)) == 4096)
        #expect(t.write(id, [1]) == 0)    // the send ring is full: backpressure
        t.expectTransmit(Seg(flags: .ack, seq: ourISS + 1, ack: peerISS + 1, window: 4096, payload: streamBytes(0..<1460)), at: Self.ms(20))
        // The 540 bytes left of the window would be a silly segment while 1460 are unacknowledged
        // (RFC 9293 §3.8.6.2.1 with Nagle): they wait.
        t.expectNothing(at: Self.ms(20))
        // The peer acknowledges 1000 bytes and keeps its window: 1540 may go, one full segment.
        t.send(Seg(flags: .ack, seq: peerISS + 1, ack: ourISS + 1001, window: 2000), at: Self.ms(30))
        #expect(t.events() == [.writable(id)])
        t.expectTransmit(Seg(flags: .ack, seq: ourISS + 1461, ack: peerISS + 1, window: 4096, payload: streamBytes(1460..<2920)), at: Self.ms(30))
        t.expectNothing(at: Self.ms(30))
    }

    @Test func retransmissionTimeoutBacksOffThenAborts() {
        let config = EngineTest.config { $0.connection.maxRetransmissions = 3 }
        let (t, id) = EngineTest.makeEstablished(config: config)
        _ = t.write(id, streamBytes(0..<100))
        let data = Seg(flags: [.ack, .psh], seq: ourISS + 1, ack: peerISS + 1, window: 4096, payload: streamBytes(0..<100))
        t.expectTransmit(data, at: Self.ms(20))
        t.expectNothing(at: Self.ms(219))
        t.expectTransmit(data, at: Self.ms(220))     // RTO 200 ms
        t.expectNothing(at: Self.ms(619))
        t.expectTransmit(data, at: Self.ms(620))     // 400 ms
        t.expectNothing(at: Self.ms(1419))
        t.expectTransmit(data, at: Self.ms(1420))    // 800 ms
        #expect(t.endpoint.stats(of: id)?.retransmissionTimeouts == 3)
        #expect(t.endpoint.stats(of: id)?.bytesRetransmitted == 300)
        #expect(t.events() == [])
        t.expectNothing(at: Self.ms(3020))           // the fourth timeout: give up
        #expect(t.events() == [.closed(id, .retransmissionLimit)])
        #expect(t.endpoint.state(of: id) == .closed)
    }

    @Test func karnsRuleIgnoresTheAckOfARetransmission() {
        let (t, id) = EngineTest.makeEstablished()
        _ = t.write(id, streamBytes(0..<100))
        t.expectTransmit(Seg(flags: [.ack, .psh], seq: ourISS + 1, ack: peerISS + 1, window: 4096, payload: streamBytes(0..<100)), at: Self.ms(20))
        t.expectTransmit(Seg(flags: [.ack, .psh], seq: ourISS + 1, ack: peerISS + 1, window: 4096, payload: streamBytes(0..<100)), at: Self.ms(220))
        t.send(Seg(flags: .ack, seq: peerISS + 1, ack: ourISS + 101, window: 8192), at: Self.ms(230))
        // No sample from the retransmitted segment; the backed-off RTO (400 ms) stays.
        #expect(t.endpoint.stats(of: id)?.smoothedRTT == .milliseconds(10))
        #expect(t.endpoint.stats(of: id)?.retransmissionTimeout == .milliseconds(400))
        // A fresh segment is timed again: 50 ms.
        _ = t.write(id, streamBytes(100..<200))
        t.expectTransmit(Seg(flags: [.ack, .psh], seq: ourISS + 101, ack: peerISS + 1, window: 4096, payload: streamBytes(100..<200)), at: Self.ms(250))
        t.send(Seg(flags: .ack, seq: peerISS + 1, ack: ourISS + 201, window: 8192), at: Self.ms(300))
        // SRTT = 7/8·10 + 1/8·50 = 15 ms; RTTVAR = 3/4·5 + 1/4·40 = 13.75 ms; RTO = 70 ms → 200 ms.
        #expect(t.endpoint.stats(of: id)?.smoothedRTT == .milliseconds(15))
        #expect(t.endpoint.stats(of: id)?.retransmissionTimeout == .milliseconds(200))
    }

    @Test func zeroWindowIsProbedWithBackoff() {
        let (t, id) = EngineTest.makeEstablished()
        t.send(Seg(flags: .ack, seq: peerISS + 1, ack: ourISS + 1, window: 0), at: Self.ms(15))
        _ = t.write(id, streamBytes(0..<100))
        t.expectNothing(at: Self.ms(20))
        t.expectNothing(at: Self.ms(219))
        // RFC 9293 §3.8.6.1: a one-byte probe after one RTO.
        t.expectTransmit(Seg(flags: .ack, seq: ourISS + 1, ack: peerISS + 1, window: 4096, payload: [streamBytes(0..<1)[0]]), at: Self.ms(220))
        t.send(Seg(flags: .ack, seq: peerISS + 1, ack: ourISS + 1, window: 0), at: Self.ms(230))
        t.expectNothing(at: Self.ms(619))
        t.expectTransmit(Seg(flags: .ack, seq: ourISS + 1, ack: peerISS + 1, window: 4096, payload: [streamBytes(0..<1)[0]]), at: Self.ms(620))
        t.send(Seg(flags: .ack, seq: peerISS + 1, ack: ourISS + 1, window: 0), at: Self.ms(630))
        t.expectNothing(at: Self.ms(1419))
        // The window opens: everything goes.
        t.send(Seg(flags: .ack, seq: peerISS + 1, ack: ourISS + 1, window: 4096), at: Self.ms(1000))
        t.expectTransmit(Seg(flags: [.ack, .psh], seq: ourISS + 1, ack: peerISS + 1, window: 4096, payload: streamBytes(0..<100)), at: Self.ms(1000))
        t.expectNothing(at: Self.ms(1000))
        #expect(t.endpoint.stats(of: id)?.zeroWindowProbesSent == 2)
    }

    // MARK: - FIN-WAIT-1, FIN-WAIT-2, TIME-WAIT (active close)

    @Test func activeCloseThroughTimeWait() {
        let (t, id) = EngineTest.makeEstablished()
        t.endpoint.close(id)
        #expect(t.endpoint.state(of: id) == .finWait1)
        t.expectTransmit(Seg(flags: [.ack, .fin], seq: ourISS + 1, ack: peerISS + 1, window: 4096), at: Self.ms(20))
        t.send(Seg(flags: .ack, seq: peerISS + 1, ack: ourISS + 2, window: 8192), at: Self.ms(30))
        #expect(t.endpoint.state(of: id) == .finWait2)
        t.expectNothing(at: Self.ms(30))
        t.send(Seg(flags: [.ack, .fin], seq: peerISS + 1, ack: ourISS + 2, window: 8192), at: Self.ms(40))
        t.expectTransmit(Seg(flags: .ack, seq: ourISS + 2, ack: peerISS + 2, window: 4095), at: Self.ms(40))
        #expect(t.endpoint.state(of: id) == .timeWait)
        #expect(t.events() == [.closed(id, .normal)])
        // A retransmitted FIN is acknowledged again.
        t.send(Seg(flags: [.ack, .fin], seq: peerISS + 1, ack: ourISS + 2, window: 8192), at: .seconds(1))
        t.expectTransmit(Seg(flags: .ack, seq: ourISS + 2, ack: peerISS + 2, window: 4095), at: .seconds(1))
        // 2·MSL (60 s) from that FIN.
        t.expectNothing(at: .seconds(60))
        #expect(t.endpoint.state(of: id) == .timeWait)
        t.expectNothing(at: .seconds(61))
        #expect(t.endpoint.state(of: id) == nil)
        #expect(t.endpoint.connectionCount == 0)
    }

    @Test func finWithAckOfOurFinGoesStraightToTimeWait() {
        let (t, id) = EngineTest.makeEstablished()
        t.endpoint.shutdown(id)
        t.expectTransmit(Seg(flags: [.ack, .fin], seq: ourISS + 1, ack: peerISS + 1, window: 4096), at: Self.ms(20))
        t.send(Seg(flags: [.ack, .fin], seq: peerISS + 1, ack: ourISS + 2, window: 8192), at: Self.ms(30))
        t.expectTransmit(Seg(flags: .ack, seq: ourISS + 2, ack: peerISS + 2, window: 4095), at: Self.ms(30))
        #expect(t.endpoint.state(of: id) == .timeWait)
        #expect(t.events() == [.readable(id), .closed(id, .normal)])
        #expect(t.endpoint.isAtEndOfStream(id))
    }

    @Test func simultaneousCloseGoesThroughClosing() {
        let (t, id) = EngineTest.makeEstablished()
        t.endpoint.close(id)
        t.expectTransmit(Seg(flags: [.ack, .fin], seq: ourISS + 1, ack: peerISS + 1, window: 4096), at: Self.ms(20))
        // The peer's FIN crosses ours: it does not acknowledge our FIN.
        t.send(Seg(flags: [.ack, .fin], seq: peerISS + 1, ack: ourISS + 1, window: 8192), at: Self.ms(25))
        #expect(t.endpoint.state(of: id) == .closing)
        t.expectTransmit(Seg(flags: .ack, seq: ourISS + 2, ack: peerISS + 2, window: 4095), at: Self.ms(25))
        t.send(Seg(flags: .ack, seq: peerISS + 2, ack: ourISS + 2, window: 8192), at: Self.ms(30))
        #expect(t.endpoint.state(of: id) == .timeWait)
        #expect(t.events() == [.closed(id, .normal)])
    }

    @Test func finIsRetransmittedOnTimeout() {
        let (t, id) = EngineTest.makeEstablished()
        _ = t.write(id, [1, 2, 3])
        t.endpoint.shutdown(id)
        t.expectTransmit(Seg(flags: [.ack, .psh, .fin], seq: ourISS + 1, ack: peerISS + 1, window: 4096, payload: [1, 2, 3]), at: Self.ms(20))
        t.expectTransmit(Seg(flags: [.ack, .psh, .fin], seq: ourISS + 1, ack: peerISS + 1, window: 4096, payload: [1, 2, 3]), at: Self.ms(220))
        t.send(Seg(flags: .ack, seq: peerISS + 1, ack: ourISS + 5, window: 8192), at: Self.ms(230))
        #expect(t.endpoint.state(of: id) == .finWait2)
        t.expectNothing(at: Self.ms(2000))
    }

    @Test func rstInFinWait2ResetsTheConnection() {
        let (t, id) = EngineTest.makeEstablished()
        t.endpoint.shutdown(id)
        _ = t.transmit(at: Self.ms(20))
        t.send(Seg(flags: .ack, seq: peerISS + 1, ack: ourISS + 2, window: 8192), at: Self.ms(30))
        t.send(Seg(flags: .rst, seq: peerISS + 1), at: Self.ms(40))
        #expect(t.events() == [.reset(id), .closed(id, .reset)])
    }

    @Test func rstInTimeWaitReleasesIt() {
        let (t, id) = EngineTest.makeEstablished()
        t.endpoint.close(id)
        _ = t.transmit(at: Self.ms(20))
        t.send(Seg(flags: [.ack, .fin], seq: peerISS + 1, ack: ourISS + 2, window: 8192), at: Self.ms(30))
        _ = t.transmit(at: Self.ms(30))
        #expect(t.events() == [.closed(id, .normal)])
        t.send(Seg(flags: .rst, seq: peerISS + 2), at: Self.ms(40))
        #expect(t.endpoint.connectionCount == 0)
        #expect(t.events() == [])
    }

    // MARK: - CLOSE-WAIT, LAST-ACK (passive close)

    @Test func passiveCloseThroughLastAck() {
        let (t, id) = EngineTest.makeEstablished()
        t.send(Seg(flags: [.ack, .fin], seq: peerISS + 1, ack: ourISS + 1, window: 8192, payload: [7, 8]), at: Self.ms(20))
        // The FIN is acknowledged at once.
        // The FIN takes a sequence number but no buffer: the right edge stays put (RFC 9293
        // §3.8.6.2.2), so the window is 4096 − 3.
        t.expectTransmit(Seg(flags: .ack, seq: ourISS + 1, ack: peerISS + 4, window: 4093), at: Self.ms(20))
        #expect(t.endpoint.state(of: id) == .closeWait)
        #expect(t.events() == [.readable(id)])
        #expect(!t.endpoint.isAtEndOfStream(id))
        #expect(t.read(id) == [7, 8])
        #expect(t.endpoint.isAtEndOfStream(id))
        // Reading 2 bytes is no silly-window step (< min(buffer/2, MSS)): the edge stays.
        // Half-closed: we may still send.
        _ = t.write(id, [1])
        t.expectTransmit(Seg(flags: [.ack, .psh], seq: ourISS + 1, ack: peerISS + 4, window: 4093, payload: [1]), at: Self.ms(21))
        t.endpoint.close(id)
        #expect(t.endpoint.state(of: id) == .lastAck)
        t.expectTransmit(Seg(flags: [.ack, .fin], seq: ourISS + 2, ack: peerISS + 4, window: 4093), at: Self.ms(22))
        t.send(Seg(flags: .ack, seq: peerISS + 4, ack: ourISS + 3, window: 8192), at: Self.ms(30))
        #expect(t.events() == [.closed(id, .normal)])
        #expect(t.endpoint.state(of: id) == nil)
        #expect(t.endpoint.connectionCount == 0)
    }

    @Test func finPastAHoleWaitsForTheHole() {
        let (t, id) = EngineTest.makeEstablished()
        t.send(Seg(flags: [.ack, .fin], seq: peerISS + 11, ack: ourISS + 1, window: 8192, payload: streamBytes(10..<20)), at: Self.ms(20))
        t.expectTransmit(Seg(flags: .ack, seq: ourISS + 1, ack: peerISS + 1, window: 4096), at: Self.ms(20))
        #expect(t.endpoint.state(of: id) == .established)
        t.send(Seg(flags: .ack, seq: peerISS + 1, ack: ourISS + 1, window: 8192, payload: streamBytes(0..<10)), at: Self.ms(25))
        t.expectTransmit(Seg(flags: .ack, seq: ourISS + 1, ack: peerISS + 22, window: 4075), at: Self.ms(25))
        #expect(t.endpoint.state(of: id) == .closeWait)
        #expect(t.read(id) == streamBytes(0..<20))
    }

    @Test func abortSendsRSTAndReleases() {
        let (t, id) = EngineTest.makeEstablished()
        _ = t.write(id, [1, 2, 3])
        t.endpoint.abort(id)
        t.expectTransmit(Seg(flags: .rst, seq: ourISS + 1), at: Self.ms(20))
        t.expectNothing(at: Self.ms(20))
        #expect(t.endpoint.state(of: id) == nil)
        #expect(t.events() == [])
        // The stale handle is inert.
        #expect(t.write(id, [1]) == 0)
    }
}
