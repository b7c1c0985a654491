// Encoding an IPv4 packet carrying a TCP segment into a caller's buffer, without allocating.
// IPv4 header per RFC 791 §3.1 (20 bytes, no options); TCP header per RFC 9293 §3.1; the TCP
// checksum covers the pseudo-header (RFC 9293 §3.1), the header and the payload.

extension IPv4TCPPacket {
    /// The IPv4 header length Sluice writes: no IPv4 options.
    public static let encodedIPv4HeaderLength = 20

    /// The bytes `encode` writes for these options and this payload length.
    @inlinable public static func encodedLength(options: TCPOptions, payloadLength: Int) -> Int {
        encodedIPv4HeaderLength + 20 + options.encodedLength + payloadLength
    }

    /// Writes both headers into the front of `buffer` for a payload of `payloadLength` bytes and
    /// returns the payload's offset; the caller then writes the payload at that offset and calls
    /// `finalizeChecksums(in:length:)` with `offset + payloadLength`.
    ///
    /// Written from `ip`: source, destination, time to live, type of service, identification,
    /// don't-fragment; the protocol is 6 and the IPv4 header is 20 bytes. From `tcp`: every field
    /// but the checksum, and the options in Linux's layout (`TCPOptions.encode`). Checksum fields
    /// are left zero.
    ///
    /// - Returns: the payload offset, or `nil` (nothing written) when `buffer` is shorter than
    ///   the whole packet or the packet would exceed 65,535 bytes (RFC 791 §3.1 total length).
    public static func encodeHeaders(
        ip: IPv4Header, tcp: TCPHeader, payloadLength: Int, into buffer: UnsafeMutableRawBufferPointer
    ) -> Int? {
        let optionsLength = tcp.options.encodedLength
        let tcpHeaderLength = 20 + optionsLength
        let headerLength = encodedIPv4HeaderLength + tcpHeaderLength
        guard payloadLength >= 0, payloadLength <= 0xFFFF - headerLength,
              headerLength + payloadLength <= buffer.count else { return nil }
        let totalLength = headerLength + payloadLength

        // IPv4 (RFC 791 §3.1).
        buffer[0] = 0x45                                   // version 4, IHL 5
        buffer[1] = ip.typeOfService
        buffer.writeUInt16(UInt16(totalLength), at: 2)
        buffer.writeUInt16(ip.identification, at: 4)
        buffer.writeUInt16(ip.dontFragment ? 0x4000 : 0, at: 6)
        buffer[8] = ip.timeToLive
        buffer[9] = 6                                      // TCP
        buffer.writeUInt16(0, at: 10)                      // checksum, set by finalizeChecksums
        buffer.writeUInt32(ip.source.rawValue, at: 12)
        buffer.writeUInt32(ip.destination.rawValue, at: 16)

        // TCP (RFC 9293 §3.1).
        let t = encodedIPv4HeaderLength
        buffer.writeUInt16(tcp.sourcePort, at: t)
        buffer.writeUInt16(tcp.destinationPort, at: t + 2)
        buffer.writeUInt32(tcp.sequenceNumber.rawValue, at: t + 4)
        buffer.writeUInt32(tcp.acknowledgmentNumber.rawValue, at: t + 8)
        buffer[t + 12] = UInt8(tcpHeaderLength / 4) << 4
        buffer[t + 13] = tcp.flags.rawValue
        buffer.writeUInt16(tcp.window, at: t + 14)
        buffer.writeUInt16(0, at: t + 16)                  // checksum, set by finalizeChecksums
        buffer.writeUInt16(tcp.urgentPointer, at: t + 18)
        tcp.options.encode(into: buffer, at: t + 20)
        return headerLength
    }

