#if NIO
#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import NIOCore
import NIOHTTP1
import NIOPosix
import SluiceCore
import SluiceDrivers
import SluiceNIO

/// The running server: the stack on its loop, the listener, one report per connection, the
/// signal handling, and the exit status (`finished`).
final class HTTPServer: @unchecked Sendable {
    let readRate: Double?
    let requestLimit: Int?
    let json: Bool
    let eventLoop: EventLoop
    private var stack: SluiceStack?
    private var listener: Channel?
    private var answered = 0
    private var failed = false
    private var interrupts = 0
    private var stopping = false
    private let done: EventLoopPromise<Int32>
    /// The exit status: 0, or 1 when a connection was reset or timed out.
    var finished: EventLoopFuture<Int32> { done.futureResult }

    init(readRate: Double?, requestLimit: Int?, json: Bool, eventLoop: EventLoop) {
        self.readRate = readRate.flatMap { $0 > 0 ? $0 : nil }
        self.requestLimit = requestLimit
        self.json = json
        self.eventLoop = eventLoop
        done = eventLoop.makePromise()
    }

    func start(config: EndpointConfig, link: SluiceLink, port: UInt16, capture: (any PacketCapture)?,
               signals: InterruptSignals) -> EventLoopFuture<Void> {
        let signalDescriptor = dup(signals.fileDescriptor)
        let captureBox = UnsafeSendable(capture)
        let linkBox = UnsafeSendable(link)
        return eventLoop.flatSubmit {
            let stack = SluiceStack(config: config, link: linkBox.value, eventLoop: self.eventLoop)
            if let capture = captureBox.value {
                stack.onPacket = { packet, _, _ in
                    capture.write(packet, timestamp: Instant(nanoseconds: wallClockNanoseconds()))
                }
            }
            self.stack = stack
            var bootstrap = SluiceServerBootstrap(stack: stack)
            if self.readRate != nil {
                // The sink asks for each read; one read takes at most one 16 KiB buffer.
                bootstrap = bootstrap
                    .childChannelOption(ChannelOptions.autoRead, value: false)
                    .childChannelOption(ChannelOptions.maxMessagesPerRead, value: 1)
                    .childChannelOption(ChannelOptions.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: sinkReadChunk))
            }
            let server = UnsafeSendable(self)
            bootstrap = bootstrap.childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let this = server.value
                    let sync = channel.pipeline.syncOperations
                    try sync.configureHTTPServerPipeline(withErrorHandling: true)
                    try sync.addHandler(HTTPResponder(readRate: this.readRate) { this.completed($0) })
                    let reporter = ConnectionReporter(json: this.json) { this.connectionEnded(failed: $0) }
                    try sync.addHandler(reporter, position: .first)
                }
            }
            let watcher = NIOPipeBootstrap(group: self.eventLoop)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(SignalReader { server.value.interrupted() })
                    }
                }
                .takingOwnershipOfDescriptor(input: signalDescriptor)
            return watcher.flatMap { _ in bootstrap.bind(port: port) }.map { self.listener = $0 }
        }
    }

    private func completed(_ request: HTTPResponder.Completed) {
        answered += 1
        if !json {
            var line = "\(request.method) \(request.uri) -> \(request.status), \(formatBytes(request.bodyBytes)) (\(request.bodyBytes) bytes)"
            if let sha = request.sha256 { line += " sha256 \(sha)" }
            Console.error(line)
        }
        if let requestLimit, answered >= requestLimit {
            // Let the answer go out, then close like Ctrl-C.
            eventLoop.scheduleTask(in: .milliseconds(100)) { self.stop() }
        }
    }

    private func connectionEnded(failed: Bool) {
        if failed { self.failed = true }
    }

    private func interrupted() {
        interrupts += 1
        if interrupts >= 2 {
            Console.error("sluice-http: second interrupt: exiting")
            exit(130)
        }
        stop()
    }

    /// Stops listening, closes every connection with FIN, waits for the reports, then finishes.
    private func stop() {
        guard !stopping, let stack else { return }
        stopping = true
        stack.shutdown().whenComplete { _ in
            // The close sequence completes on the next loop turns; then report the status.
            self.eventLoop.execute { self.done.succeed(self.failed ? 1 : 0) }
        }
    }
}

/// Prints one connection's summary when its channel closes (the same report as sluice-recv:
/// bytes received, SHA-256 of the last /sink body, zero windows advertised, probes, ...).
private final class ConnectionReporter: ChannelDuplexHandler {
    typealias InboundIn = NIOAny
    typealias OutboundIn = NIOAny
    let json: Bool
    let ended: (Bool) -> Void
    private var startedAt: NIODeadline?
    private var failure: String?

    init(json: Bool, ended: @escaping (Bool) -> Void) {
        self.json = json
        self.ended = ended
    }

    func channelActive(context: ChannelHandlerContext) {
        startedAt = context.eventLoop.now
        context.fireChannelActive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if let error = error as? SluiceChannelError {
            switch error {
            case .connectionReset: failure = "reset"
            case .timedOut: failure = "timed-out"
            default: failure = "failed"
            }
        }
        context.fireErrorCaught(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        var report = TransferReport(role: .receiver)
        if let channel = context.channel as? SluiceChannel {
            if let stats = channel.lastStats { fill(&report, from: stats) }
            if channel.closeReason == .reset { failure = "reset" }
        }
        report.local = context.channel.localAddress.map { "\($0.ipAddress ?? ""):\($0.port ?? 0)" } ?? ""
        report.remote = context.channel.remoteAddress.map { "\($0.ipAddress ?? ""):\($0.port ?? 0)" } ?? ""
        if let startedAt { report.seconds = Double((context.eventLoop.now - startedAt).nanoseconds) / 1e9 }
        if let failure { report.result = failure }
        if json { Console.output(report.json) } else { Console.error(report.human) }
        ended(failure != nil)
        context.fireChannelInactive()
    }

    private func fill(_ report: inout TransferReport, from s: ConnectionStats) {
        report.bytes = s.bytesReceived
        report.retransmittedBytes = s.bytesRetransmitted
        report.segmentsSent = s.segmentsSent
        report.segmentsReceived = s.segmentsReceived
        report.zeroWindowEpisodes = s.flow.zeroWindowAdvertisedEpisodes
        report.zeroWindowSeconds = s.flow.zeroWindowAdvertisedTime.secondsDouble
        report.probesSent = max(s.flow.probesSent, s.zeroWindowProbesSent)
        report.probesAnswered = s.flow.probesAnswered
        report.windowUpdatesSent = s.flow.windowUpdatesSent
        report.peakBufferBytes = s.peakReceiveBufferBytes
        report.smoothedRTTMilliseconds = s.smoothedRTT.map { $0.secondsDouble * 1000 }
    }
}

/// Counts SIGINT/SIGTERM records read from the signalfd.
private final class SignalReader: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    let onSignal: () -> Void
    init(onSignal: @escaping () -> Void) { self.onSignal = onSignal }
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data).readableBytes
        for _ in 0..<max(1, bytes / signalRecordSize) { onSignal() }
    }
}

/// Carries a value confined to the server's loop into a `@Sendable` closure run on that loop.
struct UnsafeSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// `sizeof(struct signalfd_siginfo)`: one record per signal (signalfd(2)).
private let signalRecordSize = 128
/// One read of the rate-limited sink takes at most this much out of the receive ring.
private let sinkReadChunk = 16 * 1024
#endif
