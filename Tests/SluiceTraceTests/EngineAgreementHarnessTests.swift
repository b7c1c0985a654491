import Foundation
import Testing
import SluiceCore
import SluiceHarness
import SluicePcap
@testable import SluiceTrace

/// `sluice-trace`'s split of the sender's time equals the sender's own `FlowStats`, for
/// Sluice transfers in the in-memory harness (virtual time, seeded), judged on a capture taken
/// at the sender (within 5% of the transfer's duration) and one taken at the receiver (10%).
/// Pacing is counted under `cwnd_limited` (README, "Who held the flow back").
@Suite struct EngineAgreementHarnessTests {
    static let sender = IPv4Address(10, 97, 0, 1)
    static let receiver = IPv4Address(10, 97, 0, 2)

    struct Scenario: Sendable {
        var name: String
        var seed: UInt64
        var bytes: Int
        var link: LinkConfig
        var receiveBuffer: Int
        var policy: ReadPolicy
        var bursts: (bytes: Int, period: Duration)? = nil
    }

    static let scenarios: [Scenario] = [
        Scenario(name: "slow reader", seed: 21, bytes: 512 * 1024,
                 link: LinkConfig(latency: .milliseconds(5), rate: 20_000_000), receiveBuffer: 32 * 1024,
                 policy: .throttled(16 * 1024, every: .milliseconds(100))),
        Scenario(name: "lossy link, slow reader", seed: 22, bytes: 512 * 1024,
                 link: LinkConfig(latency: .milliseconds(5), rate: 20_000_000, lossProbability: 0.03), receiveBuffer: 32 * 1024,
                 policy: .throttled(16 * 1024, every: .milliseconds(100))),
        Scenario(name: "fast reader, slow link", seed: 23, bytes: 1 << 20,
                 link: LinkConfig(latency: .milliseconds(10), rate: 4_000_000), receiveBuffer: 256 * 1024,
                 policy: .greedy),
        Scenario(name: "bursty writer", seed: 24, bytes: 512 * 1024,
                 link: LinkConfig(latency: .milliseconds(2), rate: 50_000_000), receiveBuffer: 128 * 1024,
                 policy: .greedy, bursts: (bytes: 32 * 1024, period: .milliseconds(100))),
    ]

    /// Runs `scenario`, writing the packets seen at the sender and at the receiver to two pcaps;
    /// returns their paths and the sender's flow statistics when the transfer ended.
    static func run(_ scenario: Scenario) throws -> (senderSide: String, receiverSide: String, flow: FlowStats) {
        let base = FileManager.default.temporaryDirectory
            .appendingPathComponent("sluice-agree-\(scenario.seed)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
        let net = Harness(seed: scenario.seed)
        let a = net.addEndpoint("sender", address: sender)
        let b = net.addEndpoint("receiver", address: receiver) { $0.connection.receiveBufferSize = scenario.receiveBuffer }
        net.connect(a, b, scenario.link)
        let atSender = try PcapWriter(path: base + "-s.pcap")
        let atReceiver = try PcapWriter(path: base + "-r.pcap")
        net.observe { p in
            let fromSender = p.from === a
            switch p.point {
            case .departure: (fromSender ? atSender : atReceiver).write(p.bytes, timestamp: p.time)
            case .arrival: (fromSender ? atReceiver : atSender).write(p.bytes, timestamp: p.time)
            }
        }
        let stream = ByteStream(seed: scenario.seed)
        let rx = BulkReceiver(.accept(port: 5001), expecting: stream, count: scenario.bytes, policy: scenario.policy)
        let tx = BulkSender(.connect(to: SocketAddress(receiver, 5001)), count: scenario.bytes, stream: stream,
                            bursts: scenario.bursts)
        try net.attach(rx, to: b)
        try net.attach(tx, to: a, at: .milliseconds(1))
        try net.run(until: { _ in rx.isComplete }, timeLimit: .seconds(300), "the transfer to complete")
        try net.run(for: .milliseconds(500))   // the FINs and the last ACK (the sender waits in TIME-WAIT)
        let stats = try #require(tx.connection.flatMap { a.endpoint?.stats(of: $0) }, "the sender's connection is gone")
        try atSender.close()
        try atReceiver.close()
        return (base + "-s.pcap", base + "-r.pcap", stats.flow)
    }

    /// The sender's direction (A→B: the sender opened the connection) of the only connection.
    static func senderDirection(_ path: String) throws -> (DirectionStats, Duration) {
        let (r, _) = try TraceFile.analyze(path: path, options: TraceOptions())
        let c = try #require(r.connections.first, "no connection in \(path)")
        return (c.ab, c.lastTime - c.firstTime)
    }

    /// The trace's causes against the engine's, as fractions of `duration`.
    static func expectAgreement(_ d: DirectionStats, _ flow: FlowStats, duration: Duration, tolerance: Double, _ label: String) {
        let total = duration.secondsDouble
        let trace = (rwnd: d.limitTime[LimitCause.rwndLimited.rawValue].secondsDouble,
                     cwnd: d.limitTime[LimitCause.cwndLimited.rawValue].secondsDouble,
                     app: d.limitTime[LimitCause.appLimited.rawValue].secondsDouble,
                     uncertain: d.limitTime[LimitCause.uncertain.rawValue].secondsDouble)
        let engine = (rwnd: flow.receiveWindowLimited.secondsDouble,
                      cwnd: flow.congestionWindowLimited.secondsDouble + flow.pacingLimited.secondsDouble,
                      app: flow.applicationLimited.secondsDouble)
        let summary = "\(label): duration \(total) s; trace rwnd \(trace.rwnd) cwnd \(trace.cwnd) app \(trace.app) uncertain \(trace.uncertain); engine rwnd \(engine.rwnd) cwnd+pacing \(engine.cwnd) app \(engine.app)"
        print(summary)
        #expect(abs(trace.rwnd - engine.rwnd) <= tolerance * total, "rwnd_limited: \(summary)")
        #expect(abs(trace.cwnd - engine.cwnd) <= tolerance * total, "cwnd_limited: \(summary)")
        #expect(abs(trace.app - engine.app) <= tolerance * total, "app_limited: \(summary)")
        #expect(trace.uncertain <= tolerance * total, "uncertain: \(summary)")
    }

    @Test(arguments: scenarios.map(\.name))
    func traceAgreesWithTheSendersFlowStats(name: String) throws {
        let scenario = try #require(Self.scenarios.first { $0.name == name })
        let (senderSide, receiverSide, flow) = try Self.run(scenario)
        defer {
            try? FileManager.default.removeItem(atPath: senderSide)
            try? FileManager.default.removeItem(atPath: receiverSide)
        }
        let (s, sDuration) = try Self.senderDirection(senderSide)
        Self.expectAgreement(s, flow, duration: sDuration, tolerance: 0.05, "\(name), capture at the sender")
        let (r, rDuration) = try Self.senderDirection(receiverSide)
        Self.expectAgreement(r, flow, duration: rDuration, tolerance: 0.10, "\(name), capture at the receiver")
    }
}
