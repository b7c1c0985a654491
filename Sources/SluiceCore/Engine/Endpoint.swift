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
/// Deterministic: the same calls with the same times produce the same packets (connections
/// transmit in round-robin order over table slots; no iteration over hashed collections).
/// Not thread-safe: one thread (or task) owns an endpoint.
///
/// ## Lifetime of a connection handle
/// `connect` returns a handle at once; a passive connection's handle comes from `accept`.
/// A handle stays valid until the application has called `close` or `abort` *and* the
/// connection reached CLOSED (TIME-WAIT included). Calls with a stale handle do nothing.
///
/// Its stored properties skip Swift's run-time exclusivity checks, for the reason `Connection`
/// gives.
public final class Endpoint {
    public let config: EndpointConfig

    /// One slot of the bounded connection table.
    struct Slot {
        var generation: UInt32 = 0
        var connection: Connection?
    }

    /// One listening port with its bounded backlog (RFC 9293 §3.10.7.2 LISTEN).
    struct Listener {
        var port: UInt16
        /// Connections counted against the backlog: SYN-RECEIVED ones plus the accept queue.
        var backlog: Int
        var synReceived = 0
        var acceptQueue: FixedQueue<ConnectionID>
        /// What a SYN meets when the backlog (or the connection table) is full.
        var overflow: ListenerOverflow
        var counters = ListenerCounters()
        var occupancy: Int { synReceived + acceptQueue.count }
    }

    /// RSTs for segments that match no connection, and for `abort`.
    struct PendingReset {
        var tuple: FourTuple
        var sequence: SequenceNumber
        var acknowledgment: SequenceNumber?
    }

    @exclusivity(unchecked) var slots: [Slot]
    /// 4-tuple → slot index, for live (not CLOSED) connections. Only looked up, never iterated.
    @exclusivity(unchecked) var byTuple: [FourTuple: Int]
    @exclusivity(unchecked) var listeners: [Listener] = []
    @exclusivity(unchecked) var events: FixedQueue<EndpointEvent>
    @exclusivity(unchecked) var resets: FixedQueue<PendingReset>
    /// Every slot at or past this index is empty, so the per-call scans (`pollTransmit`,
    /// `nextDeadline`, `handleTimeout`) stop here instead of walking all `maxConnections`
    /// slots: new connections take the lowest free slot, so a table raised for many
    /// connections costs nothing while few are open. Raised by `install`, lowered by `release`.
    @exclusivity(unchecked) var occupiedEnd = 0
    /// Round-robin position for `pollTransmit`.
    @exclusivity(unchecked) var transmitCursor = 0
    /// Next ephemeral port to try.
    @exclusivity(unchecked) var nextEphemeralPort: UInt16
    /// IPv4 identification field of the next packet.
    @exclusivity(unchecked) var ipIdentification: UInt16 = 0
    @exclusivity(unchecked) var _counters = EndpointCounters()
    /// Ring storage the connections handed back, kept for reuse (`EndpointConfig.maxCachedRingBuffers`).
    package let ringPool: RingStoragePool

    public init(config: EndpointConfig) {
        self.config = config
        let maxConnections = Swift.max(0, config.maxConnections)
        slots = Array(repeating: Slot(), count: maxConnections)
        byTuple = Dictionary(minimumCapacity: maxConnections)
        events = FixedQueue(capacity: config.maxPendingEvents)
        resets = FixedQueue(capacity: config.maxPendingResets)
        nextEphemeralPort = config.ephemeralPorts.lowerBound
        listeners.reserveCapacity(Swift.max(0, config.maxListeners))
        ringPool = RingStoragePool(maxCached: config.maxCachedRingBuffers)
    }

    /// The largest packet the endpoint sends: `pollTransmit` needs a buffer at least this big.
    public var maximumPacketSize: Int { Swift.max(config.connection.mtu, ipAndTCPHeaderLength + TCPOptions.maximumLength) }

    // MARK: Application calls

    /// Opens a listener on `port` with a bounded SYN/accept backlog: at most `backlog`
    /// connections in SYN-RECEIVED or waiting for `accept`. A SYN beyond that (or beyond
    /// `maxConnections`) meets `overflow`: `.drop` ignores it (the peer retransmits; counted in
    /// `droppedBacklogFull` / `droppedConnectionLimit`), `.reset` refuses it with RST (explicit
    /// load shedding: the peer learns at once; counted in `refusedBacklogFull`). Either way the
    /// listener's own `listenerCounters(port:)` count it.
    public func listen(port: UInt16, backlog: Int = 16, overflow: ListenerOverflow = .drop) throws(EndpointError) {
        guard port != 0, backlog >= 1 else { throw .invalidArgument }
        guard listenerIndex(port: port) == nil else { throw .portInUse }
        guard listeners.count < config.maxListeners else { throw .tooManyListeners }
        listeners.append(Listener(port: port, backlog: backlog, acceptQueue: FixedQueue(capacity: backlog), overflow: overflow))
    }

