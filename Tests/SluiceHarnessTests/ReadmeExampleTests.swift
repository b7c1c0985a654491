import SluiceCore
import SluiceHarness
import Testing

@Test func slowReaderOverALossyLinkGetsEveryByte() throws {
    // Two endpoints joined by a 10 Mbit/s link, 5 ms each way, losing 1% of packets.
    let net = Harness(seed: 42)
    let client = net.addEndpoint("client", address: IPv4Address(10, 0, 0, 1))
    let server = net.addEndpoint("server", address: IPv4Address(10, 0, 0, 2)) { config in
        config.connection.receiveBufferSize = 64 * 1024
    }
    let link = LinkConfig(latency: .milliseconds(5), rate: 10_000_000, lossProbability: 0.01)
    let (toServer, _) = net.connect(client, server, link)

    // The client sends 1 MiB of a seeded stream; the server reads 32 KiB every 20 ms,
    // checking every byte against the same stream.
    let stream = ByteStream(seed: 42)
    let receiver = BulkReceiver(.accept(port: 80), expecting: stream, count: 1 << 20,
                                policy: .throttled(32 * 1024, every: .milliseconds(20)))
    let sender = BulkSender(.connect(to: SocketAddress(server.address, 80)), count: 1 << 20, stream: stream)
    try net.attach(receiver, to: server)
    try net.attach(sender, to: client)

    // Check every packet as it leaves: no segment carries more than one MSS.
    net.observe { packet in
        if packet.point == .departure, let segment = packet.segment {
            #expect(segment.payloadLength <= 1460)
        }
    }

    // Step on virtual time until the server has read everything and the stream's end.
    // Invariants (the engine's, and "no byte past the advertised window") are checked after
    // every step and thrown as errors.
    try net.run(until: { _ in receiver.isComplete }, timeLimit: .seconds(120))
    #expect(receiver.bytesRead == 1 << 20)
    #expect(toServer.counters.droppedLoss > 0)
}
