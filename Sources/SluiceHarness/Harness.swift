import SluiceRandom
import HeapModule
import SluiceCore
import SluicePcap

/// An in-memory network of TCP endpoints joined by simulated one-way links, on a virtual clock,
/// seeded and deterministic: the same seed and the same script give the same packets at the
/// same instants, bit for bit (compare `digest`).
///
/// ## How a run proceeds
/// `step()` takes the earliest thing due: a packet arrival, a scheduled action or application
/// wakeup (all in one event queue ordered by time, then by the order they were scheduled), or a
/// node's `nextDeadline` (arrivals and actions at the same instant go first). It moves `now`
/// there and services the node concerned, following `Endpoint`'s call order: feed the packet
/// (`receive`), `handleTimeout` when the deadline has passed, drain `pollTransmit` onto the
/// links, drain `pollEvent` to the node's `onEvent` hook and applications, poll the
/// applications, call `onService`, and repeat until nothing moves. After every step the
/// invariants are checked: each node's `checkInvariants()` and the harness's own wire check
/// (see `WindowMonitor`); a violation is thrown, so it holds in release builds.
///
/// The `run` methods step until an instant or a condition, and throw instead of hanging: when
/// nothing is left to do (`.idle`), past a virtual-time budget, or past an event limit.
///
/// If you call an endpoint directly between runs (outside the callbacks), the next `step` or
/// `run` first services every node so the packets it caused leave.
///
/// Not thread-safe: one task owns a harness.
public final class Harness {
    public struct Options: Sendable {
        /// Call every node's `checkInvariants()` after each step.
        public var checkNodeInvariants = true
        /// Check the window-edge rule on every packet an endpoint sends.
        public var checkWireInvariants = true
        /// Fold every packet and event into `digest`.
        public var computeDigest = true
        /// Most steps a single `run` call may take.
        public var maxEvents = defaultMaxEvents
        /// Virtual-time budget of `run(until: condition)` when none is given.
        public var defaultTimeLimit: Duration = defaultRunTimeLimit
        /// Most consecutive steps at one instant before the run is declared stalled.
        public var maxStepsAtOneInstant = defaultMaxStepsAtOneInstant
        /// Read a node's `nextDeadline` again only after the harness serviced it (or a packet
        /// reached it, or a `run`/`step` began), instead of at every step. Safe when
        /// applications and the `onEvent`/`onService` hooks call only their own node (scheduled
        /// actions may call any: every node is serviced after them); off by default. Runs with
        /// thousands of connections need it: each read scans every connection of the node.
        public var cacheDeadlines = false
        public init() {}
    }

    public let seed: UInt64
    public var options: Options
    public private(set) var now: Instant = .zero
    public private(set) var nodes: [HarnessNode] = []
    public private(set) var links: [SimulatedLink] = []
    /// Steps taken so far.
    public private(set) var stepsTaken = 0
    /// Packets whose destination is no node, or for which no link exists (dropped).
    public private(set) var unroutable = 0
    /// FNV-1a hash of every packet (time, link, capture point, fate, bytes) and endpoint event.
    public private(set) var digest: UInt64 = fnvOffset

    private var nodeByAddress: [IPv4Address: Int] = [:]
    private var linkByPair: [Int: Int] = [:]
    private var queue = Heap<ScheduledEvent>()
    private var sequence: UInt64 = 0
    private var actions: [UInt64: (Harness) throws -> Void] = [:]
    private var pendingWakes: [Set<Int64>] = []
    /// With `options.cacheDeadlines`: each node's `nextDeadline` as last read (`Int64.max`:
    /// none), and whether the node may have changed since.
    private var deadlines: [Int64] = []
    private var deadlineStale: [Bool] = []
    private let pool = PacketPool()
    private let scratch: UnsafeMutableRawBufferPointer
    private var observers: [(PacketRecord) -> Void] = []
    private var monitor = WindowMonitor()
    private var needsFlush = false
    private var stepsAtThisInstant = 0
    /// The pcap capture at departure (every packet as it leaves its sender, dropped or not).
    public private(set) var departureCapture: PcapWriter?
    /// The optional second capture at arrival (after the link's impairments).
    public private(set) var arrivalCapture: PcapWriter?

