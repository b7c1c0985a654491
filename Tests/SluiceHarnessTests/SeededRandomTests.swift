import Testing
import SluiceCore
import SluiceHarness
import SluiceTestSupport

/// Pins the package's seeded randomness (SluiceRandom) to fixed outputs: the payload bytes
/// `sluice-send --bytes --seed` produces, the harness's byte streams and link decisions, and so
/// every digest a harness run reports, depend on these numbers. The reference values come from
/// an independent Python implementation of SplitMix64 (Steele, Lea, Flood 2014) and xoshiro256**
/// (Blackman, Vigna 2018), and the digest of an impaired harness link (no engine) from a run
/// made when the generators moved into SluiceRandom; none may change.
@Suite struct SeededRandomTests {
    @Test func splitMix64ReferenceSequence() {
        var rng = SplitMix64(seed: 0)
        #expect([rng.next(), rng.next(), rng.next()] == [0xE220_A839_7B1D_CDAF, 0x6E78_9E6A_A1B9_65F4, 0x06C4_5D18_8009_454F])
    }

    @Test func xoshiro256ReferenceSequence() {
        var rng = Xoshiro256(seed: 1)
        #expect([rng.next(), rng.next(), rng.next(), rng.next()]
            == [0xB3F2_AF6D_0FC7_10C5, 0x853B_5596_4736_4CEA, 0x92F8_9756_082A_4514, 0x642E_1C7B_C266_A3A7])
    }

    /// `sluice-send --bytes N --seed 9`: the little-endian bytes of SplitMix64(9), in any pieces.
    @Test func seededBytesAreSplitMix64LittleEndian() {
        var bytes = SeededBytes(seed: 9)
        #expect(bytes.next(16) == hexBytes("646070befe52afae62eaaf875e8a2dc0"))
        var pieces = SeededBytes(seed: 9)
        var joined: [UInt8] = []
        for size in [1, 2, 3, 5, 5] { joined += pieces.next(size) }
        #expect(joined == hexBytes("646070befe52afae62eaaf875e8a2dc0"))
        var far = SeededBytes(seed: 9)
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in far.next(1 << 20) { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        #expect(h == 0x2525_9023_2A06_59F5, "FNV-1a 64 of the first MiB")
        #expect(far.next(16) == hexBytes("117372b30350bafe82730354d20c155b"))
    }

    /// Whatever the cuts (the fill's four-word loop, its word loop and its byte tail all meet
    /// pieces that start and end mid-word), the bytes are SplitMix64's outputs, little-endian,
    /// one after another.
    @Test(arguments: [UInt64(3), 4, 5])
    func seededBytesAreTheSameHoweverTheyAreCut(seed: UInt64) {
        print("SeededRandomTests cuts seed \(seed)")
        var reference = SplitMix64(seed: 11)
        var expected: [UInt8] = []
        while expected.count < 200_000 {
            withUnsafeBytes(of: reference.next().littleEndian) { expected += $0 }
        }
        var cuts = Xoshiro256(seed: seed)
        var bytes = SeededBytes(seed: 11)
        var got: [UInt8] = []
        while got.count < 190_000 {
            got += bytes.next(Int(cuts.next() % 200))   // 0 … 199: across words and 32-byte turns
        }
        #expect(got == Array(expected[..<got.count]))
    }

    /// The harness's byte stream: SplitMix64 bytes in a 65 521-byte block, XORed with the lap.
    @Test func byteStreamReferenceBytes() {
        let stream = ByteStream(seed: 7)
        #expect(stream.bytes(0..<16) == hexBytes("d70d3259e4e1cb631c663cf4d73c4c04"))
        #expect(stream.bytes((65_521 - 4)..<(65_521 + 4)) == hexBytes("a4105698d60c3358"))
    }

    /// A whole impaired harness run (loss, reorder, duplication, corruption all drawn from the
    /// link's Xoshiro256): the digest of every packet and event.
    @Test func harnessDigestIsPinned() throws {
        let pair = RawPair(seed: 99, LinkConfig(latency: .milliseconds(1), rate: 10_000_000, queueLimit: .packets(20),
                                                lossProbability: 0.05, reorderProbability: 0.05, reorderDelay: .milliseconds(2),
                                                duplicateProbability: 0.05, corruptProbability: 0.05))
        for n in 1...500 { pair.a.send(RawPair.packet(n, payload: n % 700), at: .microseconds(Int64(n) * 50)) }
        try pair.net.runUntilIdle()
        #expect(pair.net.digest == Self.pinnedRawDigest, "digest \(String(pair.net.digest, radix: 16))")
    }

    /// A seeded bulk transfer over a lossy link: what the receiver got is the byte stream's
    /// pinned content. (The harness digest of an engine transfer is not pinned: it moves, on
    /// purpose, whenever the engine's behaviour does.)
    @Test func transferDeliversThePinnedStream() throws {
        let outcome = try runTransfer(seed: 5, count: 200_000, link: transferLink(loss: 0.01, reorder: 0.01))
        #expect(outcome.receivedDigest == 0x4E79_30C2_42FE_378E, "FNV-1a 64 of ByteStream(5)'s first 200 000 bytes")
        #expect(expectedDigest(seed: 5, count: 200_000) == 0x4E79_30C2_42FE_378E)
    }

    static let pinnedRawDigest: UInt64 = 0x4498_7959_0D62_F34B
}
