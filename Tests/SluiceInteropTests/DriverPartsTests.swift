import Testing
import SluiceCore
import SluiceRandom
@testable import SluiceDrivers

@Suite struct TokenBucketTests {
    @Test func readsAtMostBurstPlusRateTimesTime() {
        // 10 KB/s, 4 KiB chunks: a full bucket at start, then one chunk every 409.6 ms.
        var bucket = TokenBucket(rate: 10_000, burst: 4096)
        let t0 = Instant.milliseconds(1000)
        #expect(bucket.isFull(at: t0))
        bucket.consume(4096, at: t0)
        #expect(!bucket.isFull(at: t0 + .milliseconds(409)))
        #expect(bucket.fullAt(t0) == t0 + .nanoseconds(409_600_000))
        #expect(bucket.isFull(at: t0 + .nanoseconds(409_600_000)))
        // A short read spends only what was read.
        bucket.consume(1000, at: t0 + .milliseconds(500))
        #expect(bucket.available(at: t0 + .milliseconds(500)) == 3096)
        #expect(bucket.fullAt(t0 + .milliseconds(500)) == t0 + .milliseconds(600))
        // Tokens never exceed the burst however long the pause.
        #expect(bucket.available(at: t0 + .seconds(3600)) == 4096)
    }

    @Test func timeGoingBackwardsChangesNothing() {
        var bucket = TokenBucket(rate: 1000, burst: 100)
        bucket.consume(100, at: .milliseconds(500))
        #expect(bucket.available(at: .milliseconds(400)) == 0)
        #expect(bucket.available(at: .milliseconds(550)) == 50)
    }
}

@Suite struct InitialSequenceNumberTests {
    let tuple = FourTuple(local: SocketAddress(IPv4Address(10, 0, 0, 1), 40000),
                          remote: SocketAddress(IPv4Address(10, 0, 0, 2), 5001))

    @Test func advancesOneEvery4Microseconds() {
        let isn = InitialSequenceNumbers(key: Array(repeating: 7, count: 32))
        let a = isn.isn(for: tuple, at: .microseconds(1_000))
        let b = isn.isn(for: tuple, at: .microseconds(1_000 + 4 * 12345))
        #expect(b - a == 12345)
        #expect(isn.isn(for: tuple, at: .microseconds(1_003)) == a)
    }

    @Test func keyedHashSeparatesTuplesAndKeys() {
        let one = InitialSequenceNumbers(key: Array(repeating: 1, count: 32))
        let two = InitialSequenceNumbers(key: Array(repeating: 2, count: 32))
        var other = tuple
        other.local.port += 1
        #expect(one.hash(tuple) != one.hash(other))
        #expect(one.hash(tuple) != two.hash(tuple))
        #expect(one.hash(tuple) == InitialSequenceNumbers(key: Array(repeating: 1, count: 32)).hash(tuple))
        // Two generators with fresh random keys disagree (2^-32 chance of a false failure).
        #expect(InitialSequenceNumbers().hash(tuple) != InitialSequenceNumbers().hash(tuple))
    }

    @Test func matchesHMACSHA256TestVector() {
        // HMAC-SHA256(key = 32 × 0x01, message = 0a000001 9c40 0a000002 1389), first 4 bytes,
        // computed independently with Python's hmac module.
        let isn = InitialSequenceNumbers(key: Array(repeating: 1, count: 32))
        #expect(isn.hash(tuple) == expectedHash)
    }
}

/// python3 -c "import hmac,hashlib;print(hmac.new(b'\x01'*32,bytes.fromhex('0a0000019c400a0000021389'),hashlib.sha256).hexdigest()[:8])"
private let expectedHash: UInt32 = 0xa985_cd59

@Suite struct PayloadTests {
    @Test func seededPayloadIsSplitMix64LittleEndian() throws {
        // SplitMix64 from seed 0: first output 0xE220A8397B1DCDAF (the reference sequence).
        let payload = SeededPayload(count: 10, seed: 0)
        var bytes = [UInt8](repeating: 0, count: 16)
        let n = try bytes.withUnsafeMutableBytes { try payload.fill($0) }
        #expect(n == 10)
        #expect(Array(bytes[0..<8]) == [0xAF, 0xCD, 0x1D, 0x7B, 0x39, 0xA8, 0x20, 0xE2])
        let rest = try bytes.withUnsafeMutableBytes { try payload.fill($0) }
        #expect(rest == 0)
    }

