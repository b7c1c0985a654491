import SluiceCore

/// Limits and switches of an analysis.
package struct TraceOptions: Sendable {
    /// Run the `--check` conformance rules.
    package var check = false
    /// Connections tracked at once. When a new connection would pass it, the least recently
    /// active one is retired early (counted in `TraceResult.retiredEarly`).
    package var maxLiveConnections = 100_000
    /// A closed connection (both FINs, or a RST) is retired after this much quiet trace time;
    /// later packets with its ports start a new connection. Longer than Linux's 60 s TIME-WAIT.
    package var closedLinger: Duration = .seconds(120)
    /// Record the time-sequence graph of this connection.
    package var graphStream: Int? = nil
    package init() {}
}

/// Streaming analysis of a capture: feed packets in capture order with `process`, then
/// `finish`. Memory grows with the number of live connections, not with the number of packets:
/// each live connection holds fixed state plus bounded lists; a retired connection keeps only
/// its summary.
///
/// Not thread-safe: one thread owns an analyzer.
package final class TraceAnalyzer {
    package let options: TraceOptions
    /// Called with every flow-control event as it is found (capture order, i.e. time order).
    @exclusivity(unchecked) package var timeline: ((TimelineEntry) -> Void)?
    /// Called after every packet with its analysis and its connection's stream (tests and tools).
    @exclusivity(unchecked) package var onPacket: ((TraceSegment, PacketOutcome, Int) -> Void)?
    package private(set) var recorder: TimeSequenceRecorder?
    package var packets: Int { progress.packets }
    package var firstTime: Instant? { progress.firstTime }
    package var lastTime: Instant? { progress.lastTime }
    package private(set) var retiredEarly = 0
    /// Connections tracked now.
    package var liveConnections: Int { index.count }

    // The per-packet state. An analyzer belongs to one thread (it is not `Sendable`) and no
    // path re-enters it while it mutates one of these (the hooks run after the table lookup and
    // read only `progress`), so Swift's run-time exclusivity checks on these class properties
    // (`swift_beginAccess` and its access set, about 3% of the CPU time measured with perf) are
    // turned off for them.
    /// Packets seen, first and last times, the sweep countdown.
    @exclusivity(unchecked) private var progress = Progress()
    /// Live connections, each in memory of its own so that a packet updates it in place
    /// through the pointer (an array element of this size would be copied out and back for
    /// every packet: about 1.9 KB twice, measured with perf); freed when retired.
    @exclusivity(unchecked) private var slots: [UnsafeMutablePointer<ConnectionAnalysis>?] = []
    @exclusivity(unchecked) private var freeSlots: [Int] = []
    @exclusivity(unchecked) private var index: [ConnectionKey: Int] = [:]
    private var finished: [ConnectionAnalysis] = []
    private var nextStream = 0
    /// The connection of the previous packet and its slot (cleared when a connection is retired).
    @exclusivity(unchecked) private var recent: (key: ConnectionKey?, slot: Int) = (nil, 0)

    package init(options: TraceOptions = TraceOptions()) {
        self.options = options
        if options.graphStream != nil { recorder = TimeSequenceRecorder() }
    }

    deinit {
        for case let c? in slots {
            c.deinitialize(count: 1)
            c.deallocate()
        }
    }

    /// Analyses the next packet of the capture.
    package func process(_ s: TraceSegment) {
        let sweepDue = progress.note(s.time)
        let key = ConnectionKey(s.source, s.destination)
        var reused = false
        // Consecutive packets mostly belong to one connection: skip the hash lookup then.
        var slot = recent.key == key ? recent.slot : index[key]
        if s.isSYN && !s.hasACK, let i = slot, let c = slots[i], c.pointee.isNewConnection(s) {
            retire(slot: i, key: key)
            slot = nil
            reused = true
        }
        let i = slot ?? open(ConnectionAnalysis(stream: nextStream, first: s), key: key)
        if slot == nil { nextStream += 1 }
        guard let connection = slots[i] else { return }
        recent = (key, i)
        let outcome = connection.pointee.process(s, reusedPorts: reused, check: options.check, timeline: timeline)
        if let hook = onPacket { hook(s, outcome, outcome.stream) }
        if let g = options.graphStream, outcome.stream == g {
            recorder?.record(s, outcome: outcome)
        }
        if sweepDue { sweep(now: s.time) }
    }

    /// Ends the analysis: every connection, in tshark's `tcp.stream` order.
    package func finish() -> TraceResult {
        for (key, i) in index { retire(slot: i, key: key) }
        finished.sort { $0.stream < $1.stream }
        return TraceResult(connections: finished, packets: packets, firstTime: firstTime, lastTime: lastTime,
                           retiredEarly: retiredEarly, options: options)
    }

    /// Stores a new connection and returns its slot.
    private func open(_ c: ConnectionAnalysis, key: ConnectionKey) -> Int {
        if index.count >= options.maxLiveConnections, let victim = leastRecentlyActive() {
            retiredEarly += 1
            retire(slot: victim.slot, key: victim.key)
        }
        let i = freeSlots.popLast() ?? slots.count
        let storage = UnsafeMutablePointer<ConnectionAnalysis>.allocate(capacity: 1)
        storage.initialize(to: c)
        if i < slots.count { slots[i] = storage } else { slots.append(storage) }
        index[key] = i
        return i
    }

    private func retire(slot i: Int, key: ConnectionKey) {
        guard let storage = slots[i] else { return }
        recent = (nil, 0)
        var c = storage.move()
        storage.deallocate()
        slots[i] = nil
        c.retire(check: options.check)
        finished.append(c)
        freeSlots.append(i)
        index[key] = nil
    }

    private func leastRecentlyActive() -> (slot: Int, key: ConnectionKey)? {
        var best: (slot: Int, key: ConnectionKey, time: Instant, stream: Int)? = nil
        for (key, i) in index {
            guard let c = slots[i] else { continue }
            let time = c.pointee.lastTime, stream = c.pointee.stream
            if let b = best, (time, stream) >= (b.time, b.stream) { continue }
            best = (i, key, time, stream)
        }
        return best.map { ($0.slot, $0.key) }
    }

    /// Retires closed connections that have been quiet for `closedLinger`.
    private func sweep(now: Instant) {
        var done: [(Int, ConnectionKey)] = []
        for (key, i) in index {
            if let c = slots[i], c.pointee.closed, now - c.pointee.lastTime >= options.closedLinger { done.append((i, key)) }
        }
        done.sort { $0.0 < $1.0 }
        for (i, key) in done { retire(slot: i, key: key) }
    }
}

