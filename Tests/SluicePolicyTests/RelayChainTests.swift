import Foundation
import SluiceCore
import SluiceHarness
import SluicePcap
import SluicePolicy
@testable import SluiceTrace
import Testing

/// Backpressure beyond two: sender → relay → relay → slow reader, on virtual time. Each
/// relay forwards with `RelayPair` (as `sluice-relay` does) and bounded buffers; the slow
/// reader's closed window must reach the sender one hop at a time.
@Suite struct RelayChainTests {
    static let sender = IPv4Address(10, 97, 0, 1)
    static let relay1 = IPv4Address(10, 97, 0, 2)
    static let relay2 = IPv4Address(10, 97, 0, 3)
    static let reader = IPv4Address(10, 97, 0, 4)
    static let bytes = 1 << 20
    /// Each relay's bounds: its forwarding buffer, receive ring and send ring.
    static let buffer = 16 * 1024
    static let rcvbuf = 16 * 1024
    static let sndbuf = 16 * 1024
    /// The reader takes 16 KiB every 400 ms: 40 KiB/s. Its pauses outlast the senders'
    /// silly-window override (200 ms, RFC 1122 §4.2.3.4), so each sender also sends the last
    /// sub-MSS sliver of a window and the windows close to zero, not just below one MSS.
    static let readerRate = 16 * 1024 * 10 / 4

    struct Hop {
        let name: String
        let from: Int
        let to: Int
        let writer: PcapWriter
    }

