import Foundation
import Testing
import SluiceTestSupport
import SluiceCore
import SluiceHarness
@testable import SluiceTrace

/// Traces of Sluice's own engine, made by the in-memory harness (virtual time, seeded): the
/// event counts equal tshark's, and the flow-control rules hold.
@Suite struct HarnessTraceTests {
    static let sender = IPv4Address(10, 98, 0, 1)
    static let receiver = IPv4Address(10, 98, 0, 2)

    /// Runs a bulk transfer and returns the path of the capture (departures or arrivals).
    static func transfer(name: String, seed: UInt64, bytes: Int, link: LinkConfig, receiveBuffer: Int,
                         policy: ReadPolicy, arrivals: Bool) throws -> String {
        let path = temporaryPath("trace-harness-\(name)-\(seed).pcap")
        let net = Harness(seed: seed)
        let a = net.addEndpoint("sender", address: sender)
        let b = net.addEndpoint("receiver", address: receiver) { $0.connection.receiveBufferSize = receiveBuffer }
        net.connect(a, b, link)
        if arrivals { try net.captureArrivals(to: path) } else { try net.captureDepartures(to: path) }
        let stream = ByteStream(seed: seed)
        let rx = BulkReceiver(.accept(port: 5001), expecting: stream, count: bytes, policy: policy)
        let tx = BulkSender(.connect(to: SocketAddress(receiver, 5001)), count: bytes, stream: stream)
        try net.attach(rx, to: b)
        try net.attach(tx, to: a, at: .milliseconds(1))
        try net.run(until: { _ in rx.isComplete }, timeLimit: .seconds(120), "the transfer to complete")
        try net.run(for: .seconds(1))
        try net.closeCaptures()
        return path
    }

    static func slowReader() throws -> String {
        try transfer(name: "slow-reader", seed: 7, bytes: 256 * 1024,
                     link: LinkConfig(latency: .milliseconds(2)), receiveBuffer: 16 * 1024,
                     policy: .throttled(8 * 1024, every: .milliseconds(100)), arrivals: false)
    }

    static func lossy() throws -> String {
        try transfer(name: "lossy", seed: 11, bytes: 1 << 20,
                     link: LinkConfig(latency: .milliseconds(5), lossProbability: 0.02), receiveBuffer: 128 * 1024,
                     policy: .greedy, arrivals: true)
    }

    /// No rule is broken: no data beyond the window, no shrinking window, no tiny segment while
    /// more data is queued (RFC 9293 §3.7.4, §3.8.6.2.1), none of the others.
    static func expectConformance(_ r: TraceResult) {
        let found = r.connections.flatMap(\.violations)
        #expect(found.isEmpty, "\(found.prefix(5).map { "\($0.rule.name)@\($0.frame): \($0.detail)" })")
    }

    @Test func slowReaderTraceMatchesTsharkAndConforms() throws {
        let path = try Self.slowReader()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let r = try ConformanceCheckTests.check(path)
        let episodes = r.connections.reduce(0) { $0 + $1.ba.zeroWindowEpisodeCount }
        #expect(episodes > 0, "the slow reader should close its window")
        Self.expectConformance(r)
        if Prerequisites.tshark.ready() { try WiresharkParityTests.expectParity(path, name: "harness slow reader") }
    }

    @Test func lossyTraceMatchesTsharkAndConforms() throws {
        let path = try Self.lossy()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let r = try ConformanceCheckTests.check(path)
        #expect(r.connections.reduce(0) { $0 + $1.ab.events[.retransmission] } > 0, "2% loss should cause retransmissions")
        Self.expectConformance(r)
        if Prerequisites.tshark.ready() { try WiresharkParityTests.expectParity(path, name: "harness lossy") }
    }
}