    @Test func chunkingDoesNotChangeTheStream() throws {
        let whole = SeededPayload(count: 1000, seed: 42)
        var a = [UInt8](repeating: 0, count: 1000)
        _ = try a.withUnsafeMutableBytes { try whole.fill($0) }
        let pieces = SeededPayload(count: 1000, seed: 42)
        var b = [UInt8]()
        for size in [1, 3, 7, 13, 100, 876] {
            var chunk = [UInt8](repeating: 0, count: size)
            let n = try chunk.withUnsafeMutableBytes { try pieces.fill($0) }
            b += chunk[..<n]
        }
        #expect(a == b)
    }

    /// The word-wide generator produces exactly the bytes of the byte-at-a-time definition
    /// (pinned from an independent Python SplitMix64: FNV-1a 64 of all 1,000,003 bytes of seed 7,
    /// and the last 16), whatever the fill sizes (odd, word-sized, straddling words; seeded).
    @Test func wordWideGeneratorKeepsTheBytesOfSeed7() throws {
        var rng = SplitMix64(seed: 20261130)
        print("PayloadTests chunk-size seed 20261130")
        for round in 0..<3 {
            let payload = SeededPayload(count: 1_000_003, seed: 7)
            var all = [UInt8]()
            all.reserveCapacity(1_000_003)
            var chunk = [UInt8](repeating: 0, count: 70_000)
            while true {
                // Round 0: 64 KiB fills; the others: random sizes 1...70,000.
                let size = round == 0 ? 65_536 : 1 + Int(rng.next() % 70_000)
                let n = try chunk.withUnsafeMutableBytes { try payload.fill(UnsafeMutableRawBufferPointer(rebasing: $0[..<size])) }
                if n == 0 { break }
                all += chunk[..<n]
            }
            #expect(all.count == 1_000_003)
            var fnv: UInt64 = 0xcbf2_9ce4_8422_2325
            for byte in all { fnv = (fnv ^ UInt64(byte)) &* 0x100_0000_01b3 }
            #expect(fnv == 0x5355_9007_0ff7_3056, "round \(round)")
            #expect(Array(all.suffix(16)) == [0x40, 0x23, 0x1C, 0x69, 0x72, 0x2E, 0xAE, 0x1A,
                                               0x35, 0x43, 0x03, 0x67, 0xF2, 0x35, 0xBE, 0xC6])
        }
    }

    @Test func generatorMatchesTheByteModelForSmallFills() throws {
        // The byte-at-a-time definition as a model, against fills of 0...17 bytes.
        var model = SplitMix64(seed: 99)
        var modelBytes = [UInt8]()
        for _ in 0..<200 { withUnsafeBytes(of: model.next().littleEndian) { modelBytes += $0 } }
        let payload = SeededPayload(count: 1500, seed: 99)
        var produced = [UInt8]()
        var size = 0
        while true {
            var chunk = [UInt8](repeating: 0, count: size)
            let n = try chunk.withUnsafeMutableBytes { try payload.fill($0) }
            if n == 0 && size > 0 { break }
            produced += chunk[..<n]
            size = (size + 1) % 18
        }
        #expect(produced == Array(modelBytes[..<1500]))
    }
}


@Suite struct LinkPartsTests {
    @Test(arguments: ["tun0", "sl12345", "a", "fifteen-chars-x"])
    func goodNames(name: String) throws {
        try TUNDevice.validate(name: name)
    }

    @Test(arguments: ["", "sixteen-chars-xx", "a/b", "a b", "tun:0", ".", ".."])
    func badNames(name: String) {
        #expect(throws: TUNError.self) { try TUNDevice.validate(name: name) }
    }