/// Packets seen, the first and last times, and the sweep countdown.
struct Progress {
    var packets = 0
    var firstTime: Instant? = nil
    var lastTime: Instant? = nil
    var sinceSweep = 0
    /// Counts a packet at `t`; true when a sweep for quiet closed connections is due.
    mutating func note(_ t: Instant) -> Bool {
        packets += 1
        if firstTime == nil { firstTime = t }
        lastTime = t
        sinceSweep += 1
        guard sinceSweep >= sweepInterval else { return false }
        sinceSweep = 0
        return true
    }
}

/// The identity of a connection regardless of direction.
struct ConnectionKey: Hashable {
    var low: SocketAddress
    var high: SocketAddress
    init(_ x: SocketAddress, _ y: SocketAddress) {
        if (x.address.rawValue, x.port) < (y.address.rawValue, y.port) { low = x; high = y } else { low = y; high = x }
    }
}

/// The outcome of analysing a whole capture.
package struct TraceResult: Sendable {
    /// Every connection, ordered by `stream` (tshark's `tcp.stream`).
    package var connections: [ConnectionAnalysis]
    package var packets: Int
    package var firstTime: Instant?
    package var lastTime: Instant?
    /// Connections retired before their end because `maxLiveConnections` was reached; their
    /// later packets were analysed as a new connection.
    package var retiredEarly: Int
    package var options: TraceOptions
    /// Frames the reader skipped (not IPv4/TCP, fragments, undecodable), filled by the caller.
    package var skippedFrames = 0
    package var skippedReasons: [(String, Int)] = []

    package var violationCount: Int { connections.reduce(0) { $0 + $1.violationCounts.reduce(0, +) } }
}

/// Packets between sweeps for quiet closed connections.
let sweepInterval = 4096
