import CPcap

/// Why the reader passed over a frame. Skipping is never fatal: each reason is counted.
public enum PcapSkipReason: Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// The frame carries something other than IPv4 (ARP, IPv6, LLDP, ...).
    case notIPv4
    /// IPv4, but the protocol byte is not 6 (ICMP, UDP, ...).
    case notTCP
    /// A later fragment of a TCP datagram (fragment offset ≠ 0): it has no TCP header.
    case nonFirstFragment
    /// The capture holds too few bytes for the link header or the 20-byte IPv4 header.
    case truncated

    public var description: String {
        switch self {
        case .notIPv4: return "not IPv4"
        case .notTCP: return "not TCP"
        case .nonFirstFragment: return "non-first fragment"
        case .truncated: return "truncated"
        }
    }
}

/// Counts of skipped frames, by reason.
public struct PcapSkipCounts: Hashable, Sendable, CustomStringConvertible {
    public var notIPv4 = 0
    public var notTCP = 0
    public var nonFirstFragment = 0
    public var truncated = 0

    public init() {}

    public subscript(reason: PcapSkipReason) -> Int {
        get {
            switch reason {
            case .notIPv4: return notIPv4
            case .notTCP: return notTCP
            case .nonFirstFragment: return nonFirstFragment
            case .truncated: return truncated
            }
        }
        set {
            switch reason {
            case .notIPv4: notIPv4 = newValue
            case .notTCP: notTCP = newValue
            case .nonFirstFragment: nonFirstFragment = newValue
            case .truncated: truncated = newValue
            }
        }
    }

    /// All skipped frames.
    public var total: Int { notIPv4 + notTCP + nonFirstFragment + truncated }

    /// `"not IPv4 3, not TCP 1"` (reasons with a zero count left out), or `"none"`.
    public var description: String {
        let parts = PcapSkipReason.allCases.filter { self[$0] > 0 }.map { "\($0) \(self[$0])" }
        return parts.isEmpty ? "none" : parts.joined(separator: ", ")
    }
}

/// The link-layer framings the reader understands, by the `DLT_*` value `pcap_datalink` returns
/// (not the file's `LINKTYPE_*` number: libpcap maps `LINKTYPE_RAW` 101 to `DLT_RAW` 12).
enum LinkLayer: Sendable {
    /// `DLT_RAW` (12; 14 on OpenBSD) and `DLT_IPV4` (228): the frame is the IP packet.
    case raw
    /// `DLT_EN10MB` (1): 14-byte Ethernet II header, then up to `maximumVLANTags` 802.1Q/802.1ad tags.
    case ethernet
    /// `DLT_LINUX_SLL` (113): 16-byte Linux cooked header, protocol at offset 14.
    case linuxSLL
    /// `DLT_LINUX_SLL2` (276, `tcpdump -i any`): 20-byte header, protocol at offset 0.
    case linuxSLL2
    /// `DLT_NULL` (0, host byte order) and `DLT_LOOP` (108, network order): a 4-byte address
    /// family. The capturing host's byte order is unknown, so both orders are accepted.
    case null

    init?(dlt: Int32) {
        switch dlt {
        case DLT_RAW, 14, DLT_IPV4: self = .raw   // 14 is DLT_RAW on OpenBSD
        case DLT_EN10MB: self = .ethernet
        case DLT_LINUX_SLL: self = .linuxSLL
        case DLT_LINUX_SLL2: self = .linuxSLL2
        case DLT_NULL, DLT_LOOP: self = .null
        default: return nil
        }
    }

    /// Where the IPv4 header starts in `frame` (the captured bytes), or why the frame is skipped.
    /// Checks the link header only; the IPv4 checks are `classifyIPv4`.
    func ipv4Offset(in frame: UnsafeRawBufferPointer) -> Classified {
        switch self {
        case .raw:
            return .accept(0)
        case .ethernet:
            guard frame.count >= 14 else { return .skip(.truncated) }
            var etherType = frame.bigEndianUInt16(at: 12)
            var offset = 14
            var tags = 0
            while etherType == 0x8100 || etherType == 0x88a8 || etherType == 0x9100 {
                guard tags < maximumVLANTags else { return .skip(.notIPv4) }
                guard frame.count >= offset + 4 else { return .skip(.truncated) }
                etherType = frame.bigEndianUInt16(at: offset + 2)
                offset += 4
                tags += 1
            }
            return etherType == 0x0800 ? .accept(offset) : .skip(.notIPv4)
        case .linuxSLL:
            guard frame.count >= 16 else { return .skip(.truncated) }
            return frame.bigEndianUInt16(at: 14) == 0x0800 ? .accept(16) : .skip(.notIPv4)
        case .linuxSLL2:
            guard frame.count >= 20 else { return .skip(.truncated) }
            return frame.bigEndianUInt16(at: 0) == 0x0800 ? .accept(20) : .skip(.notIPv4)
        case .null:
            guard frame.count >= 4 else { return .skip(.truncated) }
            let family = frame.bigEndianUInt32(at: 0)
            // AF_INET is 2 on every system that writes these.
            return family == 2 || family == 0x0200_0000 ? .accept(4) : .skip(.notIPv4)
        }
    }
}

/// A frame's fate: accepted (with an offset or a length) or skipped with a reason.
enum Classified: Equatable, Sendable {
    case accept(Int)
    case skip(PcapSkipReason)
}

/// Checks the IPv4 header at the start of `packet` (captured bytes) far enough to know it
/// carries the start of a TCP segment. Returns the IPv4 total length field on success.
///
/// The full header and TCP checks (header length, checksums, options) are the wire decoder's
/// (`SluiceCore`), not the reader's: a packet that passes here can still be malformed.
func classifyIPv4(_ packet: UnsafeRawBufferPointer) -> Classified {
    guard packet.count >= 1 else { return .skip(.truncated) }
    guard packet[0] >> 4 == 4 else { return .skip(.notIPv4) }   // RFC 791 §3.1: version
    guard packet.count >= 20 else { return .skip(.truncated) }
    guard packet[9] == 6 else { return .skip(.notTCP) }         // protocol 6 = TCP
    let fragmentOffset = packet.bigEndianUInt16(at: 6) & 0x1fff
    guard fragmentOffset == 0 else { return .skip(.nonFirstFragment) }
    return .accept(Int(packet.bigEndianUInt16(at: 2)))
}

extension UnsafeRawBufferPointer {
    // One load each, as the wire decoder reads (`readUInt16` in SluiceCore), and inlinable for
    // sluice-trace's per-packet decoding (`TraceSegment(commonCase:)`).

    /// The big-endian 16-bit value at `offset`; the caller has checked `offset + 2 <= count`.
    @inlinable @inline(__always) package func bigEndianUInt16(at offset: Int) -> UInt16 {
        UInt16(bigEndian: loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }

    /// The big-endian 32-bit value at `offset`; the caller has checked `offset + 4 <= count`.
    @inlinable @inline(__always) package func bigEndianUInt32(at offset: Int) -> UInt32 {
        UInt32(bigEndian: loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }
}

// MARK: - Constants

/// Stacked VLAN tags followed before giving up: 802.1ad QinQ uses two; more is not seen in practice.
let maximumVLANTags = 4
