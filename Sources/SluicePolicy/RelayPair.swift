import SluiceCore

/// One side of a relayed pair: a connection of an endpoint. Both sides may be connections of
/// the same endpoint (a relay on one TUN device) or of two (one per link).
public struct RelaySide {
    public let endpoint: Endpoint
    public let id: ConnectionID
    public init(endpoint: Endpoint, id: ConnectionID) {
        self.endpoint = endpoint
        self.id = id
    }
}

@available(*, unavailable)
extension RelaySide: Sendable {}

/// What a relayed pair did (`RelayPair.report`).
public struct RelayReport: Hashable, Sendable {
    /// Bytes read from upstream and written downstream, and the other way.
    public var bytesForwarded = 0
    public var bytesReturned = 0
    /// The most bytes the relay's own buffers held at once (both directions together).
    public var peakBufferedBytes = 0
    /// Zero windows the relay advertised upstream (it pushed back on the sender), and zero
    /// windows the next hop advertised to the relay (it pushed back on the relay).
    public var upstreamZeroWindowEpisodes = 0
    public var downstreamZeroWindowEpisodes = 0
    /// The last connection statistics of each side (kept after the connections are released).
    public var upstream: ConnectionStats?
    public var downstream: ConnectionStats?
    /// One side was reset (by its peer, or by the relay because the other side was).
    public var wasReset = false
    public init() {}
}

/// The forwarding logic of a relay, sans-IO: it moves bytes between two connections with
/// bounded memory, the same in the harness and in `sluice-relay`.
///
/// Backpressure, hop by hop: bytes go from one side's receive ring into a fixed buffer of
/// `bufferSize` bytes, and from there into the other side's send ring. The relay reads a side
/// only while the buffer toward the other side has room, so when the next hop stops reading,
/// its window closes, the relay's send ring fills, then its buffer, then its receive ring: the
/// relay advertises a zero window upstream, one hop after the hop downstream did. Each
/// direction never holds more than `rcvbuf + bufferSize + sndbuf` bytes (receive ring, buffer,
/// send ring).
///
/// Closing: a FIN is relayed as a half-close (RFC 9293 §3.6: the other direction keeps
/// flowing until its own FIN); once both FINs went through, both connections are closed. A RST
/// on one side (or one side ending abnormally) aborts the other (RFC 9293 §3.10.5).
///
/// Call order: `handle(_:)` for each endpoint event, then `pump()` until it returns `false`
/// (the harness and the run loop call it whenever they service the endpoint).
/// Not thread-safe.
public final class RelayPair {
    public let upstream: RelaySide
    public let downstream: RelaySide
    public let bufferSize: Int
    /// Called with every byte run forwarded downstream, in order (e.g. to hash it).
    public var onForward: ((UnsafeRawBufferPointer) -> Void)?

    private let forward: Direction
    private let backward: Direction
    private var aborted = false
    private var closeIssued = false
    public private(set) var report = RelayReport()

    public init(upstream: RelaySide, downstream: RelaySide, bufferSize: Int) {
        self.upstream = upstream
        self.downstream = downstream
        self.bufferSize = Swift.max(1, bufferSize)
        forward = Direction(from: upstream, to: downstream, capacity: self.bufferSize)
        backward = Direction(from: downstream, to: upstream, capacity: self.bufferSize)
    }

    /// Bytes in the relay's own buffers now (both directions).
    public var bufferedBytes: Int { forward.buffer.count + backward.buffer.count }
    /// Bytes in the forward / backward buffer now (each at most `bufferSize`).
    public var forwardBufferedBytes: Int { forward.buffer.count }
    public var backwardBufferedBytes: Int { backward.buffer.count }

    /// Both FINs went through and both connections finished their close (TIME-WAIT counts as
    /// finished: nothing more is relayed), or one side was reset and the other aborted.
    public var isFinished: Bool {
        if aborted { return true }
        guard closeIssued else { return false }
        return Self.isOver(upstream) && Self.isOver(downstream)
    }

    private static func isOver(_ side: RelaySide) -> Bool {
        switch side.endpoint.state(of: side.id) {
        case nil, .closed?, .timeWait?: true
        default: false
        }
    }

