#if NIO
import NIOCore
import SluiceCore

/// Opens active connections on a `SluiceStack`, like NIO's `ClientBootstrap`:
///
/// ```swift
/// let channel = try await SluiceClientBootstrap(stack: stack)
///     .channelInitializer { $0.pipeline.addHTTPClientHandlers() }
///     .connect(to: IPv4Address(10, 0, 0, 2), port: 80).get()
/// ```
///
/// The future succeeds when the connection is ESTABLISHED (the channel is active), and fails
/// with `SluiceChannelError.connectionRefused` or `.timedOut` when it is not.
public struct SluiceClientBootstrap: Sendable {
    public let stack: SluiceStack
    private var options: [ChannelOptionSetter] = []
    private var initializer: @Sendable (Channel) -> EventLoopFuture<Void> = { $0.eventLoop.makeSucceededVoidFuture() }

    public init(stack: SluiceStack) { self.stack = stack }

    /// Sets `option` on every channel before its initializer runs.
    public func channelOption<Option: ChannelOption>(_ option: Option, value: Option.Value) -> Self {
        var copy = self
        let value = UnsafeTransfer(value)
        copy.options.append { try $0.setOption(option, value: value.wrappedValue) }
        return copy
    }

    /// Sets up the channel's pipeline before it connects.
    public func channelInitializer(_ initializer: @escaping @Sendable (Channel) -> EventLoopFuture<Void>) -> Self {
        var copy = self
        copy.initializer = initializer
        return copy
    }

    /// Connects to `address`:`port` from the stack's address and an ephemeral port.
    public func connect(to address: IPv4Address, port: UInt16) -> EventLoopFuture<Channel> {
        connect(to: SluiceCore.SocketAddress(address, port))
    }

    /// Connects to `remote` from the stack's address and an ephemeral port.
    public func connect(to remote: SluiceCore.SocketAddress) -> EventLoopFuture<Channel> {
        guard let address = remote.nioAddress else {
            return stack.eventLoop.makeFailedFuture(SluiceChannelError.unsupportedAddress("\(remote)"))
        }
        return connect(to: address)
    }

    /// Connects to an IPv4 `address`.
    public func connect(to address: NIOCore.SocketAddress) -> EventLoopFuture<Channel> {
        let stack = self.stack
        let options = self.options
        let initializer = self.initializer
        return stack.eventLoop.flatSubmit {
            let channel = SluiceChannel(stack: stack, parent: nil)
            channel.register0(promise: nil)
            do {
                try channel.apply(options)
            } catch {
                channel.close(promise: nil)
                return stack.eventLoop.makeFailedFuture(error)
            }
            return initializer(channel)
                .flatMap { channel.connect(to: address) }
                .map { channel as Channel }
                .flatMapErrorThrowing { error in
                    channel.close(promise: nil)
                    throw error
                }
        }
    }
}

/// Listens on a `SluiceStack`, like NIO's `ServerBootstrap`: every accepted connection becomes
/// a child `SluiceChannel` with the child options, set up by the child initializer.
///
/// ```swift
/// let server = try await SluiceServerBootstrap(stack: stack)
///     .childChannelInitializer { $0.pipeline.configureHTTPServerPipeline() }
///     .bind(port: 80).get()
/// ```
public struct SluiceServerBootstrap: Sendable {
    public let stack: SluiceStack
    private var childOptions: [ChannelOptionSetter] = []
    private var childInitializer: @Sendable (Channel) -> EventLoopFuture<Void> = { $0.eventLoop.makeSucceededVoidFuture() }

    public init(stack: SluiceStack) { self.stack = stack }

    /// Sets `option` on every child before its initializer runs.
    public func childChannelOption<Option: ChannelOption>(_ option: Option, value: Option.Value) -> Self {
        var copy = self
        let value = UnsafeTransfer(value)
        copy.childOptions.append { try $0.setOption(option, value: value.wrappedValue) }
        return copy
    }

    /// Sets up each child's pipeline; the child becomes active when the future succeeds.
    public func childChannelInitializer(_ initializer: @escaping @Sendable (Channel) -> EventLoopFuture<Void>) -> Self {
        var copy = self
        copy.childInitializer = initializer
        return copy
    }

    /// Listens on `port` of the stack's address with a SYN/accept backlog of `backlog`.
    public func bind(port: UInt16, backlog: Int = 16) -> EventLoopFuture<Channel> {
        let stack = self.stack
        let childOptions = self.childOptions
        let childInitializer = self.childInitializer
        return stack.eventLoop.submit {
            do throws(EndpointError) {
                try stack.endpoint.listen(port: port, backlog: backlog)
            } catch {
                throw SluiceChannelError.endpoint(error)
            }
            let listener = SluiceListenerChannel(stack: stack, port: port, childOptions: childOptions,
                                                 childInitializer: childInitializer)
            stack.listeners[port] = listener
            listener.registerAlreadyConfigured0(promise: nil)
            return listener as Channel
        }
    }
}
/// Sets a bootstrap's options on a channel, in order.
typealias ChannelOptionSetter = @Sendable (NIOSynchronousChannelOptions) throws -> Void

extension SluiceChannel {
    func apply(_ options: [ChannelOptionSetter]) throws {
        guard let sync = syncOptions else { return }
        for set in options { try set(sync) }
    }
}
#endif
