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
    package var timeline: ((TimelineEntry) -> Void)?
    /// Called after every packet with its analysis and its connection's stream (tests and tools).
    package var onPacket: ((TraceSegment, PacketOutcome, Int) -> Void)?
    package private(set) var recorder: TimeSequenceRecorder?
    package var packets: Int { progress.packets }
    package var firstTime: Instant? { progress.firstTime }
    package var lastTime: Instant? { progress.lastTime }
    package private(set) var retiredEarly = 0
    /// Per-packet counters in one struct: one exclusivity check per packet, not one per field.
    private var progress = Progress()
    /// Connections tracked now.
    package var liveConnections: Int { index.count }

    /// Live connections, boxed so that a packet updates its connection in place (an optional
    /// array element of this size would be copied out and back for every packet).
    private var slots: [ConnectionBox?] = []
    private var freeSlots: [Int] = []
    private var index: [ConnectionKey: Int] = [:]
    private var finished: [ConnectionAnalysis] = []
    private var nextStream = 0
    /// The connection of the previous packet (cleared when a connection is retired).
    private var recent: (key: ConnectionKey?, box: ConnectionBox?) = (nil, nil)

    package init(options: TraceOptions = TraceOptions()) {
        self.options = options
        if options.graphStream != nil { recorder = TimeSequenceRecorder() }
    }

    /// Analyses the next packet of the capture.
    package func process(_ s: TraceSegment) {
        let sweepDue = progress.note(s.time)
        let key = ConnectionKey(s.source, s.destination)
        var reused = false
        // Consecutive packets mostly belong to one connection: skip the hash lookup then.
        var box = recent.key == key ? recent.box : index[key].flatMap { slots[$0] }
        if s.isSYN && !s.hasACK, let b = box, b.connection.isNewConnection(s) {
            retire(slot: b.slot, key: key)
            box = nil
            reused = true
        }
        if box == nil {
            box = open(ConnectionAnalysis(stream: nextStream, first: s), key: key)
            nextStream += 1
        }
        guard let b = box else { return }
        recent = (key, b)
        let outcome = b.process(s, reusedPorts: reused, check: options.check, timeline: timeline)
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

    private func open(_ c: ConnectionAnalysis, key: ConnectionKey) -> ConnectionBox {
        if index.count >= options.maxLiveConnections, let victim = leastRecentlyActive() {
            retiredEarly += 1
            retire(slot: victim.slot, key: victim.key)
        }
        let i = freeSlots.popLast() ?? slots.count
        let box = ConnectionBox(c, slot: i)
        if i < slots.count { slots[i] = box } else { slots.append(box) }
        index[key] = i
        return box
    }

    private func retire(slot i: Int, key: ConnectionKey) {
        guard var c = slots[i]?.connection else { return }
        recent = (nil, nil)
        c.retire(check: options.check)
        finished.append(c)
        slots[i] = nil
        freeSlots.append(i)
        index[key] = nil
    }

    private func leastRecentlyActive() -> (slot: Int, key: ConnectionKey)? {
        var best: (slot: Int, key: ConnectionKey, time: Instant, stream: Int)? = nil
        for (key, i) in index {
            guard let c = slots[i]?.connection else { continue }
            if let b = best, (c.lastTime, c.stream) >= (b.time, b.stream) { continue }
            best = (i, key, c.lastTime, c.stream)
        }
        return best.map { ($0.slot, $0.key) }
    }

    /// Retires closed connections that have been quiet for `closedLinger`.
    private func sweep(now: Instant) {
        var done: [(Int, ConnectionKey)] = []
        for (key, i) in index {
            if let c = slots[i]?.connection, c.closed, now - c.lastTime >= options.closedLinger { done.append((i, key)) }
        }
        done.sort { $0.0 < $1.0 }
        for (i, key) in done { retire(slot: i, key: key) }
    }
}

/// A live connection's analysis, updated in place: it lives in memory of its own, so a packet
/// mutates it through a pointer (a stored property of this size is copied out and back around
/// a mutating call, about 1.9 KB twice per packet, measured with perf).
final class ConnectionBox {
    private let storage: UnsafeMutablePointer<ConnectionAnalysis>
    let slot: Int
    init(_ c: ConnectionAnalysis, slot: Int) {
        storage = .allocate(capacity: 1)
        storage.initialize(to: c)
        self.slot = slot
    }
    deinit {
        storage.deinitialize(count: 1)
        storage.deallocate()
    }
    var connection: ConnectionAnalysis { storage.pointee }
    /// Analyses one packet of this connection, in place.
    func process(_ s: TraceSegment, reusedPorts: Bool, check: Bool, timeline: ((TimelineEntry) -> Void)?) -> PacketOutcome {
        storage.pointee.process(s, reusedPorts: reusedPorts, check: check, timeline: timeline)
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
