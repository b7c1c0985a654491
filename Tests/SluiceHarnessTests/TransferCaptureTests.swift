import Glibc
import SluiceCore
import Testing
import SluiceTestSupport
@testable import SluiceHarness

/// A harness pcap of engine traffic is a normal pcap: tshark decodes every packet, finds good
/// checksums and nothing malformed. Skipped where tshark is missing, except in CI.
@Suite(Prerequisites.tshark.trait)
struct TransferCaptureTests {
    static let fields = ["ip.checksum.status", "tcp.checksum.status", "_ws.malformed", "_ws.expert.severity"]

    @Test func cleanTransferCaptureDecodesWithGoodChecksums() throws {
        let path = temporaryPath("transfer.pcap")
        defer { unlink(path) }
        let t = try BulkTransfer(seed: 9, count: 256 * 1024, link: transferLink())
        try t.harness.captureDepartures(to: path)
        try t.run()
        try t.harness.closeCaptures()
        let rows = try Tshark.rows(path, fields: ["ip.checksum.status", "tcp.checksum.status", "_ws.malformed"])
        #expect(rows.count == t.forward.counters.sent + t.backward.counters.sent)
        let bad = rows.enumerated().filter { $0.element != ["1", "1", ""] }
        #expect(bad.isEmpty, "frames with bad checksums or malformed: \(bad.prefix(5))")
    }

    /// Loss makes the receiver send duplicate ACKs; tshark must flag the sender's answer as a
    /// fast retransmission (RFC 5681 §3.2), and still find nothing malformed.
    @Test func impairedTransferShowsFastRetransmissions() throws {
        let path = temporaryPath("impaired.pcap")
        defer { unlink(path) }
        let t = try BulkTransfer(seed: 31, count: 1024 * 1024, link: transferLink(loss: 0.02, reorder: 0.01, duplicate: 0.01))
        try t.harness.captureDepartures(to: path)
        try t.run()
        try t.harness.closeCaptures()
        let malformed = try Tshark.rows(path, fields: ["frame.number"], filter: "_ws.malformed || ip.checksum.status != 1 || tcp.checksum.status != 1")
        #expect(malformed.isEmpty)
        let fast = try Tshark.rows(path, fields: ["frame.number"], filter: "tcp.analysis.fast_retransmission")
        let retransmissions = try Tshark.rows(path, fields: ["frame.number"], filter: "tcp.analysis.retransmission")
        #expect(!retransmissions.isEmpty)
        #expect(!fast.isEmpty, "no fast retransmission among \(retransmissions.count) retransmissions")
    }
}
