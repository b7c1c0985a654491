import Testing
@testable import SluiceCore

/// RFC 5961 against a scripted attacker who knows the 4-tuple but not the sequence numbers:
/// blind RST (§3), blind SYN (§4), blind data injection (§5), and the challenge-ACK limit (§7).
/// Connection from `makeEstablished`: SND.UNA = SND.NXT = 1001, RCV.NXT = 5001, RCV.WND 4096,
/// the peer's window (MAX.SND.WND) 8192.
@Suite struct BlindAttackTests {
    static let ms = Instant.milliseconds
    /// The challenge ACK of an idle connection: `<SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>`.
    static let challenge = Seg(flags: .ack, seq: ourISS + 1, ack: peerISS + 1, window: 4096)

    // MARK: - Blind RST (§3)

    @Test func rstExactlyAtRcvNxtResets() {
        let (t, id) = EngineTest.makeEstablished()
        t.send(Seg(flags: [.rst, .ack], seq: peerISS + 1, ack: ourISS + 1), at: Self.ms(20))
        t.expectNothing(at: Self.ms(20))
        #expect(t.events() == [.reset(id), .closed(id, .reset)])
        #expect(t.endpoint.counters.resetsReceived == 1)
        #expect(t.endpoint.counters.challengeACKsSent == 0)
    }

    @Test func rstInTheWindowButNotAtRcvNxtGetsAChallengeACK() {
        let (t, id) = EngineTest.makeEstablished()
        for (i, offset) in [1, 2000, 4095].enumerated() {
            let at = Self.ms(20 + Int64(i))
            t.send(Seg(flags: .rst, seq: peerISS + 1 + UInt32(offset)), at: at)
            t.expectTransmit(Self.challenge, at: at)
            t.expectNothing(at: at)
        }
        #expect(t.endpoint.state(of: id) == .established)
        #expect(t.events() == [])
        #expect(t.endpoint.counters.challengeACKsSent == 3)
        #expect(t.endpoint.stats(of: id)?.challengeACKsSent == 3)
        #expect(t.endpoint.counters.droppedInvalidReset == 3)
        // The real peer answers the challenge ACK with a RST at exactly RCV.NXT: reset.
        t.send(Seg(flags: .rst, seq: peerISS + 1), at: Self.ms(30))
        #expect(t.events() == [.reset(id), .closed(id, .reset)])
    }

    @Test func rstOutsideTheWindowIsDroppedSilently() {
        let (t, id) = EngineTest.makeEstablished()
        for (i, seq) in [peerISS + 1 + 4096, peerISS + 100_000, peerISS, peerISS &- 50_000].enumerated() {
            let at = Self.ms(20 + Int64(i))
            t.send(Seg(flags: .rst, seq: seq), at: at)
            t.expectNothing(at: at)
        }
        #expect(t.endpoint.state(of: id) == .established)
        #expect(t.endpoint.counters.droppedInvalidReset == 4)
        #expect(t.endpoint.counters.challengeACKsSent == 0)
    }

    // MARK: - Blind SYN (§4)

    @Test func synInEstablishedGetsAChallengeACKWhateverItsSequenceNumber() {
        let (t, id) = EngineTest.makeEstablished()
        // In the window, at RCV.NXT, and far outside it: always a challenge ACK, never a reset.
        for (i, seq) in [peerISS + 50, peerISS + 1, peerISS + 1_000_000].enumerated() {
            let at = Self.ms(20 + Int64(i))
            t.send(Seg(flags: .syn, seq: seq, window: 8192), at: at)
            t.expectTransmit(Self.challenge, at: at)
            t.expectNothing(at: at)
        }
        #expect(t.endpoint.state(of: id) == .established)
        #expect(t.events() == [])
        #expect(t.endpoint.counters.droppedSynInWindow == 3)
        #expect(t.endpoint.counters.challengeACKsSent == 3)
    }

    @Test func synInCloseWaitGetsAChallengeACK() {
        let (t, id) = EngineTest.makeEstablished()
        t.send(Seg(flags: [.ack, .fin], seq: peerISS + 1, ack: ourISS + 1, window: 8192), at: Self.ms(20))
        t.expectTransmit(Seg(flags: .ack, seq: ourISS + 1, ack: peerISS + 2, window: 4095), at: Self.ms(20))
        #expect(t.endpoint.state(of: id) == .closeWait)
        t.send(Seg(flags: .syn, seq: peerISS + 2, window: 8192), at: Self.ms(30))
        t.expectTransmit(Seg(flags: .ack, seq: ourISS + 1, ack: peerISS + 2, window: 4095), at: Self.ms(30))
        #expect(t.endpoint.state(of: id) == .closeWait)
    }

