import Testing
@testable import SluiceCore

@Suite struct WireEncodeTests {
    /// What decoding an encoded packet must give back: the input, with the fields the encoder
    /// computes (lengths, checksums, protocol) filled in and SACK blocks cut to what fits.
    func expectRoundTrip(ip: IPv4Header, tcp: TCPHeader, payload: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let bytes = IPv4TCPPacket.encode(ip: ip, tcp: tcp, payload: payload)
        let length = IPv4TCPPacket.encodedLength(options: tcp.options, payloadLength: payload.count)
        #expect(bytes.count == length, sourceLocation: sourceLocation)
        let p = try IPv4TCPPacket.parse(bytes)
        var expectedIP = ip
        expectedIP.protocolNumber = 6
        expectedIP.headerLength = 20
        expectedIP.totalLength = UInt16(length)
        expectedIP.checksum = p.ip.checksum
        var expectedTCP = tcp
        expectedTCP.checksum = p.tcp.checksum
        expectedTCP.options.sackBlocks.truncate(to: tcp.options.encodedSACKBlockCount)
        #expect(p.ip == expectedIP, sourceLocation: sourceLocation)
        #expect(p.tcp == expectedTCP, sourceLocation: sourceLocation)
        #expect(Array(bytes[p.payloadRange]) == payload, sourceLocation: sourceLocation)
        #expect(p.verifyChecksums(in: bytes).isValid, sourceLocation: sourceLocation)
        #expect(p.tcpHeaderLength == 20 + tcp.options.encodedLength, sourceLocation: sourceLocation)
        #expect(tcp.options.encodedLength % 4 == 0 && tcp.options.encodedLength <= 40, sourceLocation: sourceLocation)
    }

    // MARK: - Round trips

    /// Every option alone and in every combination, 0–4 SACK blocks, with and without payload
    /// (odd and even lengths).
    @Test(arguments: [0, 1, 1460])
    func everyOptionCombinationRoundTrips(payloadLength: Int) throws {
        let payload = (0..<payloadLength).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
        for options in WireSamples.everyOptionCombination {
            for flags: TCPFlags in [[.syn], [.syn, .ack], [.ack], [.fin, .psh, .ack], [.rst], [.urg, .ece, .cwr, .ack]] {
                try expectRoundTrip(ip: WireSamples.ip, tcp: WireSamples.tcp(flags: flags, options: options), payload: payload)
            }
        }
    }

    @Test func headerFieldsRoundTrip() throws {
        let ip = IPv4Header(
            source: IPv4Address(192, 168, 255, 254), destination: IPv4Address(127, 0, 0, 1),
            timeToLive: 1, typeOfService: 0xB9, identification: 0xFFFF, dontFragment: false)
        let tcp = TCPHeader(
            sourcePort: 65535, destinationPort: 1, sequenceNumber: SequenceNumber(UInt32.max),
            acknowledgmentNumber: SequenceNumber(0x8000_0000), flags: TCPFlags(rawValue: 0xFF),
            window: 0, urgentPointer: 0xABCD, options: TCPOptions(maximumSegmentSize: 0, windowScale: 255))
        try expectRoundTrip(ip: ip, tcp: tcp, payload: [0xFF])
    }

    // MARK: - Layout

    /// A SYN with the options Linux sends encodes to exactly the bytes Linux sent.
    @Test(arguments: [LinuxPackets.syn, LinuxPackets.hello, LinuxPackets.world])
    func linuxPacketsReEncodeByteForByte(packet: [UInt8]) throws {
        let p = try IPv4TCPPacket.parse(packet)
        let again = IPv4TCPPacket.encode(ip: p.ip, tcp: p.tcp, payload: Array(packet[p.payloadRange]))
        #expect(again == packet)
    }

    @Test func synOptionLayoutWithoutTimestamps() {
        let options = TCPOptions(maximumSegmentSize: 1460, windowScale: 7, sackPermitted: true)
        let bytes = IPv4TCPPacket.encode(ip: WireSamples.ip, tcp: WireSamples.tcp(flags: [.syn], options: options))
        #expect(Array(bytes[40...]) == [2, 4, 0x05, 0xB4, 1, 1, 4, 2, 1, 3, 3, 7])
    }