    /// Computes and writes the IPv4 header checksum (RFC 791 §3.1) and the TCP checksum over
    /// pseudo-header, header and payload (RFC 9293 §3.1) of the `length`-byte packet at the
    /// front of `buffer`, whose headers `encodeHeaders` wrote.
    ///
    /// - Returns: `false` (nothing written) when `buffer[0..<length]` does not hold headers as
    ///   `encodeHeaders` writes them.
    @discardableResult
    public static func finalizeChecksums(in buffer: UnsafeMutableRawBufferPointer, length: Int) -> Bool {
        let t = encodedIPv4HeaderLength
        guard length >= t + 20, length <= buffer.count, buffer[0] == 0x45,
              Int(buffer[t + 12] >> 4) * 4 + t <= length else { return false }
        let bytes = UnsafeRawBufferPointer(buffer)
        buffer.writeUInt16(0, at: 10)
        buffer.writeUInt16(0, at: t + 16)
        let ipChecksum = InternetChecksum.checksum(UnsafeRawBufferPointer(rebasing: bytes[0..<t]))
        buffer.writeUInt16(ipChecksum, at: 10)

        var tcpSum = InternetChecksum()
        tcpSum.addPseudoHeader(
            source: IPv4Address(rawValue: bytes.readUInt32(at: 12)),
            destination: IPv4Address(rawValue: bytes.readUInt32(at: 16)),
            length: length - t)
        tcpSum.add(UnsafeRawBufferPointer(rebasing: bytes[t..<length]))
        buffer.writeUInt16(tcpSum.checksum, at: t + 16)
        return true
    }

    /// Encodes a whole packet into `buffer`: headers, then `payload` is called with the
    /// `payloadLength`-byte slice to fill (for example from a ring, in two pieces), then both
    /// checksums. Allocates nothing.
    ///
    /// - Returns: the packet length, or `nil` (the closure not called) when the buffer is too small
    ///   or the packet would exceed 65,535 bytes.
    @inlinable public static func encode<E: Error>(
        ip: IPv4Header, tcp: TCPHeader, payloadLength: Int,
        into buffer: UnsafeMutableRawBufferPointer,
        payload: (UnsafeMutableRawBufferPointer) throws(E) -> Void
    ) throws(E) -> Int? {
        guard let offset = encodeHeaders(ip: ip, tcp: tcp, payloadLength: payloadLength, into: buffer) else {
            return nil
        }
        let end = offset + payloadLength
        try payload(UnsafeMutableRawBufferPointer(rebasing: buffer[offset..<end]))
        finalizeChecksums(in: buffer, length: end)
        return end
    }

    /// Encodes `ip` and `tcp` with an empty payload into `buffer`.
    @inlinable public static func encode(
        ip: IPv4Header, tcp: TCPHeader, into buffer: UnsafeMutableRawBufferPointer
    ) -> Int? {
        encode(ip: ip, tcp: tcp, payloadLength: 0, into: buffer) { _ in }
    }

    /// Encodes a packet with `payload` into a new array (tests and tools; allocates). Returns an
    /// empty array when the packet would exceed 65,535 bytes.
    public static func encode(ip: IPv4Header, tcp: TCPHeader, payload: [UInt8] = []) -> [UInt8] {
        let length = encodedLength(options: tcp.options, payloadLength: payload.count)
        guard length <= 0xFFFF else { return [] }
        var out = [UInt8](repeating: 0, count: length)
        let written = out.withUnsafeMutableBytes { buffer in
            encode(ip: ip, tcp: tcp, payloadLength: payload.count, into: buffer) { slice in
                payload.withUnsafeBytes { slice.copyMemory(from: $0) }
            }
        }
        return written == nil ? [] : out
    }
}

extension TCPOptions {
    /// The bytes these options take when encoded: a multiple of 4, at most 40. SACK blocks that
    /// do not fit are left out (see `encodedSACKBlockCount`).
    @inlinable public var encodedLength: Int {
        let base = fixedEncodedLength
        let blocks = encodedSACKBlockCount
        return base + (blocks > 0 ? 4 + 8 * blocks : 0)
    }

    /// How many of `sackBlocks` fit in the 40 bytes of option space after the other options
    /// (RFC 2018 §3: at most 3 blocks alongside timestamps, 4 without). The first ones are kept:
    /// RFC 2018 §4 puts the most recently changed block first.
    @inlinable public var encodedSACKBlockCount: Int {
        let room = (Self.maximumLength - fixedEncodedLength - 4) / 8
        return Swift.max(0, Swift.min(sackBlocks.count, room))
    }

