import SluiceCore
import Testing
@testable import SluiceHarness

/// A node whose timer never advances: the harness must stop with `.stalled`, not hang.
private final class StuckNode: PacketNode {
    func receive(_ packet: UnsafeRawBufferPointer, at now: Instant) {}
    func pollTransmit(into buffer: UnsafeMutableRawBufferPointer, at now: Instant) -> Int? { nil }
    var nextDeadline: Instant? { .milliseconds(5) }
    func handleTimeout(at now: Instant) {}
    func checkInvariants() -> [String] { [] }
}

/// A node that reports a violation once it has received `limit` packets.
private final class BoundedNode: PacketNode {
    var count = 0
    let limit: Int
    init(limit: Int) { self.limit = limit }
    func receive(_ packet: UnsafeRawBufferPointer, at now: Instant) { count += 1 }
    func pollTransmit(into buffer: UnsafeMutableRawBufferPointer, at now: Instant) -> Int? { nil }
    var nextDeadline: Instant? { nil }
    func handleTimeout(at now: Instant) {}
    func checkInvariants() -> [String] { count >= limit ? ["holds \(count) packets, bound \(limit)"] : [] }
}

@Suite struct HarnessRunTests {
    @Test func stuckTimerIsReportedNotLooped() throws {
        var options = Harness.Options()
        options.maxStepsAtOneInstant = 1000
        let net = Harness(seed: 1, options: options)
        net.addNode("stuck", address: IPv4Address(10, 0, 0, 1), node: StuckNode())
        #expect(throws: HarnessError.self) { try net.run(until: .seconds(1)) }
        #expect(net.now == .milliseconds(5))
    }

    @Test func idleBeforeConditionThrows() throws {
        let pair = RawPair(.ideal)
        pair.a.send(RawPair.packet(1))
        do {
            try pair.net.run(until: { _ in pair.b.received.count == 2 }, "two packets at B")
            Issue.record("expected .idle")
        } catch let HarnessError.idle(at, what) {
            #expect(at == .zero)
            #expect(what == "two packets at B")
        }
    }

    @Test func timeLimitThrowsAtTheLimit() throws {
        let pair = RawPair(LinkConfig(latency: .seconds(10)))
        pair.a.send(RawPair.packet(1))
        do {
            try pair.net.run(until: { _ in !pair.b.received.isEmpty }, timeLimit: .seconds(2))
            Issue.record("expected .timeLimitExceeded")
        } catch let HarnessError.timeLimitExceeded(limit, at, _) {
            #expect(limit == .seconds(2))
            #expect(at == .seconds(2))
        }
        // The run can continue afterwards.
        try pair.net.run(until: { _ in !pair.b.received.isEmpty })
        #expect(pair.net.now == .seconds(10))
    }

    @Test func nodeInvariantViolationIsThrownAtTheStepThatBrokeIt() throws {
        let net = Harness(seed: 1)
        let a = RawPacketNode()
        let nodeA = net.addNode("A", address: RawPair.addressA.address, node: a)
        let nodeB = net.addNode("B", address: RawPair.addressB.address, node: BoundedNode(limit: 3))
        net.addLink(from: nodeA, to: nodeB, LinkConfig(latency: .milliseconds(1)))
        for n in 1...5 { a.send(RawPair.packet(n), at: .milliseconds(Int64(n))) }
        do {
            try net.runUntilIdle()
            Issue.record("expected an invariant violation")
        } catch let HarnessError.invariantViolated(node, at, violations) {
            #expect(node == "B")
            #expect(at == .milliseconds(4))
            #expect(violations == ["holds 3 packets, bound 3"])
        }
    }

    @Test func runUntilInstantAdvancesTheClock() throws {
        let pair = RawPair(LinkConfig(latency: .milliseconds(3)))
        pair.a.send(RawPair.packet(1), at: .milliseconds(1))
        try pair.net.run(until: .milliseconds(2))
        #expect(pair.net.now == .milliseconds(2))
        #expect(pair.b.received.isEmpty)
        try pair.net.run(for: .milliseconds(2))
        #expect(pair.net.now == .milliseconds(4))
        #expect(pair.b.received.map(\.at) == [.milliseconds(4)])
    }

