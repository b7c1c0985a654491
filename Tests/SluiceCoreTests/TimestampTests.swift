import Testing
@testable import SluiceCore

/// RFC 7323 timestamps against a scripted peer: negotiation (and its refusal), TSecr echoing,
/// RTT samples from echoed timestamps, PAWS. Our TSval is the millisecond clock plus our ISS
/// (1000), so at time t ms we send TSval 1000 + t.
@Suite struct TimestampTests: TimestampScript {
    static let ms = Instant.milliseconds

    /// A passive open with timestamps: the peer's SYN (TSval 100) at 0, our SYN-ACK (TSval 1000,
    /// TSecr 100), the peer's ACK at 10 ms (TSval 110, TSecr 1000: an RTT sample of 10 ms).
    /// Afterwards TS.Recent = 110; SND.NXT = 1001, RCV.NXT = 5001, the peer's window 8192.
    static func makeEstablished(_ tweak: (inout EndpointConfig) -> Void = { _ in },
                                sourceLocation: SourceLocation = #_sourceLocation) -> (EngineTest, ConnectionID) {
        let t = EngineTest(config: EngineTest.config {
            $0.connection.timestampsEnabled = true
            tweak(&$0)
        })
        do { try t.endpoint.listen(port: 80) } catch { Issue.record("listen failed: \(error)", sourceLocation: sourceLocation) }
        t.send(Seg(flags: .syn, seq: peerISS, window: 8192,
                   options: TCPOptions(maximumSegmentSize: 1460, timestamps: TCPTimestamps(value: 100, echoReply: 0))), at: .zero)
        t.expectTransmit(Seg(flags: [.syn, .ack], seq: ourISS, ack: peerISS + 1, window: 4096,
                             options: TCPOptions(maximumSegmentSize: 1460, timestamps: TCPTimestamps(value: tsval(0), echoReply: 100))),
                         at: .zero, sourceLocation: sourceLocation)
        t.send(Seg(flags: .ack, seq: peerISS + 1, ack: ourISS + 1, window: 8192,
                   options: TCPOptions(timestamps: TCPTimestamps(value: 110, echoReply: tsval(0)))), at: ms(10))
        _ = t.events()
        guard let id = t.endpoint.accept(port: 80) else {
            Issue.record("accept returned nil", sourceLocation: sourceLocation)
            return (t, ConnectionID(index: 0, generation: 0))
        }
        #expect(t.endpoint.stats(of: id)?.timestampsEnabled == true, sourceLocation: sourceLocation)
        return (t, id)
    }

    // MARK: - Negotiation

    @Test func peerDecliningTimestampsGetsNoTimestampOnAnySegment() throws {
        let t = EngineTest(config: EngineTest.config { $0.connection.timestampsEnabled = true })
        let id = try t.connectFromPort49152()
        // We offer TSopt on our SYN (RFC 7323 §3.2)...
        t.expectTransmit(Seg(flags: .syn, seq: ourISS, window: 4096,
                             options: TCPOptions(maximumSegmentSize: 1460, timestamps: TCPTimestamps(value: Self.tsval(0), echoReply: 0))),
                         at: .zero)
        // ...the peer's SYN-ACK has none: timestamps are off for the connection.
        t.send(Seg(flags: [.syn, .ack], seq: peerISS, ack: ourISS + 1, window: 8192,
                   options: TCPOptions(maximumSegmentSize: 1460)), at: Self.ms(10))
        t.expectTransmit(Seg(flags: .ack, seq: ourISS + 1, ack: peerISS + 1, window: 4096), at: Self.ms(10))
        #expect(t.endpoint.stats(of: id)?.timestampsEnabled == false)
        // Data out, and a retransmission of it: no TSopt, full MSS.
        _ = t.write(id, streamBytes(0..<1600))
        t.expectTransmit(Seg(flags: .ack, seq: ourISS + 1, ack: peerISS + 1, window: 4096, payload: streamBytes(0..<1460)), at: Self.ms(20))
        t.expectTransmit(Seg(flags: [.ack, .psh], seq: ourISS + 1461, ack: peerISS + 1, window: 4096,
                             payload: streamBytes(1460..<1600)), at: Self.ms(20))
        t.expectTransmit(Seg(flags: .ack, seq: ourISS + 1, ack: peerISS + 1, window: 4096, payload: streamBytes(0..<1460)), at: Self.ms(220))
        // The peer's data without TSopt is taken (no "missing timestamp" drop), and a TSopt
        // appearing later is ignored (RFC 7323 §3.2): the ACK carries none.
        t.send(Seg(flags: .ack, seq: peerISS + 1, ack: ourISS + 1601, window: 8192, payload: streamBytes(0..<10)), at: Self.ms(230))
        t.send(Seg(flags: .ack, seq: peerISS + 11, ack: ourISS + 1601, window: 8192, options: Self.ts(500, 1),
                   payload: streamBytes(10..<20)), at: Self.ms(231))
        t.expectTransmit(Seg(flags: .ack, seq: ourISS + 1601, ack: peerISS + 21, window: 4076), at: Self.ms(271))
        #expect(t.read(id) == streamBytes(0..<20))
        #expect(t.endpoint.stats(of: id)?.missingTimestampDrops == 0)
        #expect(t.endpoint.stats(of: id)?.timestampRTTSamples == 0)
    }