    /// Whether `id` of `endpoint` is one of the pair's connections.
    public func owns(_ id: ConnectionID, of endpoint: Endpoint) -> Bool {
        (endpoint === upstream.endpoint && id == upstream.id) || (endpoint === downstream.endpoint && id == downstream.id)
    }

    /// Takes an event of `endpoint`; returns `true` when it concerned this pair. A reset, or
    /// any abnormal end, on one side aborts the other (RFC 9293 §3.10.5).
    @discardableResult
    public func handle(_ event: EndpointEvent, of endpoint: Endpoint) -> Bool {
        switch event {
        case let .reset(id) where owns(id, of: endpoint):
            report.wasReset = true
            return true
        case let .closed(id, reason) where owns(id, of: endpoint):
            if reason != .normal && !aborted {
                let isUpstream = endpoint === upstream.endpoint && id == upstream.id
                report.wasReset = report.wasReset || reason == .reset
                refreshStats()
                aborted = true
                let other = isUpstream ? downstream : upstream
                other.endpoint.abort(other.id)
            }
            return true
        case let .readable(id) where owns(id, of: endpoint), let .writable(id) where owns(id, of: endpoint),
             let .connected(id) where owns(id, of: endpoint):
            return true
        default:
            return false
        }
    }

    /// Moves what can move both ways; returns `true` when anything moved (bytes, a FIN, a
    /// close), so the caller drains the packets it caused and calls again.
    @discardableResult
    public func pump() -> Bool {
        guard !aborted, !closeIssued else { return false }
        refreshStats()
        let f = forward.pump(onForward)
        let b = backward.pump(nil)
        report.bytesForwarded += f.bytes
        report.bytesReturned += b.bytes
        // An upper bound of what both buffers held at once during this call.
        report.peakBufferedBytes = Swift.max(report.peakBufferedBytes, forward.peakInLastPump + backward.peakInLastPump)
        var moved = f.moved || b.moved
        if forward.finRelayed && backward.finRelayed {
            closeIssued = true
            upstream.endpoint.close(upstream.id)
            downstream.endpoint.close(downstream.id)
            moved = true
        }
        return moved
    }

    private func refreshStats() {
        if let s = upstream.endpoint.stats(of: upstream.id) {
            report.upstream = s
            report.upstreamZeroWindowEpisodes = s.flow.zeroWindowAdvertisedEpisodes
        }
        if let s = downstream.endpoint.stats(of: downstream.id) {
            report.downstream = s
            report.downstreamZeroWindowEpisodes = s.flow.zeroWindowEpisodes
        }
    }

    /// One direction: `from`'s receive ring → `buffer` → `to`'s send ring.
    final class Direction {
        let from: RelaySide
        let to: RelaySide
        let buffer: RelayBuffer
        var finRelayed = false
        var peakInLastPump = 0

        init(from: RelaySide, to: RelaySide, capacity: Int) {
            self.from = from
            self.to = to
            buffer = RelayBuffer(capacity: capacity)
        }

        func pump(_ observer: ((UnsafeRawBufferPointer) -> Void)?) -> (moved: Bool, bytes: Int) {
            guard !finRelayed else { peakInLastPump = 0; return (false, 0) }
            let (src, dst) = (from, to)
            func push() -> Int {
                buffer.drain { chunk in
                    let n = dst.endpoint.write(dst.id, chunk)
                    if n > 0, let observer { observer(UnsafeRawBufferPointer(rebasing: chunk[0..<n])) }
                    return n
                }
            }
            var sent = push()
            // Read only into free buffer space: a full buffer leaves the bytes in the receive
            // ring, whose window then closes (RFC 9293 §3.8.6.2.2: the window is the free space).
            let read = buffer.fill { src.endpoint.read(src.id, into: $0) }
            peakInLastPump = buffer.count
            sent += push()
            var moved = sent > 0 || read > 0
            if buffer.isEmpty && src.endpoint.isAtEndOfStream(src.id) {
                dst.endpoint.shutdown(dst.id)
                finRelayed = true
                moved = true
            }
            return (moved, sent)
        }
    }
}

@available(*, unavailable)
extension RelayPair: Sendable {}