    /// The counters of the listener on `port` (`nil` when none listens there).
    public func listenerCounters(port: UInt16) -> ListenerCounters? {
        listenerIndex(port: port).map { listeners[$0].counters }
    }

    /// Connections on `port` in SYN-RECEIVED or waiting for `accept` (at most its backlog).
    public func listenerOccupancy(port: UInt16) -> Int? {
        listenerIndex(port: port).map { listeners[$0].occupancy }
    }

    /// Closes the listener on `port`; connections not yet accepted are reset.
    public func stopListening(port: UInt16) {
        guard let li = listenerIndex(port: port) else { return }
        for i in 0..<occupiedEnd {
            guard let c = slots[i].connection, c.listenerPort == port, !c.ownedByApplication else { continue }
            if let seq = c.abort() { queueReset(tuple: c.tuple, sequence: seq, acknowledgment: nil) }
            c.pendingEvents = []
            release(slot: i)
        }
        listeners.remove(at: li)
    }

    /// Starts an active open to `remote` (sends SYN on the next `pollTransmit`). Without
    /// `localPort`, an ephemeral port not in use toward `remote` is chosen (in order, from where
    /// the last search stopped).
    public func connect(to remote: SocketAddress, localPort: UInt16? = nil, at now: Instant) throws(EndpointError) -> ConnectionID {
        guard remote.port != 0 else { throw .invalidArgument }
        guard let slot = freeSlot() else { throw .tooManyConnections }
        let port: UInt16
        if let localPort {
            guard localPort != 0 else { throw .invalidArgument }
            let tuple = FourTuple(local: SocketAddress(config.localAddress, localPort), remote: remote)
            guard byTuple[tuple] == nil else { throw .portInUse }
            port = localPort
        } else {
            guard let p = ephemeralPort(toward: remote) else { throw .noFreePort }
            port = p
        }
        let tuple = FourTuple(local: SocketAddress(config.localAddress, port), remote: remote)
        let iss = config.initialSequenceNumber(tuple, now)
        let connection = Connection(tuple: tuple, config: config.connection, iss: iss, listenerPort: nil, now: now,
                                    ringPool: ringPool)
        return install(connection, in: slot)
    }

    /// Takes the next established connection from the listener on `port`, if any.
    public func accept(port: UInt16) -> ConnectionID? {
        guard let li = listenerIndex(port: port) else { return nil }
        while let id = listeners[li].acceptQueue.pop() {
            guard let c = connection(id) else { continue }
            c.ownedByApplication = true
            // Events that happened while it waited (data, FIN) are reported now.
            if c.receiveRing.count > 0 || c.finReceived { c.pendingEvents.insert(.readable); c.readableSignalled = true }
            if c.isClosed { c.pendingEvents.insert(.closed) }
            flushEvents(slot: Int(id.index))
            return id
        }
        return nil
    }

    /// Queues as many bytes as fit in the send buffer; returns how many (0 when full: backpressure).
    public func write(_ id: ConnectionID, _ bytes: UnsafeRawBufferPointer) -> Int {
        connection(id)?.write(bytes) ?? 0
    }

    /// Copies in-order received bytes out of the receive buffer; returns how many (0 when none;
    /// see `isAtEndOfStream` for the peer's FIN).
    public func read(_ id: ConnectionID, into buffer: UnsafeMutableRawBufferPointer) -> Int {
        connection(id)?.read(into: buffer) ?? 0
    }

    /// The peer closed its direction (FIN received) and every byte before the FIN was read.
    public func isAtEndOfStream(_ id: ConnectionID) -> Bool {
        connection(id)?.isAtEndOfStream ?? false
    }

    /// Bytes that `read` can return now.
    public func readableBytes(_ id: ConnectionID) -> Int {
        connection(id)?.receiveRing.count ?? 0
    }

    /// Free space in the send buffer: what `write` would accept now.
    public func writableBytes(_ id: ConnectionID) -> Int {
        guard let c = connection(id), !c.finQueued else { return 0 }
        return c.sendRing.freeSpace
    }

