import Testing
import SluiceCore

@Suite struct CongestionControlTests {
    let iss = SequenceNumber(1_000)

    /// mss 1000, IW 10,000 bytes; 10,000 bytes in flight from SND.UNA 5001 to SND.MAX 15001.
    func makeSender(mode: LossRecoveryMode = .newReno) -> CongestionControl {
        CongestionControl(mss: 1000, initialSequenceNumber: iss, mode: mode)
    }
    let sndUna = SequenceNumber(5_001)
    let sndMax = SequenceNumber(15_001)

    // MARK: - Initial window (RFC 6928 §2)

    @Test func initialWindowFollowsRFC6928() {
        #expect(CongestionControl(mss: 1460, initialSequenceNumber: iss).cwnd == 14_600)
        #expect(CongestionControl(mss: 536, initialSequenceNumber: iss).cwnd == 5_360)
        #expect(CongestionControl(mss: 9000, initialSequenceNumber: iss).cwnd == 18_000)
        #expect(CongestionControl(mss: 1000, initialSequenceNumber: iss, initialWindow: 1).cwnd == 1000)
    }

    // MARK: - Slow start and congestion avoidance (RFC 5681 §3.1, RFC 3465)

    @Test func slowStartGrowsByBytesAckedUpToTwoSegments() {
        var cc = makeSender()
        #expect(cc.inSlowStart)
        #expect(cc.onAck(ack: sndUna + 1000, bytesAcked: 1000, flightSize: 9000, at: .zero) == .none)
        #expect(cc.cwnd == 11_000)
        _ = cc.onAck(ack: sndUna + 6000, bytesAcked: 5000, flightSize: 4000, at: .zero)
        #expect(cc.cwnd == 13_000)   // L = 2·SMSS
        _ = cc.onAck(ack: sndUna + 6100, bytesAcked: 100, flightSize: 3900, at: .zero)
        #expect(cc.cwnd == 13_100)
    }

    @Test func congestionAvoidanceAddsOneSegmentPerWindowAcked() {
        var cc = CongestionControl(mss: 1000, initialSequenceNumber: iss, initialSSThresh: 10_000)
        #expect(!cc.inSlowStart)
        var ack = sndUna
        for _ in 0..<9 {
            ack += 1000
            _ = cc.onAck(ack: ack, bytesAcked: 1000, flightSize: 5000, at: .zero)
        }
        #expect(cc.cwnd == 10_000)
        _ = cc.onAck(ack: ack + 1000, bytesAcked: 1000, flightSize: 5000, at: .zero)
        #expect(cc.cwnd == 11_000)
    }

    // MARK: - Fast retransmit (RFC 5681 §3.2)

    @Test func threeDuplicateAcksTriggerOneFastRetransmit() {
        var cc = makeSender()
        #expect(cc.onDuplicateAck(ack: sndUna, flightSize: 10_000, sndMax: sndMax) == .none)
        #expect(cc.sendWindow == 11_000)   // Limited Transmit (RFC 3042)
        #expect(cc.onDuplicateAck(ack: sndUna, flightSize: 10_000, sndMax: sndMax) == .none)
        #expect(cc.sendWindow == 12_000)
        #expect(cc.onDuplicateAck(ack: sndUna, flightSize: 10_000, sndMax: sndMax) == .fastRetransmit)
        #expect(cc.inRecovery)
        #expect(cc.ssthresh == 5_000)           // FlightSize / 2
        #expect(cc.cwnd == 8_000)               // ssthresh + 3·SMSS
        #expect(cc.recover == sndMax - 1)       // the highest byte sent
        // Further duplicates inflate the window; none retransmits again.
        for expected in [9_000, 10_000, 11_000] {
            #expect(cc.onDuplicateAck(ack: sndUna, flightSize: 10_000, sndMax: sndMax) == .none)
            #expect(cc.cwnd == expected)
        }
        #expect(cc.counters.fastRetransmits == 1)
    }

    @Test func ssthreshNeverFallsBelowTwoSegments() {
        var cc = makeSender()
        for _ in 0..<3 { _ = cc.onDuplicateAck(ack: sndUna, flightSize: 1_500, sndMax: sndUna + 1_500) }
        #expect(cc.ssthresh == 2_000)
        #expect(cc.cwnd == 5_000)
    }

