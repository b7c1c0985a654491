import SluiceRandom
import DequeModule
import SluiceCore

/// A simulated one-way link between two harness nodes. Tests read `counters`, and may change
/// `config` or install `dropFilter` at any time (the change applies to packets offered later).
/// Not thread-safe.
public final class SimulatedLink {
    public let index: Int
    public let from: HarnessNode
    public let to: HarnessNode
    public var config: LinkConfig
    public private(set) var counters = LinkCounters()

    /// Called for each packet offered to the link (after the MTU check); returning `true` drops
    /// it with reason `.filter`. See `PacketFilters` for ready-made ones.
    public var dropFilter: ((PacketRecord) -> Bool)?

    var random: Xoshiro256
    /// Time at which the serializer finishes the last queued packet.
    private var busyUntil: Int64 = .min
    /// Completion times and sizes of the packets in the queue (including the one on the wire).
    private var queue = Deque<(done: Int64, length: Int)>()
    private var queuedBytes = 0

    init(index: Int, from: HarnessNode, to: HarnessNode, config: LinkConfig, seed: UInt64) {
        self.index = index
        self.from = from
        self.to = to
        self.config = config
        self.random = Xoshiro256(seed: SplitMix64.mix(seed ^ SplitMix64.mix(UInt64(from.id) << 32 | UInt64(to.id))))
    }

    /// Bytes (including the packet being serialized) waiting in the queue at the last offer.
    public var queueBytes: Int { queuedBytes }

    /// One delivery the link has decided: when the copy arrives and what happened to it.
    struct Delivery {
        var arrival: Int64
        var corruptBit: Int?
        var duplicate: Bool
    }

    enum Outcome {
        case dropped(DropReason)
        case deliver(Delivery, Delivery?)
    }

    /// Decides the fate of a packet offered at `now`.
    func offer(_ record: PacketRecord, now: Instant) -> Outcome {
        let length = record.bytes.count
        counters.sent += 1
        counters.sentBytes += length
        if let mtu = config.mtu, length > mtu { return drop(.mtu) }
        if let filter = dropFilter, filter(record) { return drop(.filter) }
        if random.chance(config.lossProbability) { return drop(.loss) }

        var departure = now.nanoseconds
        if let rate = config.rate, rate > 0 {
            while let head = queue.first, head.done <= now.nanoseconds {
                queue.removeFirst()
                queuedBytes -= head.length
            }
            switch config.queueLimit {
            case .unlimited: break
            case .bytes(let limit): if queuedBytes + length > limit { return drop(.queue) }
            case .packets(let limit): if queue.count + 1 > limit { return drop(.queue) }
            }
            let start = max(now.nanoseconds, busyUntil)
            // Serialization time, rounded up to whole nanoseconds.
            let bits = Int64(length) * 8
            let ns = (bits * 1_000_000_000 + Int64(rate) - 1) / Int64(rate)
            busyUntil = start + ns
            queue.append((busyUntil, length))
            queuedBytes += length
            counters.queuePeakBytes = max(counters.queuePeakBytes, queuedBytes)
            counters.queuePeakPackets = max(counters.queuePeakPackets, queue.count)
            departure = busyUntil
        }
        var arrival = departure + config.latency.nanosecondsClamped
        if random.chance(config.reorderProbability) {
            arrival += config.reorderDelay.nanosecondsClamped
            counters.reordered += 1
        }
        let first = Delivery(arrival: arrival, corruptBit: corruptBit(length), duplicate: false)
        var second: Delivery?
        if random.chance(config.duplicateProbability) {
            counters.duplicated += 1
            second = Delivery(arrival: arrival, corruptBit: corruptBit(length), duplicate: true)
        }
        return .deliver(first, second)
    }

    private func corruptBit(_ length: Int) -> Int? {
        guard length > 0, random.chance(config.corruptProbability) else { return nil }
        counters.corrupted += 1
        return random.below(length * 8)
    }

    private func drop(_ reason: DropReason) -> Outcome {
        counters.countDrop(reason)
        return .dropped(reason)
    }

    func countDelivered(_ length: Int) {
        counters.delivered += 1
        counters.deliveredBytes += length
    }
}

@available(*, unavailable)
extension SimulatedLink: Sendable {}

/// Ready-made drop filters.
public enum PacketFilters {
    /// Drops the first `count` packets that satisfy `predicate` (default: one), then none.
    public static func dropFirst(_ count: Int = 1, where predicate: @escaping (PacketRecord) -> Bool) -> (PacketRecord) -> Bool {
        var remaining = count
        return { record in
            guard remaining > 0, predicate(record) else { return false }
            remaining -= 1
            return true
        }
    }

    /// Drops the first window update that reopens a zero window: the first segment on the link
    /// without payload, SYN, FIN or RST whose window is above zero, sent after a segment on the
    /// link advertised a zero window (issue 5: "the window update that follows a zero window is
    /// dropped by the link"). Install it on the link from the receiver to the sender.
    public static func dropFirstWindowReopening() -> (PacketRecord) -> Bool {
        var sawZeroWindow = false
        var done = false
        return { record in
            guard !done, let s = record.segment, s.flags.contains(.ack),
                  s.flags.isDisjoint(with: [.syn, .fin, .rst]) else { return false }
            if s.window == 0 {
                sawZeroWindow = true
                return false
            }
            guard sawZeroWindow, s.payloadLength == 0 else { return false }
            done = true
            return true
        }
    }

    /// Drops the packets whose 1-based position among those offered to the link is in `positions`.
    public static func dropOffered(_ positions: Set<Int>) -> (PacketRecord) -> Bool {
        var n = 0
        return { _ in
            n += 1
            return positions.contains(n)
        }
    }
}
