#if NIO
import Crypto
import NIOCore
import NIOEmbedded
import NIOHTTP1
import SluiceCore
import SluiceRandom
@testable import SluiceNIO
@testable import sluice_http
import Testing

/// sluice-http's responder behind NIO's HTTP/1.1 server, and NIO's HTTP/1.1 client, each on
/// its own Sluice stack, joined in memory on virtual time.
@Suite struct HTTPOverSluiceTests {
    /// Sets up the server (sluice-http's pipeline) and a connected HTTP client.
    private func connect(_ net: EmbeddedPair, readRate: Double? = nil, client: HTTPClientHandler) throws -> Channel {
        var bootstrap = SluiceServerBootstrap(stack: net.server)
        if readRate != nil {
            bootstrap = bootstrap
                .childChannelOption(ChannelOptions.autoRead, value: false)
                .childChannelOption(ChannelOptions.maxMessagesPerRead, value: 1)
                .childChannelOption(ChannelOptions.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 16 * 1024))
        }
        _ = try net.wait(bootstrap.childChannelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                try channel.pipeline.syncOperations.addHandler(HTTPResponder(readRate: readRate) { _ in })
            }
        }.bind(port: 8080))
        return try net.wait(SluiceClientBootstrap(stack: net.client)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(client)
                }
            }
            .connect(to: SluiceCore.SocketAddress(EmbeddedPair.serverAddress, 8080)))
    }

    @Test func getBytesArrivesIdentical() throws {
        let net = EmbeddedPair()
        defer { try? net.finish() }
        let client = HTTPClientHandler(method: .GET, uri: "/bytes/1000003", body: [])
        _ = try connect(net, client: client)
        try net.run(until: { client.complete }, "the response")
        #expect(client.head?.status == .ok)
        #expect(client.head?.headers["Content-Length"] == ["1000003"])
        #expect(client.response.count == 1_000_003)
        #expect(client.response == patternBytes(from: 0, count: 1_000_003))
    }

    /// A rate-limited sink closes the window: zero windows from the server while the client's
    /// body waits (16 KiB reads every 0.33 s: the sender's 200 ms SWS override fills the sliver
    /// first), and the answer carries the body's length and SHA-256.
    @Test func slowSinkAnswersLengthAndSHA256() throws {
        let net = EmbeddedPair { config, isServer in
            if isServer { config.receiveBufferSize = 32 * 1024 }
        }
        defer { try? net.finish() }
        var random = SplitMix64(seed: 15)
        print("slowSinkAnswersLengthAndSHA256: seed 15")
        let body = (0..<300_000).map { _ in UInt8.random(in: 0...255, using: &random) }
        let client = HTTPClientHandler(method: .POST, uri: "/sink", body: body)
        _ = try connect(net, readRate: 50_000, client: client)
        try net.run(until: { client.complete }, timeLimit: .seconds(60), "the response")
        let expected = SHA256.hash(data: body).map { String(format2: $0) }.joined()
        #expect(client.head?.status == .ok)
        #expect(String(decoding: client.response, as: UTF8.self) == "bytes=300000 sha256=\(expected)\n")
        #expect(net.serverSent.contains { $0.window == 0 && !$0.flags.contains(.syn) }, "the sink closed the window")
        // 300 kB at 50 kB/s: about 6 s (the first read is free).
        #expect(net.now >= .seconds(5))
        #expect(client.writabilityChanges.first == false, "the client's body waited on isWritable")
    }

    @Test func unknownPathIs404() throws {
        let net = EmbeddedPair()
        defer { try? net.finish() }
        let client = HTTPClientHandler(method: .GET, uri: "/nothing", body: [])
        _ = try connect(net, client: client)
        try net.run(until: { client.complete }, "the response")
        #expect(client.head?.status == .notFound)
    }
}

/// Sends one request (a body streamed as the channel stays writable) and collects the response.
final class HTTPClientHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart
    let method: HTTPMethod
    let uri: String
    let body: [UInt8]
    private var sent = 0
    private var ended = false
    var head: HTTPResponseHead?
    var response: [UInt8] = []
    var complete = false
    var writabilityChanges: [Bool] = []

    init(method: HTTPMethod, uri: String, body: [UInt8]) {
        self.method = method
        self.uri = uri
        self.body = body
    }

    func channelActive(context: ChannelHandlerContext) {
        var head = HTTPRequestHead(version: .http1_1, method: method, uri: uri)
        head.headers.add(name: "Host", value: "sluice")
        if method == .POST { head.headers.add(name: "Content-Length", value: "\(body.count)") }
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        pump(context: context)
        context.fireChannelActive()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        writabilityChanges.append(context.channel.isWritable)
        if context.channel.isWritable { pump(context: context) }
    }

    private func pump(context: ChannelHandlerContext) {
        while sent < body.count, context.channel.isWritable {
            let n = min(8192, body.count - sent)
            context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: body[sent..<(sent + n)])))), promise: nil)
            sent += n
        }
        if sent == body.count, !ended {
            ended = true
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h): head = h
        case .body(var b): response += b.readBytes(length: b.readableBytes) ?? []
        case .end: complete = true
        }
    }
}

extension String {
    /// Two lowercase hex digits.
    init(format2 byte: UInt8) {
        let hex = String(byte, radix: 16)
        self = byte < 16 ? "0" + hex : hex
    }
}
#endif
