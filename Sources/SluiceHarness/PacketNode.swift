import SluiceCore

/// What the harness drives: the driver half of `Endpoint`'s contract. `Endpoint` conforms;
/// tests may supply their own (a raw packet injector, a fake peer) to exercise the links, or to
/// send hand-made segments at an endpoint.
public protocol PacketNode: AnyObject {
    /// Processes one received IPv4 packet.
    func receive(_ packet: UnsafeRawBufferPointer, at now: Instant)
    /// Writes the next outgoing IPv4 packet into `buffer` and returns its length, or `nil`.
    func pollTransmit(into buffer: UnsafeMutableRawBufferPointer, at now: Instant) -> Int?
    /// The earliest time at which `handleTimeout` has work.
    var nextDeadline: Instant? { get }
    /// Runs the timers due at `now`.
    func handleTimeout(at now: Instant)
    /// Violations of the node's invariants (empty when all hold).
    func checkInvariants() -> [String]
}

extension Endpoint: PacketNode {}

/// A node that sends packets a test queues and records every packet it receives: for link
/// tests without an engine, and for injecting hand-made (or hostile) segments at an endpoint.
public final class RawPacketNode: PacketNode {
    /// Packets waiting to leave, with the earliest time each may leave.
    private var outbox: [(at: Instant, bytes: [UInt8])] = []
    /// Every packet received, with its arrival time, in arrival order.
    public private(set) var received: [(at: Instant, bytes: [UInt8])] = []
    /// Called on each received packet; may queue replies with `send`.
    public var onReceive: ((RawPacketNode, [UInt8], Instant) -> Void)?

    public init() {}

    /// Queues `bytes` to leave at `time` (or at once, when `time` is `nil` or past).
    /// Packets queued for the same time leave in the order queued.
    public func send(_ bytes: [UInt8], at time: Instant? = nil) {
        let t = time ?? .zero
        var i = outbox.count
        while i > 0 && t < outbox[i - 1].at { i -= 1 }
        outbox.insert((t, bytes), at: i)
    }

    public func receive(_ packet: UnsafeRawBufferPointer, at now: Instant) {
        let bytes = Array(packet)
        received.append((now, bytes))
        onReceive?(self, bytes, now)
    }

    public func pollTransmit(into buffer: UnsafeMutableRawBufferPointer, at now: Instant) -> Int? {
        guard let first = outbox.first, first.at <= now else { return nil }
        outbox.removeFirst()
        // Copy inside `withUnsafeBytes`: after `removeFirst`, `first` holds the only reference
        // to the array, and an optimized build frees it as soon as it is last used, so a pointer
        // taken out of the closure (`withUnsafeBytes { $0 }`) reads freed memory.
        let n = min(first.bytes.count, buffer.count)
        first.bytes.withUnsafeBytes { source in
            buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[0..<n]))
        }
        return n
    }

    public var nextDeadline: Instant? { outbox.first?.at }

    public func handleTimeout(at now: Instant) {}

    public func checkInvariants() -> [String] { [] }
}

@available(*, unavailable)
extension RawPacketNode: Sendable {}
