import Testing
@testable import SluiceCore
import SluiceRandom

/// 10 MiB transfers between two endpoints across seeds, with random loss (0–10%) in both
/// directions: received bytes identical to sent, invariants after every step. Half the seeds
/// send super-segments (`segmentationOffloadBytes`, delivered whole as a local kernel takes them). Release mode
/// (`tools/test` runs suites named Heavy with `--filter Heavy`).
@Suite struct EndpointTransferHeavyTests {
    @Test(arguments: 0..<20)
    func tenMiBWithRandomLoss(seed: Int) {
        var rng = SplitMix64(seed: UInt64(seed) &* 0x1234_5678_9ABC)
        let lossPercent = Double(seed % 11)          // 0 … 10 %
        let options = seed % 2 == 0
        let offload = (seed / 2) % 2 == 1
        let ca = EndpointTransferTests.config(EndpointTransferTests.addressA, iss: UInt32(truncatingIfNeeded: rng.next()), buffer: 256 * 1024) {
            $0.windowScaleEnabled = options; $0.sackEnabled = options; $0.timestampsEnabled = options
            $0.segmentationOffloadBytes = offload ? 65_535 : 0
        }
        let cb = EndpointTransferTests.config(EndpointTransferTests.addressB, iss: UInt32(truncatingIfNeeded: rng.next()), buffer: 256 * 1024) {
            $0.windowScaleEnabled = options; $0.sackEnabled = options; $0.timestampsEnabled = options
        }
        let pair = EndpointPair(a: ca, b: cb, latency: .milliseconds(10))
        var lossRNG = SplitMix64(seed: UInt64(seed))
        pair.shouldDrop = { _ in Double(lossRNG.next() % 10_000) < lossPercent * 100 }
        let total = 10 << 20
        let (received, _, _) = EndpointTransferTests.transfer(total: total, pair: pair)
        #expect(received.count == total, "seed \(seed), loss \(lossPercent)%")
        #expect(received == streamBytes(0..<total), "seed \(seed), loss \(lossPercent)%")
        #expect((pair.a.counters.superSegmentsSent > 0) == offload, "seed \(seed): offload \(offload)")
    }
}
