import SluiceHarness
import Testing
@testable import SluiceCore

/// Adversarial peers against a live transfer in the harness (virtual time, seeded). Each test
/// asserts: no trap, every engine invariant after every step (the harness throws otherwise),
/// memory within the configured bounds (connection table, rings, reassembly ranges), and the
/// legitimate connection still served, byte for byte (`BulkReceiver` checks every byte).
/// `BlindAttackTests` covers the same rules segment by segment; these run them mid-transfer.
@Suite struct AdversarialPeerTests {
    static let serverAddress = SocketAddress(BulkTransfer.serverAddress, BulkTransfer.serverPort)
    static let link = LinkConfig(latency: .milliseconds(5), rate: 20_000_000, queueLimit: .packets(200))

    /// The receiving side's connection object (the engine's view: RCV.NXT, the window).
    static func serverConnection(_ t: BulkTransfer) -> Connection? {
        guard let id = t.receiver.connection else { return nil }
        return t.server.endpoint?.connection(id)
    }

    /// A timestamps option that passes `c`'s PAWS check (RFC 7323 §5: TSval not older than
    /// TS.Recent), when timestamps were negotiated: what an attacker who saw the last segment
    /// would send. Without it every non-RST segment is dropped before the checks under test.
    static func timestamps(for c: Connection) -> TCPOptions {
        var o = TCPOptions()
        if c.timestampsEnabled { o.timestamps = TCPTimestamps(value: c.tsRecent, echoReply: 0) }
        return o
    }

    /// The sending side's connection object.
    static func clientConnection(_ t: BulkTransfer) -> Connection? {
        guard let id = t.sender.connection else { return nil }
        return t.client.endpoint?.connection(id)
    }

    /// Memory within the bounds the endpoint was configured with.
    static func expectBounded(_ node: HarnessNode, _ sourceLocation: SourceLocation = #_sourceLocation) {
        guard let e = node.endpoint else { return }
        #expect(e.connectionCount <= e.config.maxConnections, sourceLocation: sourceLocation)
        for i in e.slots.indices {
            guard let c = e.slots[i].connection else { continue }
            #expect(c.sendRing.count <= e.config.connection.sendBufferSize, sourceLocation: sourceLocation)
            #expect(c.stats.peakReceiveBufferBytes <= e.config.connection.receiveBufferSize, sourceLocation: sourceLocation)
            #expect(c.assembler.rangeCount <= e.config.connection.maxReassemblyRanges, sourceLocation: sourceLocation)
        }
    }

    // MARK: - Hole spray

    /// One byte at every other offset across the whole receive window, from the peer's own
    /// 4-tuple with the right bytes, every 50 ms: the assembler holds at most
    /// `maxReassemblyRanges` ranges (the rest is refused and counted), the next expected segment
    /// is still accepted, and the transfer completes.
    @Test func holeSprayAcrossTheWholeWindow() throws {
        let seed: UInt64 = 1301
        let count = 1 << 20
        let t = try BulkTransfer(seed: seed, count: count, link: Self.link, connection: { c in
            c.receiveBufferSize = 16 * 1024
            c.maxReassemblyRanges = 8
        }, readPolicy: .throttled(16 * 1024, every: .milliseconds(20)))
        let stream = ByteStream(seed: seed)
        let window = 16 * 1024
        var base: (rcvNxt: SequenceNumber, first: SequenceNumber)?
        var sprays = 0
        let spray = Injector(start: .milliseconds(100), interval: .microseconds(5), count: 40 * window / 2) { i, _ in
            let k = i % (window / 2)
            if k == 0 {
                guard let c = Self.serverConnection(t) else { base = nil; return nil }
                base = (c.rcvNxt, c.irs + 1)
                sprays += 1
            }
            guard let b = base, let c = Self.serverConnection(t) else { return nil }
            let seq = b.rcvNxt + (1 + 2 * k)
            let offset = seq - b.first
            return hostilePacket(from: c.tuple.remote, to: Self.serverAddress, flags: .ack, seq: seq,
                                 ack: c.sndNxt, window: 65535, options: Self.timestamps(for: c),
                                 payload: [stream.byte(at: offset)])
        }
        let node = t.harness.addNode("spray", address: IPv4Address(192, 0, 2, 13), node: spray)
        t.harness.addLink(from: node, to: t.server, LinkConfig(latency: .milliseconds(1)))
        var peakRanges = 0
        t.server.onService = { c in
            for i in c.endpoint.slots.indices {
                if let conn = c.endpoint.slots[i].connection { peakRanges = max(peakRanges, conn.assembler.rangeCount) }
            }
        }
        try t.run(timeLimit: .seconds(120))
        print("hole spray seed \(seed): \(sprays) sprays, \(spray.sent) one-byte segments, peak ranges \(peakRanges)")
        #expect(t.receiver.bytesRead == count)
        #expect(sprays >= 10)
        #expect(peakRanges == 8)
        let counters = try #require(t.server.endpoint?.counters)
        #expect(counters.droppedReassemblyLimit > 0)
        Self.expectBounded(t.server)
    }

