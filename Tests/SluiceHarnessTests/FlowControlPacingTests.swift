import SluiceCore
import SluiceHarness
import Testing

/// Issue 5, pacing: at a fixed 50 Mbit/s the payload bytes in every 10 ms bin (after the first
/// round trip, excluding the last bin) stay within ±10 % of the rate; with pacing off the same
/// transfer leaves in window-sized bursts.
@Suite struct FlowControlPacingTests {
    static let rate = 50_000_000 / 8      // bytes per second
    static let bin = Duration.milliseconds(10)

    static func transfer(pacing: PacingMode) throws -> FlowScenario {
        let s = try FlowScenario(
            seed: 41, count: 2 << 20,
            link: LinkConfig(latency: .milliseconds(1), rate: 1_000_000_000),
            sender: {
                $0.sendBufferSize = 1 << 20
                $0.flowControl.pacing = pacing
            },
            receiver: { $0.receiveBufferSize = 1 << 20 })
        try s.runToCompletion(timeLimit: .seconds(30))
        #expect(s.bulkReceiver.isComplete)
        return s
    }

    /// Payload bytes per 10 ms bin from the first data segment; the last bin is dropped.
    static func bins(_ s: FlowScenario, skip: Duration) -> [Int] {
        let data = s.dataDepartures
        guard let first = data.first?.time else { return [] }
        let start = first + skip
        var bins: [Int] = []
        for d in data where d.time >= start {
            let i = Int((d.time - start).nanosecondsClamped / bin.nanosecondsClamped)
            while bins.count <= i { bins.append(0) }
            bins[i] += d.segment.payloadLength
        }
        return bins.dropLast()
    }

    @Test func fixedRateIsSmoothAndOffIsBursty() throws {
        let perBin = Double(Self.rate) * Self.bin.secondsDouble   // 62 500 bytes
        let paced = try Self.transfer(pacing: .fixed(bytesPerSecond: Self.rate))
        // RTT 2 ms: slow start reaches the paced rate's window (62.5 KB in flight per 10 ms)
        // within a few round trips; the first 10 ms bin is left out for it.
        let pacedBins = Self.bins(paced, skip: .milliseconds(10))
        #expect(pacedBins.count >= 25)
        let outside = pacedBins.enumerated().filter { abs(Double($0.element) - perBin) > 0.1 * perBin }
        #expect(outside.isEmpty, "bins off by more than 10 %: \(outside.map { "#\($0.offset)=\($0.element)" })")

        let bursty = try Self.transfer(pacing: .off)
        let burstyBins = Self.bins(bursty, skip: .zero)
        let biggest = burstyBins.max() ?? 0
        #expect(Double(biggest) > 3 * perBin, "unpaced: a window leaves at once (largest bin \(biggest) B)")
        #expect(burstyBins.contains(0) || burstyBins.count < pacedBins.count / 2,
                "unpaced bins: \(burstyBins)")
    }

    /// Accounting: a fast reader over a slow link is not limited by the receiver's window.
    @Test func fastReaderOverSlowLinkIsNotReceiveWindowLimited() throws {
        let s = try FlowScenario(
            seed: 42, count: 1 << 20,
            link: LinkConfig(latency: .milliseconds(10), rate: 10_000_000),
            sender: { $0.sendBufferSize = 64 * 1024 },
            receiver: { $0.receiveBufferSize = 1 << 20 })
        try s.runToCompletion(timeLimit: .seconds(60))
        let flow = try #require(s.senderStats).flow
        let total = SenderLimit.allCases.reduce(Duration.zero) { $0 + flow.time(in: $1) }
        #expect(total > .milliseconds(500))
        #expect(flow.receiveWindowLimited < total * 0.1, "\(flow)")
        #expect(flow.zeroWindowEpisodes == 0)
    }
}
