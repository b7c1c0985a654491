import SluiceCore
import SluiceHarness

/// The link used by the randomized transfers: 100 Mbit/s, 10 ms one way, a 100-packet queue,
/// and the impairments given.
func transferLink(loss: Double = 0, reorder: Double = 0, duplicate: Double = 0, corrupt: Double = 0) -> LinkConfig {
    LinkConfig(latency: .milliseconds(10), rate: 100_000_000, queueLimit: .packets(100),
               lossProbability: loss, mtu: 1500,
               reorderProbability: reorder, reorderDelay: .milliseconds(3),
               duplicateProbability: duplicate, corruptProbability: corrupt)
}

/// What a finished transfer looked like, for determinism comparisons and failure messages.
struct TransferOutcome: Equatable, CustomStringConvertible {
    var seed: UInt64
    var harnessDigest: UInt64
    var receivedDigest: UInt64
    var bytes: Int
    var finishedAt: Instant
    var forward: LinkCounters
    var backward: LinkCounters

    var description: String {
        "seed \(seed): \(bytes) B by \(finishedAt), forward [\(forward)], backward [\(backward)]"
    }
}

/// Runs one bulk transfer to completion; the receiver has already checked every byte.
func runTransfer(seed: UInt64, count: Int, link: LinkConfig, sack: Bool = true, timestamps: Bool = true,
                 isn: SequenceNumber? = nil, timeLimit: Duration = .seconds(4 * 3600)) throws -> TransferOutcome {
    let t = try BulkTransfer(seed: seed, count: count, link: link,
                             connection: { c in
                                 c.sackEnabled = sack
                                 c.timestampsEnabled = timestamps
                             },
                             initialSequenceNumber: isn)
    try t.run(timeLimit: timeLimit)
    return TransferOutcome(seed: seed, harnessDigest: t.harness.digest, receivedDigest: t.receiver.digest,
                           bytes: t.receiver.bytesRead, finishedAt: t.harness.now,
                           forward: t.forward.counters, backward: t.backward.counters)
}

/// The FNV-1a 64 digest of `count` bytes of the stream for `seed`: what the receiver must report.
func expectedDigest(seed: UInt64, count: Int) -> UInt64 {
    let stream = ByteStream(seed: seed)
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    var offset = 0
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while offset < count {
        let n = min(chunk.count, count - offset)
        chunk.withUnsafeMutableBytes { stream.fill(UnsafeMutableRawBufferPointer(rebasing: $0[0..<n]), from: offset) }
        for b in chunk[0..<n] { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        offset += n
    }
    return h
}