    // MARK: - Blind injection

    /// RSTs, SYNs and data with in-window (never exact) and out-of-window sequence numbers and
    /// blind acknowledgment numbers, 20 every 10 ms for 3 s, on the receiver's 4-tuple: the
    /// challenge ACKs stay within the per-connection limit (10 per 5 s, RFC 5961 §7), nothing
    /// injected is taken, and the transfer completes.
    @Test func blindInjectionDuringATransfer() throws {
        let seed: UInt64 = 1302
        let count = 2 << 20
        let t = try BulkTransfer(seed: seed, count: count, link: Self.link, connection: { c in
            c.receiveBufferSize = 64 * 1024
        })
        var rng = SplitMix64(seed: seed)
        var injected = (rst: 0, syn: 0, data: 0)
        for batch in 0..<300 {
            t.harness.schedule(at: .milliseconds(50) + .milliseconds(10) * batch) { _ in
                guard let c = Self.serverConnection(t), let e = t.server.endpoint else { return }
                let client = c.tuple.remote
                let window = max(2, c.rcvAdvertisedEdge - c.rcvNxt)
                for _ in 0..<20 {
                    let inWindow = rng.next() % 2 == 0
                    let offset = inWindow ? 1 + Int(rng.next() % UInt64(window - 1)) : window + 1 + Int(rng.next() % 1_000_000)
                    let seq = rng.next() % 4 == 0 ? c.rcvNxt - offset : c.rcvNxt + offset
                    let blindACK = SequenceNumber(UInt32(truncatingIfNeeded: rng.next()))
                    let kind = rng.next() % 3
                    let bytes: [UInt8]
                    switch kind {
                    case 0:
                        bytes = hostilePacket(from: client, to: Self.serverAddress, flags: .rst, seq: seq)
                        injected.rst += 1
                    case 1:
                        bytes = hostilePacket(from: client, to: Self.serverAddress, flags: .syn, seq: seq,
                                              options: Self.timestamps(for: c))
                        injected.syn += 1
                    default:
                        bytes = hostilePacket(from: client, to: Self.serverAddress, flags: [.ack, .psh], seq: seq,
                                              ack: blindACK, options: Self.timestamps(for: c),
                                              payload: [UInt8](repeating: 0xEE, count: 100))
                        injected.data += 1
                    }
                    bytes.withUnsafeBytes { e.receive($0, at: t.harness.now) }
                }
            }
        }
        try t.run(timeLimit: .seconds(120))
        let counters = try #require(t.server.endpoint?.counters)
        print("blind injection seed \(seed): \(injected) injected; challenge ACKs sent \(counters.challengeACKsSent), suppressed \(counters.challengeACKsSuppressed); transfer done at \(t.harness.now)")
        #expect(t.receiver.bytesRead == count && t.receiver.closeReason == .normal)
        #expect(injected.rst > 0 && injected.syn > 0 && injected.data > 0)
        #expect(counters.droppedInvalidReset > 0)
        #expect(counters.droppedSynInWindow > 0)
        // RFC 5961 §7: at most 10 challenge ACKs per 5 s for the one connection.
        let seconds = t.harness.now.nanoseconds / 1_000_000_000 + 1
        #expect(counters.challengeACKsSent <= 10 * Int((seconds + 4) / 5))
        #expect(counters.challengeACKsSuppressed > 0)
        Self.expectBounded(t.server)
    }

    /// The same injection, plus one RST at exactly RCV.NXT: that one resets the connection
    /// (RFC 5961 §3.2: the only RST accepted).
    @Test func anExactResetEndsTheTransfer() throws {
        let t = try BulkTransfer(seed: 1303, count: 2 << 20, link: Self.link)
        t.harness.schedule(at: .milliseconds(400)) { _ in
            guard let c = Self.serverConnection(t), let e = t.server.endpoint else { return }
            let rst = hostilePacket(from: c.tuple.remote, to: Self.serverAddress, flags: .rst, seq: c.rcvNxt)
            rst.withUnsafeBytes { e.receive($0, at: t.harness.now) }
        }
        try t.harness.run(until: { _ in t.receiver.closeReason != nil }, timeLimit: .seconds(10))
        #expect(t.receiver.closeReason == .reset)
        #expect(t.receiver.wasReset)
        #expect(t.receiver.bytesRead < 2 << 20)
    }

