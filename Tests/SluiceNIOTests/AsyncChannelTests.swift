#if NIO
import NIOCore
import NIOPosix
import SluiceCore
@testable import SluiceNIO
import Testing

/// `NIOAsyncChannel` over a Sluice connection: the outbound writer waits on writability, the
/// inbound sequence's backpressure stops reads, and both reach the TCP windows.
@Suite struct AsyncChannelTests {
    @Test func asyncChannelRoundTripWithBackpressure() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let (toServer, toClient) = InMemoryLink.pair(latency: .microseconds(200))
        let stacks = try await loop.submit {
            var clientConfig = EndpointConfig(localAddress: IPv4Address(10, 0, 0, 1)) { _, _ in SequenceNumber(7) }
            var serverConfig = EndpointConfig(localAddress: IPv4Address(10, 0, 0, 2)) { _, _ in SequenceNumber(9) }
            clientConfig.connection.receiveBufferSize = 32 * 1024
            clientConfig.connection.sendBufferSize = 32 * 1024
            serverConfig.connection.receiveBufferSize = 32 * 1024
            serverConfig.connection.sendBufferSize = 32 * 1024
            return UnsafeTransfer((SluiceStack(config: clientConfig, link: toServer, eventLoop: loop),
                                   SluiceStack(config: serverConfig, link: toClient, eventLoop: loop)))
        }.get().wrappedValue
        let (client, server) = stacks

        // The server echoes, reading only while its channel is writable; it reports its first stall.
        let stalled = loop.makePromise(of: Void.self)
        _ = try await SluiceServerBootstrap(stack: server)
            .childChannelOption(ChannelOptions.autoRead, value: false)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Echo(stalled: stalled))
                }
            }
            .bind(port: 7).get()

        let channel = try await SluiceClientBootstrap(stack: client)
            .connect(to: SluiceCore.SocketAddress(IPv4Address(10, 0, 0, 2), 7))
            .flatMapThrowing { channel in
                try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
            }.get()
        let clientChannel = try #require(channel.channel as? SluiceChannel)
        let total = 1 << 20, chunk = 16 * 1024
        let received = try await channel.executeThenClose { inbound, outbound in
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask {
                    for offset in stride(from: 0, to: total, by: chunk) {
                        try await outbound.write(ByteBuffer(bytes: patternBytes(from: offset, count: chunk)))
                    }
                }
                // Nobody consumes the inbound side until the whole chain has stalled.
                try await stalled.futureResult.get()
                var bytes: [UInt8] = []
                bytes.reserveCapacity(total)
                for try await var buffer in inbound {
                    bytes += buffer.readBytes(length: buffer.readableBytes) ?? []
                    if bytes.count >= total { break }
                }
                try await tasks.waitForAll()
                return bytes
            }
        }
        #expect(received.count == total)
        #expect(received == patternBytes(from: 0, count: total))
        let stats = try await loop.submit { clientChannel.lastStats }.get()
        #expect((stats?.flow.zeroWindowAdvertisedEpisodes ?? 0) > 0, "the unconsumed inbound side closed the client's window")
        try await client.shutdown().get()
        try await server.shutdown().get()
        try await group.shutdownGracefully()
    }
}

/// Echoes what it reads; stops reading while the channel is not writable.
private final class Echo: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let stalled: EventLoopPromise<Void>
    private var reported = false
    init(stalled: EventLoopPromise<Void>) { self.stalled = stalled }

    func channelActive(context: ChannelHandlerContext) {
        context.read()
        context.fireChannelActive()
    }
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.write(data, promise: nil)
    }
    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
        if context.channel.isWritable {
            context.read()
        } else if !reported {
            reported = true
            stalled.succeed()
        }
    }
    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { context.read() }
    }
}
#endif
