import SluiceCore
import SluicePcap

/// One captured IPv4/TCP packet as the analysis sees it: the header fields it uses, the frame
/// number and the capture time. Built from a parsed `IPv4TCPPacket`; checksums are not looked
/// at (a capturing host may leave them to offload), and the segment length is the one the IPv4
/// total length gives, so captures cut short by a snap length are analysed like whole ones.
package struct TraceSegment: Sendable {
    /// 1-based frame number in the file, counting every frame (tshark's `frame.number`).
    package var frame: Int
    /// Capture time.
    package var time: Instant
    package var source: SocketAddress
    package var destination: SocketAddress
    package var seq: UInt32
    package var ack: UInt32
    package let flags: TCPFlags
    /// The control bits the analysis asks about, read once (`TCPFlags.syn` and its kin are
    /// globals of another module: an accessor call per use on the per-packet path).
    package let isSYN: Bool
    package let isFIN: Bool
    package let isRST: Bool
    package let hasACK: Bool
    /// The raw (unscaled) window field.
    package var window: UInt16
    /// TCP payload length on the wire (RFC 9293 §3.1 SEG.LEN without SYN/FIN).
    package var length: UInt32
    /// Window scale option (RFC 7323 §2.2), clamped to 14 as RFC 7323 §2.3 says.
    package var windowScale: UInt8?
    /// MSS option (RFC 9293 §3.7.1).
    package var maximumSegmentSize: UInt16?
    /// TSval of the timestamps option (RFC 7323 §3.2): the sender's clock when it sent this.
    package var timestampValue: UInt32?

    package init(
        frame: Int, time: Instant, source: SocketAddress, destination: SocketAddress,
        seq: UInt32, ack: UInt32, flags: TCPFlags, window: UInt16, length: UInt32,
        windowScale: UInt8? = nil, maximumSegmentSize: UInt16? = nil, timestampValue: UInt32? = nil
    ) {
        self.frame = frame
        self.time = time
        self.source = source
        self.destination = destination
        self.seq = seq
        self.ack = ack
        self.flags = flags
        isSYN = flags.contains(.syn)
        isFIN = flags.contains(.fin)
        isRST = flags.contains(.rst)
        hasACK = flags.contains(.ack)
        self.window = window
        self.length = length
        self.windowScale = windowScale.map { Swift.min($0, 14) }
        self.maximumSegmentSize = maximumSegmentSize
        self.timestampValue = timestampValue
    }

    /// The segment as parsed by the wire decoder. The payload length comes from the IPv4 total
    /// length, not from the captured bytes.
    package init(frame: Int, time: Instant, packet: IPv4TCPPacket) {
        let wireLength = Swift.max(0, Int(packet.ip.totalLength) - packet.payloadRange.lowerBound)
        self.init(
            frame: frame, time: time,
            source: SocketAddress(packet.ip.source, packet.tcp.sourcePort),
            destination: SocketAddress(packet.ip.destination, packet.tcp.destinationPort),
            seq: packet.tcp.sequenceNumber.rawValue,
            ack: packet.tcp.acknowledgmentNumber.rawValue,
            flags: packet.tcp.flags, window: packet.tcp.window,
            length: UInt32(truncatingIfNeeded: wireLength),
            windowScale: packet.tcp.options.windowScale,
            maximumSegmentSize: packet.tcp.options.maximumSegmentSize,
            timestampValue: packet.tcp.options.timestamps?.value)
    }

    /// The common packet decoded in place, or nil for any other: IPv4 without options carrying
    /// a TCP header without options or with exactly NOP, NOP, timestamps (RFC 7323 Appendix A's
    /// layout: nearly every segment after the handshake), unfragmented, both headers captured.
    ///
    /// It only accepts: every packet it returns nil for (SYNs with their options, IPv4 options,
    /// anything malformed) goes to `IPv4TCPPacket.parse`, the one judge of what is undecodable.
    /// What it accepts, `parse` accepts with the same fields (`TraceSegmentDecodeTests` checks
    /// this on mutated packets); it skips building the parser's full headers and options, a
    /// sixth of sluice-trace's instructions (issue 12).
    package init?(commonCase bytes: UnsafeRawBufferPointer, frame: Int, time: Instant) {
        guard bytes.count >= 40, bytes[0] == 0x45, bytes[9] == 6,
              bytes.bigEndianUInt16(at: 6) & 0x3FFF == 0   // MF clear, offset 0
        else { return nil }
        let totalLength = Int(bytes.bigEndianUInt16(at: 2))
        let tcpHeaderLength = Int(bytes[32] >> 4) * 4
        var timestampValue: UInt32? = nil
        switch tcpHeaderLength {
        case 20:
            break
        case 32:
            // NOP, NOP, kind 8, length 10 (RFC 7323 §3.2).
            guard bytes.count >= 52, bytes.bigEndianUInt32(at: 40) == 0x0101_080A else { return nil }
            timestampValue = bytes.bigEndianUInt32(at: 44)
        default:
            return nil
        }
        guard totalLength >= 20 + tcpHeaderLength else { return nil }
        self.init(
            frame: frame, time: time,
            source: SocketAddress(IPv4Address(rawValue: bytes.bigEndianUInt32(at: 12)),
                                  bytes.bigEndianUInt16(at: 20)),
            destination: SocketAddress(IPv4Address(rawValue: bytes.bigEndianUInt32(at: 16)),
                                       bytes.bigEndianUInt16(at: 22)),
            seq: bytes.bigEndianUInt32(at: 24),
            ack: bytes.bigEndianUInt32(at: 28),
            flags: TCPFlags(rawValue: bytes[33]),
            window: bytes.bigEndianUInt16(at: 34),
            length: UInt32(totalLength - 20 - tcpHeaderLength),
            timestampValue: timestampValue)
    }

    /// Sequence space the segment occupies: payload plus one for SYN and one for FIN.
    package var sequenceLength: UInt32 {
        length &+ (isSYN ? 1 : 0) &+ (isFIN ? 1 : 0)
    }
}

