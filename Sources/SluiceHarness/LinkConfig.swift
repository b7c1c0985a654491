import SluiceCore

/// How a simulated one-way link treats the packets offered to it.
///
/// The order of operations for each packet is: MTU check, drop filter, random loss, the
/// drop-tail queue and serialization at `rate`, propagation `latency`, then reordering (extra
/// delay), corruption (one bit flipped) and duplication (a second copy arriving right after).
public struct LinkConfig: Sendable, Hashable {
    /// One-way propagation delay.
    public var latency: Duration
    /// Serialization rate in bits per second; `nil` is infinitely fast (no queue forms).
    public var rate: Int?
    /// Drop-tail queue limit, counting the packet being serialized. Only meaningful with `rate`.
    public var queueLimit: QueueLimit
    /// Probability that a packet is lost (independent per packet).
    public var lossProbability: Double
    /// Largest IP packet (total length) the link carries; larger packets are dropped and counted.
    public var mtu: Int?
    /// Probability that a packet is held back by `reorderDelay`, so that later packets overtake it.
    public var reorderProbability: Double
    /// The extra delay given to a reordered packet.
    public var reorderDelay: Duration
    /// Probability that a packet is delivered twice.
    public var duplicateProbability: Double
    /// Probability that a delivered copy has exactly one bit flipped (uniform over its bits).
    /// Every single-bit error is caught by the IPv4 or TCP checksum, so the receiver must drop it.
    public var corruptProbability: Double

    public init(
        latency: Duration = .zero,
        rate: Int? = nil,
        queueLimit: QueueLimit = .unlimited,
        lossProbability: Double = 0,
        mtu: Int? = nil,
        reorderProbability: Double = 0,
        reorderDelay: Duration = .zero,
        duplicateProbability: Double = 0,
        corruptProbability: Double = 0
    ) {
        self.latency = latency
        self.rate = rate
        self.queueLimit = queueLimit
        self.lossProbability = lossProbability
        self.mtu = mtu
        self.reorderProbability = reorderProbability
        self.reorderDelay = reorderDelay
        self.duplicateProbability = duplicateProbability
        self.corruptProbability = corruptProbability
    }

    /// No delay, no limits, no impairments.
    public static let ideal = LinkConfig()
}

/// A drop-tail queue bound.
public enum QueueLimit: Sendable, Hashable {
    case unlimited
    case bytes(Int)
    case packets(Int)
}

/// Why a link dropped a packet.
public enum DropReason: Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// Larger than the link's MTU.
    case mtu
    /// A drop filter (test hook) asked for it.
    case filter
    /// Random loss.
    case loss
    /// The drop-tail queue was full.
    case queue

    /// A small stable number for digests.
    var code: Int {
        switch self {
        case .mtu: 1
        case .filter: 2
        case .loss: 3
        case .queue: 4
        }
    }

    public var description: String {
        switch self {
        case .mtu: "mtu"
        case .filter: "filter"
        case .loss: "loss"
        case .queue: "queue"
        }
    }
}

/// Per-link counters, readable by tests at any time.
public struct LinkCounters: Sendable, Hashable, CustomStringConvertible {
    /// Packets offered to the link by its sender (before any drop).
    public var sent = 0
    public var sentBytes = 0
    public var droppedMTU = 0
    public var droppedFilter = 0
    public var droppedLoss = 0
    public var droppedQueue = 0
    /// Extra copies created by duplication.
    public var duplicated = 0
    /// Copies delivered with one bit flipped.
    public var corrupted = 0
    /// Packets given the reordering delay.
    public var reordered = 0
    /// Copies handed to the receiving node (including duplicates and corrupted copies).
    public var delivered = 0
    public var deliveredBytes = 0
    /// The most bytes / packets ever waiting in (or being serialized from) the queue.
    public var queuePeakBytes = 0
    public var queuePeakPackets = 0

    public init() {}

    public var dropped: Int { droppedMTU + droppedFilter + droppedLoss + droppedQueue }

    public func dropped(_ reason: DropReason) -> Int {
        switch reason {
        case .mtu: droppedMTU
        case .filter: droppedFilter
        case .loss: droppedLoss
        case .queue: droppedQueue
        }
    }

    mutating func countDrop(_ reason: DropReason) {
        switch reason {
        case .mtu: droppedMTU += 1
        case .filter: droppedFilter += 1
        case .loss: droppedLoss += 1
        case .queue: droppedQueue += 1
        }
    }

    public var description: String {
        "sent=\(sent) delivered=\(delivered) dropped(mtu=\(droppedMTU) filter=\(droppedFilter) loss=\(droppedLoss) queue=\(droppedQueue)) dup=\(duplicated) corrupt=\(corrupted) reorder=\(reordered) queuePeak=\(queuePeakBytes)B/\(queuePeakPackets)p"
    }
}