    /// Half-close: send FIN after the queued data (RFC 9293 §3.10.4).
    public func shutdown(_ id: ConnectionID) {
        connection(id)?.shutdown()
    }

    /// Close: shutdown, stop reading (unread and later data is discarded), and release the
    /// connection when both directions are done (after TIME-WAIT).
    public func close(_ id: ConnectionID) {
        guard let c = connection(id) else { return }
        c.close()
        settle(slot: Int(id.index))
    }

    /// Abort: send RST and release the connection at once (RFC 9293 §3.10.5). No event follows.
    public func abort(_ id: ConnectionID) {
        guard let c = connection(id) else { return }
        if let seq = c.abort() {
            queueReset(tuple: c.tuple, sequence: seq, acknowledgment: nil)
        }
        c.pendingEvents = []
        release(slot: Int(id.index))
    }

    public func state(of id: ConnectionID) -> TCPState? { connection(id)?.publicState }
    public func stats(of id: ConnectionID) -> ConnectionStats? { connection(id)?.snapshot() }

    /// The connection's 4-tuple (local, remote).
    public func tuple(of id: ConnectionID) -> FourTuple? { connection(id)?.tuple }

    /// Rings (send and receive, over every connection) that hold storage now; an idle
    /// connection's hold none. Memory accounting for tests and benchmarks: O(maxConnections).
    package var ringsHoldingStorage: Int {
        var n = 0
        for s in slots {
            guard let c = s.connection else { continue }
            n += (c.sendRing.holdsStorage ? 1 : 0) + (c.receiveRing.holdsStorage ? 1 : 0)
        }
        return n
    }

    /// Live connections in the table (TIME-WAIT and unreleased CLOSED ones included).
    public var connectionCount: Int {
        var n = 0
        for i in 0..<occupiedEnd where slots[i].connection != nil { n += 1 }
        return n
    }

    // MARK: Driver calls

    /// The earliest time at which `handleTimeout` has work (timers, delayed ACK, pacer).
    public var nextDeadline: Instant? {
        var earliest: Instant?
        for i in 0..<occupiedEnd {
            guard let t = slots[i].connection?.nextDeadline else { continue }
            if let e = earliest, e <= t { continue }
            earliest = t
        }
        return earliest
    }

    /// Runs the timers due at `now`.
    public func handleTimeout(at now: Instant) {
        for i in 0..<occupiedEnd {
            guard let c = slots[i].connection, let t = c.nextDeadline, t <= now else { continue }
            c.handleTimeout(at: now)
            settle(slot: i)
        }
    }

    /// The next event for the application, if any.
    public func pollEvent() -> EndpointEvent? { events.pop() }

    /// Endpoint-wide counters: drops with their reasons.
    public var counters: EndpointCounters { _counters }

    // MARK: Table management

    /// The live connection `id` names, or `nil` for a stale or invalid handle.
    func connection(_ id: ConnectionID) -> Connection? {
        let i = Int(id.index)
        guard i >= 0, i < slots.count, slots[i].generation == id.generation else { return nil }
        return slots[i].connection
    }

    func listenerIndex(port: UInt16) -> Int? {
        listeners.firstIndex { $0.port == port }
    }

    /// The lowest free slot (deterministic). When the table is full, the TIME-WAIT connection
    /// that expires first (and that the application has closed) gives up its slot: a full
    /// table of TIME-WAITs must not lock new connections out (Linux drops TIME-WAIT sockets past
    /// `tcp_max_tw_buckets` in the same spirit). Counted in `timeWaitRecycled`.
    func freeSlot() -> Int? {
        if let i = slots.firstIndex(where: { $0.connection == nil }) { return i }
        var oldest: (slot: Int, until: Instant)?
        for i in 0..<occupiedEnd {
            guard let c = slots[i].connection, c.applicationClosed, case .timeWait(let until) = c.state else { continue }
            if let o = oldest, o.until <= until { continue }
            oldest = (i, until)
        }
        guard let victim = oldest?.slot else { return nil }
        _counters.timeWaitRecycled += 1
        release(slot: victim)
        return victim
    }

    func install(_ connection: Connection, in slot: Int) -> ConnectionID {
        slots[slot].connection = connection
        occupiedEnd = Swift.max(occupiedEnd, slot + 1)
        byTuple[connection.tuple] = slot
        return ConnectionID(index: UInt32(slot), generation: slots[slot].generation)
    }

