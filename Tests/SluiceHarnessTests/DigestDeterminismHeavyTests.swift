import SluiceCore
import Testing
@testable import SluiceHarness

/// A seed names one run, bit for bit, in release builds too (`swift test -c release -Xswiftc
/// -enable-testing --filter Heavy`, which tools/test runs). Debug builds keep values alive to the
/// end of their scope and so hide lifetime bugs: `RawPacketNode.pollTransmit` once read a freed
/// packet in release only, and the digest of seed 99 differed between two runs in one process
/// while the debug suite passed (see `RawPacketNodeTests`).
@Suite struct DigestDeterminismHeavyTests {
    static let seeds = Array(1...16) as [UInt64]

    /// The impaired raw link (no engine) of `SeededRandomTests.harnessDigestIsPinned`, with
    /// packets of every size class from a bare header to 1500 bytes: twice per seed in one
    /// process gives the same digest, and the pinned seed gives the pinned digest.
    @Test(arguments: seeds)
    func rawLinkDigestRepeatsForASeed(seed: UInt64) throws {
        let first = try Self.rawLinkDigest(seed: seed)
        let second = try Self.rawLinkDigest(seed: seed)
        #expect(first == second, "seed \(seed): \(String(first, radix: 16)) then \(String(second, radix: 16))")
    }

    @Test func rawLinkDigestsDifferAcrossSeedsAndThePinnedOneHolds() throws {
        let digests = try Self.seeds.map { try Self.rawLinkDigest(seed: $0) }
        #expect(Set(digests).count == Self.seeds.count, "\(digests.map { String($0, radix: 16) })")
        for _ in 0..<3 {
            #expect(try Self.pinnedRawLinkDigest() == SeededRandomTests.pinnedRawDigest)
        }
    }

    /// Engine transfers (rings taken from and handed back to the endpoints' ring storage pools,
    /// SACK and timestamps on and off) through every impairment: the harness digest of each
    /// seed repeats.
    @Test(arguments: Array(seeds.prefix(8)))
    func impairedTransferDigestRepeatsForASeed(seed: UInt64) throws {
        let link = transferLink(loss: Double(seed % 6) / 100, reorder: 0.02, duplicate: 0.02, corrupt: 0.02)
        let sack = seed % 2 == 0
        let timestamps = seed / 2 % 2 == 0
        let first = try runTransfer(seed: seed, count: 1 << 20, link: link, sack: sack, timestamps: timestamps)
        let second = try runTransfer(seed: seed, count: 1 << 20, link: link, sack: sack, timestamps: timestamps)
        #expect(first == second)
        #expect(first.receivedDigest == expectedDigest(seed: seed, count: 1 << 20), "\(first)")
    }

    /// 2000 packets, one every 50 µs, with payloads of 0 to 1460 bytes in a seed-independent order.
    static func rawLinkDigest(seed: UInt64) throws -> UInt64 {
        let pair = RawPair(seed: seed, impairedLink)
        for n in 1...2000 {
            pair.a.send(RawPair.packet(n, payload: n &* 37 % 1461), at: .microseconds(Int64(n) * 50))
        }
        try pair.net.runUntilIdle()
        return pair.net.digest
    }

    /// `SeededRandomTests.harnessDigestIsPinned`'s run.
    static func pinnedRawLinkDigest() throws -> UInt64 {
        let pair = RawPair(seed: 99, LinkConfig(latency: .milliseconds(1), rate: 10_000_000, queueLimit: .packets(20),
                                                lossProbability: 0.05, reorderProbability: 0.05, reorderDelay: .milliseconds(2),
                                                duplicateProbability: 0.05, corruptProbability: 0.05))
        for n in 1...500 { pair.a.send(RawPair.packet(n, payload: n % 700), at: .microseconds(Int64(n) * 50)) }
        try pair.net.runUntilIdle()
        return pair.net.digest
    }

    /// 100 Mbit/s (a 1500-byte packet every 120 µs, so the queue both fills and drains), 1 ms,
    /// a 30-packet queue, and 5 % each of loss, reordering, duplication and corruption.
    static let impairedLink = LinkConfig(latency: .milliseconds(1), rate: 100_000_000, queueLimit: .packets(30),
                                         lossProbability: 0.05, reorderProbability: 0.05, reorderDelay: .milliseconds(2),
                                         duplicateProbability: 0.05, corruptProbability: 0.05)
}
