import SluiceHarness
import Testing
@testable import SluiceCore

/// The big floods (release mode in CI: `tools/test` runs suites named `Heavy` there).
@Suite struct AdversarialHeavyTests {
    /// 100,000 SYNs from random addresses and ports (198.18.0.0/15, RFC 2544's benchmark
    /// range) at 50,000 a second while a 4 MiB transfer runs: the listener's backlog (16) and
    /// the connection table (64) bound what the flood can hold (the rest is dropped and
    /// counted); the transfer completes; once the flood stops, a new client connects as soon
    /// as the half-open connections time out (server SYN-ACK retries 5, Linux's
    /// `tcp_synack_retries`: 63 s), within its own SYN retries.
    @Test func synFloodDuringATransfer() throws {
        let seed: UInt64 = 1320
        print("SYN flood seed \(seed)")
        let count = 4 << 20
        let t = try BulkTransfer(seed: seed, count: count,
                                 link: LinkConfig(latency: .milliseconds(5), rate: 10_000_000, queueLimit: .packets(200)),
                                 connection: { $0.maxSynRetransmissions = 5 })
        var rng = SplitMix64(seed: seed)
        let server = SocketAddress(BulkTransfer.serverAddress, BulkTransfer.serverPort)
        let flood = Injector(start: .milliseconds(50), interval: .microseconds(20), count: 100_000) { _, _ in
            let r = rng.next()
            let source = SocketAddress(IPv4Address(rawValue: 0xC612_0000 | UInt32(truncatingIfNeeded: r & 0x1_FFFF)),
                                       UInt16(truncatingIfNeeded: r >> 20) | 1024)
            return hostilePacket(from: source, to: server, flags: .syn, seq: SequenceNumber(UInt32(truncatingIfNeeded: r >> 32)),
                                 window: 65535, options: TCPOptions(maximumSegmentSize: 1460))
        }
        let attacker = t.harness.addNode("flood", address: IPv4Address(192, 0, 2, 1), node: flood)
        t.harness.addLink(from: attacker, to: t.server, LinkConfig(latency: .milliseconds(1)))
        var peakConnections = 0
        t.server.onService = { c in peakConnections = max(peakConnections, c.endpoint.connectionCount) }
        t.harness.options.maxEvents = 10_000_000

        try t.run(timeLimit: .seconds(60))
        let doneAt = t.harness.now
        try t.harness.run(until: { _ in flood.isDone }, timeLimit: .seconds(60))
        let counters = try #require(t.server.endpoint?.counters)
        print("SYN flood: \(flood.sent) SYNs; transfer done at \(doneAt); backlog drops \(counters.droppedBacklogFull), peak connections \(peakConnections)")
        #expect(t.receiver.bytesRead == count)
        #expect(flood.sent == 100_000)
        #expect(peakConnections <= 1 + 16)
        #expect(counters.droppedBacklogFull >= 100_000 - 16 * 10)

        // A new client once the flood stopped.
        let late = t.harness.addEndpoint("late", address: IPv4Address(10, 0, 0, 3))
        t.harness.connect(late, t.server, LinkConfig(latency: .milliseconds(5)))
        let sender = BulkSender(.connect(to: server), count: 1000, stream: ByteStream(seed: seed), finish: .none)
        let start = t.harness.now
        try t.harness.attach(sender, to: late)
        try t.harness.run(until: { _ in sender.connectedAt != nil }, timeLimit: .seconds(130))
        let connectedAt = try #require(sender.connectedAt)
        print("SYN flood: a new client connected \(connectedAt - start) after the flood stopped")
        AdversarialPeerTests.expectBounded(t.server)
    }
}
