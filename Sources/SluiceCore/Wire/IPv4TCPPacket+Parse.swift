// Decoding an IPv4 packet that carries a TCP segment. The checks follow the header layouts of
// RFC 791 §3.1 (IPv4) and RFC 9293 §3.1 (TCP); options per RFC 9293 §3.2, RFC 7323, RFC 2018.

extension IPv4TCPPacket {
    /// Decodes an IPv4 packet carrying a TCP segment, without copying or allocating: the payload
    /// is named by `payloadRange`, a range of offsets into `bytes`.
    ///
    /// - IPv4 options are skipped by the header length (IHL).
    /// - Bytes past the IPv4 total length (Ethernet padding) are ignored.
    /// - Fragments are rejected (`.fragment`); Sluice does not reassemble.
    /// - Unknown TCP options are skipped by their length; parsing stops at EOL.
    /// - Checksums are NOT verified here: call `verifyChecksums(in:)` (the engine does; a trace
    ///   reader may not, because the capturing host may have left them to offload).
    ///
    /// - Parameters:
    ///   - bytes: the packet, starting at the IPv4 header.
    ///   - allowingTruncatedPayload: accept a packet whose total length runs past the end of
    ///     `bytes` as long as both headers are inside (a capture with a short snap length); the
    ///     payload range then ends at `bytes.count`, and `wirePayloadLength` gives the length
    ///     the packet had on the wire.
    /// - Throws: `WireError`; never traps, whatever the bytes.
    public static func parse(
        _ bytes: UnsafeRawBufferPointer, allowingTruncatedPayload: Bool = false
    ) throws(WireError) -> IPv4TCPPacket {
        let count = bytes.count
        guard count >= 20 else { throw .truncated }

        // IPv4 (RFC 791 §3.1).
        let versionAndIHL = bytes[0]
        let version = versionAndIHL >> 4
        guard version == 4 else { throw .badVersion(version) }
        let ipHeaderLength = Int(versionAndIHL & 0x0F) * 4
        guard ipHeaderLength >= 20 else { throw .badHeaderLength(ipHeaderLength) }
        let totalLength = Int(bytes.readUInt16(at: 2))
        guard totalLength >= 20 else { throw .badTotalLength(totalLength) }
        guard ipHeaderLength <= totalLength else { throw .badHeaderLength(ipHeaderLength) }
        if totalLength > count {
            guard allowingTruncatedPayload else { throw .truncated }
        }
        guard ipHeaderLength <= count else { throw .truncated }
        let flagsAndOffset = bytes.readUInt16(at: 6)
        let moreFragments = flagsAndOffset & 0x2000 != 0
        let fragmentOffset = flagsAndOffset & 0x1FFF
        guard !moreFragments, fragmentOffset == 0 else { throw .fragment }
        let protocolNumber = bytes[9]
        guard protocolNumber == 6 else { throw .notTCP(protocolNumber: protocolNumber) }

        let ip = IPv4Header(
            source: IPv4Address(rawValue: bytes.readUInt32(at: 12)),
            destination: IPv4Address(rawValue: bytes.readUInt32(at: 16)),
            protocolNumber: protocolNumber,
            timeToLive: bytes[8],
            typeOfService: bytes[1],
            identification: bytes.readUInt16(at: 4),
            dontFragment: flagsAndOffset & 0x4000 != 0,
            headerLength: ipHeaderLength,
            totalLength: UInt16(totalLength),
            checksum: bytes.readUInt16(at: 10)
        )

        // TCP (RFC 9293 §3.1), within the IPv4 total length.
        let t = ipHeaderLength
        let segmentLength = totalLength - t
        guard segmentLength >= 20, t + 20 <= count else { throw .truncated }
        let tcpHeaderLength = Int(bytes[t + 12] >> 4) * 4
        guard tcpHeaderLength >= 20, tcpHeaderLength <= segmentLength else {
            throw .badDataOffset(tcpHeaderLength)
        }
        guard t + tcpHeaderLength <= count else { throw .truncated }
        let options = try TCPOptions.parse(bytes, from: t + 20, to: t + tcpHeaderLength)

        let tcp = TCPHeader(
            sourcePort: bytes.readUInt16(at: t),
            destinationPort: bytes.readUInt16(at: t + 2),
            sequenceNumber: SequenceNumber(bytes.readUInt32(at: t + 4)),
            acknowledgmentNumber: SequenceNumber(bytes.readUInt32(at: t + 8)),
            flags: TCPFlags(rawValue: bytes[t + 13]),
            window: bytes.readUInt16(at: t + 14),
            checksum: bytes.readUInt16(at: t + 16),
            urgentPointer: bytes.readUInt16(at: t + 18),
            options: options
        )
        let payloadStart = t + tcpHeaderLength
        let payloadEnd = Swift.min(totalLength, count)
        return IPv4TCPPacket(ip: ip, tcp: tcp, payloadRange: payloadStart..<payloadEnd)
    }