    // MARK: - Zero-length floods and bad checksums

    /// 40,000 empty segments at the data sender from the receiver's 4-tuple (duplicate ACKs of
    /// the last acknowledgment, window updates, old and future sequence numbers), and 40,000 at
    /// the receiver from the sender's: the transfer completes and memory stays bounded.
    @Test func zeroLengthFloodsBothWays() throws {
        let seed: UInt64 = 1304
        let count = 2 << 20
        let t = try BulkTransfer(seed: seed, count: count, link: Self.link)
        var rng = SplitMix64(seed: seed)
        func flood(toward target: HarnessNode, spoofing peer: @escaping () -> (from: SocketAddress, to: SocketAddress, seq: SequenceNumber, ack: SequenceNumber, options: TCPOptions)?) -> Injector {
            Injector(start: .milliseconds(30), interval: .microseconds(50), count: 40_000) { _, _ in
                guard let p = peer() else { return nil }
                let r = rng.next()
                let seq: SequenceNumber
                switch r % 4 {
                case 0: seq = p.seq
                case 1: seq = p.seq - Int((r >> 8) % 100_000) - 1
                case 2: seq = p.seq + Int((r >> 8) % 100_000) + 1
                default: seq = SequenceNumber(UInt32(truncatingIfNeeded: r >> 16))
                }
                return hostilePacket(from: p.from, to: p.to, flags: .ack, seq: seq, ack: p.ack,
                                     window: r % 5 == 0 ? UInt16(truncatingIfNeeded: r >> 32) : 65535, options: p.options)
            }
        }
        // At the sender, as if from the receiver: its current ACK number.
        let atSender = flood(toward: t.client) {
            guard let c = Self.clientConnection(t) else { return nil }
            return (c.tuple.remote, c.tuple.local, c.rcvNxt, c.sndUna, Self.timestamps(for: c))
        }
        let atReceiver = flood(toward: t.server) {
            guard let c = Self.serverConnection(t) else { return nil }
            return (c.tuple.remote, c.tuple.local, c.rcvNxt, c.sndNxt, Self.timestamps(for: c))
        }
        let a = t.harness.addNode("flood-sender", address: IPv4Address(192, 0, 2, 21), node: atSender)
        let b = t.harness.addNode("flood-receiver", address: IPv4Address(192, 0, 2, 22), node: atReceiver)
        t.harness.addLink(from: a, to: t.client, LinkConfig(latency: .milliseconds(1)))
        t.harness.addLink(from: b, to: t.server, LinkConfig(latency: .milliseconds(1)))
        try t.run(timeLimit: .seconds(300))
        print("zero-length floods seed \(seed): \(atSender.sent) at the sender, \(atReceiver.sent) at the receiver; done at \(t.harness.now)")
        #expect(t.receiver.bytesRead == count)
        #expect(atSender.sent > 10_000 && atReceiver.sent > 10_000)
        Self.expectBounded(t.client)
        Self.expectBounded(t.server)
    }

    /// 5,000 segments with a bad TCP checksum on the connection's own 4-tuple (in-window data,
    /// RSTs at RCV.NXT, SYNs), 50 every 2 ms while 2 MiB flow: every one is dropped and counted,
    /// none has any effect.
    @Test func badChecksumsAreDroppedAndCounted() throws {
        let count = 2 << 20
        let t = try BulkTransfer(seed: 1305, count: count, link: Self.link)
        var injected = 0
        for batch in 0..<100 {
            t.harness.schedule(at: .milliseconds(40) + .milliseconds(2) * batch) { _ in
                guard let c = Self.serverConnection(t), let e = t.server.endpoint else { return }
                for k in 0..<50 {
                    let flags: TCPFlags = [.ack, .rst, .syn][k % 3]
                    let bytes = hostilePacket(from: c.tuple.remote, to: c.tuple.local, flags: flags, seq: c.rcvNxt, ack: c.sndNxt,
                                              options: flags == .rst ? TCPOptions() : Self.timestamps(for: c),
                                              payload: flags == .ack ? [1, 2, 3, 4] : [], badChecksum: true)
                    bytes.withUnsafeBytes { e.receive($0, at: t.harness.now) }
                    injected += 1
                }
            }
        }
        try t.run(timeLimit: .seconds(60))
        let counters = try #require(t.server.endpoint?.counters)
        #expect(t.receiver.bytesRead == count && t.receiver.closeReason == .normal)
        #expect(injected == 5_000)
        #expect(counters.droppedBadChecksum == injected)
        #expect(counters.resetsReceived == 0 && counters.droppedSynInWindow == 0)
    }
}
