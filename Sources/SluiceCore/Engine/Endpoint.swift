/// A TCP endpoint: owns one local IPv4 address and up to `maxConnections` connections, and
/// demultiplexes packets to them by 4-tuple (RFC 9293 §3.10.7).
///
/// ## Call order (the driver's loop)
/// 1. Feed every received IPv4 packet with `receive(_:at:)`.
/// 2. If `nextDeadline` is not after `now`, call `handleTimeout(at: now)`.
/// 3. Drain `pollTransmit(into:at:)` until it returns `nil`; each call writes one IPv4 packet
///    into the caller's buffer (at least `maximumPacketSize` bytes) and returns its length.
/// 4. Drain `pollEvent()`; the application calls `accept`, `read`, `write`, `shutdown`, `close`,
///    `abort` as it likes (each may make new packets due: go back to 3).
/// 5. Sleep until `nextDeadline` or until a packet arrives.
///
/// Time is always an argument; the endpoint never reads a clock and never performs I/O.
/// Not thread-safe: one thread (or task) owns an endpoint.
///
/// STATUS: API contract only; the engine fills it in.
public final class Endpoint {
    public let config: EndpointConfig

    public init(config: EndpointConfig) {
        self.config = config
    }

    // MARK: Application calls

    /// Opens a listener on `port` with a bounded SYN/accept backlog.
    public func listen(port: UInt16, backlog: Int = 16) throws(EndpointError) {
        throw .notImplemented
    }

    /// Starts an active open to `remote` (sends SYN on the next `pollTransmit`).
    public func connect(to remote: SocketAddress, localPort: UInt16? = nil, at now: Instant) throws(EndpointError) -> ConnectionID {
        throw .notImplemented
    }

    /// Takes the next established connection from the listener on `port`, if any.
    public func accept(port: UInt16) -> ConnectionID? { nil }

    /// Queues as many bytes as fit in the send buffer; returns how many (0 when full: backpressure).
    public func write(_ id: ConnectionID, _ bytes: UnsafeRawBufferPointer) -> Int { 0 }

    /// Copies in-order received bytes out of the receive buffer; returns how many (0 when none).
    public func read(_ id: ConnectionID, into buffer: UnsafeMutableRawBufferPointer) -> Int { 0 }

    /// Half-close: send FIN after the queued data (RFC 9293 §3.10.4).
    public func shutdown(_ id: ConnectionID) {}

    /// Close: shutdown, and release the connection when both directions are done.
    public func close(_ id: ConnectionID) {}

    /// Abort: send RST and release the connection at once (RFC 9293 §3.10.5).
    public func abort(_ id: ConnectionID) {}

    public func state(of id: ConnectionID) -> TCPState? { nil }
    public func stats(of id: ConnectionID) -> ConnectionStats? { nil }

    // MARK: Driver calls

    /// Processes one received IPv4 packet.
    public func receive(_ packet: UnsafeRawBufferPointer, at now: Instant) {}

    /// Writes the next outgoing IPv4 packet into `buffer`; returns its length, or `nil` when
    /// nothing is due at `now`.
    public func pollTransmit(into buffer: UnsafeMutableRawBufferPointer, at now: Instant) -> Int? { nil }

    /// The earliest time at which `handleTimeout` has work (timers, delayed ACK, pacer).
    public var nextDeadline: Instant? { nil }

    /// Runs the timers due at `now`.
    public func handleTimeout(at now: Instant) {}

    /// The next event for the application, if any.
    public func pollEvent() -> EndpointEvent? { nil }

    /// Endpoint-wide counters: drops with their reasons.
    public var counters: EndpointCounters { EndpointCounters() }

    /// Checks the engine's invariants (bytes in flight within the peer's window, buffers within
    /// bounds, advertised right edge never moving left); returns the violations found.
    public func checkInvariants() -> [String] { [] }
}

@available(*, unavailable)
extension Endpoint: Sendable {}

public enum EndpointError: Error, Hashable, Sendable {
    case notImplemented
}

/// A handle to one connection in an endpoint; stale handles are detected by the generation.
public struct ConnectionID: Hashable, Sendable, CustomStringConvertible {
    public var index: UInt32
    public var generation: UInt32
    public init(index: UInt32, generation: UInt32) {
        self.index = index
        self.generation = generation
    }
    public var description: String { "#\(index).\(generation)" }
}

/// RFC 9293 §3.3.2 connection states.
public enum TCPState: Hashable, Sendable {
    case closed, listen, synSent, synReceived, established, finWait1, finWait2, closeWait, closing, lastAck, timeWait
}

public enum EndpointEvent: Hashable, Sendable {
    case connected(ConnectionID)
    case acceptable(port: UInt16)
    case readable(ConnectionID)
    case writable(ConnectionID)
    case closed(ConnectionID, CloseReason)
    case reset(ConnectionID)
}

public enum CloseReason: Hashable, Sendable {
    case normal
    case reset
    case retransmissionLimit
    case userTimeout
    case aborted
}

public struct EndpointConfig: Sendable {
    public var localAddress: IPv4Address
    public var maxConnections: Int = 64
    public var ephemeralPorts: ClosedRange<UInt16> = 49152...65535
    public var connection: ConnectionConfig = ConnectionConfig()
    /// RFC 9293 §3.4.1 / RFC 6528: ISN = M + F(4-tuple, secret). Injected so tests choose it
    /// and the core needs no hash or clock.
    public var initialSequenceNumber: @Sendable (FourTuple, Instant) -> SequenceNumber

    public init(localAddress: IPv4Address, initialSequenceNumber: @escaping @Sendable (FourTuple, Instant) -> SequenceNumber) {
        self.localAddress = localAddress
        self.initialSequenceNumber = initialSequenceNumber
    }
}

public struct ConnectionConfig: Sendable {
    public var receiveBufferSize: Int = 256 * 1024
    public var sendBufferSize: Int = 256 * 1024
    public init() {}
}

public struct ConnectionStats: Hashable, Sendable {
    public init() {}
}

public struct EndpointCounters: Hashable, Sendable {
    public init() {}
}
