import Testing
@testable import SluiceCore

/// A packet whose TCP options are exactly `options` (a multiple of 4 bytes for a well-formed
/// data offset), followed by `payload`. Checksums are left as computed before the splice.
func rawPacket(options: [UInt8], payload: [UInt8] = []) -> [UInt8] {
    var p = IPv4TCPPacket.encode(ip: WireSamples.ip, tcp: WireSamples.tcp())
    p.insert(contentsOf: options, at: 40)
    p += payload
    p[32] = UInt8((20 + options.count) / 4) << 4
    p[2] = UInt8(p.count >> 8)
    p[3] = UInt8(p.count & 0xFF)
    return p
}

func parseError(_ bytes: [UInt8]) -> WireError? {
    do throws(WireError) {
        _ = try IPv4TCPPacket.parse(bytes)
        return nil
    } catch {
        return error
    }
}

@Suite struct WireDecodeTests {
    // MARK: - Real packets

    @Test func linuxSYN() throws {
        let p = try IPv4TCPPacket.parse(LinuxPackets.syn)
        #expect(p.ip.source == IPv4Address(10, 77, 0, 1))
        #expect(p.ip.destination == IPv4Address(10, 77, 0, 2))
        #expect(p.ip.headerLength == 20 && p.ip.totalLength == 60)
        #expect(p.ip.timeToLive == 64 && p.ip.dontFragment && p.ip.identification == 0x20D2)
        #expect(p.ip.checksum == 0x054E)
        #expect(p.tcp.sourcePort == 59848 && p.tcp.destinationPort == 5001)
        #expect(p.tcp.sequenceNumber == SequenceNumber(0xC828_E5A0))
        #expect(p.tcp.flags == [.syn])
        #expect(p.tcp.window == 64240)
        #expect(p.tcp.checksum == 0x9540)
        #expect(p.tcp.options == TCPOptions(
            maximumSegmentSize: 1460, windowScale: 10, sackPermitted: true,
            timestamps: TCPTimestamps(value: 0x509C_A777, echoReply: 0)))
        #expect(p.payloadRange == 60..<60)
        #expect(p.tcpHeaderLength == 40)
        #expect(p.verifyChecksums(in: LinuxPackets.syn).isValid)
    }

    @Test func linuxDataSegmentWithOddPayload() throws {
        let p = try IPv4TCPPacket.parse(LinuxPackets.hello)
        #expect(p.tcp.flags == [.psh, .ack])
        #expect(p.tcp.acknowledgmentNumber == SequenceNumber(0xEC14_C8CC))
        #expect(p.tcp.options == TCPOptions(timestamps: TCPTimestamps(value: 0x509C_A778, echoReply: 0x4928_62FA)))
        #expect(p.payloadRange == 52..<57)
        #expect(Array(LinuxPackets.hello[p.payloadRange]) == Array("hello".utf8))
        #expect(p.verifyChecksums(in: LinuxPackets.hello) == ChecksumStatus(ipv4HeaderValid: true, tcpValid: true))
    }

    /// Bytes past the IPv4 total length (Ethernet pads frames to 60 bytes) are not payload.
    @Test func trailingPaddingIgnored() throws {
        let padded = LinuxPackets.hello + [0, 0, 0, 0, 0, 0, 0]
        let p = try IPv4TCPPacket.parse(padded)
        #expect(p == (try IPv4TCPPacket.parse(LinuxPackets.hello)))
        #expect(p.verifyChecksums(in: padded).isValid)
    }

    /// IPv4 options are skipped by IHL (RFC 791 §3.1) and covered by the header checksum.
    @Test func ipv4OptionsSkippedByIHL() throws {
        var bytes = LinuxPackets.hello
        bytes.insert(contentsOf: [0x01, 0x01, 0x01, 0x00], at: 20)   // NOP NOP NOP EOL
        bytes[0] = 0x46
        bytes[3] += 4
        bytes[10] = 0
        bytes[11] = 0
        let c = InternetChecksum.checksum(Array(bytes[0..<24]))
        bytes[10] = UInt8(c >> 8)
        bytes[11] = UInt8(c & 0xFF)
        let p = try IPv4TCPPacket.parse(bytes)
        #expect(p.ip.headerLength == 24)
        #expect(p.payloadRange == 56..<61)
        #expect(Array(bytes[p.payloadRange]) == Array("hello".utf8))
        #expect(p.tcp == (try IPv4TCPPacket.parse(LinuxPackets.hello)).tcp)
        #expect(p.verifyChecksums(in: bytes).isValid)
    }

    @Test func truncatedPayloadAllowedOnRequest() throws {
        let cut = Array(LinuxPackets.hello[0..<54])
        #expect(parseError(cut) == .truncated)
        let p = try IPv4TCPPacket.parse(cut, allowingTruncatedPayload: true)
        #expect(p.payloadRange == 52..<54)
        #expect(p.wirePayloadLength == 5)
        #expect(p.verifyChecksums(in: cut) == ChecksumStatus(ipv4HeaderValid: true, tcpValid: false))
        // Headers must still be whole.
        #expect(throws: WireError.truncated) {
            try IPv4TCPPacket.parse(Array(LinuxPackets.hello[0..<50]), allowingTruncatedPayload: true)
        }
    }

    // MARK: - Checksum verification

    @Test func corruptedBytesFailVerification() throws {
        var payloadFlip = LinuxPackets.world
        payloadFlip[56] ^= 0x01
        let p = try IPv4TCPPacket.parse(payloadFlip)
        #expect(p.verifyChecksums(in: payloadFlip) == ChecksumStatus(ipv4HeaderValid: true, tcpValid: false))

        var ttlFlip = LinuxPackets.world
        ttlFlip[8] = 63
        let q = try IPv4TCPPacket.parse(ttlFlip)
        #expect(q.verifyChecksums(in: ttlFlip) == ChecksumStatus(ipv4HeaderValid: false, tcpValid: true))

        // An address is in both the IPv4 header and the TCP pseudo-header.
        var addressFlip = LinuxPackets.world
        addressFlip[19] = 9
        let r = try IPv4TCPPacket.parse(addressFlip)
        #expect(!r.verifyChecksums(in: addressFlip).ipv4HeaderValid)
        #expect(!r.verifyChecksums(in: addressFlip).tcpValid)

        // Verification against a shorter buffer reports failure rather than trapping.
        #expect(!p.verifyChecksums(in: Array(payloadFlip[0..<30])).isValid)
    }

    // MARK: - IPv4 errors

    @Test func ipv4Errors() {
        let good = LinuxPackets.hello
        #expect(parseError([]) == .truncated)
        #expect(parseError(Array(good[0..<19])) == .truncated)
        var b = good; b[0] = 0x65
        #expect(parseError(b) == .badVersion(6))
        b = good; b[0] = 0x44
        #expect(parseError(b) == .badHeaderLength(16))
        b = good; b[0] = 0x4F                  // 60-byte header in a 57-byte packet
        #expect(parseError(b) == .badHeaderLength(60))
        b = good; b[2] = 0; b[3] = 19
        #expect(parseError(b) == .badTotalLength(19))
        b = good; b[2] = 0; b[3] = 58          // one byte more than the buffer
        #expect(parseError(b) == .truncated)
        b = good; b[6] = 0x60                  // DF + MF
        #expect(parseError(b) == .fragment)
        b = good; b[6] = 0x40; b[7] = 0x01     // offset 8 bytes
        #expect(parseError(b) == .fragment)
        b = good; b[9] = 17
        #expect(parseError(b) == .notTCP(protocolNumber: 17))
    }

    // MARK: - TCP errors

    @Test func tcpHeaderErrors() {
        let good = LinuxPackets.hello
        var b = good; b[2] = 0; b[3] = 39      // 19 bytes of TCP
        #expect(parseError(Array(b[0..<39])) == .truncated)
        b = good; b[32] = 0x40                 // data offset 4 words
        #expect(parseError(b) == .badDataOffset(16))
        b = good; b[32] = 0xF0                 // 60-byte TCP header in a 37-byte segment
        #expect(parseError(b) == .badDataOffset(60))
        b = good; b[32] = 0xA0                 // 40-byte TCP header in a 37-byte segment
        #expect(parseError(b) == .badDataOffset(40))
    }

    // MARK: - TCP options

    @Test func optionLengthLies() {
        let lies: [(String, [UInt8], UInt8)] = [
            ("length 0", [30, 0, 0, 0], 30),
            ("length 1", [30, 1, 0, 0], 30),
            ("past the end", [30, 5, 0, 0], 30),
            ("no length byte", [1, 1, 1, 30], 30),
            ("MSS length 3", [2, 3, 0, 1], 2),
            ("MSS length 5", [2, 5, 0, 0, 0, 1, 1, 1], 2),
            ("WS length 4", [3, 4, 0, 0], 3),
            ("WS length 2", [3, 2, 1, 1], 3),
            ("SACK-permitted length 3", [4, 3, 0, 1], 4),
            ("timestamps length 8", [8, 8, 0, 0, 0, 0, 0, 0], 8),
            ("timestamps length 12", [8, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 8),
            ("SACK no blocks", [5, 2, 1, 1], 5),
            ("SACK 9", [5, 9, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1], 5),
            ("SACK 11", [5, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], 5),
            ("SACK past the end", [1, 1, 5, 18, 0, 0, 0, 0, 0, 0, 0, 0], 5),
            ("MSS cut by the header", [1, 1, 1, 2], 2),
        ]
        for (name, options, kind) in lies {
            #expect(parseError(rawPacket(options: options)) == .badOptionLength(kind: kind), "\(name)")
        }
    }

    @Test func unknownOptionsSkippedByLength() throws {
        // kind 30 (MPTCP) length 6, kind 34 (TFO) length 2, then MSS.
        let p = try IPv4TCPPacket.parse(rawPacket(options: [30, 6, 9, 9, 9, 9, 34, 2, 2, 4, 0x05, 0xB4]))
        #expect(p.tcp.options == TCPOptions(maximumSegmentSize: 1460))
    }

    @Test func endOfListStopsParsing() throws {
        // Garbage after EOL (kind 2 with length 0) must be ignored.
        let p = try IPv4TCPPacket.parse(rawPacket(options: [3, 3, 7, 0, 2, 0, 0, 0]))
        #expect(p.tcp.options == TCPOptions(windowScale: 7))
    }

    @Test func sackBlocksParsedUpToFour() throws {
        var opts: [UInt8] = [1, 1, 5, 34]
        for k in 0..<4 {
            let l = UInt32(1000 * (k + 1)), r = l + 500
            for v in [l, r] { opts += [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
        }
        let p = try IPv4TCPPacket.parse(rawPacket(options: opts, payload: [1, 2, 3]))
        #expect(p.tcp.options.sackBlocks == WireSamples.blocks(4))
        #expect(p.payloadLength == 3)
    }

    @Test func unalignedBufferParses() throws {
        var storage = [UInt8](repeating: 0, count: 3) + LinuxPackets.hello
        let expected = try IPv4TCPPacket.parse(LinuxPackets.hello)
        try storage.withUnsafeMutableBytes { raw in
            let view = UnsafeRawBufferPointer(rebasing: raw[3...])
            let p = try IPv4TCPPacket.parse(view)
            #expect(p == expected)
            #expect(p.verifyChecksums(in: view).isValid)
        }
        storage[0] = 0
    }
}
