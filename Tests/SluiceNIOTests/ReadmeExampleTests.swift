#if NIO
import NIOCore
import NIOHTTP1
import NIOPosix
import SluiceCore
import SluiceNIO
import Testing

@Test func httpOverSluice() async throws {
    // Two Sluice stacks on a NIO event loop, joined in memory (for real traffic give the stack
    // `TUNLink.open(name:on:)` or `UDPLoopbackLink.bind(port:on:)` instead).
    let loop = MultiThreadedEventLoopGroup.singleton.next()
    let (clientLink, serverLink) = InMemoryLink.pair(latency: .milliseconds(1))
    let isn: @Sendable (FourTuple, Instant) -> SequenceNumber = { _, _ in SequenceNumber(1) }
    let (client, server) = try await loop.submit {
        (SluiceStack(config: EndpointConfig(localAddress: IPv4Address(10, 0, 0, 1), initialSequenceNumber: isn),
                     link: clientLink, eventLoop: loop),
         SluiceStack(config: EndpointConfig(localAddress: IPv4Address(10, 0, 0, 2), initialSequenceNumber: isn),
                     link: serverLink, eventLoop: loop))
    }.get()

    // An HTTP/1.1 server: NIO's own pipeline, one child channel per Sluice connection.
    // With `.childChannelOption(ChannelOptions.autoRead, value: false)`, a handler that stops
    // calling `read()` closes the TCP window to the client.
    let listener = try await SluiceServerBootstrap(stack: server)
        .childChannelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                try channel.pipeline.syncOperations.addHandler(Hello())
            }
        }
        .bind(port: 80).get()

    // A client on NIOAsyncChannel: inbound is an AsyncSequence with backpressure, outbound a writer
    // that waits while the send ring is full (`isWritable` false).
    let channel = try await SluiceClientBootstrap(stack: client)
        .connect(to: IPv4Address(10, 0, 0, 2), port: 80)
        .flatMapThrowing { channel in
            try channel.pipeline.syncOperations.addHTTPClientHandlers()
            return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(wrappingChannelSynchronously: channel)
        }.get()
    let text = try await channel.executeThenClose { inbound, outbound in
        try await outbound.write(.head(HTTPRequestHead(version: .http1_1, method: .GET, uri: "/")))
        try await outbound.write(.end(nil))
        var text = ""
        for try await part in inbound {
            if case .body(let body) = part { text += String(buffer: body) }
            if case .end = part { break }
        }
        return text
    }
    #expect(text == "hello over Sluice\n")
    try await listener.close()
    try await client.shutdown().get()
    try await server.shutdown().get()
}

/// Answers every request with a short text.
final class Hello: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .end = unwrapInboundIn(data) else { return }
        var head = HTTPResponseHead(version: .http1_1, status: .ok)
        head.headers.add(name: "Content-Length", value: "18")
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: "hello over Sluice\n")))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }
}
#endif