    // MARK: - NewReno partial ACKs (RFC 6582 §3.2)

    @Test func partialAckRetransmitsTheNextHoleAndStaysInRecovery() {
        var cc = makeSender()
        for _ in 0..<5 { _ = cc.onDuplicateAck(ack: sndUna, flightSize: 10_000, sndMax: sndMax) }
        #expect(cc.cwnd == 10_000)   // 8,000 + 2 inflations
        // 2,000 bytes acknowledged, the next hole at 7001: retransmit it, restart the timer.
        #expect(cc.onAck(ack: sndUna + 2000, bytesAcked: 2000, flightSize: 8000, at: .milliseconds(10)) == .partialAck(restartTimer: true))
        #expect(cc.inRecovery)
        #expect(cc.cwnd == 9_000)    // deflated by 2,000, one SMSS added back
        // A second partial ACK of less than one SMSS: no SMSS added back, timer left alone.
        #expect(cc.onAck(ack: sndUna + 2500, bytesAcked: 500, flightSize: 7500, at: .milliseconds(20)) == .partialAck(restartTimer: false))
        #expect(cc.cwnd == 8_500)
        #expect(cc.inRecovery)
        #expect(cc.counters.partialAcks == 2)
        // The full ACK (covers recover = 15000) ends recovery: cwnd = min(ssthresh, max(FlightSize, SMSS) + SMSS).
        #expect(cc.onAck(ack: sndMax, bytesAcked: 10_000 - 2500, flightSize: 2000, at: .milliseconds(30)) == .recoveryEnded)
        #expect(!cc.inRecovery)
        #expect(cc.cwnd == 3_000)
        #expect(cc.ssthresh == 5_000)
        #expect(cc.counters.recoveriesCompleted == 1)
    }

    @Test func fullAckWithMuchInFlightDeflatesToSsthresh() {
        var cc = makeSender()
        for _ in 0..<3 { _ = cc.onDuplicateAck(ack: sndUna, flightSize: 10_000, sndMax: sndMax) }
        #expect(cc.onAck(ack: sndMax, bytesAcked: 10_000, flightSize: 8_000, at: .zero) == .recoveryEnded)
        #expect(cc.cwnd == 5_000)
    }

    // MARK: - Retransmission timeout (RFC 5681 §3.1, RFC 6582 §3.2)