    // MARK: - Blind data injection (§5)

    @Test func dataWithAnAckOlderThanTheMaxWindowIsDroppedWithAChallengeACK() {
        let (t, id) = EngineTest.makeEstablished()
        // SND.UNA − MAX.SND.WND = 1001 − 8192: one below is too old.
        let tooOld = (ourISS + 1) &- 8193
        t.send(Seg(flags: .ack, seq: peerISS + 1, ack: tooOld, window: 8192, payload: [0xBA, 0xD0]), at: Self.ms(20))
        t.expectTransmit(Self.challenge, at: Self.ms(20))
        t.expectNothing(at: Self.ms(200))
        #expect(t.events() == [])
        #expect(t.read(id) == [])
        #expect(t.endpoint.counters.droppedAckTooOld == 1)
        #expect(t.endpoint.stats(of: id)?.ackTooOldDrops == 1)
        #expect(t.endpoint.counters.challengeACKsSent == 1)
        // At the lower bound exactly the ACK is acceptable (merely old): the data is taken.
        t.send(Seg(flags: .ack, seq: peerISS + 1, ack: (ourISS + 1) &- 8192, window: 8192, payload: streamBytes(0..<10)), at: Self.ms(210))
        t.expectTransmit(Seg(flags: .ack, seq: ourISS + 1, ack: peerISS + 11, window: 4086), at: Self.ms(250))
        #expect(t.read(id) == streamBytes(0..<10))
        #expect(t.endpoint.counters.droppedAckTooOld == 1)
    }

    @Test func dataAcknowledgingUnsentBytesIsDroppedWithAChallengeACK() {
        let (t, id) = EngineTest.makeEstablished()
        _ = t.write(id, streamBytes(0..<100))
        t.expectTransmit(Seg(flags: [.ack, .psh], seq: ourISS + 1, ack: peerISS + 1, window: 4096, payload: streamBytes(0..<100)),
                         at: Self.ms(15))
        // SND.NXT = 1101: an ACK of 1102 acknowledges what was never sent.
        t.send(Seg(flags: .ack, seq: peerISS + 1, ack: ourISS + 102, window: 8192, payload: [0xBA, 0xD0]), at: Self.ms(20))
        t.expectTransmit(Seg(flags: .ack, seq: ourISS + 101, ack: peerISS + 1, window: 4096), at: Self.ms(20))
        #expect(t.read(id) == [])
        #expect(t.endpoint.stats(of: id)?.bytesAcknowledged == 0)
        #expect(t.endpoint.counters.droppedAckOfUnsent == 1)
        #expect(t.endpoint.counters.challengeACKsSent == 1)
    }

    /// A blind ACK inside our receive window but ahead of the peer's sequence numbers is taken
    /// (§5 lets it through) and sets SND.WL1 past the peer's later segments. The peer's next ACK
    /// of new data still updates the send window (as Linux's `tcp_may_update_window`): with
    /// RFC 9293's SND.WL1 rule alone SND.WND would stay 8192 while SND.UNA moves, and the right
    /// edge would slide past the one the peer advertised (found by `zeroLengthFloodsBothWays`).
    @Test func aBlindACKAheadOfThePeerDoesNotFreezeTheSendWindow() {
        let (t, id) = EngineTest.makeEstablished()
        #expect(t.write(id, streamBytes(0..<2920)) == 2920)
        while t.transmit(at: Self.ms(20)) != nil {}   // two full segments: SND.NXT = 3921
        t.send(Seg(flags: .ack, seq: peerISS + 1 + 2000, ack: ourISS + 1, window: 8192), at: Self.ms(21))
        t.expectNothing(at: Self.ms(21))
        // The peer takes 1000 bytes and offers 1000 more: its right edge is 3001 past our ISS.
        t.send(Seg(flags: .ack, seq: peerISS + 1, ack: ourISS + 1 + 1000, window: 1000), at: Self.ms(30))
        #expect(t.endpoint.stats(of: id)?.peerWindow == 1000)
        t.expectInvariants()
    }

    // MARK: - Challenge-ACK limit (§7)

