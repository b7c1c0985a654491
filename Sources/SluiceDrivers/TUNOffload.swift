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
/// - Out: the engine's segments are exactly those of plain mode (windows, ACK clocking, probes
///   and pacing are untouched); `SuperSegmentCoalescer` then joins each run of consecutive
///   full-sized data segments of one connection in a batch into one super-segment before it is
///   captured and written, so the kernel receives 64 KiB per `write` instead of 1448 bytes.
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

    private static func storeLittleEndian(_ value: UInt16, _ buffer: UnsafeMutableRawBufferPointer, at offset: Int) {
        buffer[offset] = UInt8(value & 0xff)
        buffer[offset + 1] = UInt8(value >> 8)
    }

    private static func loadLittleEndian(_ buffer: UnsafeRawBufferPointer, at offset: Int) -> UInt16 {
        UInt16(buffer[offset]) | UInt16(buffer[offset + 1]) << 8
    }
}

/// Joins runs of consecutive data segments in a `PacketBatch` into TCP/IPv4 super-segments, in
/// place. A run starts with a segment that carries data and only ACK, and takes each following
/// segment of the same connection that continues its sequence space with an identical header
/// (addresses, ports, ACK number, window, options: so no timestamp tick inside a run) and no
/// more payload than the first; a shorter segment, PSH or FIN ends it (the flag moves to the
/// super-segment: Linux's segmentation puts PSH and FIN on the last piece only). A run never
/// exceeds 65,535 bytes of IPv4 packet.
///
/// The joined packet gets its IPv4 total length and header checksum, `segmentSizes[i]` = the
/// first segment's payload (the kernel's `gso_size`), and a complete TCP checksum when
/// `completeChecksums` (for the capture: tshark then finds no bad checksum), else the
/// pseudo-header sum the kernel completes (`NEEDS_CSUM`).
enum SuperSegmentCoalescer {
    static func coalesce(_ batch: PacketBatch, completeChecksums: Bool) {
        var out = 0
        var i = 0
        while i < batch.count {
            if out != i {
                batch.slot(out).copyMemory(from: batch.packet(i))
                batch.lengths[out] = batch.lengths[i]
            }
            batch.segmentSizes[out] = 0
            i += 1
            let head = batch.slot(out)
            guard let first = SegmentShape(UnsafeRawBufferPointer(head), length: Int(batch.lengths[out])),
                  first.payloadLength > 0, first.flags == tcpACK else {
                out += 1
                continue
            }
            var total = Int(batch.lengths[out])
            var nextSequence = first.sequence &+ UInt32(first.payloadLength)
            var lastFlags = first.flags
            var joined = 1
            while i < batch.count {
                let candidate = batch.packet(i)
                guard let shape = SegmentShape(candidate, length: candidate.count),
                      shape.headerLength == first.headerLength, shape.sequence == nextSequence,
                      shape.payloadLength > 0, shape.payloadLength <= first.payloadLength,
                      shape.flags & ~(tcpPSH | tcpFIN) == tcpACK,
                      total + shape.payloadLength <= maxSuperPacket,
                      sameHeader(UnsafeRawBufferPointer(head), candidate, ipHeaderLength: first.ipHeaderLength,
                                 headerLength: first.headerLength)
                else { break }
                UnsafeMutableRawBufferPointer(rebasing: head[total..<(total + shape.payloadLength)])
                    .copyMemory(from: UnsafeRawBufferPointer(rebasing: candidate[first.headerLength...]))
                total += shape.payloadLength
                nextSequence = nextSequence &+ UInt32(shape.payloadLength)
                lastFlags = shape.flags
                joined += 1
                i += 1
                if shape.payloadLength < first.payloadLength || shape.flags != tcpACK { break }
            }
            if joined > 1 {
                finish(head, length: total, first: first, flags: lastFlags, completeChecksum: completeChecksums)
                batch.lengths[out] = UInt32(total)
                batch.segmentSizes[out] = UInt16(first.payloadLength)
            }
            out += 1
        }
        batch.count = out
    }