    func id(ofSlot slot: Int) -> ConnectionID {
        ConnectionID(index: UInt32(slot), generation: slots[slot].generation)
    }

    /// Frees a slot: the handle goes stale (generation bump), the tuple is forgotten.
    func release(slot: Int) {
        guard let c = slots[slot].connection else { return }
        if byTuple[c.tuple] == slot { byTuple[c.tuple] = nil }
        if let port = c.listenerPort, let li = listenerIndex(port: port) {
            if c.countsAgainstBacklog {
                listeners[li].synReceived -= 1
                c.countsAgainstBacklog = false
            }
            if !c.ownedByApplication {
                let id = id(ofSlot: slot)
                listeners[li].acceptQueue.removeAll { $0 == id }
            }
        }
        slots[slot].connection = nil
        slots[slot].generation &+= 1
        while occupiedEnd > 0 && slots[occupiedEnd - 1].connection == nil { occupiedEnd -= 1 }
    }

    /// After anything happened to a connection: move its events to the queue, hand a newly
    /// established passive connection to its listener, forget the tuple of a CLOSED connection,
    /// and release it when nobody holds it any more.
    func settle(slot: Int) {
        guard let c = slots[slot].connection else { return }
        if c.resetDue {
            // A reset the connection generated itself (keep-alive abort): <SEQ=SND.NXT><CTL=RST>.
            c.resetDue = false
            queueReset(tuple: c.tuple, sequence: c.sndNxt, acknowledgment: nil)
        }
        if c.pendingEvents.contains(.established) {
            c.pendingEvents.remove(.established)
            if c.countsAgainstBacklog, let port = c.listenerPort, let li = listenerIndex(port: port) {
                listeners[li].synReceived -= 1
                c.countsAgainstBacklog = false
                if listeners[li].acceptQueue.push(id(ofSlot: slot)) {
                    pushEvent(.acceptable(port: port))
                }
            }
        }
        flushEvents(slot: slot)
        if c.isClosed {
            if byTuple[c.tuple] == slot { byTuple[c.tuple] = nil }
            if c.applicationClosed || !c.ownedByApplication {
                release(slot: slot)
            }
        }
    }

    /// Moves a connection's pending events to the endpoint's queue (only for connections the
    /// application holds; a connection waiting in a backlog reports when accepted).
    func flushEvents(slot: Int) {
        guard let c = slots[slot].connection, c.ownedByApplication else { return }
        let pending = c.pendingEvents
        guard !pending.isEmpty else { return }
        c.pendingEvents = []
        let id = id(ofSlot: slot)
        // After `close`, only the final `.closed` is reported (it tells when the connection is
        // really over); readiness no longer concerns the application.
        if !c.applicationClosed {
            if pending.contains(.connected) { pushEvent(.connected(id)) }
            if pending.contains(.readable) { pushEvent(.readable(id)) }
            if pending.contains(.writable) { pushEvent(.writable(id)) }
            if pending.contains(.reset) { pushEvent(.reset(id)) }
        }
        if pending.contains(.closed) && !c.closeReported {
            c.closeReported = true
            pushEvent(.closed(id, c.closeReason))
        }
    }

    func pushEvent(_ event: EndpointEvent) {
        if !events.push(event) { _counters.eventsDropped += 1 }
    }

    func queueReset(tuple: FourTuple, sequence: SequenceNumber, acknowledgment: SequenceNumber?) {
        if !resets.push(PendingReset(tuple: tuple, sequence: sequence, acknowledgment: acknowledgment)) {
            _counters.droppedResetQueueFull += 1
        }
    }

    /// An ephemeral port whose 4-tuple toward `remote` is free, searching in order from where the
    /// last search stopped (RFC 6056 §3.3.1-style sequential selection; deterministic).
    func ephemeralPort(toward remote: SocketAddress) -> UInt16? {
        let range = config.ephemeralPorts
        let size = Int(range.upperBound) - Int(range.lowerBound) + 1
        var candidate = range.contains(nextEphemeralPort) ? nextEphemeralPort : range.lowerBound
        for _ in 0..<size {
            let tuple = FourTuple(local: SocketAddress(config.localAddress, candidate), remote: remote)
            let next = candidate == range.upperBound ? range.lowerBound : candidate + 1
            if byTuple[tuple] == nil && listenerIndex(port: candidate) == nil {
                nextEphemeralPort = next
                return candidate
            }
            candidate = next
        }
        return nil
    }
}

@available(*, unavailable)
extension Endpoint: Sendable {}
