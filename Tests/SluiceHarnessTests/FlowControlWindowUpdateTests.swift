import SluiceCore
import SluiceHarness
import Testing

/// Issue 5: "the window update that follows a zero window is dropped by the link: probes
/// recover the connection" (RFC 1122 §4.2.2.17: window updates are not sent reliably, so the
/// sender's probes must find the open window).
@Suite struct FlowControlWindowUpdateTests {
    @Test func lostWindowUpdateIsRecoveredByAProbe() throws {
        let pauseStart = Instant.seconds(1)
        let pauseEnd = Instant.seconds(11)
        // The reader takes up to a whole buffer per tick, so after the pause one read empties
        // it and no further read (hence no further update) follows until new data comes.
        // Without the receiver's repetition of the update (issue 10), so the probe path is
        // what recovers (`FlowControlSmallBufferTests` covers the repetition).
        let s = try FlowScenario.lostWindowUpdate(seed: 21, count: 2 << 20, pauseStart: pauseStart, pauseEnd: pauseEnd,
                                                  receiver: { $0.flowControl.windowUpdateRepeats = 0 })
        try s.runToCompletion(timeLimit: .seconds(120))

        #expect(s.bulkReceiver.isComplete)
        #expect(s.backward.counters.droppedFilter == 1)
        let lost = try #require(s.advertisedEdges.first { $0.dropped })
        #expect(lost.time == pauseEnd)
        // Nothing but probes until a probe brings the answer with the open window.
        let afterPause = s.dataDepartures.filter { $0.time >= pauseEnd }
        let resumed = try #require(afterPause.first { $0.segment.payloadLength > 1 })
        let probes = afterPause.filter { $0.time < resumed.time }
        #expect(!probes.isEmpty, "a probe came before the resumption")
        #expect(probes.allSatisfy { $0.segment.payloadLength == 1 })
        let lastProbe = try #require(probes.last)
        // The probe byte lands in the (now open) window and is acknowledged like any data, so
        // the sender resumes within a round trip plus the delayed-ACK timer (40 ms).
        #expect(resumed.time - lastProbe.time <= .milliseconds(51), "resumed \(resumed.time - lastProbe.time) after the probe")
        #expect(resumed.time - pauseEnd > .seconds(1), "no other path reopened the window")
        let stats = try #require(s.senderStats)
        #expect(stats.flow.probesAnswered >= 1)
    }

    /// Linux's probe style: an empty segment at SND.UNA − 1. Our receiver answers it (RFC 9293
    /// §3.10.7.4: an unacceptable segment gets an ACK) and the transfer resumes the same way.
    @Test func emptyProbesBelowUnaAlsoRecover() throws {
        let pauseEnd = Instant.seconds(6)
        let s = try FlowScenario.lostWindowUpdate(seed: 22, count: 2 << 20, pauseStart: .seconds(1), pauseEnd: pauseEnd,
                                                  sender: { $0.flowControl.zeroWindowProbeStyle = .emptyBelowUnacknowledged },
                                                  receiver: { $0.flowControl.windowUpdateRepeats = 0 })
        try s.runToCompletion(timeLimit: .seconds(120))
        #expect(s.bulkReceiver.isComplete)
        // Probes are empty segments one below what the receiver has acknowledged.
        let pauseProbes = s.senderDepartures.filter {
            $0.time > .milliseconds(1500) && $0.time < pauseEnd && $0.segment.payloadLength == 0
                && !$0.segment.flags.contains(.fin)
        }
        #expect(!pauseProbes.isEmpty)
        #expect(s.dataDepartures.filter { $0.time > .milliseconds(1500) && $0.time < pauseEnd }.isEmpty)
        let stats = try #require(s.senderStats)
        #expect(stats.flow.probesSent >= 3)
        #expect(stats.flow.probesAnswered >= 3)
    }
}
