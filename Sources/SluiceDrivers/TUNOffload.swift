import SluiceCore

/// The TUN offload mode (`--offload`): with `IFF_VNET_HDR` every packet read from or written to
/// the device starts with a 10-byte `struct virtio_net_hdr` (<linux/virtio_net.h>, fields in the
/// host's little-endian order), and `TUNSETOFFLOAD(TUN_F_CSUM | TUN_F_TSO4)` lets the kernel
/// hand over TCP/IPv4 super-segments of up to 64 KiB (`gso_type` TCPV4, `gso_size` = its MSS)
/// and take ours, which its stack handles as the MSS-sized segments they stand for.
///
/// - In: a packet flagged `NEEDS_CSUM` carries only the pseudo-header sum in its TCP checksum
///   field; `completeChecksum` finishes it (RFC 1071), so the engine and the capture see a valid
///   packet. A super-segment goes to the engine whole: it is the segments it stands for
///   (contiguous sequence space, one header), which the engine takes like any in-window data.
/// - Out: the engine makes the super-segments itself (`ConnectionConfig.segmentationOffloadBytes`,
///   set from `TUNDevice.segmentationOffloadBytes`): whole full-sized segments under one header,
///   each let go by the windows and the pacer as in plain mode, so the kernel receives up to
///   64 KiB per `write` instead of 1448 bytes and the engine does its per-segment work once per
///   super-segment. The capture records it with its complete checksum; the device gets the
///   pseudo-header sum that `NEEDS_CSUM` asks for (`makeChecksumPartial`).
enum VirtioNetHeader {
    static let size = 10
    /// VIRTIO_NET_HDR_F_NEEDS_CSUM.
    static let needsChecksum: UInt8 = 1
    /// VIRTIO_NET_HDR_GSO_NONE / _TCPV4 (the 0x80 bit is ECN, ignored).
    static let gsoNone: UInt8 = 0
    static let gsoTCPv4: UInt8 = 1

    /// Fills `header` for an outgoing packet: a plain one (checksums complete), or a TCP/IPv4
    /// super-segment of `segmentSize`-byte segments whose TCP checksum the kernel completes.
    static func write(into header: UnsafeMutableRawBufferPointer, packet: UnsafeRawBufferPointer, segmentSize: Int) {
        for i in 0..<size { header[i] = 0 }
        guard segmentSize > 0, packet.count >= 20 else { return }
        let ipHeaderLength = Int(packet[0] & 0x0f) * 4
        let tcpHeaderLength = packet.count >= ipHeaderLength + 13 ? Int(packet[ipHeaderLength + 12] >> 4) * 4 : 20
        header[0] = needsChecksum
        header[1] = gsoTCPv4
        storeLittleEndian(UInt16(ipHeaderLength + tcpHeaderLength), header, at: 2)   // hdr_len
        storeLittleEndian(UInt16(segmentSize), header, at: 4)                          // gso_size
        storeLittleEndian(UInt16(ipHeaderLength), header, at: 6)                       // csum_start
        storeLittleEndian(16, header, at: 8)                                           // csum_offset (TCP)
    }

    /// VIRTIO_NET_HDR_F_DATA_VALID: the kernel has verified the checksum.
    static let dataValid: UInt8 = 2

    /// Whether the kernel vouches for the packet's checksum: `NEEDS_CSUM` (it comes from the
    /// local stack, which left the checksum to the device) or `DATA_VALID`.
    static func vouchesForChecksum(_ header: UnsafeRawBufferPointer) -> Bool {
        header.count >= size && header[0] & (needsChecksum | dataValid) != 0
    }

    /// Whether a `NEEDS_CSUM` packet's checksum offsets fit it (true for any other packet); a
    /// packet whose offsets do not fit is dropped and counted by the caller.
    static func checksumFits(_ header: UnsafeRawBufferPointer, packet: UnsafeRawBufferPointer) -> Bool {
        guard header.count >= size, header[0] & needsChecksum != 0 else { return true }
        return Int(loadLittleEndian(header, at: 6)) + Int(loadLittleEndian(header, at: 8)) + 2 <= packet.count
    }

    /// Completes the checksum of a packet read with `NEEDS_CSUM`: the field at
    /// `csum_start + csum_offset` holds the pseudo-header sum; the checksum covers everything
    /// from `csum_start` to the end (Linux `skb_checksum_help`). Does nothing to any other
    /// packet, or when the offsets do not fit (`checksumFits`).
    static func completeChecksum(_ header: UnsafeRawBufferPointer, packet: UnsafeMutableRawBufferPointer) {
        guard header.count >= size, header[0] & needsChecksum != 0, checksumFits(header, packet: UnsafeRawBufferPointer(packet)) else { return }
        let start = Int(loadLittleEndian(header, at: 6))
        let offset = Int(loadLittleEndian(header, at: 8))
        var sum = InternetChecksum()
        sum.add(UnsafeRawBufferPointer(rebasing: packet[start...]))
        let value = sum.checksum
        packet[start + offset] = UInt8(value >> 8)
        packet[start + offset + 1] = UInt8(value & 0xff)
    }

    /// Replaces the complete TCP checksum of a super-segment with the pseudo-header sum that
    /// `NEEDS_CSUM` asks for (the kernel adds the rest for each segment it makes of it). Does
    /// nothing to bytes that are not an IPv4/TCP packet of their length.
    static func makeChecksumPartial(_ packet: UnsafeMutableRawBufferPointer) {
        guard packet.count >= 40, packet[0] >> 4 == 4, packet[9] == 6 else { return }
        let t = Int(packet[0] & 0x0f) * 4
        guard t >= 20, t + 20 <= packet.count else { return }
        var sum = InternetChecksum()
        sum.addPseudoHeader(source: IPv4Address(rawValue: loadBigEndian32(packet, at: 12)),
                            destination: IPv4Address(rawValue: loadBigEndian32(packet, at: 16)),
                            length: packet.count - t)
        let value = sum.sum
        packet[t + 16] = UInt8(value >> 8)
        packet[t + 17] = UInt8(value & 0xff)
    }

    private static func loadBigEndian32(_ p: UnsafeMutableRawBufferPointer, at k: Int) -> UInt32 {
        UInt32(p[k]) << 24 | UInt32(p[k + 1]) << 16 | UInt32(p[k + 2]) << 8 | UInt32(p[k + 3])
    }

    private static func storeLittleEndian(_ value: UInt16, _ buffer: UnsafeMutableRawBufferPointer, at offset: Int) {
        buffer[offset] = UInt8(value & 0xff)
        buffer[offset + 1] = UInt8(value >> 8)
    }

    private static func loadLittleEndian(_ buffer: UnsafeRawBufferPointer, at offset: Int) -> UInt16 {
        UInt16(buffer[offset]) | UInt16(buffer[offset + 1]) << 8
    }
}