    @Test func sackLayoutAndTruncation() {
        let ts = TCPTimestamps(value: 1, echoReply: 2)
        // With timestamps, 3 blocks fit (12 + 4 + 24 = 40).
        let withTS = TCPOptions(sackBlocks: WireSamples.blocks(4), timestamps: ts)
        #expect(withTS.encodedSACKBlockCount == 3 && withTS.encodedLength == 40)
        let bytes = IPv4TCPPacket.encode(ip: WireSamples.ip, tcp: WireSamples.tcp(options: withTS))
        #expect(Array(bytes[40..<56]) == [1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 1, 1, 5, 26])
        // Without, 4 fit (4 + 32 = 36).
        #expect(TCPOptions(sackBlocks: WireSamples.blocks(4)).encodedLength == 36)
        // After MSS + SACK-permitted + TS + WS (20 bytes), 2 fit.
        let full = TCPOptions(maximumSegmentSize: 1, windowScale: 1, sackPermitted: true,
                              sackBlocks: WireSamples.blocks(4), timestamps: ts)
        #expect(full.encodedSACKBlockCount == 2 && full.encodedLength == 40)
    }

    // MARK: - Buffers

    @Test func tooSmallBufferWritesNothing() {
        let tcp = WireSamples.tcp(options: TCPOptions(timestamps: TCPTimestamps(value: 1, echoReply: 2)))
        let needed = IPv4TCPPacket.encodedLength(options: tcp.options, payloadLength: 100)
        #expect(needed == 152)
        var storage = [UInt8](repeating: 0xEE, count: needed - 1)
        var called = false
        let result = storage.withUnsafeMutableBytes { buffer in
            IPv4TCPPacket.encode(ip: WireSamples.ip, tcp: tcp, payloadLength: 100, into: buffer) { _ in called = true }
        }
        #expect(result == nil)
        #expect(!called)
        #expect(storage.allSatisfy { $0 == 0xEE })
        // Larger than an IPv4 packet can be.
        let huge = storage.withUnsafeMutableBytes { buffer in
            IPv4TCPPacket.encodeHeaders(ip: WireSamples.ip, tcp: tcp, payloadLength: 65_535, into: buffer)
        }
        #expect(huge == nil)
    }

    /// The payload written in two pieces (as from a ring that wraps) into a larger, unaligned
    /// buffer; the two-step API (headers, then checksums) gives the same bytes.
    @Test func payloadInTwoPiecesIntoUnalignedBuffer() throws {
        let first: [UInt8] = Array(repeating: 0xAB, count: 701)
        let second: [UInt8] = Array(repeating: 0x5C, count: 300)
        let tcp = WireSamples.tcp(flags: [.psh, .ack], options: TCPOptions(timestamps: TCPTimestamps(value: 9, echoReply: 8)))
        var storage = [UInt8](repeating: 0, count: 2000)
        let length = storage.withUnsafeMutableBytes { raw in
            let buffer = UnsafeMutableRawBufferPointer(rebasing: raw[1...])
            return IPv4TCPPacket.encode(ip: WireSamples.ip, tcp: tcp, payloadLength: 1001, into: buffer) { slice in
                first.withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: slice[0..<701]).copyMemory(from: $0) }
                second.withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: slice[701...]).copyMemory(from: $0) }
            }
        }
        #expect(length == 52 + 1001)
        let packet = Array(storage[1..<(1 + 1053)])
        #expect(packet == IPv4TCPPacket.encode(ip: WireSamples.ip, tcp: tcp, payload: first + second))
        let p = try IPv4TCPPacket.parse(packet)
        #expect(p.verifyChecksums(in: packet).isValid)

        var twoStep = [UInt8](repeating: 0, count: 1053)
        twoStep.withUnsafeMutableBytes { buffer in
            let offset = IPv4TCPPacket.encodeHeaders(ip: WireSamples.ip, tcp: tcp, payloadLength: 1001, into: buffer)
            #expect(offset == 52)
            (first + second).withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: buffer[52...]).copyMemory(from: $0) }
            #expect(IPv4TCPPacket.finalizeChecksums(in: buffer, length: 1053))
        }
        #expect(twoStep == packet)
    }
}
