import SluiceCore
import SluiceHarness
import Testing

/// Issue 5, "slow reader": the receiver's application reads 10 KiB every 100 ms from a 64 KiB
/// buffer and pauses for 30 s once. The window shrinks to zero, the sender stops and probes at
/// doubling intervals up to the cap, resumes on the window update, and the bytes arrive
/// identical. The harness checks on every packet that no byte goes past the largest advertised
/// right edge except one-byte probes, and after every step that the endpoints' buffers stay
/// within bounds.
@Suite struct FlowControlSlowReaderTests {
    static let pauseStart = Instant.seconds(3)
    static let pause = Duration.seconds(30)

    static func slowReader(seed: UInt64, count: Int, persistCap: Duration) throws -> FlowScenario {
        try FlowScenario(
            seed: seed, count: count,
            link: LinkConfig(latency: .milliseconds(5), rate: 100_000_000),
            readPolicy: .throttled(10 * 1024, every: .milliseconds(100),
                                   pauses: [ReadPause(at: pauseStart, for: pause)]),
            sender: { $0.maxPersistInterval = persistCap },
            receiver: { $0.receiveBufferSize = 64 * 1024 })
    }

    @Test func zeroWindowProbesBackOffAndTheTransferResumes() throws {
        let s = try Self.slowReader(seed: 11, count: 1 << 20, persistCap: .seconds(5))
        try s.runToCompletion(timeLimit: .seconds(300))
        try checkSlowReader(s, persistCap: .seconds(5))
    }
}

/// The assertions shared by the fast and the heavy slow-reader scenarios.
func checkSlowReader(_ s: FlowScenario, persistCap: Duration, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let pauseStart = FlowControlSlowReaderTests.pauseStart
    let pauseEnd = pauseStart + FlowControlSlowReaderTests.pause
    #expect(s.bulkReceiver.isComplete, sourceLocation: sourceLocation)
    #expect(s.bulkReceiver.bytesRead == s.count, sourceLocation: sourceLocation)
    #expect(s.receiverShift == 1, "64 KiB needs shift 1", sourceLocation: sourceLocation)

    // The right edge never moves left (RFC 9293 §3.8.6), on every ACK the receiver sent.
    let edges = s.advertisedEdges
    for (a, b) in zip(edges, edges.dropFirst()) where b.edge.isBefore(a.edge) {
        Issue.record("right edge moved left at \(b.time): \(a.edge) -> \(b.edge)", sourceLocation: sourceLocation)
        break
    }

    // The window reaches zero during the pause.
    let zeroAt = try #require(edges.first { $0.time >= pauseStart && $0.window == 0 }?.time, sourceLocation: sourceLocation)

    // The sender stops: during the pause only one-byte probes carry data.
    let settled = zeroAt + .milliseconds(20)   // what was in flight has landed
    let duringPause = s.dataDepartures.filter { $0.time > settled && $0.time < pauseEnd }
    #expect(!duringPause.isEmpty, sourceLocation: sourceLocation)
    #expect(duringPause.allSatisfy { $0.segment.payloadLength == 1 }, "only probes in the pause", sourceLocation: sourceLocation)

    // Probes at intervals that double, up to the cap.
    let probeTimes = duringPause.map(\.time)
    let intervals = zip(probeTimes, probeTimes.dropFirst()).map { ($1 - $0) }
    #expect(intervals.count >= 4, "probes: \(probeTimes)", sourceLocation: sourceLocation)
    for (a, b) in zip(intervals, intervals.dropFirst()) {
        let expected = min(a * 2, persistCap)
        #expect(abs((b - expected).ms) < 0.001, "intervals \(intervals.map(\.ms)) ms", sourceLocation: sourceLocation)
    }
    if persistCap < FlowControlSlowReaderTests.pause / 2 {
        #expect(intervals.last == persistCap, "the cap is reached: \(intervals.map(\.ms))", sourceLocation: sourceLocation)
    }
    let stats = try #require(s.senderStats, sourceLocation: sourceLocation)
    #expect(stats.flow.probesSent >= probeTimes.count, sourceLocation: sourceLocation)
    #expect(stats.flow.probesAnswered >= probeTimes.count - 1, sourceLocation: sourceLocation)

    // The window update after the pause goes at once (at the read, not after a delayed-ACK
    // timer), and the sender resumes on it within one round trip.
    let update = try #require(edges.first { $0.time >= pauseEnd && $0.window > 0 }, sourceLocation: sourceLocation)
    #expect(update.time == pauseEnd, "the first read after the pause is at \(pauseEnd)", sourceLocation: sourceLocation)
    let resumed = try #require(s.dataDepartures.first { $0.time >= update.time && $0.segment.payloadLength > 1 }, sourceLocation: sourceLocation)
    #expect(resumed.time - update.time <= .milliseconds(11), "resumed at \(resumed.time) after the update at \(update.time)", sourceLocation: sourceLocation)

    // Memory within the configured bounds (the harness also checks after every step).
    let r = try #require(s.receiverStats, sourceLocation: sourceLocation)
    #expect(r.peakReceiveBufferBytes <= 64 * 1024, sourceLocation: sourceLocation)
    #expect(r.flow.windowUpdatesSent > 0, sourceLocation: sourceLocation)
    #expect(r.flow.zeroWindowAdvertisedTime >= .seconds(29), sourceLocation: sourceLocation)

    // Accounting: the receiver's window is what limited this sender, most of the time.
    let limited = stats.flow
    let total = SenderLimit.allCases.reduce(Duration.zero) { $0 + limited.time(in: $1) }
    #expect(limited.receiveWindowLimited > total * 0.5, "\(limited)", sourceLocation: sourceLocation)
    for other in [SenderLimit.congestionWindow, .pacing, .application] {
        #expect(limited.receiveWindowLimited > limited.time(in: other), "\(limited)", sourceLocation: sourceLocation)
    }
    #expect(limited.zeroWindowEpisodes >= 1, sourceLocation: sourceLocation)
    #expect(limited.zeroWindowTime >= .seconds(29), sourceLocation: sourceLocation)
}
