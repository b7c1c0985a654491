#if NIO
import NIOConcurrencyHelpers
import NIOCore
import SluiceCore

/// A NIO `Channel` whose I/O is one Sluice connection.
///
/// - Reads: bytes stay in the connection's receive ring until the pipeline calls `read()`
///   (with `autoRead`, NIO's default, after every `channelReadComplete`). A `read()` takes at
///   most `maxMessagesPerRead` buffers of at most the receive allocator's size out of the ring.
///   So a handler that stops reading (`autoRead` off, or `NIOAsyncChannel` without demand)
///   leaves the ring full, and the advertised window closes: the remote sender stops, probes,
///   and resumes when the handler reads again (RFC 9293 §3.8.6.2.2).
/// - Writes: a flush moves queued buffers into the send ring as far as they fit; a write's
///   promise succeeds when all its bytes are in the ring. `isWritable` is false while flushed
///   bytes wait outside the ring (the ring is full), and `channelWritabilityChanged` fires when
///   the ring has taken them all. Unflushed writes are the handler's own queue, as on any NIO
///   channel: a handler that ignores `isWritable` grows it.
/// - `close()` sends FIN after the queued data (RFC 9293 §3.10.4); `close(mode: .output)` is a
///   half-close; with `SO_LINGER` on and a zero timeout, `close()` aborts with RST (§3.10.5).
/// - With `allowRemoteHalfClosure`, the peer's FIN is `ChannelEvent.inputClosed`; otherwise
///   the channel closes once every byte before the FIN was read.
/// - A reset by the peer fires `SluiceChannelError.connectionReset`, a timeout
///   `SluiceChannelError.timedOut`, then the channel closes.
///
/// Confined to its event loop, like every NIO channel: `isWritable`, `isActive` and the
/// addresses may be read from anywhere; everything else runs on `eventLoop`.
public final class SluiceChannel: Channel, ChannelCore, @unchecked Sendable {
    public let eventLoop: EventLoop
    public let parent: Channel?
    public let allocator = ByteBufferAllocator()
    /// The stack that drives this channel's connection.
    public let stack: SluiceStack

    // Set once in init, right after `self` exists (NIO's own channels do the same).
    private var _pipeline: ChannelPipeline!
    public var pipeline: ChannelPipeline { _pipeline }
    public var _channelCore: ChannelCore { self }

    private let closePromise: EventLoopPromise<Void>
    public var closeFuture: EventLoopFuture<Void> { closePromise.futureResult }

    private struct Shared {
        var isWritable = true
        var isActive = false
        var localAddress: NIOCore.SocketAddress?
        var remoteAddress: NIOCore.SocketAddress?
    }
    private let shared = NIOLockedValueBox(Shared())

    public var isWritable: Bool { shared.withLockedValue { $0.isWritable } }
    public var isActive: Bool { shared.withLockedValue { $0.isActive } }
    public var localAddress: NIOCore.SocketAddress? { shared.withLockedValue { $0.localAddress } }
    public var remoteAddress: NIOCore.SocketAddress? { shared.withLockedValue { $0.remoteAddress } }

    /// The connection, once connecting or accepted (`nil` again once it was released).
    public private(set) var connectionID: ConnectionID?
    /// The connection's statistics at the last read, write or close (kept after the engine
    /// released the connection, for reports).
    public private(set) var lastStats: ConnectionStats?
    /// Why the connection ended, once it did (`nil` while open or after a local close).
    public private(set) var closeReason: CloseReason?

    /// Refreshes `lastStats` from the engine.
    public func refreshStats() {
        eventLoop.assertInEventLoop()
        if let id = connectionID, let stats = stack.endpoint.stats(of: id) { lastStats = stats }
    }

    enum Lifecycle { case fresh, registered, connecting, active, closed }
    var lifecycle = Lifecycle.fresh
    var options = SluiceChannelOptions()
    private var connectPromise: EventLoopPromise<Void>?
    private var readPending = false
    private var deliveryScheduled = false
    private var inputClosedReported = false
    private var outputShutdownPending = false
    private var outputClosed = false

    /// Writes in order; the first `flushedCount` were flushed.
    private var pendingWrites = CircularBuffer<(buffer: ByteBuffer, promise: EventLoopPromise<Void>?)>(initialCapacity: 8)
    private var flushedCount = 0

    init(stack: SluiceStack, parent: Channel?) {
        self.stack = stack
        self.eventLoop = stack.eventLoop
        self.parent = parent
        closePromise = stack.eventLoop.makePromise()
        _pipeline = ChannelPipeline(channel: self)
    }

