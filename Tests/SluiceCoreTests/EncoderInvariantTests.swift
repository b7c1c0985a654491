import Testing
@testable import SluiceCore

/// The encoder trusts nothing (`Endpoint.encode`): a segment whose header sequence number is not
/// where its payload lies in the send ring, or whose payload the ring cannot fully supply, is
/// never sent. It is counted, and the connection is stopped with a RST
/// `<SEQ=SND.NXT><CTL=RST>` (`.closed(.internalError)`). Each case is forced by handing the
/// endpoint's transmit step (the one `pollTransmit` uses) a segment the connection really
/// produced, then broken the way a bug would break it.
@Suite struct EncoderInvariantTests {
    typealias L = LossRecoveryEngineTests
    static let mss = L.mss

    /// The state bd3ebd5 mishandled: after a timeout, go-back-N has resent up to segment 2
    /// (cwnd full) when an ACK arrives that both opens cwnd and SACKs segment 3, so the same
    /// `nextSegment` call moves SND.NXT from segment 3 past it (RFC 6675 §5.1) and resends
    /// segment 4. Returns the engine at 240 ms, just after that ACK.
    static func makeSkipAfterTimeout() -> (EngineTest, ConnectionID) {
        let (t, id) = L.makeSender(sack: true)
        L.sendSegments(6, t, id)
        // Nothing comes back: the RTO resends segment 0 alone (cwnd = 1 segment, ssthresh 3).
        t.expectTransmit(L.data(0), at: .milliseconds(220))
        t.expectNothing(at: .milliseconds(220))
        // Segment 0 acknowledged: cwnd = 2, go-back-N resends segments 1 and 2.
        L.ack(L.seq(1), at: t, time: .milliseconds(230))
        t.expectTransmit(L.data(1), at: .milliseconds(230))
        t.expectTransmit(L.data(2), at: .milliseconds(230))
        t.expectNothing(at: .milliseconds(230))
        // Segment 1 acknowledged (cwnd = 3), segment 3 SACKed (it arrived the first time):
        // SND.NXT is at segment 3, which the peer holds.
        L.ack(L.seq(2), at: t, time: .milliseconds(240), sack: [(L.seq(3), L.seq(4))])
        return (t, id)
    }

    /// The fixed engine sends segment 4 with its own header; the invariants hold.
    @Test func afterATimeoutTheSACKSkipSendsTheRightBytes() {
        let (t, _) = Self.makeSkipAfterTimeout()
        t.expectTransmit(L.data(4), at: .milliseconds(240))
        #expect(t.endpoint.counters.encoderSequenceMismatches == 0)
        #expect(t.endpoint.counters.encoderShortPayloads == 0)
    }

    /// bd3ebd5's mismatch: the header built at the SND.NXT before the skip (segment 3) over the
    /// payload taken after it (segment 4). Valid checksums over wrong bytes, if it were sent.
    @Test func headerBuiltBeforeTheSACKSkipIsNotSent() throws {
        let (t, id) = Self.makeSkipAfterTimeout()
        let c = try #require(t.endpoint.connection(id))
        let now = Instant.milliseconds(240)
        var segment = try #require(c.nextSegment(at: now, maxPacketLength: 1500))
        #expect(segment.header.sequenceNumber == SequenceNumber(L.seq(4)))
        #expect(segment.payloadOffset == L.seq(4) - L.seq(2) && segment.payloadLength == Self.mss)
        segment.header.sequenceNumber = SequenceNumber(L.seq(3))
        try Self.expectStopped(t, id, sending: segment, at: now, rstSequence: L.seq(5))
        #expect(t.endpoint.counters.encoderSequenceMismatches == 1)
        #expect(t.endpoint.counters.encoderShortPayloads == 0)
    }

    /// The mismatch the other way round: the right header, the payload offset of another
    /// segment (already acknowledged bytes would be read, or the ring's later bytes).
    @Test(arguments: [-1, 1, Self.mss])
    func payloadOffsetOtherThanTheHeaderIsNotSent(shift: Int) throws {
        let (t, id) = Self.makeSkipAfterTimeout()
        let c = try #require(t.endpoint.connection(id))
        let now = Instant.milliseconds(240)
        var segment = try #require(c.nextSegment(at: now, maxPacketLength: 1500))
        segment.payloadOffset += shift
        try Self.expectStopped(t, id, sending: segment, at: now, rstSequence: L.seq(5))
        #expect(t.endpoint.counters.encoderSequenceMismatches == 1)
    }

    /// The ring cannot supply the whole payload: a length past the queued bytes, or an offset
    /// (and matching header) at the end of the ring. The packet is not sent short or padded.
    @Test(arguments: [(0, 150), (100, 50), (99, 2)])
    func payloadTheRingCannotSupplyIsNotSent(offset: Int, length: Int) throws {
        let (t, id) = EngineTest.makeEstablished()
        #expect(t.write(id, streamBytes(0 ..< 100)) == 100)
        let c = try #require(t.endpoint.connection(id))
        let now = Instant.milliseconds(20)
        var segment = try #require(c.nextSegment(at: now, maxPacketLength: 1500))
        #expect(segment.header.sequenceNumber == SequenceNumber(ourISS + 1) && segment.payloadLength == 100)
        segment.header.sequenceNumber = SequenceNumber(ourISS + 1) + offset
        segment.payloadOffset = offset
        segment.payloadLength = length
        try Self.expectStopped(t, id, sending: segment, at: now, rstSequence: ourISS + 101)
        #expect(t.endpoint.counters.encoderShortPayloads == 1)
        #expect(t.endpoint.counters.encoderSequenceMismatches == 0)
    }

    /// Hands `segment` to the endpoint's transmit step and expects, instead of it, the RST
    /// `<SEQ=rstSequence><CTL=RST>`, then nothing; the application learns `.closed(.internalError)`
    /// and the endpoint's invariant check reports the refusal.
    static func expectStopped(_ t: EngineTest, _ id: ConnectionID, sending segment: OutgoingSegment,
                              at now: Instant, rstSequence: UInt32,
                              sourceLocation: SourceLocation = #_sourceLocation) throws {
        var buffer = [UInt8](repeating: 0, count: 1500)
        let length = buffer.withUnsafeMutableBytes {
            t.endpoint.transmit(segment, slot: Int(id.index), into: $0, at: now)?.length
        }
        let n = try #require(length, "nothing sent: expected a RST", sourceLocation: sourceLocation)
        let bytes = Array(buffer[0..<n])
        let packet = try IPv4TCPPacket.parse(bytes)
        #expect(packet.verifyChecksums(in: bytes).isValid, sourceLocation: sourceLocation)
        #expect(packet.tcp.flags == .rst && packet.tcp.sequenceNumber == SequenceNumber(rstSequence),
                "sent \(packet.tcp.flags) seq \(packet.tcp.sequenceNumber)", sourceLocation: sourceLocation)
        #expect(packet.payloadRange.isEmpty, sourceLocation: sourceLocation)
        #expect(t.transmit(at: now) == nil, sourceLocation: sourceLocation)
        #expect(t.events() == [.closed(id, .internalError)], sourceLocation: sourceLocation)
        #expect(t.endpoint.state(of: id) == .closed, sourceLocation: sourceLocation)
        #expect(t.endpoint.counters.resetsSent == 1, sourceLocation: sourceLocation)
        #expect(t.endpoint.checkInvariants().contains { $0.hasPrefix("encoder refused") }, sourceLocation: sourceLocation)
    }
}