    /// The bytes of everything but SACK blocks, in Linux's layout (see `encode`).
    @inlinable internal var fixedEncodedLength: Int {
        var n = 0
        if maximumSegmentSize != nil { n += 4 }
        if timestamps != nil { n += 12 } else if sackPermitted { n += 4 }
        if windowScale != nil { n += 4 }
        return n
    }

    /// Writes the options at `offset` in the layout Linux uses (`tcp_options_write`), each
    /// option 32-bit aligned with NOPs:
    ///
    ///     MSS(4)
    ///     SACK-permitted(2) TS(10)   | NOP NOP TS(10)   | NOP NOP SACK-permitted(2)
    ///     NOP WS(3)
    ///     NOP NOP SACK(2 + 8n)
    ///
    /// A SYN typically carries the first three lines, a later segment TS and SACK. Options set
    /// here are written whatever the flags; choosing them (RFC 9293 §3.7.1, RFC 7323 §2.2, §3.2,
    /// RFC 2018 §2) is the engine's job.
    ///
    /// - Precondition: `offset + encodedLength <= buffer.count` (callers check).
    /// - Returns: the bytes written (`encodedLength`).
    @discardableResult
    func encode(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) -> Int {
        var i = offset
        if let mss = maximumSegmentSize {
            buffer[i] = OptionKind.maximumSegmentSize
            buffer[i + 1] = 4
            buffer.writeUInt16(mss, at: i + 2)
            i += 4
        }
        if let ts = timestamps {
            if sackPermitted {
                buffer[i] = OptionKind.sackPermitted
                buffer[i + 1] = 2
            } else {
                buffer[i] = OptionKind.noOperation
                buffer[i + 1] = OptionKind.noOperation
            }
            buffer[i + 2] = OptionKind.timestamps
            buffer[i + 3] = 10
            buffer.writeUInt32(ts.value, at: i + 4)
            buffer.writeUInt32(ts.echoReply, at: i + 8)
            i += 12
        } else if sackPermitted {
            buffer[i] = OptionKind.noOperation
            buffer[i + 1] = OptionKind.noOperation
            buffer[i + 2] = OptionKind.sackPermitted
            buffer[i + 3] = 2
            i += 4
        }
        if let ws = windowScale {
            buffer[i] = OptionKind.noOperation
            buffer[i + 1] = OptionKind.windowScale
            buffer[i + 2] = 3
            buffer[i + 3] = ws
            i += 4
        }
        let blocks = encodedSACKBlockCount
        if blocks > 0 {
            buffer[i] = OptionKind.noOperation
            buffer[i + 1] = OptionKind.noOperation
            buffer[i + 2] = OptionKind.sack
            buffer[i + 3] = UInt8(2 + 8 * blocks)
            i += 4
            for n in 0..<blocks {
                let block = sackBlocks[n]
                buffer.writeUInt32(block.left.rawValue, at: i)
                buffer.writeUInt32(block.right.rawValue, at: i + 4)
                i += 8
            }
        }
        return i - offset
    }

    /// Option space in a TCP header: data offset at most 15 words, 5 of them fixed (RFC 9293 §3.1).
    public static let maximumLength = 40
}

extension UnsafeMutableRawBufferPointer {
    /// Stores `value` big-endian at `offset`. The caller has checked `offset + 2 <= count`.
    @inline(__always) func writeUInt16(_ value: UInt16, at offset: Int) {
        storeBytes(of: value.bigEndian, toByteOffset: offset, as: UInt16.self)
    }
    /// Stores `value` big-endian at `offset`. The caller has checked `offset + 4 <= count`.
    @inline(__always) func writeUInt32(_ value: UInt32, at offset: Int) {
        storeBytes(of: value.bigEndian, toByteOffset: offset, as: UInt32.self)
    }
}