    /// A child for a connection the endpoint accepted (already ESTABLISHED).
    convenience init(stack: SluiceStack, parent: Channel, accepted id: ConnectionID) {
        self.init(stack: stack, parent: parent)
        connectionID = id
        setAddresses(from: stack.endpoint.tuple(of: id))
        stack.register(self, for: id)
    }

    private func setAddresses(from tuple: FourTuple?) {
        guard let tuple else { return }
        shared.withLockedValue {
            $0.localAddress = tuple.local.nioAddress
            $0.remoteAddress = tuple.remote.nioAddress
        }
    }

    // MARK: Options

    public func setOption<Option: ChannelOption>(_ option: Option, value: Option.Value) -> EventLoopFuture<Void> {
        if eventLoop.inEventLoop {
            return eventLoop.makeCompletedFuture { try self.setOption0(option, value: value) }
        }
        let value = UnsafeTransfer(value)
        return eventLoop.submit { try self.setOption0(option, value: value.wrappedValue) }
    }

    public func getOption<Option: ChannelOption>(_ option: Option) -> EventLoopFuture<Option.Value> {
        if eventLoop.inEventLoop {
            return eventLoop.makeCompletedFuture { try self.getOption0(option) }
        }
        return eventLoop.submit { UnsafeTransfer(try self.getOption0(option)) }.map { $0.wrappedValue }
    }

    public var syncOptions: NIOSynchronousChannelOptions? { SynchronousOptions(channel: self) }

    private struct SynchronousOptions: NIOSynchronousChannelOptions {
        let channel: SluiceChannel
        func setOption<Option: ChannelOption>(_ option: Option, value: Option.Value) throws {
            channel.eventLoop.preconditionInEventLoop()
            try channel.setOption0(option, value: value)
        }
        func getOption<Option: ChannelOption>(_ option: Option) throws -> Option.Value {
            channel.eventLoop.preconditionInEventLoop()
            return try channel.getOption0(option)
        }
    }

    func setOption0<Option: ChannelOption>(_ option: Option, value: Option.Value) throws {
        eventLoop.assertInEventLoop()
        let wasAutoRead = options.autoRead
        try options.set(option, value: value)
        if options.autoRead && !wasAutoRead && lifecycle == .active {
            pipeline.syncOperations.read()
        }
    }

    func getOption0<Option: ChannelOption>(_ option: Option) throws -> Option.Value {
        eventLoop.assertInEventLoop()
        options.bufferedWritableBytes = pendingWrites.reduce(0) { $0 + $1.buffer.readableBytes }
        return try options.get(option)
    }

    // MARK: ChannelCore

    public func localAddress0() throws -> NIOCore.SocketAddress {
        guard let address = localAddress else { throw ChannelError.operationUnsupported }
        return address
    }

    public func remoteAddress0() throws -> NIOCore.SocketAddress {
        guard let address = remoteAddress else { throw ChannelError.operationUnsupported }
        return address
    }

    public func register0(promise: EventLoopPromise<Void>?) {
        guard lifecycle == .fresh else {
            promise?.fail(ChannelError.inappropriateOperationForState)
            return
        }
        lifecycle = .registered
        promise?.succeed()
        pipeline.syncOperations.fireChannelRegistered()
    }

    public func registerAlreadyConfigured0(promise: EventLoopPromise<Void>?) {
        register0(promise: promise)
        if lifecycle == .registered, connectionID != nil { becomeActive() }
    }

    /// Connections choose their local port at `connect`; binding a client channel is not supported.
    public func bind0(to address: NIOCore.SocketAddress, promise: EventLoopPromise<Void>?) {
        promise?.fail(ChannelError.operationUnsupported)
    }

    /// Active open to an IPv4 `address` (the stack's own address is the source).
    public func connect0(to address: NIOCore.SocketAddress, promise: EventLoopPromise<Void>?) {
        guard lifecycle == .registered, connectionID == nil else {
            promise?.fail(lifecycle == .closed ? ChannelError.ioOnClosedChannel : ChannelError.inappropriateOperationForState)
            return
        }
        guard let remote = SluiceCore.SocketAddress(nio: address) else {
            promise?.fail(SluiceChannelError.unsupportedAddress("\(address)"))
            return
        }
        let id: ConnectionID
        do throws(EndpointError) {
            id = try stack.endpoint.connect(to: remote, at: stack.now)
        } catch {
            promise?.fail(SluiceChannelError.endpoint(error))
            return
        }
        connectionID = id
        setAddresses(from: stack.endpoint.tuple(of: id))
        lifecycle = .connecting
        connectPromise = promise
        stack.register(self, for: id)
        stack.service()
    }