    @Test func segmentsCarryTSvalAndEchoTSRecent() {
        let (t, id) = Self.makeEstablished()
        // In-order data at 20 ms: TS.Recent = 120 (SEG.SEQ = Last.ACK.sent).
        t.send(Self.peerSegment(tsval: 120, echoMs: 10, payload: streamBytes(0..<100)), at: Self.ms(20))
        // A second segment before our ACK (SEG.SEQ > Last.ACK.sent) does not move TS.Recent
        // (RFC 7323 §4.3: the echo is the earliest unacknowledged segment's).
        t.send(Self.peerSegment(seq: peerISS + 101, tsval: 125, echoMs: 10, payload: streamBytes(100..<200)), at: Self.ms(25))
        // The delayed ACK (40 ms after the first segment) echoes 120.
        t.expectNothing(at: Self.ms(59))
        Self.expectAck(t, ack: peerISS + 201, window: 3896, echo: 120, atMs: 60)
        // Our data carries TSval = clock + offset and the same echo; the MSS leaves room for TSopt.
        _ = t.write(id, streamBytes(0..<1500))
        t.expectTransmit(Seg(flags: .ack, seq: ourISS + 1, ack: peerISS + 201, window: 3896,
                             options: Self.ts(Self.tsval(70), 120), payload: streamBytes(0..<1448)), at: Self.ms(70))
        t.expectTransmit(Seg(flags: [.ack, .psh], seq: ourISS + 1449, ack: peerISS + 201, window: 3896,
                             options: Self.ts(Self.tsval(70), 120), payload: streamBytes(1448..<1500)), at: Self.ms(70))
    }

    @Test func segmentWithoutTimestampIsDroppedSilentlyOnceNegotiated() {
        let (t, id) = Self.makeEstablished()
        t.send(Seg(flags: .ack, seq: peerISS + 1, ack: ourISS + 1, window: 8192, payload: streamBytes(0..<10)), at: Self.ms(20))
        t.expectNothing(at: Self.ms(100))
        #expect(t.read(id) == [])
        #expect(t.endpoint.stats(of: id)?.missingTimestampDrops == 1)
        #expect(t.endpoint.counters.droppedMissingTimestamp == 1)
        // A RST needs none (RFC 7323 §3.2) and is taken at RCV.NXT.
        t.send(Seg(flags: .rst, seq: peerISS + 1), at: Self.ms(110))
        #expect(t.events() == [.reset(id), .closed(id, .reset)])
    }

    // MARK: - RTT measurement (RFC 7323 §4)

