// Checksum verification, a step separate from parsing: the engine's receive path rejects bad
// checksums (RFC 9293 §3.10.7.1 ... "checksum ... segment is discarded", RFC 1122 §4.2.2.7),
// while a trace reader reads packets whose checksums the capturing host left to offload.

extension IPv4TCPPacket {
    /// Verifies the IPv4 header checksum (RFC 791 §3.1, over the whole header with options) and
    /// the TCP checksum (RFC 9293 §3.1, over the pseudo-header, the TCP header and the payload).
    ///
    /// - Parameter bytes: the same buffer this packet was parsed from. If it does not hold the
    ///   whole packet (a truncated capture, or another buffer), the parts it lacks are reported
    ///   invalid; this never traps.
    public func verifyChecksums(in bytes: UnsafeRawBufferPointer) -> ChecksumStatus {
        verifyChecksums(in: bytes, tcp: true)
    }

    /// As `verifyChecksums(in:)`; with `tcp` false the TCP checksum is reported valid unread (a
    /// link vouched for it: `LinkChecksum.vouchedByLink`).
    func verifyChecksums(in bytes: UnsafeRawBufferPointer, tcp: Bool) -> ChecksumStatus {
        let headerLength = ip.headerLength
        let totalLength = Int(ip.totalLength)
        var ipValid = false
        if headerLength >= 20, headerLength <= bytes.count {
            var sum = InternetChecksum()
            sum.add(UnsafeRawBufferPointer(rebasing: bytes[0..<headerLength]))
            ipValid = sum.isValid
        }
        var tcpValid = !tcp
        if tcp, headerLength + 20 <= totalLength, totalLength <= bytes.count {
            var sum = InternetChecksum()
            sum.addPseudoHeader(
                source: ip.source, destination: ip.destination, length: totalLength - headerLength)
            sum.add(UnsafeRawBufferPointer(rebasing: bytes[headerLength..<totalLength]))
            tcpValid = sum.isValid
        }
        return ChecksumStatus(ipv4HeaderValid: ipValid, tcpValid: tcpValid)
    }

    /// `verifyChecksums(in:)` for a packet held in an array.
    public func verifyChecksums(in bytes: [UInt8]) -> ChecksumStatus {
        bytes.withUnsafeBytes { verifyChecksums(in: $0) }
    }
}

/// What the link that delivered a packet says about its TCP checksum, as Linux's `ip_summed`
/// does for a socket buffer.
public enum LinkChecksum: Sendable, Hashable {
    /// Verify it (RFC 9293 §3.1; RFC 1122 §4.2.2.7: a segment whose checksum fails is dropped):
    /// the packet may have crossed a wire.
    case unverified
    /// The link has verified it, or the packet never crossed a wire: a TUN packet from the local
    /// kernel flagged `VIRTIO_NET_HDR_F_NEEDS_CSUM` (its stack left the checksum to "hardware"
    /// and trusts the bytes, `CHECKSUM_PARTIAL`) or `VIRTIO_NET_HDR_F_DATA_VALID`
    /// (`CHECKSUM_UNNECESSARY`). The engine then does not read the payload for a checksum; the
    /// IPv4 header checksum is still verified. Counted in `EndpointCounters.checksumsVouched`.
    case vouchedByLink
}
