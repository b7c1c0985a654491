import SluiceCore
import SluiceHarness

/// A sender and a receiver joined by a link each way, with a bulk sender and a (throttled)
/// bulk receiver, and a per-packet log of what each side sent, for the flow-control scenarios
/// of issue 5.
final class FlowScenario {
    static let senderAddress = IPv4Address(10, 5, 0, 1)
    static let receiverAddress = IPv4Address(10, 5, 0, 2)
    static let port: UInt16 = 5001

    /// One packet as it left its sender.
    struct Departure {
        var time: Instant
        var segment: SegmentInfo
        var dropped: Bool
    }

    let net: Harness
    let sender: HarnessNode
    let receiver: HarnessNode
    let forward: SimulatedLink
    let backward: SimulatedLink
    let bulkSender: BulkSender
    let bulkReceiver: BulkReceiver
    let count: Int
    /// Packets the sender / the receiver sent (data direction / ACK direction), in order.
    private(set) var senderDepartures: [Departure] = []
    private(set) var receiverDepartures: [Departure] = []
    /// The receive window shift the receiver announced (from its SYN-ACK), 0 if none.
    private(set) var receiverShift = 0
    private(set) var senderOfferedScale = false

    init(seed: UInt64, count: Int, link: LinkConfig, backward: LinkConfig? = nil,
         readPolicy: ReadPolicy = .greedy,
         sender configureSender: (inout ConnectionConfig) -> Void = { _ in },
         receiver configureReceiver: (inout ConnectionConfig) -> Void = { _ in },
         keepLog: Bool = true) throws {
        self.count = count
        var options = Harness.Options()
        options.maxEvents = 50_000_000
        options.computeDigest = false
        net = Harness(seed: seed, options: options)
        sender = net.addEndpoint("sender", address: Self.senderAddress) { configureSender(&$0.connection) }
        receiver = net.addEndpoint("receiver", address: Self.receiverAddress) { configureReceiver(&$0.connection) }
        (forward, self.backward) = net.connect(sender, receiver, link, backward: backward)
        let stream = ByteStream(seed: seed)
        bulkReceiver = BulkReceiver(.accept(port: Self.port), expecting: stream, count: count, policy: readPolicy)
        bulkSender = BulkSender(.connect(to: SocketAddress(Self.receiverAddress, Self.port)), count: count, stream: stream)
        if keepLog {
            net.observe { [unowned self] record in
                guard record.point == .departure, let s = SegmentInfo(record.bytes) else { return }
                let d = Departure(time: record.time, segment: s, dropped: record.dropReason != nil)
                if record.from === self.sender {
                    if s.flags.contains(.syn) { self.senderOfferedScale = s.windowScale != nil }
                    self.senderDepartures.append(d)
                } else {
                    if s.flags.contains(.syn), let ws = s.windowScale, self.senderOfferedScale { self.receiverShift = Int(ws) }
                    self.receiverDepartures.append(d)
                }
            }
        }
        try net.attach(bulkReceiver, to: receiver)
        try net.attach(bulkSender, to: sender)
    }

    var senderStats: ConnectionStats? { bulkSender.connection.flatMap { sender.endpoint?.stats(of: $0) } }
    var receiverStats: ConnectionStats? { bulkReceiver.connection.flatMap { receiver.endpoint?.stats(of: $0) } }

    /// Runs until the receiver has read every byte and the peer's FIN.
    func runToCompletion(timeLimit: Duration) throws {
        try net.run(until: { [unowned self] _ in self.bulkReceiver.isComplete }, timeLimit: timeLimit, "the transfer to complete")
    }

    /// The right edge (ACK + scaled window) of each non-SYN ACK the receiver sent.
    var advertisedEdges: [(time: Instant, edge: SequenceNumber, window: Int, dropped: Bool)] {
        receiverDepartures.compactMap { d in
            let s = d.segment
            guard s.flags.contains(.ack), !s.flags.contains(.syn), !s.flags.contains(.rst) else { return nil }
            let w = Int(s.window) << receiverShift
            return (d.time, s.acknowledgmentNumber + w, w, d.dropped)
        }
    }

    /// Data segments the sender sent (payload > 0).
    var dataDepartures: [Departure] { senderDepartures.filter { $0.segment.payloadLength > 0 } }
}

extension Duration {
    var ms: Double { secondsDouble * 1000 }
}

extension PacketFilters {
    /// Drops the first window-opening ACK (window > 0, not a SYN) the receiver sends at or
    /// after `time`: a lost window update.
    static func dropFirstWindowOpening(after time: Instant) -> (PacketRecord) -> Bool {
        dropFirst(1) { r in
            guard r.time >= time, let seg = r.segment else { return false }
            return seg.window > 0 && !seg.flags.contains(.syn)
        }
    }
}

extension FlowScenario {
    /// A lost window update: a 5 ms, 100 Mbit/s link; a 64 KiB receive buffer read 64 KiB every
    /// 100 ms, the reader paused from `pauseStart` to `pauseEnd`; the first window-opening ACK
    /// at or after `pauseEnd` dropped. `configureReceiver` runs after the 64 KiB buffer is set.
    static func lostWindowUpdate(seed: UInt64, count: Int, pauseStart: Instant, pauseEnd: Instant,
                                 sender configureSender: (inout ConnectionConfig) -> Void = { _ in },
                                 receiver configureReceiver: (inout ConnectionConfig) -> Void = { _ in }) throws -> FlowScenario {
        let s = try FlowScenario(
            seed: seed, count: count,
            link: LinkConfig(latency: .milliseconds(5), rate: 100_000_000),
            readPolicy: .throttled(64 * 1024, every: .milliseconds(100),
                                   pauses: [ReadPause(at: pauseStart, for: pauseEnd - pauseStart)]),
            sender: configureSender,
            receiver: { $0.receiveBufferSize = 64 * 1024; configureReceiver(&$0) })
        s.backward.dropFilter = PacketFilters.dropFirstWindowOpening(after: pauseEnd)
        return s
    }
}