    public init(seed: UInt64, options: Options = Options()) {
        self.seed = seed
        self.options = options
        scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: scratchSize, alignment: 16)
    }

    deinit { scratch.deallocate() }

    // MARK: - Building the network

    /// Adds an endpoint at `address`. Its initial sequence numbers come from `seed` and the
    /// 4-tuple (deterministic) unless `configure` sets `initialSequenceNumber`.
    @discardableResult
    public func addEndpoint(_ name: String, address: IPv4Address, configure: (inout EndpointConfig) -> Void = { _ in }) -> HarnessNode {
        var config = EndpointConfig(localAddress: address, initialSequenceNumber: Self.seededISN(seed))
        configure(&config)
        return addNode(name, address: address, node: Endpoint(config: config))
    }

    /// Adds any packet node (an `Endpoint` made elsewhere, a `RawPacketNode`, a test fake).
    @discardableResult
    public func addNode(_ name: String, address: IPv4Address, node: some PacketNode) -> HarnessNode {
        let n = HarnessNode(id: nodes.count, name: name, address: address, packetNode: node)
        nodes.append(n)
        pendingWakes.append([])
        deadlines.append(.max)
        deadlineStale.append(true)
        nodeByAddress[address] = n.id
        needsFlush = true
        return n
    }

    /// Adds a one-way link; packets from `from` addressed to `to` travel on it.
    @discardableResult
    public func addLink(from: HarnessNode, to: HarnessNode, _ config: LinkConfig = .ideal) -> SimulatedLink {
        let link = SimulatedLink(index: links.count, from: from, to: to, config: config, seed: seed)
        linkByPair[from.id << 32 | to.id] = link.index
        links.append(link)
        return link
    }

    /// Joins two nodes with a link each way (same config both ways unless `backward` is given).
    @discardableResult
    public func connect(_ a: HarnessNode, _ b: HarnessNode, _ config: LinkConfig = .ideal, backward: LinkConfig? = nil) -> (forward: SimulatedLink, backward: SimulatedLink) {
        (addLink(from: a, to: b, config), addLink(from: b, to: a, backward ?? config))
    }

    /// The link from `from` to `to`, if any.
    public func link(from: HarnessNode, to: HarnessNode) -> SimulatedLink? {
        linkByPair[from.id << 32 | to.id].map { links[$0] }
    }

    /// Calls `observer` for every packet at departure and at arrival.
    public func observe(_ observer: @escaping (PacketRecord) -> Void) {
        observers.append(observer)
    }

    /// Starts `application` on `node` (an endpoint): at once, or with `time` as a scheduled
    /// action at that time (at the next step when `time` is now or past).
    public func attach(_ application: some HarnessApplication, to node: HarnessNode, at time: Instant? = nil) throws {
        guard let endpoint = node.endpoint else {
            throw HarnessError.configuration("\(node) is not an endpoint; applications need one")
        }
        let start: (Harness) throws -> Void = { h in
            node.applications.append(application)
            try application.start(NodeContext(harness: h, node: node, endpoint: endpoint))
            try h.service(node)
        }
        if let time {
            schedule(at: time, start)
        } else {
            try start(self)
        }
    }

    /// Runs `action` at `time` (after the packets already due then), then services every node.
    public func schedule(at time: Instant, _ action: @escaping (Harness) throws -> Void) {
        let id = sequence
        actions[id] = action
        push(max(time, now), .action(id))
    }

    func scheduleWake(node: Int, at time: Instant) {
        let t = max(time, now).nanoseconds
        guard !pendingWakes[node].contains(t) else { return }
        pendingWakes[node].insert(t)
        push(Instant(nanoseconds: t), .wake(node))
    }

    /// The deterministic initial-sequence-number function the harness gives its endpoints:
    /// a hash of the seed and the 4-tuple (RFC 9293 §3.4.1 without the clock; tests want
    /// repeatable runs).
    public static func seededISN(_ seed: UInt64) -> @Sendable (FourTuple, Instant) -> SequenceNumber {
        { tuple, _ in
            let a = UInt64(tuple.local.address.rawValue) << 32 | UInt64(tuple.remote.address.rawValue)
            let p = UInt64(tuple.local.port) << 16 | UInt64(tuple.remote.port)
            return SequenceNumber(UInt32(truncatingIfNeeded: SplitMix64.mix(seed ^ SplitMix64.mix(a) ^ SplitMix64.mix(p &+ 1))))
        }
    }

    // MARK: - Capture

    /// Writes every packet, with its virtual timestamp, to a pcap file (link type RAW) where it
    /// leaves its sender: before the link's impairments, so dropped packets appear too.
    public func captureDepartures(to path: String, snapLength: Int = 65535) throws {
        try departureCapture?.close()
        departureCapture = try PcapWriter(path: path, snapLength: snapLength)
    }

    /// Writes every packet where it arrives: after the link's impairments (lost packets are
    /// missing, duplicates twice, corrupted copies with their flipped bit).
    public func captureArrivals(to path: String, snapLength: Int = 65535) throws {
        try arrivalCapture?.close()
        arrivalCapture = try PcapWriter(path: path, snapLength: snapLength)
    }

    /// Flushes and closes the captures (also done when the harness is freed).
    public func closeCaptures() throws {
        try departureCapture?.close()
        try arrivalCapture?.close()
        departureCapture = nil
        arrivalCapture = nil
    }

    // MARK: - Running

    /// The time of the earliest thing due, or `nil` when nothing is.
    public var nextEventTime: Instant? {
        markAllStale()
        return earliestEventTime
    }

    private var earliestEventTime: Instant? {
        var t = queue.min?.time ?? .max
        for n in nodes {
            let d = deadline(of: n)
            if d != .max { t = min(t, max(d, now.nanoseconds)) }
        }
        return t == .max ? nil : Instant(nanoseconds: t)
    }

    /// The node's `nextDeadline` in nanoseconds (`Int64.max`: none), read again only when the
    /// node may have changed.
    private func deadline(of n: HarnessNode) -> Int64 {
        if deadlineStale[n.id] || !options.cacheDeadlines {
            deadlines[n.id] = n.packetNode.nextDeadline?.nanoseconds ?? .max
            deadlineStale[n.id] = false
        }
        return deadlines[n.id]
    }

    private func markAllStale() {
        for i in deadlineStale.indices { deadlineStale[i] = true }
    }

    /// Processes the earliest thing due; returns `false` when nothing is left.
    @discardableResult
    public func step() throws -> Bool {
        markAllStale()
        if needsFlush {
            needsFlush = false
            try flush()
        }
        defer { needsFlush = true }
        return try stepOnce()
    }

    /// Steps until every event at or before `deadline` has been processed, then sets `now` to
    /// `deadline`.
    public func run(until deadline: Instant) throws {
        markAllStale()
        if needsFlush { needsFlush = false; try flush() }
        defer { needsFlush = true }
        var count = 0
        while let t = earliestEventTime, t <= deadline {
            try stepOnce()
            count += 1
            if count > options.maxEvents { throw HarnessError.eventLimitExceeded(limit: options.maxEvents, at: now) }
        }
        if deadline > now { now = deadline }
    }

    /// Runs for `duration` of virtual time.
    public func run(for duration: Duration) throws {
        try run(until: now + duration)
    }

    /// Steps until `condition` holds. Throws `.idle` if nothing is left to do first,
    /// `.timeLimitExceeded` if it does not hold within `timeLimit` of virtual time (default
    /// `options.defaultTimeLimit`), `.eventLimitExceeded` past `options.maxEvents` steps.
    public func run(until condition: (Harness) throws -> Bool, timeLimit: Duration? = nil,
                    _ what: @autoclosure () -> String = "the run condition") throws {
        if needsFlush { needsFlush = false; try flush() }
        defer { needsFlush = true }
        let limit = now + (timeLimit ?? options.defaultTimeLimit)
        var count = 0
        // The condition may call endpoints: every node is read again after it.
        while try !condition(self) {
            guard let t = nextEventTime else { throw HarnessError.idle(at: now, waitingFor: what()) }
            if t > limit {
                now = limit
                throw HarnessError.timeLimitExceeded(limit: limit, at: now, waitingFor: what())
            }
            try stepOnce()
            count += 1
            if count > options.maxEvents { throw HarnessError.eventLimitExceeded(limit: options.maxEvents, at: now) }
        }
    }

    /// Steps while `condition` holds (see `run(until:timeLimit:)`).
    public func run(while condition: (Harness) throws -> Bool, timeLimit: Duration? = nil,
                    _ what: @autoclosure () -> String = "the run condition to end") throws {
        try run(until: { try !condition($0) }, timeLimit: timeLimit, what())
    }

    /// Steps until nothing is left to do (no packet in flight, no deadline, no wakeup).
    public func runUntilIdle(timeLimit: Duration? = nil) throws {
        try run(until: { $0.nextEventTime == nil }, timeLimit: timeLimit, "idleness")
    }

    /// Services every node: drains the packets and events that direct calls caused.
    public func flush() throws {
        for n in nodes { try service(n) }
    }

    @discardableResult
    private func stepOnce() throws -> Bool {
        var bestNode = -1
        var bestTime = Int64.max
        for n in nodes {
            let d = deadline(of: n)
            if d < bestTime {
                bestTime = d
                bestNode = n.id
            }
        }
        if let event = queue.min, event.time <= bestTime || event.time <= now.nanoseconds {
            _ = queue.popMin()
            try advance(to: event.time)
            try process(event)
        } else if bestNode >= 0 {
            try advance(to: bestTime)
            try service(nodes[bestNode])
        } else {
            return false
        }
        stepsTaken += 1
        if options.checkNodeInvariants {
            for n in nodes {
                let v = n.packetNode.checkInvariants()
                if !v.isEmpty { throw HarnessError.invariantViolated(node: n.name, at: now, violations: v) }
            }
        }
        return true
    }

    private func advance(to t: Int64) throws {
        if t > now.nanoseconds {
            now = Instant(nanoseconds: t)
            stepsAtThisInstant = 0
        } else {
            stepsAtThisInstant += 1
            if stepsAtThisInstant > options.maxStepsAtOneInstant {
                throw HarnessError.stalled(node: "harness", at: now)
            }
        }
    }

    private func process(_ event: ScheduledEvent) throws {
        switch event.kind {
        case let .arrival(linkIndex, slot, corrupted, duplicate):
            let link = links[linkIndex]
            let bytes = UnsafeRawBufferPointer(pool.bytes(slot))
            defer { pool.release(slot) }
            link.countDelivered(bytes.count)
            try record(bytes, link: link, point: .arrival, dropReason: nil, corrupted: corrupted, duplicate: duplicate)
            link.to.packetNode.receive(bytes, at: now)
            deadlineStale[link.to.id] = true
            try service(link.to)
        case let .wake(node):
            pendingWakes[node].remove(event.time)
            try service(nodes[node])
        case let .action(id):
            if let action = actions.removeValue(forKey: id) {
                try action(self)
                try flush()
            }
        }
    }

    // MARK: - Servicing a node (Endpoint's call order)

    func service(_ node: HarnessNode) throws {
        defer { deadlineStale[node.id] = true }
        let context = node.endpoint.map { NodeContext(harness: self, node: node, endpoint: $0) }
        var rounds = 0
        while true {
            rounds += 1
            if rounds > maxServiceRounds { throw HarnessError.stalled(node: node.name, at: now) }
            if deadline(of: node) <= now.nanoseconds {
                node.packetNode.handleTimeout(at: now)
            }
            deadlineStale[node.id] = true
            var active = try drainTransmit(node) > 0
            if let context, let endpoint = node.endpoint {
                while let event = endpoint.pollEvent() {
                    active = true
                    node.record(event, at: now)
                    if options.computeDigest { hashEvent(event, node: node.id) }
                    try node.onEvent?(event, context)
                    for app in node.applications { try app.handle(event, context) }
                }
                for app in node.applications where try app.poll(context) { active = true }
                try node.onService?(context)
            }
            if !active, try drainTransmit(node) == 0 { break }
        }
    }

    private func drainTransmit(_ node: HarnessNode) throws -> Int {
        var count = 0
        while let n = node.packetNode.pollTransmit(into: scratch, at: now) {
            count += 1
            if count > maxPacketsPerDrain { throw HarnessError.stalled(node: node.name, at: now) }
            guard n > 0, n <= scratch.count else {
                unroutable += 1
                continue
            }
            try send(from: node, UnsafeRawBufferPointer(rebasing: scratch[0..<n]))
        }
        return count
    }

    private func send(from node: HarnessNode, _ bytes: UnsafeRawBufferPointer) throws {
        guard let destination = ipv4Destination(bytes),
              let to = nodeByAddress[destination],
              let linkIndex = linkByPair[node.id << 32 | to] else {
            unroutable += 1
            return
        }
        let link = links[linkIndex]
        var violation: String?
        if options.checkWireInvariants, node.checksWindowEdges, let segment = SegmentInfo(bytes) {
            violation = monitor.departure(segment)
        }
        departureCapture?.write(bytes, timestamp: now)
        let outcome = link.offer(PacketRecord(time: now, point: .departure, link: link, bytes: bytes,
                                              segment: link.dropFilter == nil ? nil : SegmentInfo(bytes),
                                              dropReason: nil, corrupted: false, duplicate: false),
                                 now: now)
        var dropReason: DropReason?
        if case let .dropped(reason) = outcome { dropReason = reason }
        try record(bytes, link: link, point: .departure, dropReason: dropReason, corrupted: false, duplicate: false)
        if case let .deliver(first, second) = outcome {
            enqueue(bytes, on: link, first)
            if let second { enqueue(bytes, on: link, second) }
        }
        if let violation { throw HarnessError.wireInvariantViolated(at: now, message: violation) }
    }

    private func enqueue(_ bytes: UnsafeRawBufferPointer, on link: SimulatedLink, _ delivery: SimulatedLink.Delivery) {
        let slot = pool.store(bytes)
        if let bit = delivery.corruptBit {
            pool.bytes(slot)[bit >> 3] ^= UInt8(1) << UInt8(bit & 7)
        }
        push(Instant(nanoseconds: delivery.arrival),
             .arrival(link: link.index, slot: slot, corrupted: delivery.corruptBit != nil, duplicate: delivery.duplicate))
    }

    /// Observers, the arrival capture, the wire monitor and the digest see every packet here.
    private func record(_ bytes: UnsafeRawBufferPointer, link: SimulatedLink, point: CapturePoint,
                        dropReason: DropReason?, corrupted: Bool, duplicate: Bool) throws {
        if options.computeDigest {
            var h = digest
            h = fnv(h, UInt64(bitPattern: now.nanoseconds))
            h = fnv(h, UInt64(link.index) << 8 | (point == .arrival ? 1 : 0) << 4
                    | UInt64(dropReason?.code ?? 0))
            for b in bytes { h = (h ^ UInt64(b)) &* fnvPrime }
            digest = h
        }
        if point == .arrival {
            arrivalCapture?.write(bytes, timestamp: now)
            // What the receiver accepts teaches the monitor: a packet whose checksum fails
            // (corrupted on a link, or injected so) is dropped there, window and options too.
            if !corrupted, options.checkWireInvariants, let s = SegmentInfo(bytes),
               (try? IPv4TCPPacket.parse(bytes))?.verifyChecksums(in: bytes).isValid == true {
                monitor.arrival(s)
            }
        }
        guard !observers.isEmpty else { return }
        let r = PacketRecord(time: now, point: point, link: link, bytes: bytes, segment: SegmentInfo(bytes),
                             dropReason: dropReason, corrupted: corrupted, duplicate: duplicate)
        for o in observers { o(r) }
    }

    private func hashEvent(_ event: EndpointEvent, node: Int) {
        let code: UInt64
        let id: ConnectionID?
        switch event {
        case let .connected(c): code = 1; id = c
        case let .acceptable(port): code = 2 | UInt64(port) << 8; id = nil
        case let .readable(c): code = 3; id = c
        case let .writable(c): code = 4; id = c
        case let .closed(c, _): code = 5; id = c
        case let .reset(c): code = 6; id = c
        }
        var h = fnv(digest, UInt64(bitPattern: now.nanoseconds))
        h = fnv(h, code | UInt64(node) << 32)
        if let id { h = fnv(h, UInt64(id.index) << 32 | UInt64(id.generation)) }
        digest = h
    }

    private func push(_ time: Instant, _ kind: ScheduledEvent.Kind) {
        queue.insert(ScheduledEvent(time: time.nanoseconds, sequence: sequence, kind: kind))
        sequence += 1
    }

    /// Packet slots ever allocated for packets in flight (a high-water mark).
    public var packetStorageSlots: Int { pool.capacity }

    /// Zero-window probes the wire check allowed past the right edge, and data segments checked.
    public var wireCheckCounts: (checked: Int, probesAllowed: Int) { (monitor.checkedSegments, monitor.probesAllowed) }
}