    /// Decodes a packet held in an array (tests and tools); see `parse(_:allowingTruncatedPayload:)`.
    public static func parse(
        _ bytes: [UInt8], allowingTruncatedPayload: Bool = false
    ) throws(WireError) -> IPv4TCPPacket {
        let result: Result<IPv4TCPPacket, WireError> = bytes.withUnsafeBytes { raw in
            do throws(WireError) {
                return .success(try parse(raw, allowingTruncatedPayload: allowingTruncatedPayload))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// The TCP payload length the packet had on the wire (from the IPv4 total length), which is
    /// more than `payloadLength` only for a packet parsed with `allowingTruncatedPayload`.
    public var wirePayloadLength: Int {
        Swift.max(0, Int(ip.totalLength) - payloadRange.lowerBound)
    }

    /// The TCP header length in bytes (data offset × 4), as parsed.
    public var tcpHeaderLength: Int { payloadRange.lowerBound - ip.headerLength }
}

extension TCPOptions {
    /// Parses the options in `bytes[start..<end]` (RFC 9293 §3.2): EOL ends the list, NOP is
    /// skipped, every other kind has a length byte that counts the kind and length bytes.
    /// Known kinds must have their fixed length (MSS 4, window scale 3, SACK-permitted 2,
    /// timestamps 10; SACK 2 + 8n with 1 ≤ n ≤ 4, RFC 2018 §3); unknown kinds are skipped by
    /// their length. A kind that appears twice keeps its last value.
    ///
    /// - Precondition (checked by the caller, not by network bytes): `0 <= start <= end <= bytes.count`.
    static func parse(
        _ bytes: UnsafeRawBufferPointer, from start: Int, to end: Int
    ) throws(WireError) -> TCPOptions {
        var options = TCPOptions()
        var i = start
        while i < end {
            let kind = bytes[i]
            if kind == OptionKind.endOfList { break }
            if kind == OptionKind.noOperation {
                i += 1
                continue
            }
            guard i + 1 < end else { throw .badOptionLength(kind: kind) }
            let length = Int(bytes[i + 1])
            guard length >= 2, length <= end - i else { throw .badOptionLength(kind: kind) }
            switch kind {
            case OptionKind.maximumSegmentSize:
                guard length == 4 else { throw .badOptionLength(kind: kind) }
                options.maximumSegmentSize = bytes.readUInt16(at: i + 2)
            case OptionKind.windowScale:
                guard length == 3 else { throw .badOptionLength(kind: kind) }
                options.windowScale = bytes[i + 2]
            case OptionKind.sackPermitted:
                guard length == 2 else { throw .badOptionLength(kind: kind) }
                options.sackPermitted = true
            case OptionKind.sack:
                let blockCount = (length - 2) / 8
                guard length >= 10, (length - 2) % 8 == 0, blockCount <= SACKBlocks.capacity else {
                    throw .badOptionLength(kind: kind)
                }
                var blocks = SACKBlocks()
                for n in 0..<blockCount {
                    let o = i + 2 + n * 8
                    blocks.append(SACKBlock(
                        left: SequenceNumber(bytes.readUInt32(at: o)),
                        right: SequenceNumber(bytes.readUInt32(at: o + 4))))
                }
                options.sackBlocks = blocks
            case OptionKind.timestamps:
                guard length == 10 else { throw .badOptionLength(kind: kind) }
                options.timestamps = TCPTimestamps(
                    value: bytes.readUInt32(at: i + 2), echoReply: bytes.readUInt32(at: i + 6))
            default:
                break   // unknown: skipped by its length (RFC 9293 §3.2, RFC 1122 §4.2.2.5)
            }
            i += length
        }
        return options
    }
}

/// TCP option kinds (IANA "TCP Option Kind Numbers").
enum OptionKind {
    static let endOfList: UInt8 = 0
    static let noOperation: UInt8 = 1
    static let maximumSegmentSize: UInt8 = 2
    static let windowScale: UInt8 = 3
    static let sackPermitted: UInt8 = 4
    static let sack: UInt8 = 5
    static let timestamps: UInt8 = 8
}

extension UnsafeRawBufferPointer {
    /// The big-endian 16-bit field at `offset`. The caller has checked `offset + 2 <= count`.
    @inline(__always) func readUInt16(at offset: Int) -> UInt16 {
        UInt16(bigEndian: loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }
    /// The big-endian 32-bit field at `offset`. The caller has checked `offset + 4 <= count`.
    @inline(__always) func readUInt32(at offset: Int) -> UInt32 {
        UInt32(bigEndian: loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }
}
