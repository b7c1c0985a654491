#if NIO
import Crypto
import NIOCore
import NIOHTTP1

/// sluice-http's application, one per connection, after NIO's HTTP/1.1 server pipeline:
/// - `GET /bytes/N` answers N bytes where byte i is `i % 251`, written as the channel stays
///   writable (so the send ring, not this handler, holds what the peer has not taken);
/// - `POST /sink` reads the body, at most `readRate` bytes per second when set (the channel's
///   `autoRead` is then off and this handler asks for each read when the rate allows, so a slow
///   sink closes the TCP window), and answers `bytes=N sha256=HEX`;
/// - anything else is 404.
final class HTTPResponder: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// One finished request, for the log and the summary.
    struct Completed: Sendable {
        var method: String
        var uri: String
        var status: Int
        var bodyBytes: Int
        var sha256: String?
    }

    /// Bytes per second the sink reads at most; `nil`: as fast as NIO delivers.
    let readRate: Double?
    let onCompleted: (Completed) -> Void

    private enum Route {
        case bytes(count: Int)
        case sink
        case notFound
    }
    private var request: HTTPRequestHead?
    private var route = Route.notFound
    private var sinkHash = SHA256()
    private var sinkBytes = 0
    /// The GET body still to write: next byte index, end.
    private var sending: (next: Int, end: Int, keepAlive: Bool)?
    private var completion: Completed?
    private var consumedSinceRead = 0
    private var nextReadAt: NIODeadline?
    private var readTimer: Scheduled<Void>?

    init(readRate: Double?, onCompleted: @escaping (Completed) -> Void) {
        self.readRate = readRate
        self.onCompleted = onCompleted
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if readRate != nil, context.channel.isActive { context.read() }
    }

    func channelActive(context: ChannelHandlerContext) {
        if readRate != nil { context.read() }
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        readTimer?.cancel()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            request = head
            route = Self.route(head)
            sinkHash = SHA256()
            sinkBytes = 0
        case .body(let body):
            consumedSinceRead += body.readableBytes
            if case .sink = route {
                sinkBytes += body.readableBytes
                body.withUnsafeReadableBytes { sinkHash.update(bufferPointer: $0) }
            }
        case .end:
            guard let head = request else { return }
            request = nil
            respond(to: head, context: context)
        }
    }

    /// With a read rate, the next read waits until the bytes consumed so far fit the rate.
    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
        guard let readRate, readTimer == nil else { return }
        let now = context.eventLoop.now
        let spent = TimeAmount.nanoseconds(Int64(Double(consumedSinceRead) / readRate * 1e9))
        consumedSinceRead = 0
        let at = max(nextReadAt ?? now, now) + spent
        nextReadAt = at
        if at <= now {
            context.read()
            return
        }
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        readTimer = context.eventLoop.scheduleTask(deadline: at) {
            let (handler, context) = loopBound.value
            handler.readTimer = nil
            context.read()
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { pump(context: context) }
        context.fireChannelWritabilityChanged()
    }

    private static func route(_ head: HTTPRequestHead) -> Route {
        let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
        if head.method == .GET, path.hasPrefix("/bytes/"), let n = Int(path.dropFirst("/bytes/".count)),
           n >= 0, n <= maximumBytesResponse {
            return .bytes(count: n)
        }
        if head.method == .POST, path == "/sink" { return .sink }
        return .notFound
    }

    private func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
        let keepAlive = head.isKeepAlive
        switch route {
        case .bytes(let count):
            var response = HTTPResponseHead(version: head.version, status: .ok)
            response.headers.add(name: "Content-Type", value: "application/octet-stream")
            response.headers.add(name: "Content-Length", value: "\(count)")
            if !keepAlive { response.headers.add(name: "Connection", value: "close") }
            context.write(wrapOutboundOut(.head(response)), promise: nil)
            sending = (0, count, keepAlive)
            completion = Completed(method: "GET", uri: head.uri, status: 200, bodyBytes: count, sha256: nil)
            pump(context: context)
        case .sink:
            let digest = sinkHash.finalize().map { byte in
                let hex = String(byte, radix: 16)
                return byte < 16 ? "0" + hex : hex
            }.joined()
            completion = Completed(method: "POST", uri: head.uri, status: 200, bodyBytes: sinkBytes, sha256: digest)
            sendText("bytes=\(sinkBytes) sha256=\(digest)\n", status: .ok, version: head.version, keepAlive: keepAlive, context: context)
        case .notFound:
            completion = Completed(method: "\(head.method)", uri: head.uri, status: 404, bodyBytes: 0, sha256: nil)
            sendText("not found: try GET /bytes/N or POST /sink\n", status: .notFound, version: head.version, keepAlive: keepAlive, context: context)
        }
    }

    private func sendText(_ text: String, status: HTTPResponseStatus, version: HTTPVersion, keepAlive: Bool,
                          context: ChannelHandlerContext) {
        var response = HTTPResponseHead(version: version, status: status)
        response.headers.add(name: "Content-Type", value: "text/plain")
        response.headers.add(name: "Content-Length", value: "\(text.utf8.count)")
        if !keepAlive { response.headers.add(name: "Connection", value: "close") }
        context.write(wrapOutboundOut(.head(response)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: text)))), promise: nil)
        finish(keepAlive: keepAlive, context: context)
    }

    /// Writes GET body chunks while the channel is writable; the rest waits for
    /// `channelWritabilityChanged`.
    private func pump(context: ChannelHandlerContext) {
        guard var state = sending else { return }
        while state.next < state.end, context.channel.isWritable {
            let length = min(chunkSize, state.end - state.next)
            let start = state.next % patternPeriod
            var buffer = context.channel.allocator.buffer(capacity: length)
            patternTable.withUnsafeBufferPointer { buffer.writeBytes(UnsafeBufferPointer(rebasing: $0[start..<(start + length)])) }
            state.next += length
            context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        }
        if state.next < state.end {
            sending = state
            return
        }
        sending = nil
        finish(keepAlive: state.keepAlive, context: context)
    }

    /// Ends the response; the request counts as answered once the end is in the send ring.
    private func finish(keepAlive: Bool, context: ChannelHandlerContext) {
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if let completion {
            self.completion = nil
            let report = onCompleted
            done.whenSuccess { report(completion) }
        }
        if !keepAlive {
            let channel = context.channel
            done.whenComplete { _ in channel.close(promise: nil) }
        }
    }
}

/// Byte i of a `/bytes/N` body is `i % 251` (251 is prime, so no power-of-two boundary aligns).
let patternPeriod = 251
/// GET bodies go out in writes of at most this many bytes.
private let chunkSize = 64 * 1024
/// `patternTable[j] == j % 251`, long enough for any chunk starting anywhere in a period.
private let patternTable: [UInt8] = (0..<(chunkSize + patternPeriod)).map { UInt8($0 % patternPeriod) }
/// The largest `/bytes/N` served (1 TiB): a bound on one request, not on memory (bodies stream).
let maximumBytesResponse = 1 << 40
#endif
