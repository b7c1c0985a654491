import SluiceCore
import SluiceHarness
import Testing

/// Issue 10 items 1 and 2 in the harness: small buffers keep the pipe full, and a lost window
/// update costs about two round trips, not a persist interval.
@Suite struct FlowControlSmallBufferTests {
    /// smoltcp's benchmark setup in miniature: 64 KiB buffers, MTU 65535 (MSS 65495, more than
    /// the whole window), a reader that reads at once, 50 µs each way. Before issue 10 the sender
    /// sent one 65472-byte segment, then the 64-byte rest of its ring alone; that small segment
    /// held the next window (Nagle) while the receiver delayed its ACK: 40 ms per window, about
    /// 0.64 s for 1 MiB. Now segments are half the window (two per round trip) and every window
    /// is acknowledged and reopened at once: one window per round trip.
    @Test func jumboSegmentsWithSmallBuffersKeepThePipeFull() throws {
        let s = try FlowScenario(
            seed: 41, count: 1 << 20, link: LinkConfig(latency: .microseconds(50)),
            sender: { $0.mtu = 65535; $0.sendBufferSize = 64 << 10; $0.receiveBufferSize = 64 << 10 },
            receiver: { $0.mtu = 65535; $0.sendBufferSize = 64 << 10; $0.receiveBufferSize = 64 << 10 })
        try s.runToCompletion(timeLimit: .seconds(10))
        #expect(s.bulkReceiver.isComplete)
        // 1 MiB = 16.02 windows of 65472 bytes, one per 100 µs round trip after the handshake.
        #expect(s.net.now <= .microseconds(1800), "took \(s.net.now)")
        let data = s.dataDepartures
        let first = try #require(data.first)
        // Whole segments at explicit times: two per round trip, each half the window.
        let expected: [(Instant, Int, Int)] = [   // (time, offset from the first byte, length)
            (.microseconds(100), 0, 32736), (.microseconds(100), 32736, 32736),
            (.microseconds(200), 65472, 32736), (.microseconds(200), 98208, 32736),
            (.microseconds(300), 130944, 32736), (.microseconds(300), 163680, 32736),
        ]
        for (d, e) in zip(data, expected) {
            #expect(d.time == e.0)
            #expect(d.segment.sequenceNumber - first.segment.sequenceNumber == e.1)
            #expect(d.segment.payloadLength == e.2)
        }
        // Each window is acknowledged when it arrives (window 0: not read yet) and reopened by
        // the read at the same instant: no ACK waits for the delayed-ACK timer.
        let acks = s.receiverDepartures.filter { $0.time == .microseconds(150) }
        #expect(acks.map(\.segment.acknowledgmentNumber) == [first.segment.sequenceNumber + 65472, first.segment.sequenceNumber + 65472])
        #expect(acks.map(\.segment.window) == [0, 32736])   // shift 1: 65472 bytes
        let stats = try #require(s.senderStats)
        #expect(stats.flow.probesSent == 0)
    }

    /// Issue 10 item 2: the window update that reopens a zero window is dropped. The receiver
    /// repeats it after 2 × SRTT (SRTT 10 ms from the handshake) since no data followed, and
    /// the sender resumes one way later: 25 ms after the read instead of the sender's persist
    /// interval (`FlowControlWindowUpdateTests` shows more than a second without the repeat).
    @Test func droppedWindowUpdateIsRepeatedAfterTwoRoundTrips() throws {
        let pauseEnd = Instant.seconds(3)
        let s = try FlowScenario.lostWindowUpdate(seed: 23, count: 1 << 20, pauseStart: .seconds(1), pauseEnd: pauseEnd)
        try s.runToCompletion(timeLimit: .seconds(60))
        #expect(s.bulkReceiver.isComplete)
        #expect(s.backward.counters.droppedFilter == 1)

        let lost = try #require(s.receiverDepartures.first { $0.dropped })
        #expect(lost.time == pauseEnd)
        #expect(lost.segment.window == 32736)   // shift 1: 65472 bytes
        // The repetition: the same segment 20 ms later (nothing arrived in between).
        let after = s.receiverDepartures.filter { $0.time > lost.time }
        let repeated = try #require(after.first)
        #expect(repeated.time == pauseEnd + .milliseconds(20))
        #expect(repeated.segment.acknowledgmentNumber == lost.segment.acknowledgmentNumber)
        #expect(repeated.segment.window == lost.segment.window)
        #expect(repeated.segment.payloadLength == 0)
        // Data resumes when it arrives (5 ms plus serialization of the ACK).
        let resumed = try #require(s.dataDepartures.first { $0.time >= pauseEnd })
        #expect(resumed.time > repeated.time && resumed.time - repeated.time < .milliseconds(6), "resumed at \(resumed.time)")
        #expect(resumed.segment.sequenceNumber == lost.segment.acknowledgmentNumber)
        #expect(resumed.segment.payloadLength == 1448)
        let stats = try #require(s.receiverStats)
        #expect(stats.flow.windowUpdatesRepeated == 1)
    }
}