    @Test func timeoutCollapsesToOneSegmentAndGuardsAgainstOldDuplicates() {
        var cc = makeSender()
        cc.onRetransmitTimeout(flightSize: 10_000, sndMax: sndMax)
        #expect(cc.cwnd == 1_000)
        #expect(cc.ssthresh == 5_000)
        #expect(cc.recover == sndMax - 1)
        // A second timeout of the same data keeps ssthresh (it would otherwise halve FlightSize 1000).
        cc.onRetransmitTimeout(flightSize: 10_000, sndMax: sndMax)
        #expect(cc.ssthresh == 5_000)
        #expect(cc.counters.retransmitTimeouts == 2)
        // Duplicate ACKs for data sent before the timeout do not start a fast retransmit.
        let partial = sndUna + 1000
        _ = cc.onAck(ack: partial, bytesAcked: 1000, flightSize: 9000, at: .zero)
        #expect(cc.cwnd == 2_000)   // slow start again
        for _ in 0..<3 { #expect(cc.onDuplicateAck(ack: partial, flightSize: 9000, sndMax: sndMax) == .none) }
        #expect(!cc.inRecovery)
        #expect(cc.counters.duplicateAcksIgnoredBelowRecover == 1)
        // Once the ACK passes recover, three duplicates start recovery again.
        _ = cc.onAck(ack: sndMax, bytesAcked: 9000, flightSize: 0, at: .zero)
        let later = sndMax + 4000
        for _ in 0..<2 { _ = cc.onDuplicateAck(ack: sndMax, flightSize: 4000, sndMax: later) }
        #expect(cc.onDuplicateAck(ack: sndMax, flightSize: 4000, sndMax: later) == .fastRetransmit)
    }

    @Test func timeoutDuringRecoveryEndsIt() {
        var cc = makeSender()
        for _ in 0..<3 { _ = cc.onDuplicateAck(ack: sndUna, flightSize: 10_000, sndMax: sndMax) }
        cc.onRetransmitTimeout(flightSize: 10_000, sndMax: sndMax)
        #expect(!cc.inRecovery)
        #expect(cc.cwnd == 1_000)
        // ssthresh is recomputed from FlightSize on the first timeout of the series.
        #expect(cc.ssthresh == 5_000)
    }

    // MARK: - SACK mode (RFC 6675 §5)

    @Test func sackRecoveryHoldsCwndAtSsthresh() {
        var cc = makeSender(mode: .sack)
        for _ in 0..<2 { _ = cc.onDuplicateAck(ack: sndUna, flightSize: 10_000, sndMax: sndMax) }
        #expect(cc.onDuplicateAck(ack: sndUna, flightSize: 10_000, sndMax: sndMax) == .fastRetransmit)
        #expect(cc.cwnd == 5_000)
        #expect(cc.ssthresh == 5_000)
        _ = cc.onDuplicateAck(ack: sndUna, flightSize: 10_000, sndMax: sndMax)
        #expect(cc.cwnd == 5_000)   // no inflation: pipe governs sending
        #expect(cc.onAck(ack: sndUna + 2000, bytesAcked: 2000, flightSize: 8000, at: .zero) == .partialAck(restartTimer: true))
        #expect(cc.cwnd == 5_000)   // no deflation either
    }

    @Test func enterRecoveryEarlyWhenTheScoreboardShowsLoss() {
        var cc = makeSender(mode: .sack)
        #expect(cc.enterRecovery(ack: sndUna, flightSize: 10_000, sndMax: sndMax) == .fastRetransmit)
        #expect(cc.enterRecovery(ack: sndUna, flightSize: 10_000, sndMax: sndMax) == .none)
        #expect(cc.counters.fastRetransmits == 1)
    }

    // MARK: - Helpers

    @Test func duplicateAckDefinitionFollowsRFC5681() {
        let una = SequenceNumber(100), max = SequenceNumber(200)
        #expect(CongestionControl.isDuplicateAck(ack: una, sndUna: una, sndMax: max, payloadLength: 0, flags: .ack, window: 10, previousWindow: 10))
        #expect(!CongestionControl.isDuplicateAck(ack: una, sndUna: una, sndMax: una, payloadLength: 0, flags: .ack, window: 10, previousWindow: 10))
        #expect(!CongestionControl.isDuplicateAck(ack: una, sndUna: una, sndMax: max, payloadLength: 1, flags: .ack, window: 10, previousWindow: 10))
        #expect(!CongestionControl.isDuplicateAck(ack: una, sndUna: una, sndMax: max, payloadLength: 0, flags: [.ack, .fin], window: 10, previousWindow: 10))
        #expect(!CongestionControl.isDuplicateAck(ack: una, sndUna: una, sndMax: max, payloadLength: 0, flags: .ack, window: 11, previousWindow: 10))
        #expect(!CongestionControl.isDuplicateAck(ack: una + 1, sndUna: una, sndMax: max, payloadLength: 0, flags: .ack, window: 10, previousWindow: 10))
    }

    @Test func restartAfterIdleUsesTheRestartWindow() {
        var cc = makeSender()
        for i in 1...20 { _ = cc.onAck(ack: sndUna + 1000 * i, bytesAcked: 1000, flightSize: 0, at: .zero) }
        #expect(cc.cwnd == 30_000)
        cc.restartAfterIdle()
        #expect(cc.cwnd == 10_000)
    }
}

extension CongestionControlTests {
    @Test func lostSynLeavesAnInitialWindowOfOneSegment() {
        var cc = CongestionControl(mss: 1460, initialSequenceNumber: iss)
        cc.synWasRetransmitted()
        #expect(cc.cwnd == 1460)
        #expect(cc.initialWindow == 14_600)   // the restart window is unchanged
    }
}
