import Testing
import SluiceCore

@Suite struct FlowAccountingTests {
    @Test func classificationFollowsThePriorityOrder() {
        // Everything blocks: the receiver's window wins.
        #expect(SenderLimit.classify(queued: 5000, peerUsable: 0, congestionUsable: 0, mss: 1460, pacerReady: false) == .receiveWindow)
        // Peer window open, cwnd and pacer block: cwnd wins.
        #expect(SenderLimit.classify(queued: 5000, peerUsable: 9000, congestionUsable: 100, mss: 1460, pacerReady: false) == .congestionWindow)
        #expect(SenderLimit.classify(queued: 5000, peerUsable: 9000, congestionUsable: 9000, mss: 1460, pacerReady: false) == .pacing)
        #expect(SenderLimit.classify(queued: 5000, peerUsable: 9000, congestionUsable: 9000, mss: 1460, pacerReady: true) == .application)
        // Nothing queued: the application, whatever the windows.
        #expect(SenderLimit.classify(queued: 0, peerUsable: 0, congestionUsable: 0, mss: 1460, pacerReady: false) == .application)
        // A small queue fits a small window: not window-limited.
        #expect(SenderLimit.classify(queued: 100, peerUsable: 100, congestionUsable: 9000, mss: 1460, pacerReady: true) == .application)
        #expect(SenderLimit.classify(queued: 100, peerUsable: 99, congestionUsable: 9000, mss: 1460, pacerReady: true) == .receiveWindow)
    }

    @Test func statesIntegrateOverTime() {
        var a = FlowAccounting()
        a.setSenderLimit(.receiveWindow, at: .zero)
        a.setSenderLimit(.congestionWindow, at: .seconds(1))
        a.setSenderLimit(.congestionWindow, at: .seconds(2))     // same state: no double count
        a.setSenderLimit(.application, at: .seconds(3))
        a.setSenderLimit(.pacing, at: .milliseconds(3500))
        let s = a.snapshot(at: .seconds(4))
        #expect(s.receiveWindowLimited == .seconds(1))
        #expect(s.congestionWindowLimited == .seconds(2))
        #expect(s.applicationLimited == .milliseconds(500))
        #expect(s.pacingLimited == .milliseconds(500))
        // The snapshot does not close the open interval for good.
        #expect(a.snapshot(at: .seconds(5)).pacingLimited == .milliseconds(1500))
        // Exclusive: the four add up to the time observed.
        let total = SenderLimit.allCases.reduce(Duration.zero) { $0 + s.time(in: $1) }
        #expect(total == .seconds(4))
    }

    @Test func zeroWindowEpisodesAndTheirTime() {
        var a = FlowAccounting()
        a.peerWindowChanged(isZero: false, at: .zero)
        a.peerWindowChanged(isZero: true, at: .seconds(1))
        a.peerWindowChanged(isZero: true, at: .seconds(2))       // still the same episode
        a.peerWindowChanged(isZero: false, at: .seconds(5))
        a.peerWindowChanged(isZero: true, at: .seconds(6))
        let s = a.snapshot(at: .seconds(7))
        #expect(s.zeroWindowEpisodes == 2)
        #expect(s.zeroWindowTime == .seconds(5))

        a.advertisedWindow(isZero: true, at: .seconds(10))
        a.advertisedWindow(isZero: false, at: .milliseconds(10_250))
        #expect(a.stats.zeroWindowAdvertisedEpisodes == 1)
        #expect(a.stats.zeroWindowAdvertisedTime == .milliseconds(250))
    }

    @Test func countersCount() {
        var a = FlowAccounting()
        a.probeSent(); a.probeSent(); a.probeAnswered(); a.windowUpdateSent()
        #expect(a.stats.probesSent == 2)
        #expect(a.stats.probesAnswered == 1)
        #expect(a.stats.windowUpdatesSent == 1)
    }
}
