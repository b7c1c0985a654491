import SluiceCore

/// The common scenario in one call: a client endpoint sends `count` bytes of a seeded stream to
/// a server endpoint over a pair of simulated links; the server reads them (per `readPolicy`),
/// checks every byte, and both close. Everything stays reachable for scripting and checks.
public final class BulkTransfer {
    public let harness: Harness
    public let client: HarnessNode
    public let server: HarnessNode
    public let sender: BulkSender
    public let receiver: BulkReceiver
    /// Client → server (data) and server → client (ACKs, window updates).
    public let forward: SimulatedLink
    public let backward: SimulatedLink

    public static let clientAddress = IPv4Address(10, 0, 0, 1)
    public static let serverAddress = IPv4Address(10, 0, 0, 2)
    public static let serverPort: UInt16 = 5001

    /// - Parameters:
    ///   - seed: seeds the links' randomness, the stream, and the initial sequence numbers.
    ///   - count: bytes to send.
    ///   - link: the forward link; `backward` defaults to the same.
    ///   - connection: adjusts both endpoints' `ConnectionConfig` (buffers, SACK, timestamps...).
    ///   - initialSequenceNumber: when given, both endpoints use it for every connection.
    ///   - readPolicy: how the server's application reads.
    public init(seed: UInt64, count: Int, link: LinkConfig = .ideal, backward: LinkConfig? = nil,
                connection: (inout ConnectionConfig) -> Void = { _ in },
                initialSequenceNumber: SequenceNumber? = nil,
                readPolicy: ReadPolicy = .greedy, options: Harness.Options = Harness.Options()) throws {
        harness = Harness(seed: seed, options: options)
        let configure: (inout EndpointConfig) -> Void = { config in
            connection(&config.connection)
            if let isn = initialSequenceNumber { config.initialSequenceNumber = { _, _ in isn } }
        }
        client = harness.addEndpoint("client", address: Self.clientAddress, configure: configure)
        server = harness.addEndpoint("server", address: Self.serverAddress, configure: configure)
        (forward, self.backward) = harness.connect(client, server, link, backward: backward)
        let stream = ByteStream(seed: seed)
        receiver = BulkReceiver(.accept(port: Self.serverPort), expecting: stream, count: count, policy: readPolicy,
                                computeDigest: options.computeDigest)
        sender = BulkSender(.connect(to: SocketAddress(Self.serverAddress, Self.serverPort)), count: count, stream: stream)
        // Started by the first step, so that captures and hooks set up after `init` see everything.
        try harness.attach(receiver, to: server, at: .zero)
        try harness.attach(sender, to: client, at: .zero)
    }

    /// The server has read every byte and the end of the stream, and its connection closed
    /// normally (the client's last ACK arrived).
    public var isFinished: Bool { receiver.isComplete && receiver.closeReason != nil }

    /// Runs until `isFinished` (throws if the run stalls, goes idle, or a check fails).
    public func run(timeLimit: Duration? = nil) throws {
        try harness.run(until: { [unowned self] _ in isFinished }, timeLimit: timeLimit,
                        "the transfer to finish (\(receiver.bytesRead) of \(sender.count) bytes read)")
    }
}

@available(*, unavailable)
extension BulkTransfer: Sendable {}