    @Test func rttSamplesComeFromEchoedTimestamps() {
        let (t, id) = Self.makeEstablished()
        // The handshake: our SYN-ACK's TSval 1000 echoed at 10 ms.
        #expect(t.endpoint.stats(of: id)?.smoothedRTT == .milliseconds(10))
        #expect(t.endpoint.stats(of: id)?.timestampRTTSamples == 1)
        // Our data `range` sent at `at` ms, echoing `echo`.
        let data = { (range: Range<Int>, at: Int64, echo: UInt32) in
            Seg(flags: [.ack, .psh], seq: ourISS + 1 + UInt32(range.lowerBound), ack: peerISS + 1, window: 4096,
                options: Self.ts(Self.tsval(at), echo), payload: streamBytes(range))
        }
        _ = t.write(id, streamBytes(0..<100))
        t.expectTransmit(data(0..<100, 20, 110), at: Self.ms(20))
        t.expectTransmit(data(0..<100, 220, 110), at: Self.ms(220))   // RTO 200 ms; now backed off to 400 ms
        #expect(t.endpoint.stats(of: id)?.retransmissionTimeout == .milliseconds(400))
        // The ACK echoes the retransmission's TSval: an unambiguous 40 ms sample, although the
        // segment was retransmitted (no Karn rule needed); the backoff ends.
        // SRTT = 7/8·10 + 1/8·40 = 13.75 ms; RTTVAR = 3/4·5 + 1/4·30 = 11.25 ms; RTO = 58.75 → 200 ms.
        t.send(Self.peerSegment(ack: ourISS + 101, tsval: 150, echoMs: 220), at: Self.ms(260))
        #expect(t.endpoint.stats(of: id)?.smoothedRTT == .microseconds(13_750))
        #expect(t.endpoint.stats(of: id)?.rttVariation == .microseconds(11_250))
        #expect(t.endpoint.stats(of: id)?.retransmissionTimeout == .milliseconds(200))
        // Each ACK of new data is timed by its echo: 30 ms. SRTT = 7/8·13.75 + 30/8 = 15.78125 ms.
        _ = t.write(id, streamBytes(100..<200))
        t.expectTransmit(data(100..<200, 300, 150), at: Self.ms(300))
        t.send(Self.peerSegment(ack: ourISS + 201, tsval: 160, echoMs: 300), at: Self.ms(330))
        #expect(t.endpoint.stats(of: id)?.smoothedRTT == .nanoseconds(15_781_250))
        #expect(t.endpoint.stats(of: id)?.timestampRTTSamples == 3)
        // An echo our clock cannot have produced (from the future) gives no sample.
        _ = t.write(id, streamBytes(200..<300))
        t.expectTransmit(data(200..<300, 340, 160), at: Self.ms(340))
        t.send(Self.peerSegment(ack: ourISS + 301, tsval: 170, echoMs: 900_000), at: Self.ms(350))
        #expect(t.endpoint.stats(of: id)?.smoothedRTT == .nanoseconds(15_781_250))
        #expect(t.endpoint.stats(of: id)?.invalidTimestampEchoes == 1)
        #expect(t.endpoint.stats(of: id)?.bytesAcknowledged == 300)
        // A duplicate ACK (no new data) gives no sample either.
        t.send(Self.peerSegment(ack: ourISS + 301, tsval: 180, echoMs: 340), at: Self.ms(360))
        #expect(t.endpoint.stats(of: id)?.timestampRTTSamples == 3)
    }

    // MARK: - PAWS (RFC 7323 §5)

    @Test func pawsDropsAnOldDuplicateAndAcknowledges() {
        let (t, id) = Self.makeEstablished()
        t.send(Self.peerSegment(tsval: 120, echoMs: 10, payload: streamBytes(0..<100)), at: Self.ms(20))
        Self.expectAck(t, ack: peerISS + 101, window: 3996, echo: 120, atMs: 60)
        // An old duplicate from an earlier cycle of the sequence space: its sequence number is in
        // the window (the next expected!), but its TSval 50 is older than TS.Recent 120. Dropped,
        // and answered at once with an ACK (RFC 7323 §5.3 R1).
        t.send(Self.peerSegment(seq: peerISS + 101, tsval: 50, echoMs: 0, payload: [0xEE, 0xEE, 0xEE]), at: Self.ms(70))
        Self.expectAck(t, ack: peerISS + 101, window: 3996, echo: 120, atMs: 70)
        t.expectNothing(at: Self.ms(200))
        #expect(t.endpoint.stats(of: id)?.pawsDrops == 1)
        #expect(t.endpoint.counters.droppedPAWS == 1)
        // The real segment at that sequence number (TSval 130) is taken.
        t.send(Self.peerSegment(seq: peerISS + 101, tsval: 130, echoMs: 60, payload: streamBytes(100..<103)), at: Self.ms(210))
        Self.expectAck(t, ack: peerISS + 104, window: 3993, echo: 130, atMs: 250)
        // An equal TSval is not older (same millisecond): taken.
        t.send(Self.peerSegment(seq: peerISS + 104, tsval: 130, echoMs: 60, payload: streamBytes(103..<104)), at: Self.ms(260))
        #expect(t.read(id) == streamBytes(0..<104))
        #expect(t.endpoint.stats(of: id)?.pawsDrops == 1)
    }