    @Test func scheduledActionsRunInOrderAtTheirTime() throws {
        let pair = RawPair(.ideal)
        var log: [String] = []
        pair.net.schedule(at: .milliseconds(2)) { h in log.append("b@\(h.now)") }
        pair.net.schedule(at: .milliseconds(1)) { h in log.append("a@\(h.now)") }
        pair.net.schedule(at: .milliseconds(2)) { h in log.append("c@\(h.now)") }
        try pair.net.runUntilIdle()
        #expect(log == ["a@1.0ms", "b@2.0ms", "c@2.0ms"])
    }

    @Test func digestIsTheSameForASeedAndDiffersAcrossSeeds() throws {
        func digest(_ seed: UInt64) throws -> UInt64 {
            let pair = RawPair(seed: seed, LinkConfig(latency: .milliseconds(1), rate: 10_000_000, queueLimit: .packets(20),
                                                      lossProbability: 0.05, reorderProbability: 0.05, reorderDelay: .milliseconds(2),
                                                      duplicateProbability: 0.05, corruptProbability: 0.05))
            for n in 1...500 { pair.a.send(RawPair.packet(n, payload: n % 700), at: .microseconds(Int64(n) * 50)) }
            try pair.net.runUntilIdle()
            return pair.net.digest
        }
        #expect(try digest(99) == digest(99))
        #expect(try digest(99) != digest(100))
    }

    /// `cacheDeadlines` changes how often the harness reads each node's `nextDeadline`, never
    /// what happens: a lossy transfer to a slow reader (RTOs, delayed ACKs, zero windows and
    /// persist probes) gives the same digest of every packet and event either way.
    @Test func cachedDeadlinesGiveTheSameRun() throws {
        func run(cache: Bool) throws -> [UInt64] {
            var options = Harness.Options()
            options.cacheDeadlines = cache
            let link = LinkConfig(latency: .milliseconds(5), rate: 20_000_000, queueLimit: .packets(30), lossProbability: 0.02)
            let t = try BulkTransfer(seed: 0x511CA, count: 256 * 1024, link: link,
                                     connection: { $0.receiveBufferSize = 16384 },
                                     readPolicy: .throttled(8192, every: .milliseconds(300)), options: options)
            try t.harness.run(until: Instant.zero + .seconds(30))
            #expect(t.isFinished)
            return [t.harness.digest, UInt64(t.harness.stepsTaken)]
        }
        #expect(try run(cache: true) == run(cache: false))
    }

    @Test func packetStorageIsRecycled() throws {
        let pair = RawPair(LinkConfig(latency: .milliseconds(1)))
        for n in 1...10_000 { pair.a.send(RawPair.packet(n, payload: 100), at: .microseconds(Int64(n) * 500)) }
        try pair.net.runUntilIdle()
        #expect(pair.b.received.count == 10_000)
        // At most 2 packets are in flight at once (1 ms latency, one every 0.5 ms).
        #expect(pair.net.packetStorageSlots <= 3)
    }
}

@Suite struct WindowMonitorTests {
    private static let a = SocketAddress(IPv4Address(10, 0, 0, 1), 40000)
    private static let b = SocketAddress(IPv4Address(10, 0, 0, 2), 80)

    /// A (data sender, checked) and B (receiver, advertising windows) over ideal links.
    private func makePair() -> (Harness, RawPacketNode, RawPacketNode) {
        let net = Harness(seed: 3)
        let a = RawPacketNode()
        let b = RawPacketNode()
        let na = net.addNode("A", address: Self.a.address, node: a)
        let nb = net.addNode("B", address: Self.b.address, node: b)
        na.checksWindowEdges = true
        net.connect(na, nb, LinkConfig(latency: .milliseconds(1)))
        return (net, a, b)
    }

