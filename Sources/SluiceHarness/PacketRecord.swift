import SluiceCore

/// Where on its link the harness saw a packet.
public enum CapturePoint: Sendable, Hashable {
    /// Leaving its sender, before the link's impairments (every packet sent, dropped or not).
    case departure
    /// Handed to the receiving node, after the link's impairments (corrupted copies included).
    case arrival
}

/// One packet as seen by an observer or a drop filter. `bytes` is valid only during the call.
public struct PacketRecord {
    public var time: Instant
    public var point: CapturePoint
    public var link: SimulatedLink
    /// The whole IPv4 packet.
    public var bytes: UnsafeRawBufferPointer
    /// The TCP fields, when the packet is IPv4/TCP (read without checksum validation).
    public var segment: SegmentInfo?
    /// At departure: the link's decision (`nil` for drop filters, which run before it).
    public var dropReason: DropReason?
    /// At arrival: this copy has one bit flipped.
    public var corrupted: Bool
    /// At arrival: this copy is the link's duplicate.
    public var duplicate: Bool

    /// The full decode by the wire layer (`nil` when the bytes are not an IPv4/TCP packet).
    public var packet: IPv4TCPPacket? { try? IPv4TCPPacket.parse(bytes) }

    public var from: HarnessNode { link.from }
    public var to: HarnessNode { link.to }
}

@available(*, unavailable)
extension PacketRecord: Sendable {}