    public func write0(_ data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard lifecycle != .closed else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        guard !outputClosed, !outputShutdownPending else {
            promise?.fail(ChannelError.outputClosed)
            return
        }
        guard let buffer = tryUnwrapData(data, as: ByteBuffer.self) else {
            promise?.fail(ChannelError.operationUnsupported)
            return
        }
        pendingWrites.append((buffer, promise))
    }

    public func flush0() {
        flushedCount = pendingWrites.count
        guard lifecycle == .active else { return }
        pushWrites()
    }

    /// Read demand. Delivery runs as its own loop task, never nested in the handler call that
    /// asked (a handler that reads inside `channelRead` must not recurse once per buffer).
    public func read0() {
        guard lifecycle == .active || lifecycle == .connecting else { return }
        readPending = true
        scheduleDelivery()
    }

    private func scheduleDelivery() {
        guard lifecycle == .active, !deliveryScheduled else { return }
        deliveryScheduled = true
        eventLoop.execute {
            self.deliveryScheduled = false
            self.deliverReads()
        }
    }

    public func close0(error: Error, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        guard lifecycle != .closed else {
            promise?.fail(ChannelError.alreadyClosed)
            return
        }
        switch mode {
        case .input:
            promise?.fail(ChannelError.operationUnsupported)
        case .output:
            guard !outputClosed, !outputShutdownPending else {
                promise?.fail(ChannelError.outputClosed)
                return
            }
            outputShutdownPending = true
            promise?.succeed()
            if lifecycle == .active { pushWrites() }
        case .all:
            finishClose(error: error, abort: options.abortOnClose, promise: promise)
        }
    }

    public func triggerUserOutboundEvent0(_ event: Any, promise: EventLoopPromise<Void>?) {
        promise?.fail(ChannelError.operationUnsupported)
    }

    public func channelRead0(_ data: NIOAny) {
        // Reached the tail of the pipeline unhandled: dropped, as NIO's own channels do.
    }

    public func errorCaught0(error: Error) {}

    // MARK: Reading

