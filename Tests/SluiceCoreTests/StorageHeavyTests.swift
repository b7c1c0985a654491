import Testing
import SluiceCore

/// Millions of random storage operations; run in release (`tools/test`, `--filter Heavy`).
@Suite struct StorageHeavyTests {
    @Test func byteRingMatchesTheModelOverAMillionOperations() {
        for seed in UInt64(1_000)..<1_250 {
            let failure = runByteRingModel(seed: seed, steps: 4_000)   // 1,000,000 operations
            #expect(failure == nil, "\(failure ?? "")")
            if failure != nil { break }
        }
    }

    @Test func assemblerMatchesTheBitmapModelOverAMillionInserts() {
        for seed in UInt64(2_000)..<2_250 {
            let failure = runAssemblerModel(seed: seed, steps: 4_000)  // 1,000,000 inserts
            #expect(failure == nil, "\(failure ?? "")")
            if failure != nil { break }
        }
    }

    @Test func reassemblyOfShuffledStreamsAcrossSeeds() {
        for seed in UInt64(3_000)..<3_100 {
            let failure = runReassembly(seed: seed, streamLength: 200_000)
            #expect(failure == nil, "\(failure ?? "")")
            if failure != nil { break }
        }
    }
}

/// The SACK scoreboard against its octet-level model, many seeds (release).
@Suite struct SACKScoreboardHeavyTests {
    @Test func scoreboardMatchesTheOctetModelAcrossSeeds() {
        for seed in UInt64(4_000)..<4_300 {
            let failure = runScoreboardModel(seed: seed, steps: 1_000)
            #expect(failure == nil, "\(failure ?? "")")
            if failure != nil { break }
        }
    }
}