@available(*, unavailable)
extension Harness: Sendable {}

/// One entry of the event queue, ordered by time, then by the order it was scheduled.
struct ScheduledEvent: Comparable {
    enum Kind {
        case arrival(link: Int, slot: Int, corrupted: Bool, duplicate: Bool)
        case wake(Int)
        case action(UInt64)
    }
    var time: Int64
    var sequence: UInt64
    var kind: Kind

    static func < (a: ScheduledEvent, b: ScheduledEvent) -> Bool {
        a.time != b.time ? a.time < b.time : a.sequence < b.sequence
    }
    static func == (a: ScheduledEvent, b: ScheduledEvent) -> Bool {
        a.time == b.time && a.sequence == b.sequence
    }
}

@inline(__always) private func fnv(_ h: UInt64, _ v: UInt64) -> UInt64 {
    var h = h
    var v = v
    for _ in 0..<8 {
        h = (h ^ (v & 0xff)) &* fnvPrime
        v >>= 8
    }
    return h
}

private let fnvOffset: UInt64 = 0xcbf2_9ce4_8422_2325
private let fnvPrime: UInt64 = 0x0000_0100_0000_01b3

/// Large enough for any IPv4 packet (total length is 16 bits).
private let scratchSize = 65_535
/// Default step budget of one `run` call: far above a 1 GiB transfer (~1.5 M steps).
private let defaultMaxEvents = 100_000_000
/// Default virtual-time budget of `run(until: condition)`: longer than any RTO backoff chain
/// a test would wait through (RFC 6298 caps RTO at ≥ 60 s).
private let defaultRunTimeLimit: Duration = .seconds(3600)
/// Far more steps at one instant than any legitimate burst (a window of 64 KiB segments).
private let defaultMaxStepsAtOneInstant = 1_000_000
/// Service rounds of one node at one step before it is declared stalled.
private let maxServiceRounds = 100_000
/// Packets one `pollTransmit` drain may produce: above a 16 MiB window of 1460-byte segments.
private let maxPacketsPerDrain = 1_000_000
