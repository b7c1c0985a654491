#if NIO
import NIOCore
import NIOEmbedded
import SluiceCore
@testable import SluiceNIO

/// Two stacks joined by an `InMemoryLink` on one `EmbeddedEventLoop`: everything runs on
/// virtual time, in a deterministic order.
final class EmbeddedPair {
    let loop = EmbeddedEventLoop()
    let client: SluiceStack
    let server: SluiceStack
    let toServer: InMemoryLink
    let toClient: InMemoryLink
    /// Every packet each side sent, with its virtual time (whole-segment records for assertions).
    private(set) var clientSent: [SentSegment] = []
    private(set) var serverSent: [SentSegment] = []

    static let clientAddress = IPv4Address(10, 0, 0, 1)
    static let serverAddress = IPv4Address(10, 0, 0, 2)

    init(latency: TimeAmount = .milliseconds(1), configure: (inout ConnectionConfig, _ isServer: Bool) -> Void = { _, _ in }) {
        (toServer, toClient) = InMemoryLink.pair(latency: latency)
        var clientConfig = EndpointConfig(localAddress: Self.clientAddress) { _, _ in SequenceNumber(1_000) }
        var serverConfig = EndpointConfig(localAddress: Self.serverAddress) { _, _ in SequenceNumber(500_000) }
        configure(&clientConfig.connection, false)
        configure(&serverConfig.connection, true)
        client = SluiceStack(config: clientConfig, link: toServer, eventLoop: loop)
        server = SluiceStack(config: serverConfig, link: toClient, eventLoop: loop)
        client.onPacket = { [unowned self] packet, now, direction in
            if direction == .outbound, let s = SentSegment(packet, at: now) { self.clientSent.append(s) }
        }
        server.onPacket = { [unowned self] packet, now, direction in
            if direction == .outbound, let s = SentSegment(packet, at: now) { self.serverSent.append(s) }
        }
    }

    var now: Instant { client.now }

    /// Listens on `port` of the server with autoRead off, handing each child to `reader`.
    func listen(port: UInt16, reader: Collector) throws {
        _ = try wait(SluiceServerBootstrap(stack: server)
            .childChannelOption(ChannelOptions.autoRead, value: false)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(reader) }
            }
            .bind(port: port))
    }

    /// Runs the loop in `step`s of virtual time until `done` holds; throws past `timeLimit`.
    func run(until done: () -> Bool, step: TimeAmount = .milliseconds(1), timeLimit: TimeAmount = .seconds(120),
             _ what: String = "condition") throws {
        loop.run()
        let limit = loop.now + timeLimit
        while !done() {
            guard loop.now < limit else { throw TestTimeout(what: what, at: now) }
            loop.advanceTime(by: step)
        }
    }

    /// The value of `future`, running the loop until it is there.
    func wait<T>(_ future: EventLoopFuture<T>, timeLimit: TimeAmount = .seconds(60)) throws -> T {
        var result: Result<T, Error>?
        future.assumeIsolated().whenComplete { result = $0 }
        try run(until: { result != nil }, timeLimit: timeLimit, "future")
        guard let result else { throw TestTimeout(what: "future", at: now) }
        return try result.get()
    }

    /// Closes everything and lets the loop finish its tasks.
    func finish() throws {
        _ = try? wait(client.shutdown(), timeLimit: .seconds(5))
        _ = try? wait(server.shutdown(), timeLimit: .seconds(5))
        try loop.syncShutdownGracefully()
    }
}

struct TestTimeout: Error, CustomStringConvertible {
    var what: String
    var at: Instant
    var description: String { "timed out waiting for \(what) at \(at)" }
}

/// One sent segment, decoded for assertions.
struct SentSegment: Sendable {
    var time: Instant
    var flags: TCPFlags
    var window: UInt16
    var payloadLength: Int

    init?(_ packet: UnsafeRawBufferPointer, at time: Instant) {
        guard let parsed = try? IPv4TCPPacket.parse(packet) else { return nil }
        self.time = time
        flags = parsed.tcp.flags
        window = parsed.tcp.window
        payloadLength = parsed.payloadRange.count
    }
}

/// Byte i of the test streams is `i % 251`, as sluice-http's `/bytes/N`.
func patternBytes(from start: Int, count: Int) -> [UInt8] {
    (start..<(start + count)).map { UInt8($0 % 251) }
}

/// A `channelRead` collector with switchable reading (autoRead off: it calls `read()` only
/// while `reading` is true).
final class Collector: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    var bytes: [UInt8] = []
    var reading = true
    var inputClosed = false
    var errors: [Error] = []
    var writabilityChanges: [Bool] = []
    private var context: ChannelHandlerContext?

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func channelActive(context: ChannelHandlerContext) {
        if reading { context.read() }
        context.fireChannelActive()
    }
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        bytes += buffer.readBytes(length: buffer.readableBytes) ?? []
    }
    func channelReadComplete(context: ChannelHandlerContext) {
        if reading { context.read() }
    }
    func channelWritabilityChanged(context: ChannelHandlerContext) {
        writabilityChanges.append(context.channel.isWritable)
        context.fireChannelWritabilityChanged()
    }
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .some(.inputClosed) = event as? ChannelEvent { inputClosed = true }
        context.fireUserInboundEventTriggered(event)
    }
    func errorCaught(context: ChannelHandlerContext, error: Error) { errors.append(error) }

    /// Starts reading again.
    func resume() {
        reading = true
        context?.read()
    }
}
#endif
