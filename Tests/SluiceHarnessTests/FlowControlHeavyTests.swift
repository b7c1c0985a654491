import SluiceCore
import SluiceHarness
import Testing

/// The full-size flow-control scenarios of issue 5 (release mode: `--filter Heavy`).
@Suite struct FlowControlHeavyTests {
    /// 10 MiB through a reader of 10 KiB per 100 ms with a 30 s pause, default 60 s probe cap.
    @Test func slowReaderTenMebibytes() throws {
        let s = try FlowControlSlowReaderTests.slowReader(seed: 12, count: 10 << 20, persistCap: .seconds(60))
        try s.runToCompletion(timeLimit: .seconds(600))
        try checkSlowReader(s, persistCap: .seconds(60))
    }

    /// Window scale: a 16 MiB receive buffer (shift 9) and as large a send buffer, 1 Gbit/s,
    /// 100 ms RTT, a queue larger than the window: ≥ 90 % of the link rate between 2 s and 5 s.
    @Test func windowScaleFillsALongFatPipe() throws {
        let linkRate = 1_000_000_000
        let s = try FlowScenario(
            seed: 51, count: 1 << 30,
            link: LinkConfig(latency: .milliseconds(50), rate: linkRate, queueLimit: .bytes(32 << 20)),
            sender: { $0.sendBufferSize = 32 << 20 },
            receiver: { $0.receiveBufferSize = 16 << 20 },
            keepLog: false)
        try s.net.run(until: .seconds(2))
        let at2 = s.bulkReceiver.bytesRead
        try s.net.run(until: .seconds(5))
        let at5 = s.bulkReceiver.bytesRead
        let stats = try #require(s.receiverStats)
        #expect(stats.receiveWindowShift == 9)
        let bitsPerSecond = Double(at5 - at2) * 8 / 3
        #expect(bitsPerSecond >= 0.9 * Double(linkRate), "payload \(bitsPerSecond / 1e6) Mbit/s")
        print("window scale: \(bitsPerSecond / 1e6) Mbit/s payload between 2 s and 5 s")
    }
}
