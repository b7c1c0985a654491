import Testing
import SluiceCore

@Suite struct PersistTimerTests {
    /// RFC 1122 §4.2.2.17: first probe after one RTO, then doubling, capped (here at 60 s).
    @Test func probesBackOffByDoublingUpToTheCap() {
        var p = PersistTimer(maxInterval: .seconds(60))
        p.start(at: .zero, rto: .seconds(1))
        var fired: [Double] = []
        var now = Instant.zero
        while fired.count < 9 {
            guard let d = p.deadline else { Issue.record("timer stopped"); return }
            now = d
            if case .probe(.oneByteOfData) = p.fire(at: now) { fired.append(now.seconds) }
            p.ackReceived(at: now)   // the peer answers: window still zero
        }
        #expect(fired == [1, 3, 7, 15, 31, 63, 123, 183, 243])
        #expect(p.probesSent == 9)
        #expect(p.probesAnswered == 9)
    }

    @Test func shortRTOAndSmallCap() {
        var p = PersistTimer(style: .emptyBelowUnacknowledged, maxInterval: .milliseconds(1000))
        p.start(at: .milliseconds(50), rto: .milliseconds(200))
        var times: [Int64] = []
        for _ in 0..<6 {
            let d = p.deadline!
            #expect(p.fire(at: d) == .probe(.emptyBelowUnacknowledged))
            times.append(d.nanoseconds / 1_000_000)
        }
        #expect(times == [250, 650, 1450, 2450, 3450, 4450])
    }

    @Test func nothingBeforeTheDeadlineAndStopDisarms() {
        var p = PersistTimer()
        p.start(at: .zero, rto: .seconds(1))
        #expect(p.fire(at: .milliseconds(999)) == PersistTimer.Action.none)
        // start while running does not re-arm
        p.start(at: .milliseconds(500), rto: .seconds(1))
        #expect(p.deadline == .seconds(1))
        p.stop()
        #expect(p.deadline == nil)
        #expect(p.fire(at: .seconds(10)) == PersistTimer.Action.none)
        // A new episode starts again at one RTO.
        p.start(at: .seconds(10), rto: .milliseconds(300))
        #expect(p.deadline == .milliseconds(10_300))
    }

    /// RFC 9293 §3.8.6.1 MUST-26: the connection stays open as long as probes are answered,
    /// even with a user timeout configured.
    @Test func answeredProbesKeepTheConnectionForAnHour() {
        var p = PersistTimer(maxInterval: .seconds(60), userTimeout: .seconds(90))
        p.start(at: .zero, rto: .seconds(1))
        var probes = 0
        while let now = p.deadline, now <= .seconds(3600) {
            #expect(p.fire(at: now) == .probe(.oneByteOfData))
            probes += 1
            p.ackReceived(at: now + .milliseconds(50))
        }
        #expect(probes == 64)  // 1, 3, 7, 15, 31, 63 s, then one a minute up to 3543 s
        #expect(p.probesAnswered == 64)
    }

    @Test func userTimeoutAbortsWhenProbesGoUnanswered() {
        var p = PersistTimer(maxInterval: .seconds(60), userTimeout: .seconds(10))
        p.start(at: .zero, rto: .seconds(1))
        var actions: [String] = []
        while let d = p.deadline {
            switch p.fire(at: d) {
            case .probe: actions.append("probe@\(d.seconds)")
            case .abort: actions.append("abort@\(d.seconds)")
            case .none: actions.append("none@\(d.seconds)")
            }
        }
        #expect(actions == ["probe@1.0", "probe@3.0", "probe@7.0", "abort@10.0"])
        #expect(p.probesAnswered == 0)
    }

    @Test func oneAnswerPerProbe() {
        var p = PersistTimer()
        p.start(at: .zero, rto: .seconds(1))
        p.ackReceived(at: .milliseconds(10))   // an ACK before any probe is no answer
        _ = p.fire(at: .seconds(1))
        p.ackReceived(at: .milliseconds(1010))
        p.ackReceived(at: .milliseconds(1020))
        #expect(p.probesSent == 1)
        #expect(p.probesAnswered == 1)
    }
}