    @Test func pawsDoesNotApplyToRST() {
        let (t, id) = Self.makeEstablished()
        t.send(Seg(flags: .rst, seq: peerISS + 1, options: Self.ts(1, 0)), at: Self.ms(20))
        #expect(t.events() == [.reset(id), .closed(id, .reset)])
        #expect(t.endpoint.counters.droppedPAWS == 0)
    }

    @Test func pawsAppliesToASYNInEstablished() {
        let (t, id) = Self.makeEstablished()
        // An old SYN: PAWS drops it first (an ACK in reply), no challenge ACK is counted.
        t.send(Seg(flags: .syn, seq: peerISS + 1, window: 8192, options: Self.ts(50, 0)), at: Self.ms(20))
        Self.expectAck(t, ack: peerISS + 1, window: 4096, echo: 110, atMs: 20)
        #expect(t.endpoint.stats(of: id)?.pawsDrops == 1)
        #expect(t.endpoint.counters.challengeACKsSent == 0)
        #expect(t.endpoint.state(of: id) == .established)
    }

    @Test func tsRecentIsInvalidAfter24DaysIdle() {
        let (t, id) = Self.makeEstablished()
        // 25 days later the peer's clock has moved on and wrapped past our TS.Recent (110): its
        // TSval 5 looks old, but TS.Recent is no longer valid (RFC 7323 §5.5): taken, and adopted.
        let later: Int64 = 25 * 24 * 3600 * 1000
        t.send(Self.peerSegment(tsval: 5, echoMs: 0, payload: streamBytes(0..<10)), at: Self.ms(later))
        Self.expectAck(t, ack: peerISS + 11, window: 4086, echo: 5, atMs: later + 40)
        #expect(t.endpoint.stats(of: id)?.pawsDrops == 0)
        // Within 24 days the same would be dropped: TSval 4 one second later.
        t.send(Self.peerSegment(seq: peerISS + 11, tsval: 4, echoMs: 0, payload: streamBytes(10..<20)), at: Self.ms(later + 1000))
        Self.expectAck(t, ack: peerISS + 11, window: 4086, echo: 5, atMs: later + 1000)
        #expect(t.endpoint.stats(of: id)?.pawsDrops == 1)
        #expect(t.read(id) == streamBytes(0..<10))
    }

    @Test func aSegmentWithAnUnacceptableAckCannotMoveTSRecent() {
        let (t, id) = Self.makeEstablished()
        // A blind segment in the window with a far-future TSval and an ACK far in the past:
        // dropped (RFC 5961 §5.2), and TS.Recent keeps 110, so the real peer is not shut out by PAWS.
        t.send(Seg(flags: .ack, seq: peerISS + 1, ack: ourISS &- 100_000, window: 8192,
                   options: Self.ts(2_000_000_000, 0), payload: [0xBA, 0xD0]), at: Self.ms(20))
        Self.expectAck(t, ack: peerISS + 1, window: 4096, echo: 110, atMs: 20)
        t.send(Self.peerSegment(tsval: 120, echoMs: 10, payload: streamBytes(0..<10)), at: Self.ms(30))
        #expect(t.read(id) == streamBytes(0..<10))
        #expect(t.endpoint.stats(of: id)?.pawsDrops == 0)
        #expect(t.endpoint.stats(of: id)?.ackTooOldDrops == 1)
    }
}