    /// Whether `b`'s IPv4 addresses and TCP header (all but sequence number, flags, checksum)
    /// equal `a`'s.
    private static func sameHeader(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer,
                                   ipHeaderLength: Int, headerLength: Int) -> Bool {
        for k in 12..<20 where a[k] != b[k] { return false }            // IPv4 source, destination
        let t = ipHeaderLength
        for k in 0..<4 where a[t + k] != b[t + k] { return false }      // ports
        for k in 8..<13 where a[t + k] != b[t + k] { return false }     // ACK number, data offset
        for k in 14..<16 where a[t + k] != b[t + k] { return false }    // window
        for k in (t + 18)..<headerLength where a[k] != b[k] { return false }   // urgent pointer, options
        return true
    }

    /// Total length, flags, IPv4 header checksum, TCP checksum of a joined super-segment.
    private static func finish(_ packet: UnsafeMutableRawBufferPointer, length: Int, first: SegmentShape,
                               flags: UInt8, completeChecksum: Bool) {
        let t = first.ipHeaderLength
        packet[2] = UInt8(length >> 8)
        packet[3] = UInt8(length & 0xff)
        packet[t + 13] = flags
        packet[10] = 0
        packet[11] = 0
        let ipChecksum = InternetChecksum.checksum(UnsafeRawBufferPointer(rebasing: packet[0..<t]))
        packet[10] = UInt8(ipChecksum >> 8)
        packet[11] = UInt8(ipChecksum & 0xff)
        packet[t + 16] = 0
        packet[t + 17] = 0
        var sum = InternetChecksum()
        let source = IPv4Address(rawValue: loadBigEndian32(packet, at: 12))
        let destination = IPv4Address(rawValue: loadBigEndian32(packet, at: 16))
        sum.addPseudoHeader(source: source, destination: destination, length: length - t)
        let value: UInt16
        if completeChecksum {
            sum.add(UnsafeRawBufferPointer(rebasing: packet[t..<length]))
            value = sum.checksum
        } else {
            value = sum.sum       // the partial sum the kernel completes (CHECKSUM_PARTIAL)
        }
        packet[t + 16] = UInt8(value >> 8)
        packet[t + 17] = UInt8(value & 0xff)
    }

    /// Replaces the complete TCP checksum of a super-segment with the pseudo-header sum that
    /// `NEEDS_CSUM` asks for (after the capture recorded the complete one).
    static func makeChecksumPartial(_ packet: UnsafeMutableRawBufferPointer) {
        guard let shape = SegmentShape(UnsafeRawBufferPointer(packet), length: packet.count) else { return }
        let t = shape.ipHeaderLength
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
}

/// The few fields of an IPv4/TCP packet the coalescer looks at; `nil` when the bytes are not a
/// complete one (then it is passed through unchanged).
struct SegmentShape {
    var ipHeaderLength: Int
    /// IPv4 plus TCP header.
    var headerLength: Int
    var payloadLength: Int
    var sequence: UInt32
    var flags: UInt8

    init?(_ p: UnsafeRawBufferPointer, length: Int) {
        guard length >= 40, length <= p.count, p[0] >> 4 == 4, p[9] == 6 else { return nil }
        let ihl = Int(p[0] & 0x0f) * 4
        guard ihl >= 20, length >= ihl + 20 else { return nil }
        let totalLength = Int(p[2]) << 8 | Int(p[3])
        // Not a fragment (MF clear, offset 0): a fragment's payload is not TCP sequence space.
        guard totalLength == length, p[6] & 0x3f == 0, p[7] == 0 else { return nil }
        let tcpHeaderLength = Int(p[ihl + 12] >> 4) * 4
        guard tcpHeaderLength >= 20, ihl + tcpHeaderLength <= length else { return nil }
        ipHeaderLength = ihl
        headerLength = ihl + tcpHeaderLength
        payloadLength = length - headerLength
        sequence = UInt32(p[ihl + 4]) << 24 | UInt32(p[ihl + 5]) << 16 | UInt32(p[ihl + 6]) << 8 | UInt32(p[ihl + 7])
        flags = p[ihl + 13]
    }
}

private let tcpACK: UInt8 = 0x10
private let tcpPSH: UInt8 = 0x08
private let tcpFIN: UInt8 = 0x01
/// The largest IPv4 packet (total length is 16 bits).
private let maxSuperPacket = 65_535
