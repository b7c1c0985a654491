// The small value types of the engine's public API: handles, states, events, errors.

/// A handle to one connection in an endpoint. `index` names a slot of the endpoint's bounded
/// connection table; `generation` counts the slot's reuses, so a handle kept after its
/// connection was released never reaches the slot's next occupant (every call with a stale
/// handle is a no-op that returns 0 / `nil`).
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
public enum TCPState: Hashable, Sendable, CustomStringConvertible {
    case closed, listen, synSent, synReceived, established, finWait1, finWait2, closeWait, closing, lastAck, timeWait

    /// The state's name as RFC 9293 writes it (`SYN-SENT`).
    public var description: String {
        switch self {
        case .closed: "CLOSED"
        case .listen: "LISTEN"
        case .synSent: "SYN-SENT"
        case .synReceived: "SYN-RECEIVED"
        case .established: "ESTABLISHED"
        case .finWait1: "FIN-WAIT-1"
        case .finWait2: "FIN-WAIT-2"
        case .closeWait: "CLOSE-WAIT"
        case .closing: "CLOSING"
        case .lastAck: "LAST-ACK"
        case .timeWait: "TIME-WAIT"
        }
    }

    /// RFC 9293 §3.3.2: the states after the handshake, in which both sequence spaces are
    /// synchronized.
    public var isSynchronized: Bool {
        switch self {
        case .closed, .listen, .synSent, .synReceived: false
        default: true
        }
    }
}

/// What the endpoint tells the application (`Endpoint.pollEvent()`).
///
/// Every connection ends with exactly one `.closed(id, reason)`; when the peer reset it,
/// `.reset(id)` comes just before. Readiness events are edge-triggered hints: `.readable` is
/// queued once when in-order data (or the end of the stream) arrives after the application's
/// last `read`; `.writable` once when send-buffer space frees after a `write` that did not take
/// everything.
public enum EndpointEvent: Hashable, Sendable {
    /// An active open (`connect`) reached ESTABLISHED.
    case connected(ConnectionID)
    /// A passive open reached ESTABLISHED and waits in the listener's accept queue.
    case acceptable(port: UInt16)
    /// In-order data, or the peer's FIN, can be read.
    case readable(ConnectionID)
    /// Send-buffer space is free again.
    case writable(ConnectionID)
    /// The connection is over (both directions closed, reset, aborted or timed out).
    case closed(ConnectionID, CloseReason)
    /// The peer reset the connection (RFC 9293 §3.10.7.4 "If the RST bit is set").
    case reset(ConnectionID)
}

/// Why a connection ended.
public enum CloseReason: Hashable, Sendable {
    /// Both FINs were sent and acknowledged.
    case normal
    /// The peer sent RST (or refused the connection: RST in SYN-SENT).
    case reset
    /// A segment was retransmitted `maxRetransmissions` times without being acknowledged
    /// (RFC 9293 §3.8.3, RFC 1122 §4.2.3.5 R2).
    case retransmissionLimit
    /// The user timeout expired.
    case userTimeout
    /// The application called `abort`.
    case aborted
    /// Keep-alive probes went unanswered (RFC 9293 §3.8.4, RFC 1122 §4.2.3.6).
    case keepAliveTimeout
    /// The engine caught itself about to send a segment whose bytes would be wrong (an encoder
    /// invariant, `EndpointCounters.encoderSequenceMismatches` / `encoderShortPayloads`) and
    /// reset the connection instead.
    case internalError
}

/// Why an application call failed.
public enum EndpointError: Error, Hashable, Sendable {
    /// The handle does not name a live connection (released, or never was).
    case invalidConnection
    /// A listener already uses the port.
    case portInUse
    /// `maxListeners` listeners are open.
    case tooManyListeners
    /// `maxConnections` connections exist.
    case tooManyConnections
    /// Every ephemeral port is taken for this remote address.
    case noFreePort
    /// An argument is out of range (backlog below 1, port 0, ...).
    case invalidArgument
}

/// What a listener does with a SYN it has no room for (its backlog, or the connection table,
/// is full). Chosen per listener in `Endpoint.listen(port:backlog:overflow:)`.
public enum ListenerOverflow: Hashable, Sendable {
    /// Ignore the SYN (Linux's default): the client retransmits it after its RTO (1 s, then
    /// 2 s, ...) and may find room then. Implicit backpressure: the client cannot tell a full
    /// server from a lost packet.
    case drop
    /// Answer with RST: explicit backpressure. The client's connect fails at once (RFC 9293
    /// §3.10.7.3: RST in SYN-SENT means "connection refused"), and it can back off or go
    /// elsewhere.
    case reset
}

/// What one listener did with the SYNs it received (`Endpoint.listenerCounters(port:)`).
public struct ListenerCounters: Hashable, Sendable {
    /// SYNs that created a connection in SYN-RECEIVED.
    public var synsAccepted: Int = 0
    /// SYNs ignored because the listener was full (`.drop`).
    public var dropped: Int = 0
    /// SYNs answered with RST because the listener was full (`.reset`).
    public var refused: Int = 0
    public init(synsAccepted: Int = 0, dropped: Int = 0, refused: Int = 0) {
        self.synsAccepted = synsAccepted
        self.dropped = dropped
        self.refused = refused
    }
}

/// A packet `Endpoint.pollTransmitPacket` wrote at the front of the caller's buffer.
public struct TransmitPacket: Hashable, Sendable {
    /// The IPv4 packet's length.
    public var length: Int
    /// 0 for a packet that goes as it is; for a super-segment, the payload of each full-sized
    /// segment it stands for (the link splits it into `payload / segmentSize` segments with the
    /// same header but for sequence numbers, Linux's `gso_size`).
    public var segmentSize: Int

    public init(length: Int, segmentSize: Int) {
        self.length = length
        self.segmentSize = segmentSize
    }
}