    @Test func challengeACKsAreLimitedPerConnection() {
        let config = EngineTest.config { $0.connection.challengeACKLimit = ChallengeACKLimit(count: 3, interval: .seconds(1)) }
        let (t, id) = EngineTest.makeEstablished(config: config)
        // Three challenge ACKs (RST, SYN, old ACK: one budget), then silence.
        t.send(Seg(flags: .rst, seq: peerISS + 100), at: Self.ms(20))
        t.expectTransmit(Self.challenge, at: Self.ms(20))
        t.send(Seg(flags: .syn, seq: peerISS + 100, window: 8192), at: Self.ms(21))
        t.expectTransmit(Self.challenge, at: Self.ms(21))
        t.send(Seg(flags: .ack, seq: peerISS + 1, ack: ourISS &- 10_000, window: 8192, payload: [1]), at: Self.ms(22))
        t.expectTransmit(Self.challenge, at: Self.ms(22))
        for i in 0..<20 {
            let at = Self.ms(23 + Int64(i) * 40)
            t.send(Seg(flags: .rst, seq: peerISS + 200 + UInt32(i)), at: at)
            t.expectNothing(at: at)
        }
        #expect(t.endpoint.counters.challengeACKsSent == 3)
        #expect(t.endpoint.counters.challengeACKsSuppressed == 20)
        #expect(t.endpoint.stats(of: id)?.challengeACKsSuppressed == 20)
        #expect(t.endpoint.state(of: id) == .established)
        // Still within the interval that began at 20 ms.
        t.send(Seg(flags: .rst, seq: peerISS + 300), at: Self.ms(1019))
        t.expectNothing(at: Self.ms(1019))
        // The interval is over: a new budget.
        t.send(Seg(flags: .rst, seq: peerISS + 300), at: Self.ms(1020))
        t.expectTransmit(Self.challenge, at: Self.ms(1020))
        #expect(t.endpoint.counters.challengeACKsSent == 4)
        // The limit is per connection: another connection has its own budget.
        t.peer = SocketAddress(EngineTest.peerAddress, 40001)
        t.send(Seg(flags: .syn, seq: peerISS, window: 8192, options: TCPOptions(maximumSegmentSize: 1460)), at: Self.ms(1030))
        t.expectTransmit(Seg(flags: [.syn, .ack], seq: ourISS, ack: peerISS + 1, window: 4096,
                             options: TCPOptions(maximumSegmentSize: 1460)), at: Self.ms(1030))
        t.send(Seg(flags: .ack, seq: peerISS + 1, ack: ourISS + 1, window: 8192), at: Self.ms(1040))
        t.send(Seg(flags: .rst, seq: peerISS + 100), at: Self.ms(1050))
        t.expectTransmit(Self.challenge, at: Self.ms(1050))
        #expect(t.endpoint.counters.challengeACKsSent == 5)
    }

    @Test func theDefaultLimitIsTenInFiveSeconds() {
        #expect(ConnectionConfig().challengeACKLimit == ChallengeACKLimit(count: 10, interval: .seconds(5)))
        let (t, _) = EngineTest.makeEstablished()
        for i in 0..<15 {
            let at = Self.ms(20 + Int64(i))
            t.send(Seg(flags: .rst, seq: peerISS + 100), at: at)
            if i < 10 { t.expectTransmit(Self.challenge, at: at) } else { t.expectNothing(at: at) }
        }
        t.send(Seg(flags: .rst, seq: peerISS + 100), at: Self.ms(5020))
        t.expectTransmit(Self.challenge, at: Self.ms(5020))
    }

    @Test func aLimitOfZeroSendsNoChallengeACK() {
        let (t, id) = EngineTest.makeEstablished(config: EngineTest.config {
            $0.connection.challengeACKLimit = ChallengeACKLimit(count: 0, interval: .seconds(1))
        })
        t.send(Seg(flags: .rst, seq: peerISS + 100), at: Self.ms(20))
        t.send(Seg(flags: .syn, seq: peerISS + 100, window: 8192), at: Self.ms(2000))
        t.expectNothing(at: Self.ms(2000))
        #expect(t.endpoint.state(of: id) == .established)
        #expect(t.endpoint.counters.challengeACKsSuppressed == 2)
    }

    @Test func throttleCountsWithinAnInterval() {
        var throttle = ChallengeACKThrottle()
        let limit = ChallengeACKLimit(count: 2, interval: .milliseconds(100))
        let at = { (ms: Int64) in Instant.milliseconds(ms) }
        let answers = [0, 50, 99, 100, 150, 199].map { throttle.allow(at: at($0), limit: limit) }
        #expect(answers == [true, true, false, true, true, false])
    }
}
