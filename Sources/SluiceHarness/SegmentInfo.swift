import SluiceCore

/// The TCP fields the harness reads from a packet by fixed offsets, without validating
/// checksums or options beyond what it needs (RFC 791 §3.1, RFC 9293 §3.1, RFC 7323 §2.2).
/// Good enough for hooks and the harness's own invariant checks; for a full decode use the
/// wire layer's parser on `PacketRecord.bytes`.
public struct SegmentInfo: Sendable, Hashable, CustomStringConvertible {
    public var source: SocketAddress
    public var destination: SocketAddress
    public var sequenceNumber: SequenceNumber
    public var acknowledgmentNumber: SequenceNumber
    public var flags: TCPFlags
    /// The raw (unscaled) window field.
    public var window: UInt16
    public var payloadLength: Int
    /// Offset of the payload in the packet.
    public var payloadOffset: Int
    /// The window-scale option's shift, when present (SYN segments).
    public var windowScale: UInt8?
    /// The MSS option, when present (SYN segments).
    public var maximumSegmentSize: UInt16?

    /// Reads the fields; `nil` for anything that is not a well-formed-enough IPv4/TCP packet.
    public init?(_ p: UnsafeRawBufferPointer) {
        guard p.count >= 40, p[0] >> 4 == 4, p[9] == 6 else { return nil }
        let ihl = Int(p[0] & 0x0f) * 4
        let total = Int(p[2]) << 8 | Int(p[3])
        guard ihl >= 20, total <= p.count, total >= ihl + 20 else { return nil }
        let t = ihl
        let doff = Int(p[t + 12] >> 4) * 4
        guard doff >= 20, t + doff <= total else { return nil }
        func u16(_ i: Int) -> UInt16 { UInt16(p[i]) << 8 | UInt16(p[i + 1]) }
        func u32(_ i: Int) -> UInt32 {
            UInt32(p[i]) << 24 | UInt32(p[i + 1]) << 16 | UInt32(p[i + 2]) << 8 | UInt32(p[i + 3])
        }
        source = SocketAddress(IPv4Address(rawValue: u32(12)), u16(t))
        destination = SocketAddress(IPv4Address(rawValue: u32(16)), u16(t + 2))
        sequenceNumber = SequenceNumber(u32(t + 4))
        acknowledgmentNumber = SequenceNumber(u32(t + 8))
        flags = TCPFlags(rawValue: p[t + 13])
        window = u16(t + 14)
        payloadOffset = t + doff
        payloadLength = total - t - doff
        windowScale = nil
        maximumSegmentSize = nil
        var i = t + 20
        let end = t + doff
        while i < end {
            let kind = p[i]
            if kind == 0 { break }
            if kind == 1 { i += 1; continue }
            guard i + 1 < end else { break }
            let len = Int(p[i + 1])
            guard len >= 2, i + len <= end else { break }
            if kind == 3, len == 3 { windowScale = p[i + 2] }
            if kind == 2, len == 4 { maximumSegmentSize = u16(i + 2) }
            i += len
        }
    }

    /// Sequence space the segment occupies: payload plus one for SYN and one for FIN.
    public var sequenceLength: Int {
        payloadLength + (flags.contains(.syn) ? 1 : 0) + (flags.contains(.fin) ? 1 : 0)
    }

    public var description: String {
        "\(source)>\(destination) [\(flags)] seq=\(sequenceNumber) ack=\(acknowledgmentNumber) win=\(window) len=\(payloadLength)"
    }
}

/// Reads the IPv4 destination address (bytes 16–19) without further checks.
@inlinable
func ipv4Destination(_ p: UnsafeRawBufferPointer) -> IPv4Address? {
    guard p.count >= 20 else { return nil }
    return IPv4Address(rawValue: UInt32(p[16]) << 24 | UInt32(p[17]) << 16 | UInt32(p[18]) << 8 | UInt32(p[19]))
}
