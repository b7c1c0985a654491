import Glibc
import SluiceCore
import Testing
@testable import SluiceHarness

/// Light transfers through the engine (the heavy sweeps are in `HarnessHeavyTests`).
@Suite struct TransferTests {
    @Test(arguments: [1, 2, 3] as [UInt64])
    func cleanLinkDeliversIdenticalBytes(seed: UInt64) throws {
        let count = 256 * 1024
        let outcome = try runTransfer(seed: seed, count: count, link: transferLink())
        #expect(outcome.bytes == count)
        #expect(outcome.receivedDigest == expectedDigest(seed: seed, count: count))
        // No random drops; the 100-packet queue may overflow (drop-tail) before congestion control.
        #expect(outcome.forward.droppedLoss == 0 && outcome.forward.droppedMTU == 0)
    }

    @Test(arguments: [11, 12] as [UInt64])
    func lossyLinkDeliversIdenticalBytes(seed: UInt64) throws {
        let count = 256 * 1024
        let outcome = try runTransfer(seed: seed, count: count, link: transferLink(loss: 0.05))
        #expect(outcome.bytes == count, "\(outcome)")
        #expect(outcome.forward.droppedLoss > 0, "\(outcome)")
    }

    @Test(arguments: [(21, true, true), (22, false, false), (23, true, false), (24, false, true)] as [(UInt64, Bool, Bool)])
    func impairedLinkDeliversIdenticalBytes(seed: UInt64, sack: Bool, timestamps: Bool) throws {
        let count = 256 * 1024
        let link = transferLink(loss: 0.03, reorder: 0.03, duplicate: 0.03, corrupt: 0.03)
        let outcome = try runTransfer(seed: seed, count: count, link: link, sack: sack, timestamps: timestamps)
        #expect(outcome.bytes == count, "\(outcome)")
        #expect(outcome.forward.corrupted > 0 && outcome.forward.duplicated > 0, "\(outcome)")
    }

    @Test func sameSeedSameRun() throws {
        let link = transferLink(loss: 0.03, reorder: 0.03, duplicate: 0.03, corrupt: 0.03)
        let first = try runTransfer(seed: 77, count: 128 * 1024, link: link)
        let second = try runTransfer(seed: 77, count: 128 * 1024, link: link)
        #expect(first == second)
        let other = try runTransfer(seed: 78, count: 128 * 1024, link: link)
        #expect(other.harnessDigest != first.harnessDigest)
    }

    /// RFC 9293 §3.4: sequence numbers are modulo 2^32. Start 3 KiB below the wrap so that the
    /// handshake and the first segments straddle it.
    @Test func transferCrossesTheSequenceNumberWrap() throws {
        let isn = SequenceNumber(UInt32.max - 3 * 1024)
        let t = try BulkTransfer(seed: 5, count: 512 * 1024, link: transferLink(loss: 0.02), initialSequenceNumber: isn)
        var dataSeqs: [UInt32] = []
        t.harness.observe { r in
            if r.point == .departure, r.from === t.client, let s = r.segment, s.payloadLength > 0 {
                dataSeqs.append(s.sequenceNumber.rawValue)
            }
        }
        try t.run()
        #expect(t.receiver.bytesRead == 512 * 1024)
        #expect(dataSeqs.first.map { $0 > UInt32.max - 4096 } == true, "first data below the wrap")
        #expect(dataSeqs.contains { $0 < 600 * 1024 }, "data after the wrap")
    }
}