    @Test func tunErrorsAreOneLineAndNameTheFix() {
        let errors: [TUNError] = [.noCloneDevice, .moduleMissing, .notPermitted(name: "tun0"), .busy(name: "tun0"),
                                  .badName(name: "a/b"), .notATunDevice(name: "eth0")]
        for error in errors {
            let text = "\(error)"
            #expect(!text.contains("\n"))
            #expect(text.contains(":"))
        }
        #expect("\(TUNError.noCloneDevice)".contains("mknod /dev/net/tun c 10 200"))
        #expect("\(TUNError.notPermitted(name: "tun0"))".contains("CAP_NET_ADMIN"))
    }

    @Test func tcpEndpointsOfAPacket() {
        // IPv4 (IHL 5) 10.0.0.1 -> 10.0.0.2, TCP 40000 -> 5001.
        var packet = [UInt8](repeating: 0, count: 40)
        packet[0] = 0x45
        packet[9] = 6
        packet[12...15] = [10, 0, 0, 1]
        packet[16...19] = [10, 0, 0, 2]
        packet[20...23] = [0x9c, 0x40, 0x13, 0x89]
        packet.withUnsafeBytes { bytes in
            #expect(tcpEndpoint(of: bytes, source: true) == SocketAddress(IPv4Address(10, 0, 0, 1), 40000))
            #expect(tcpEndpoint(of: bytes, source: false) == SocketAddress(IPv4Address(10, 0, 0, 2), 5001))
            #expect(tcpEndpoint(of: UnsafeRawBufferPointer(rebasing: bytes[0..<22]), source: true) == nil)
        }
        packet[9] = 17
        packet.withUnsafeBytes { #expect(tcpEndpoint(of: $0, source: true) == nil) }
    }
}

/// The TUN offload mode's send side: runs of consecutive data segments of one connection in a
/// batch become one TCP/IPv4 super-segment (the kernel segments it back into the same pieces);
/// anything else passes unchanged and in order.
@Suite struct SuperSegmentTests {
    /// An IPv4/TCP packet 10.0.0.1:40000 → 10.0.0.2:5001 with a 12-byte timestamp option,
    /// checksums complete; payload bytes are `seq + i` (low byte).
    static func segment(seq: UInt32, payload: Int, flags: UInt8 = 0x10, tsval: UInt32 = 7, ack: UInt32 = 99) -> [UInt8] {
        let tcpLength = 32 + payload
        var p = [UInt8](repeating: 0, count: 20 + tcpLength)
        p[0] = 0x45
        p[2] = UInt8((20 + tcpLength) >> 8); p[3] = UInt8((20 + tcpLength) & 0xff)
        p[6] = 0x40                                         // DF
        p[8] = 64; p[9] = 6
        p[12...15] = [10, 0, 0, 1]; p[16...19] = [10, 0, 0, 2]
        p[20...23] = [0x9c, 0x40, 0x13, 0x89]
        for k in 0..<4 { p[24 + k] = UInt8(truncatingIfNeeded: seq >> (24 - 8 * k)) }
        for k in 0..<4 { p[28 + k] = UInt8(truncatingIfNeeded: ack >> (24 - 8 * k)) }
        p[32] = 0x80; p[33] = flags; p[34] = 0x10; p[35] = 0x00
        p[40...43] = [1, 1, 8, 10]
        for k in 0..<4 { p[44 + k] = UInt8(truncatingIfNeeded: tsval >> (24 - 8 * k)) }
        for i in 0..<payload { p[52 + i] = UInt8(truncatingIfNeeded: seq &+ UInt32(i)) }
        let ip = p.withUnsafeBytes { InternetChecksum.checksum(UnsafeRawBufferPointer(rebasing: $0[0..<20])) }
        p[10] = UInt8(ip >> 8); p[11] = UInt8(ip & 0xff)
        var sum = InternetChecksum()
        sum.addPseudoHeader(source: IPv4Address(10, 0, 0, 1), destination: IPv4Address(10, 0, 0, 2), length: tcpLength)
        p.withUnsafeBytes { sum.add(UnsafeRawBufferPointer(rebasing: $0[20...])) }
        p[36] = UInt8(sum.checksum >> 8); p[37] = UInt8(sum.checksum & 0xff)
        return p
    }