    @Test func slowReaderPushesBackHopByHop() throws {
        let seed: UInt64 = 0xC4A1
        let net = Harness(seed: seed)
        let relayConfig: (inout EndpointConfig) -> Void = {
            $0.connection.receiveBufferSize = Self.rcvbuf
            $0.connection.sendBufferSize = Self.sndbuf
        }
        let a = net.addEndpoint("sender", address: Self.sender)
        let r1 = net.addEndpoint("relay1", address: Self.relay1, configure: relayConfig)
        let r2 = net.addEndpoint("relay2", address: Self.relay2, configure: relayConfig)
        let b = net.addEndpoint("reader", address: Self.reader) { $0.connection.receiveBufferSize = 16 * 1024 }
        let link = LinkConfig(latency: .milliseconds(2), rate: 100_000_000)
        net.connect(a, r1, link)
        net.connect(r1, r2, link)
        net.connect(r2, b, link)

        // One capture per hop, at departure, as tcpdump on that wire would see it.
        let dir = FileManager.default.temporaryDirectory.path
        let hops = try [("sender-relay1", a, r1), ("relay1-relay2", r1, r2), ("relay2-reader", r2, b)].map { name, x, y in
            Hop(name: name, from: x.id, to: y.id,
                writer: try PcapWriter(path: "\(dir)/sluice-chain-\(name)-\(getpid())-\(seed).pcap"))
        }
        defer { for h in hops { try? FileManager.default.removeItem(atPath: h.writer.path) } }
        net.observe { p in
            guard p.point == .departure else { return }
            for h in hops where (p.from.id == h.from && p.to.id == h.to) || (p.from.id == h.to && p.to.id == h.from) {
                h.writer.write(p.bytes, timestamp: p.time)
            }
        }

        let stream = ByteStream(seed: seed)
        let rx = BulkReceiver(.accept(port: 7000), expecting: stream, count: Self.bytes,
                              policy: .throttled(16 * 1024, every: .milliseconds(400)))
        let relayA = RelayApplication(listen: 7000, connect: SocketAddress(Self.relay2, 7000), bufferSize: Self.buffer)
        let relayB = RelayApplication(listen: 7000, connect: SocketAddress(Self.reader, 7000), bufferSize: Self.buffer)
        let tx = BulkSender(.connect(to: SocketAddress(Self.relay1, 7000)), count: Self.bytes, stream: stream)
        try net.attach(rx, to: b)
        try net.attach(relayB, to: r2)
        try net.attach(relayA, to: r1)
        try net.attach(tx, to: a, at: .milliseconds(1))

        // Step by step; after every step each relay is within its bounds, per direction:
        // forwarding buffer ≤ buffer, upstream receive ring ≤ rcvbuf, downstream send ring ≤
        // sndbuf, and their sum ≤ rcvbuf + buffer + sndbuf.
        var steps = 0
        var acked: [(Instant, Int)] = []
        var nextSample = Instant.seconds(2)
        while !rx.isComplete {
            guard try net.step() else { Issue.record("the chain went idle at \(net.now)"); break }
            steps += 1
            for (name, relay) in [("relay1", relayA), ("relay2", relayB)] {
                for p in relay.pairs {
                    let up = p.upstream.endpoint.stats(of: p.upstream.id)
                    let down = p.downstream.endpoint.stats(of: p.downstream.id)
                    let held = (up?.receiveBufferBytes ?? 0) + p.forwardBufferedBytes + (down?.sendBufferBytes ?? 0)
                    if p.forwardBufferedBytes > Self.buffer || p.backwardBufferedBytes > Self.buffer
                        || (up?.receiveBufferBytes ?? 0) > Self.rcvbuf || (down?.sendBufferBytes ?? 0) > Self.sndbuf
                        || held > Self.rcvbuf + Self.buffer + Self.sndbuf {
                        Issue.record("\(name) over its bounds at \(net.now) (step \(steps)): buffer \(p.forwardBufferedBytes), rcv \(up?.receiveBufferBytes ?? 0), snd \(down?.sendBufferBytes ?? 0)")
                        return
                    }
                }
            }
            if net.now >= nextSample, let id = tx.connection, let s = a.endpoint?.stats(of: id) {
                acked.append((net.now, s.bytesAcknowledged))
                nextSample = nextSample + .seconds(2)
            }
            if net.now > .seconds(90) { Issue.record("transfer not done by 90 s"); break }
        }
        try net.run(for: .seconds(1))
        for h in hops { try h.writer.close() }
        #expect(rx.bytesRead == Self.bytes)
        #expect(relayA.finished.count == 1 && relayB.finished.count == 1, "both relays finished their pair")
        #expect(relayA.finished.first?.bytesForwarded == Self.bytes)
        #expect(relayB.finished.first?.bytesForwarded == Self.bytes)
        #expect(relayA.peakBufferedBytes <= Self.buffer * 2 && relayB.peakBufferedBytes <= Self.buffer * 2)

        // The sender's goodput converges to the reader's rate: over each of the last five
        // two-second spans (five reader periods) while it still had data to send, within 10%
        // of 40 KiB/s (the links could carry 300 times more).
        let sending = acked.filter { $0.1 < Self.bytes }
        #expect(sending.count >= 8, "\(acked.count) samples: \(acked)")
        let tail = sending.suffix(6)
        for (x, y) in zip(tail.dropLast(), tail.dropFirst()) {
            let rate = Double(y.1 - x.1) / (y.0.seconds - x.0.seconds)
            #expect(abs(rate - Double(Self.readerRate)) < Double(Self.readerRate) * 0.10,
                    "sender goodput \(Int(rate)) B/s from \(x.0) to \(y.0), reader \(Self.readerRate) B/s")
        }
        // Zero windows on every hop (each receiver of a hop closed its window), the relays
        // counting theirs too; checked with sluice-trace's analysis of the per-hop captures.
        #expect((relayA.finished.first?.upstreamZeroWindowEpisodes ?? 0) > 0)
        #expect((relayA.finished.first?.downstreamZeroWindowEpisodes ?? 0) > 0)
        #expect((relayB.finished.first?.upstreamZeroWindowEpisodes ?? 0) > 0)
        #expect((relayB.finished.first?.downstreamZeroWindowEpisodes ?? 0) > 0)
        var firstZero: [Instant] = []
        for h in hops {
            let (r, _) = try TraceFile.analyze(path: h.writer.path, options: TraceOptions())
            #expect(r.connections.count == 1, "\(h.name): \(r.connections.count) connections")
            guard let c = r.connections.first else { return }
            // B (the hop's receiver) advertised the zero windows.
            #expect(c.ba.zeroWindowEpisodeCount > 0, "\(h.name): no zero window")
            guard let first = c.ba.zeroWindowEpisodes.first?.start else { return }
            firstZero.append(first)
        }
        // Downstream first: the reader's hop closes, then relay2's upstream, then relay1's.
        #expect(firstZero.count == 3)
        if firstZero.count == 3 {
            #expect(firstZero[2] < firstZero[1] && firstZero[1] < firstZero[0],
                    "first zero window per hop (sender side first): \(firstZero)")
        }
        print("chain seed \(seed): \(steps) steps, first zero window per hop \(firstZero), zero-window episodes relay1 up/down \(relayA.finished.map { ($0.upstreamZeroWindowEpisodes, $0.downstreamZeroWindowEpisodes) }), relay2 \(relayB.finished.map { ($0.upstreamZeroWindowEpisodes, $0.downstreamZeroWindowEpisodes) }), goodput samples \(acked)")
    }
}
