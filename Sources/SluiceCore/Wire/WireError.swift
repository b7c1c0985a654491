/// Why a byte string is not an IPv4 packet carrying a TCP segment Sluice can read.
///
/// Decoding never traps: every byte string either parses or yields one of these.
public enum WireError: Error, Hashable, Sendable {
    /// The buffer ends before a header it must hold (fewer than 20 IPv4 bytes, a TCP header
    /// past the end), or the IPv4 total length claims more bytes than the buffer has.
    case truncated
    /// The IPv4 version field is not 4 (RFC 791 §3.1); the value found.
    case badVersion(UInt8)
    /// IHL below 5 words, or a header longer than the total length (RFC 791 §3.1); in bytes.
    case badHeaderLength(Int)
    /// The IPv4 total length is below 20 (RFC 791 §3.1); the value found.
    case badTotalLength(Int)
    /// A fragment (MF set or a non-zero fragment offset): Sluice does not reassemble (RFC 791 §2.3).
    case fragment
    /// The IPv4 protocol field is not TCP (6).
    case notTCP(protocolNumber: UInt8)
    /// The TCP data offset is below 5 words or reaches past the IPv4 total length
    /// (RFC 9293 §3.1); in bytes.
    case badDataOffset(Int)
    /// A TCP option whose length byte is missing, below 2, runs past the header, or does not
    /// match the kind's fixed length (RFC 9293 §3.2, RFC 7323, RFC 2018); the option kind.
    case badOptionLength(kind: UInt8)
}

/// What checksum verification found (`IPv4TCPPacket.verifyChecksums(in:)`).
public struct ChecksumStatus: Hashable, Sendable, CustomStringConvertible {
    /// The IPv4 header checksum verifies (RFC 791 §3.1).
    public var ipv4HeaderValid: Bool
    /// The TCP checksum over pseudo-header, header and payload verifies (RFC 9293 §3.1).
    public var tcpValid: Bool

    @inlinable public init(ipv4HeaderValid: Bool, tcpValid: Bool) {
        self.ipv4HeaderValid = ipv4HeaderValid
        self.tcpValid = tcpValid
    }

    /// Both checksums verify.
    @inlinable public var isValid: Bool { ipv4HeaderValid && tcpValid }

    public var description: String {
        "ip \(ipv4HeaderValid ? "ok" : "bad"), tcp \(tcpValid ? "ok" : "bad")"
    }
}