    private func handshake(_ net: Harness, _ a: RawPacketNode, _ b: RawPacketNode, scaleA: UInt8?, scaleB: UInt8?, synAckWindow: UInt16) throws {
        a.send(TestPackets.tcp(from: Self.a, to: Self.b, seq: 100, flags: [.syn], windowScale: scaleA), at: .zero)
        b.send(TestPackets.tcp(from: Self.b, to: Self.a, seq: 500, ack: 101, flags: [.syn, .ack], window: synAckWindow, windowScale: scaleB),
               at: .milliseconds(1))
        try net.run(until: .milliseconds(2))
    }

    @Test func dataWithinTheSynAckWindowPasses() throws {
        let (net, a, b) = makePair()
        try handshake(net, a, b, scaleA: nil, scaleB: nil, synAckWindow: 1000)
        a.send(TestPackets.tcp(from: Self.a, to: Self.b, seq: 101, ack: 501, payload: [UInt8](repeating: 1, count: 1000)))
        try net.run(until: .milliseconds(5))
        #expect(net.wireCheckCounts.checked == 1)
    }

    @Test func dataPastTheEdgeIsAViolation() throws {
        let (net, a, b) = makePair()
        try handshake(net, a, b, scaleA: nil, scaleB: nil, synAckWindow: 1000)
        a.send(TestPackets.tcp(from: Self.a, to: Self.b, seq: 101, ack: 501, payload: [UInt8](repeating: 1, count: 1001)))
        #expect(throws: HarnessError.self) { try net.run(until: .milliseconds(5)) }
    }

    @Test func oneBytePropeAtTheEdgeIsAllowedTwoBytesAreNot() throws {
        let (net, a, b) = makePair()
        try handshake(net, a, b, scaleA: nil, scaleB: nil, synAckWindow: 0)
        a.send(TestPackets.tcp(from: Self.a, to: Self.b, seq: 101, ack: 501, payload: [7]))
        try net.run(until: .milliseconds(5))
        #expect(net.wireCheckCounts.probesAllowed == 1)
        a.send(TestPackets.tcp(from: Self.a, to: Self.b, seq: 101, ack: 501, payload: [7, 8]))
        #expect(throws: HarnessError.self) { try net.run(until: .milliseconds(10)) }
    }

    @Test func scaledWindowsCountOnlyWhenBothSynsCarriedTheOption() throws {
        // Both SYNs scale: B's later window 10 << 4 = 160 bytes.
        do {
            let (net, a, b) = makePair()
            try handshake(net, a, b, scaleA: 2, scaleB: 4, synAckWindow: 100)
            b.send(TestPackets.tcp(from: Self.b, to: Self.a, seq: 501, ack: 101, window: 10))
            try net.run(until: .milliseconds(4))
            a.send(TestPackets.tcp(from: Self.a, to: Self.b, seq: 101, ack: 501, payload: [UInt8](repeating: 1, count: 160)))
            try net.run(until: .milliseconds(6))
        }
        // Only B's SYN scales: no scaling, so the edge stays at the SYN-ACK's 100.
        do {
            let (net, a, b) = makePair()
            try handshake(net, a, b, scaleA: nil, scaleB: 4, synAckWindow: 100)
            b.send(TestPackets.tcp(from: Self.b, to: Self.a, seq: 501, ack: 101, window: 10))
            try net.run(until: .milliseconds(4))
            a.send(TestPackets.tcp(from: Self.a, to: Self.b, seq: 101, ack: 501, payload: [UInt8](repeating: 1, count: 101)))
            #expect(throws: HarnessError.self) { try net.run(until: .milliseconds(6)) }
        }
    }

    @Test func theLargestEdgeCountsEvenAfterASmallerWindow() throws {
        let (net, a, b) = makePair()
        try handshake(net, a, b, scaleA: nil, scaleB: nil, synAckWindow: 1000)
        // B shrinks its offer (it should not, but the bound is the largest edge ever advertised).
        b.send(TestPackets.tcp(from: Self.b, to: Self.a, seq: 501, ack: 101, window: 10))
        try net.run(until: .milliseconds(4))
        a.send(TestPackets.tcp(from: Self.a, to: Self.b, seq: 101, ack: 501, payload: [UInt8](repeating: 1, count: 1000)))
        try net.run(until: .milliseconds(6))
        #expect(net.wireCheckCounts.checked == 1)
    }
}