    static func batch(_ packets: [[UInt8]]) -> PacketBatch {
        let b = PacketBatch()
        for (i, p) in packets.enumerated() {
            p.withUnsafeBytes { b.slot(i).copyMemory(from: $0) }
            b.lengths[i] = UInt32(p.count)
        }
        b.count = packets.count
        return b
    }

    static func verifies(_ packet: UnsafeRawBufferPointer) -> Bool {
        guard let parsed = try? IPv4TCPPacket.parse(packet) else { return false }
        return parsed.verifyChecksums(in: packet).isValid
    }

    /// A super-segment the engine made (complete checksum, as the capture records it) goes to
    /// the kernel with the pseudo-header sum only, `NEEDS_CSUM` and the offsets; completing it as
    /// the receive side does gives back the valid checksum.
    @Test func aSuperSegmentGoesToTheKernelWithThePseudoHeaderSum() throws {
        let packet = Self.segment(seq: 1000, payload: 3 * 1448, flags: 0x18)
        let b = Self.batch([packet])
        #expect(Self.verifies(b.packet(0)))
        VirtioNetHeader.makeChecksumPartial(UnsafeMutableRawBufferPointer(rebasing: b.slot(0)[..<Int(b.lengths[0])]))
        #expect(!Self.verifies(b.packet(0)), "the pseudo-header sum is not a checksum")
        #expect(Array(b.packet(0)[..<36]) == Array(packet[..<36]) && Array(b.packet(0)[38...]) == Array(packet[38...]),
                "only the checksum field changes")
        var header = [UInt8](repeating: 0xff, count: VirtioNetHeader.size)
        header.withUnsafeMutableBytes { VirtioNetHeader.write(into: $0, packet: b.packet(0), segmentSize: 1448) }
        #expect(header == [1, 1, 52, 0, 0xa8, 0x05, 20, 0, 16, 0])
        header.withUnsafeBytes { h in VirtioNetHeader.completeChecksum(h, packet: UnsafeMutableRawBufferPointer(rebasing: b.slot(0)[..<Int(b.lengths[0])])) }
        #expect(Self.verifies(b.packet(0)))
        #expect(Array(b.packet(0)) == packet)
    }

    /// The receive side's reading of the virtio-net header: `NEEDS_CSUM` and `DATA_VALID` vouch
    /// for the checksum (the packet came from the local stack); a header without flags does not;
    /// `NEEDS_CSUM` offsets must fit the packet.
    @Test func theKernelVouchesForFlaggedPackets() {
        let packet = Self.segment(seq: 1000, payload: 100)
        func header(flags: UInt8, start: UInt16 = 20, offset: UInt16 = 16) -> [UInt8] {
            [flags, 0, 0, 0, 0, 0, UInt8(start & 0xff), UInt8(start >> 8), UInt8(offset & 0xff), UInt8(offset >> 8)]
        }
        header(flags: 0).withUnsafeBytes { h in
            #expect(!VirtioNetHeader.vouchesForChecksum(h))
            packet.withUnsafeBytes { #expect(VirtioNetHeader.checksumFits(h, packet: $0)) }
        }
        header(flags: VirtioNetHeader.needsChecksum).withUnsafeBytes { h in
            #expect(VirtioNetHeader.vouchesForChecksum(h))
            packet.withUnsafeBytes { #expect(VirtioNetHeader.checksumFits(h, packet: $0)) }
        }
        header(flags: VirtioNetHeader.dataValid).withUnsafeBytes { #expect(VirtioNetHeader.vouchesForChecksum($0)) }
        // Offsets past the end: does not fit (dropped and counted), and nothing is written.
        header(flags: VirtioNetHeader.needsChecksum, start: UInt16(packet.count - 17)).withUnsafeBytes { h in
            packet.withUnsafeBytes { #expect(!VirtioNetHeader.checksumFits(h, packet: $0)) }
            var copy = packet
            copy.withUnsafeMutableBytes { VirtioNetHeader.completeChecksum(h, packet: $0) }
            #expect(copy == packet)
        }
        #expect(VirtioNetHeader.vouchesForChecksum(UnsafeRawBufferPointer(start: nil, count: 0)) == false)
    }
}
