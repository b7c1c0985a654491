#if NIO
import NIOConcurrencyHelpers
import NIOCore
import SluiceCore

/// The server channel of `SluiceServerBootstrap`: one listening port of a stack. Each connection
/// the endpoint accepts becomes a child `SluiceChannel` (its parent is this channel), set up by
/// the child initializer, then activated; the child is also passed down this channel's pipeline
/// as a `channelRead`, as NIO's server channels do.
///
/// The endpoint bounds how many connections wait: `backlog` SYN-RECEIVED or unaccepted ones
/// (RFC 9293 §3.10.7.2); children are accepted as soon as they are ESTABLISHED.
/// Closing this channel stops listening; connections not yet accepted are reset; accepted
/// children stay open.
public final class SluiceListenerChannel: Channel, ChannelCore, @unchecked Sendable {
    public let eventLoop: EventLoop
    public var parent: Channel? { nil }
    public let allocator = ByteBufferAllocator()
    public let stack: SluiceStack
    /// The listening port.
    public let port: UInt16

    private var _pipeline: ChannelPipeline! // set once in init
    public var pipeline: ChannelPipeline { _pipeline }
    public var _channelCore: ChannelCore { self }
    private let closePromise: EventLoopPromise<Void>
    public var closeFuture: EventLoopFuture<Void> { closePromise.futureResult }

    private let open = NIOLockedValueBox(true)
    public var isActive: Bool { open.withLockedValue { $0 } }
    public var isWritable: Bool { false }
    public let localAddress: NIOCore.SocketAddress?
    public var remoteAddress: NIOCore.SocketAddress? { nil }

    let childInitializer: @Sendable (Channel) -> EventLoopFuture<Void>
    let childOptions: [ChannelOptionSetter]
    private var options = SluiceChannelOptions()

    init(stack: SluiceStack, port: UInt16,
         childOptions: [ChannelOptionSetter],
         childInitializer: @escaping @Sendable (Channel) -> EventLoopFuture<Void>) {
        self.stack = stack
        self.eventLoop = stack.eventLoop
        self.port = port
        self.childOptions = childOptions
        self.childInitializer = childInitializer
        localAddress = SluiceCore.SocketAddress(stack.endpoint.config.localAddress, port).nioAddress
        closePromise = stack.eventLoop.makePromise()
        _pipeline = ChannelPipeline(channel: self)
    }

    /// A connection the endpoint accepted on this port: make, initialize and activate its channel.
    func accepted(_ id: ConnectionID) {
        let child = SluiceChannel(stack: stack, parent: self, accepted: id)
        child.register0(promise: nil)
        do {
            try child.apply(childOptions)
        } catch {
            child.close(promise: nil)
            return
        }
        pipeline.syncOperations.fireChannelRead(NIOAny(child as Channel))
        childInitializer(child).whenComplete { result in
            switch result {
            case .success: child.activateAccepted()
            case .failure: child.close(promise: nil)
            }
        }
    }

    // MARK: Options (only the channel options NIO's server channels share)

    public func setOption<Option: ChannelOption>(_ option: Option, value: Option.Value) -> EventLoopFuture<Void> {
        let value = UnsafeTransfer(value)
        return eventLoop.submit { try self.options.set(option, value: value.wrappedValue) }
    }

    public func getOption<Option: ChannelOption>(_ option: Option) -> EventLoopFuture<Option.Value> {
        eventLoop.submit { UnsafeTransfer(try self.options.get(option)) }.map { $0.wrappedValue }
    }

    // MARK: ChannelCore

    public func localAddress0() throws -> NIOCore.SocketAddress {
        guard let localAddress else { throw ChannelError.operationUnsupported }
        return localAddress
    }
    public func remoteAddress0() throws -> NIOCore.SocketAddress { throw ChannelError.operationUnsupported }
    public func register0(promise: EventLoopPromise<Void>?) {
        promise?.succeed()
        pipeline.syncOperations.fireChannelRegistered()
    }
    public func registerAlreadyConfigured0(promise: EventLoopPromise<Void>?) {
        register0(promise: promise)
        pipeline.syncOperations.fireChannelActive()
    }
    public func bind0(to address: NIOCore.SocketAddress, promise: EventLoopPromise<Void>?) {
        promise?.fail(ChannelError.operationUnsupported)
    }
    public func connect0(to address: NIOCore.SocketAddress, promise: EventLoopPromise<Void>?) {
        promise?.fail(ChannelError.operationUnsupported)
    }
    public func write0(_ data: NIOAny, promise: EventLoopPromise<Void>?) {
        promise?.fail(ChannelError.operationUnsupported)
    }
    public func flush0() {}
    public func read0() {}
    public func triggerUserOutboundEvent0(_ event: Any, promise: EventLoopPromise<Void>?) {
        promise?.fail(ChannelError.operationUnsupported)
    }
    public func channelRead0(_ data: NIOAny) {}
    public func errorCaught0(error: Error) {}

    public func close0(error: Error, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        guard mode == .all else {
            promise?.fail(ChannelError.operationUnsupported)
            return
        }
        let wasOpen = open.withLockedValue { state -> Bool in
            defer { state = false }
            return state
        }
        guard wasOpen else {
            promise?.fail(ChannelError.alreadyClosed)
            return
        }
        stack.endpoint.stopListening(port: port)
        stack.listeners[port] = nil
        stack.service()
        promise?.succeed()
        pipeline.syncOperations.fireChannelInactive()
        pipeline.syncOperations.fireChannelUnregistered()
        eventLoop.execute {
            self.removeHandlers(pipeline: self.pipeline)
            self.closePromise.succeed()
        }
    }
}
#endif
