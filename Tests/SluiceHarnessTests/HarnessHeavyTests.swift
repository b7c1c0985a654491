import SluiceCore
import Testing
@testable import SluiceHarness

/// 10 MiB transfers over many seeds (release mode: `swift test -c release -Xswiftc
/// -enable-testing --filter Heavy`). Every byte is checked against the seeded stream as it is
/// read; a failure names its seed.
@Suite struct HarnessHeavyTests {
    static let count = 10 * 1024 * 1024

    /// Issue 3: random loss from 0 to 10 % (seed n uses (n mod 11) %).
    @Test(arguments: Array(1...50) as [UInt64])
    func tenMiBWithRandomLoss(seed: UInt64) throws {
        let loss = Double(seed % 11) / 100
        let outcome = try runTransfer(seed: seed, count: Self.count, link: transferLink(loss: loss))
        #expect(outcome.bytes == Self.count, "\(outcome)")
        #expect(outcome.receivedDigest == expectedDigest(seed: seed, count: Self.count), "\(outcome)")
    }

    /// Issue 4: loss 0–10 %, reordering, duplication and single-bit corruption, with SACK and
    /// timestamps each on and off (seed n uses combination n mod 4).
    @Test(arguments: Array(101...200) as [UInt64])
    func tenMiBThroughEveryImpairment(seed: UInt64) throws {
        let loss = Double(seed % 11) / 100
        let link = transferLink(loss: loss, reorder: 0.02, duplicate: 0.02, corrupt: 0.02)
        let sack = seed % 2 == 0
        let timestamps = seed / 2 % 2 == 0
        let outcome = try runTransfer(seed: seed, count: Self.count, link: link, sack: sack, timestamps: timestamps)
        #expect(outcome.bytes == Self.count, "\(outcome) sack=\(sack) ts=\(timestamps)")
        #expect(outcome.receivedDigest == expectedDigest(seed: seed, count: Self.count), "\(outcome)")
    }

    /// The same seed gives the same packets at the same instants (and a different seed does not).
    @Test func tenMiBImpairedRunIsDeterministic() throws {
        let link = transferLink(loss: 0.05, reorder: 0.02, duplicate: 0.02, corrupt: 0.02)
        let first = try runTransfer(seed: 4242, count: Self.count, link: link)
        let second = try runTransfer(seed: 4242, count: Self.count, link: link)
        #expect(first == second)
    }
}
