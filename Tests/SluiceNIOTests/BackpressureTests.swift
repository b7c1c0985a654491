#if NIO
import NIOCore
import NIOEmbedded
import SluiceCore
@testable import SluiceNIO
import Testing

/// Backpressure the NIO way, on virtual time: read demand is the receive window, writability is
/// the send ring.
@Suite struct BackpressureTests {
    /// A handler that stops reading leaves the bytes in the receive ring: the window closes at
    /// the peer within one round trip of the ring filling, the peer probes, and the transfer
    /// resumes (every byte intact) when the handler reads again.
    @Test func stoppedReaderClosesTheWindowAndReadingReopensIt() throws {
        let receiveBuffer = 64 * 1024
        let latency = TimeAmount.milliseconds(1)
        let net = EmbeddedPair(latency: latency) { config, isServer in
            if isServer { config.receiveBufferSize = receiveBuffer }
        }
        defer { try? net.finish() }
        let reader = Collector()
        reader.reading = false
        try net.listen(port: 80, reader: reader)
        let client = try net.wait(SluiceClientBootstrap(stack: net.client)
            .connect(to: SluiceCore.SocketAddress(EmbeddedPair.serverAddress, 80)))
        let total = 512 * 1024
        client.writeAndFlush(ByteBuffer(bytes: patternBytes(from: 0, count: total)), promise: nil)

        // Step 100 µs at a time until less than one segment of room is left in the ring.
        func ringBytes() -> Int {
            guard let id = net.server.channels.keys.first else { return 0 }
            return net.server.endpoint.readableBytes(id)
        }
        try net.run(until: { ringBytes() > receiveBuffer - 1460 }, step: .microseconds(100), "the ring to fill")
        let filledAt = net.now
        #expect(reader.bytes.isEmpty, "the handler did not read, so nothing left the ring")

        // The window is closed to full segments at once (SWS: the sender keeps the sliver below
        // one MSS), so the peer knows within one round trip.
        let mss = 1448
        let closed = try #require(net.serverSent.first { $0.window < mss && !$0.flags.contains(.syn) })
        #expect(closed.time + .milliseconds(1) <= filledAt + .milliseconds(2), "window closed at \(closed.time), ring full at \(filledAt)")
        // The sender fills the sliver after its SWS override (200 ms); the ACK of that (delayed,
        // at most 40 ms) is the literal zero window.
        try net.run(until: { net.serverSent.contains { $0.window == 0 && !$0.flags.contains(.syn) } },
                    step: .microseconds(100), timeLimit: .seconds(1), "a zero window")
        let zero = try #require(net.serverSent.first { $0.window == 0 && !$0.flags.contains(.syn) })
        #expect(zero.time <= filledAt + .milliseconds(250), "zero window at \(zero.time), ring full at \(filledAt)")

        // Stalled for 3 s: the client probes, the server answers, the ring stays within its bound.
        let stalledAt = net.now
        try net.run(until: { net.now >= stalledAt + .seconds(3) }, step: .milliseconds(10), "the stall")
        #expect(ringBytes() <= receiveBuffer)
        #expect(reader.bytes.isEmpty)
        let clientID = try #require(net.client.channels.keys.first)
        let clientStats = try #require(net.client.endpoint.stats(of: clientID))
        #expect(clientStats.flow.probesSent > 0)
        #expect(clientStats.flow.probesAnswered > 0)
        #expect(net.serverSent.filter { $0.time >= zero.time && $0.time < net.now }.allSatisfy { $0.window == 0 },
                "no window opened while the handler did not read")

        // Reading again reopens the window at once (a window update) and the transfer completes.
        let resumedAt = net.now
        reader.resume()
        try net.run(until: { net.serverSent.contains { $0.time >= resumedAt && $0.window > 0 } },
                    step: .microseconds(100), timeLimit: .milliseconds(5), "a window update")
        try net.run(until: { reader.bytes.count == total }, timeLimit: .seconds(30), "the transfer")
        #expect(reader.bytes == patternBytes(from: 0, count: total))
    }

    /// `isWritable` is false exactly while flushed bytes wait outside a full send ring;
    /// `channelWritabilityChanged` fires both ways; promises complete as bytes enter the ring.
    @Test func isWritableFollowsTheSendRing() throws {
        let ring = 32 * 1024
        let net = EmbeddedPair { config, isServer in
            if isServer { config.receiveBufferSize = ring } else { config.sendBufferSize = ring }
        }
        defer { try? net.finish() }
        let reader = Collector()
        reader.reading = false
        try net.listen(port: 80, reader: reader)
        let writer = Collector()
        let client = try net.wait(SluiceClientBootstrap(stack: net.client)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(writer) }
            }
            .connect(to: SluiceCore.SocketAddress(EmbeddedPair.serverAddress, 80)))
        let sluice = try #require(client as? SluiceChannel)
        let id = try #require(sluice.connectionID)
        #expect(client.isWritable)

        // 40 writes of 4 KiB = 160 KiB: the first 8 fill the ring at once.
        let chunk = 4096, count = 40
        var completed = 0
        for i in 0..<count {
            client.write(ByteBuffer(bytes: patternBytes(from: i * chunk, count: chunk))).assumeIsolated().whenSuccess { completed += 1 }
        }
        client.flush()
        #expect(!client.isWritable)
        #expect(writer.writabilityChanges == [false])
        #expect(completed == ring / chunk)
        #expect(net.client.endpoint.writableBytes(id) == 0)

        // The peer's ring fills too and nobody reads: still not writable after 2 s.
        try net.run(until: { net.now >= .seconds(2) }, step: .milliseconds(10), "2 s")
        #expect(!client.isWritable)
        #expect(writer.writabilityChanges == [false])
        #expect(completed < count)

        // The server reads: the rings drain, every write completes, writability comes back once.
        reader.resume()
        try net.run(until: { client.isWritable }, "writability")
        #expect(writer.writabilityChanges == [false, true])
        #expect(completed == count)
        try net.run(until: { reader.bytes.count == chunk * count }, "the transfer")
        #expect(reader.bytes == patternBytes(from: 0, count: chunk * count))
    }
}
#endif