    /// Moves at most `maxMessagesPerRead` buffers from the receive ring into the pipeline,
    /// then reports the end of the stream if every byte before the peer's FIN was read.
    private func deliverReads() {
        guard readPending, lifecycle == .active, let id = connectionID else { return }
        let endpoint = stack.endpoint
        var delivered = 0
        while delivered < options.maxMessagesPerRead, lifecycle == .active {
            let available = endpoint.readableBytes(id)
            guard available > 0 else { break }
            var buffer = allocator.buffer(capacity: min(available, options.readChunkSize))
            buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 0) { space in
                let room = min(space.count, available, options.readChunkSize)
                return endpoint.read(id, into: UnsafeMutableRawBufferPointer(rebasing: space[..<room]))
            }
            readPending = false
            delivered += 1
            pipeline.syncOperations.fireChannelRead(NIOAny(buffer))
        }
        if delivered > 0 {
            stack.service() // the read opened the window: a window update may be due
            refreshStats()
            guard lifecycle == .active else { return }
            pipeline.syncOperations.fireChannelReadComplete()
            readIfNeeded()
        } else if endpoint.isAtEndOfStream(id) {
            reportEndOfInput()
        }
    }

    private func readIfNeeded() {
        if lifecycle == .active, options.autoRead, !readPending {
            pipeline.syncOperations.read()
        }
    }

    private func reportEndOfInput() {
        guard !inputClosedReported else { return }
        inputClosedReported = true
        readPending = false
        if options.allowRemoteHalfClosure {
            pipeline.syncOperations.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        } else {
            finishClose(error: ChannelError.eof, abort: false, promise: nil)
        }
    }

    // MARK: Writing

    /// Moves flushed writes into the send ring as far as they fit (the only copy before the
    /// packet), completes the promises of writes that went in whole, and updates writability.
    private func pushWrites() {
        guard let id = connectionID else { return }
        let endpoint = stack.endpoint
        while flushedCount > 0, var first = pendingWrites.first {
            let taken = first.buffer.readableBytesView.withUnsafeBytes { endpoint.write(id, $0) }
            if taken < first.buffer.readableBytes {
                first.buffer.moveReaderIndex(forwardBy: taken)
                pendingWrites[pendingWrites.startIndex] = first
                break
            }
            pendingWrites.removeFirst()
            flushedCount -= 1
            first.promise?.succeed()
            guard lifecycle == .active else { return }
        }
        if flushedCount == 0, outputShutdownPending, !outputClosed {
            outputShutdownPending = false
            outputClosed = true
            endpoint.shutdown(id)
            pipeline.syncOperations.fireUserInboundEventTriggered(ChannelEvent.outputClosed)
        }
        setWritable(flushedCount == 0)
        stack.service()
        refreshStats()
    }

    private func setWritable(_ writable: Bool) {
        let changed = shared.withLockedValue { state -> Bool in
            guard state.isWritable != writable else { return false }
            state.isWritable = writable
            return true
        }
        if changed, lifecycle == .active {
            pipeline.syncOperations.fireChannelWritabilityChanged()
        }
    }

    // MARK: Events from the stack

    private func becomeActive() {
        lifecycle = .active
        shared.withLockedValue { $0.isActive = true }
        pipeline.syncOperations.fireChannelActive()
        readIfNeeded()
        scheduleDelivery()
        if flushedCount > 0 { pushWrites() }
    }

    /// Activates a child after the bootstrap's initializer ran.
    func activateAccepted() {
        guard lifecycle == .registered else { return }
        becomeActive()
    }

    func connectionEstablished() {
        guard lifecycle == .connecting else { return }
        let promise = connectPromise
        connectPromise = nil
        lifecycle = .registered
        promise?.succeed()
        becomeActive()
    }

    func connectionReadable() { deliverReads() }

    func connectionWritable() {
        if lifecycle == .active { pushWrites() }
    }

    func connectionReset() {
        guard lifecycle != .closed else { return }
        refreshStats()
        closeReason = .reset
        if lifecycle == .connecting {
            failConnect(SluiceChannelError.connectionRefused)
            return
        }
        pipeline.syncOperations.fireErrorCaught(SluiceChannelError.connectionReset)
        finishClose(error: SluiceChannelError.connectionReset, abort: false, promise: nil)
    }

    func connectionClosed(_ reason: CloseReason) {
        guard lifecycle != .closed else { return }
        closeReason = reason
        connectionID = nil // released by the endpoint
        switch reason {
        case .normal, .aborted:
            if lifecycle == .connecting {
                failConnect(SluiceChannelError.connectionRefused)
            } else {
                finishClose(error: ChannelError.eof, abort: false, promise: nil)
            }
        case .reset, .internalError:   // .internalError: the engine reset it rather than send wrong bytes
            if lifecycle == .connecting {
                failConnect(SluiceChannelError.connectionRefused)
            } else {
                finishClose(error: SluiceChannelError.connectionReset, abort: false, promise: nil)
            }
        case .retransmissionLimit, .userTimeout, .keepAliveTimeout:
            let error = SluiceChannelError.timedOut(reason)
            if lifecycle == .connecting {
                failConnect(error)
            } else {
                pipeline.syncOperations.fireErrorCaught(error)
                finishClose(error: error, abort: false, promise: nil)
            }
        }
    }

    private func failConnect(_ error: Error) {
        let promise = connectPromise
        connectPromise = nil
        promise?.fail(error)
        finishClose(error: error, abort: false, promise: nil)
    }

    // MARK: Closing

    /// Closes the channel: FIN after the data already in the send ring (or RST with `abort`),
    /// fails the writes that never reached the ring, then the NIO close sequence.
    private func finishClose(error: Error, abort: Bool, promise: EventLoopPromise<Void>?) {
        let wasActive = lifecycle == .active
        let wasRegistered = lifecycle != .fresh
        lifecycle = .closed
        shared.withLockedValue { $0.isActive = false }
        if let id = connectionID {
            refreshStats()
            stack.forget(id)
            if abort { stack.endpoint.abort(id) } else { stack.endpoint.close(id) }
            connectionID = nil
        }
        if let connectPromise {
            self.connectPromise = nil
            connectPromise.fail(error)
        }
        while let write = pendingWrites.popFirst() {
            write.promise?.fail(ChannelError.ioOnClosedChannel)
        }
        flushedCount = 0
        promise?.succeed()
        if wasActive { pipeline.syncOperations.fireChannelInactive() }
        if wasRegistered { pipeline.syncOperations.fireChannelUnregistered() }
        stack.service()
        eventLoop.execute {
            self.removeHandlers(pipeline: self.pipeline)
            self.closePromise.succeed()
        }
    }
}

/// Carries a value the compiler cannot prove `Sendable` across a hop to the channel's own loop.
struct UnsafeTransfer<Value>: @unchecked Sendable {
    var wrappedValue: Value
    init(_ value: Value) { wrappedValue = value }
}
#endif
