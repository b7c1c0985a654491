import Testing
import SluiceCore
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
