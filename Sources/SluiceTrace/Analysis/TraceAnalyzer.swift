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
    package private(set) var packets = 0
    package private(set) var firstTime: Instant?
    package private(set) var lastTime: Instant?
    package private(set) var retiredEarly = 0
    /// Connections tracked now.
    package var liveConnections: Int { index.count }

    private var slots: [ConnectionAnalysis?] = []
    private var freeSlots: [Int] = []
    private var index: [ConnectionKey: Int] = [:]
    private var finished: [ConnectionAnalysis] = []
    private var nextStream = 0
    private var packetsSinceSweep = 0

    package init(options: TraceOptions = TraceOptions()) {
        self.options = options
        if options.graphStream != nil { recorder = TimeSequenceRecorder() }
    }

    /// Analyses the next packet of the capture.
    package func process(_ s: TraceSegment) {
        packets += 1
        if firstTime == nil { firstTime = s.time }
        lastTime = s.time
        let key = ConnectionKey(s.source, s.destination)
        var reused = false
        var slot = index[key]
        // (Tested through the array element in place: copying a connection per packet is costly.)
        if s.isSYN && !s.hasACK, let i = slot, slots[i]?.isNewConnection(s) == true {
            retire(slot: i, key: key)
            slot = nil
            reused = true
        }
        let i: Int
        if let existing = slot {
            i = existing
        } else {
            i = open(ConnectionAnalysis(stream: nextStream, first: s), key: key)
            nextStream += 1
        }
        guard let outcome = slots[i]?.process(s, reusedPorts: reused, check: options.check, timeline: timeline) else { return }
        if let hook = onPacket { hook(s, outcome, outcome.stream) }
        if let g = options.graphStream, outcome.stream == g {
            recorder?.record(s, outcome: outcome)
        }
        packetsSinceSweep += 1
        if packetsSinceSweep >= sweepInterval {
            packetsSinceSweep = 0
            sweep(now: s.time)
        }
    }

    /// Ends the analysis: every connection, in tshark's `tcp.stream` order.
    package func finish() -> TraceResult {
        for (key, i) in index { retire(slot: i, key: key) }
        finished.sort { $0.stream < $1.stream }
        return TraceResult(connections: finished, packets: packets, firstTime: firstTime, lastTime: lastTime,
                           retiredEarly: retiredEarly, options: options)
    }

    private func open(_ c: ConnectionAnalysis, key: ConnectionKey) -> Int {
        if index.count >= options.maxLiveConnections, let victim = leastRecentlyActive() {
            retiredEarly += 1
            retire(slot: victim.slot, key: victim.key)
        }
        let i: Int
        if let f = freeSlots.popLast() {
            slots[f] = c
            i = f
        } else {
            slots.append(c)
            i = slots.count - 1
        }
        index[key] = i
        return i
    }

    private func retire(slot i: Int, key: ConnectionKey) {
        guard var c = slots[i] else { return }
        c.retire(check: options.check)
        finished.append(c)
        slots[i] = nil
        freeSlots.append(i)
        index[key] = nil
    }

    private func leastRecentlyActive() -> (slot: Int, key: ConnectionKey)? {
        var best: (slot: Int, key: ConnectionKey, time: Instant, stream: Int)? = nil
        for (key, i) in index {
            guard let c = slots[i] else { continue }
            if let b = best, (c.lastTime, c.stream) >= (b.time, b.stream) { continue }
            best = (i, key, c.lastTime, c.stream)
        }
        return best.map { ($0.slot, $0.key) }
    }

    /// Retires closed connections that have been quiet for `closedLinger`.
    private func sweep(now: Instant) {
        var done: [(Int, ConnectionKey)] = []
        for (key, i) in index {
            if let c = slots[i], c.closed, now - c.lastTime >= options.closedLinger { done.append((i, key)) }
        }
        done.sort { $0.0 < $1.0 }
        for (i, key) in done { retire(slot: i, key: key) }
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
