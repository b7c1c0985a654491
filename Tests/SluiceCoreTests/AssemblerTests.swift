import Testing
import SluiceCore
import SluiceRandom

@Suite struct AssemblerTests {
    // MARK: - In order and out of order

    @Test func inOrderDataAdvancesImmediately() {
        var a = Assembler(maxRanges: 4)
        #expect(a.add(offset: 0, length: 100) == .advanced(100))
        #expect(a.isEmpty)
        #expect(a.add(offset: 0, length: 1) == .advanced(1))
    }

    @Test func holeThenFillDeliversEverything() {
        var a = Assembler(maxRanges: 4)
        #expect(a.add(offset: 100, length: 100) == .stored)
        #expect(a.add(offset: 300, length: 50) == .stored)
        #expect(a.ranges == [100..<200, 300..<350])
        // The gap filler merges with [100, 200) only.
        #expect(a.add(offset: 0, length: 100) == .advanced(200))
        // Offsets are now relative to the new RCV.NXT.
        #expect(a.ranges == [100..<150])
        #expect(a.add(offset: 0, length: 100) == .advanced(150))
        #expect(a.isEmpty)
        #expect(a.checkInvariants().isEmpty)
    }

    @Test func overlapsAndDuplicatesAreTrimmed() {
        var a = Assembler(maxRanges: 4)
        #expect(a.add(offset: 10, length: 10) == .stored)       // [10, 20)
        #expect(a.add(offset: 12, length: 5) == .duplicate)     // inside
        #expect(a.add(offset: 15, length: 10) == .stored)       // extends to [10, 25)
        #expect(a.add(offset: 25, length: 5) == .stored)        // adjacent: [10, 30)
        #expect(a.ranges == [10..<30])
        #expect(a.add(offset: 40, length: 5) == .stored)
        #expect(a.add(offset: 5, length: 50) == .stored)        // covers both: [5, 55)
        #expect(a.ranges == [5..<55])
        #expect(a.add(offset: -10, length: 10) == .duplicate)   // entirely before RCV.NXT
        #expect(a.add(offset: -10, length: 15) == .advanced(55)) // old bytes trimmed, then delivered
        #expect(a.add(offset: 3, length: 0) == .duplicate)
        #expect(a.counters.duplicates == 3)
    }

    @Test func overflowingRangeIsRejectedNotTrapped() {
        var a = Assembler(maxRanges: 4)
        #expect(a.add(offset: Int.max, length: 1) == .rejected(.invalidRange))
        #expect(a.add(offset: Int.min, length: -1) == .rejected(.invalidRange))
        #expect(a.counters.rejectedInvalid == 2)
        #expect(a.isEmpty)
    }

    // MARK: - The range limit (smoltcp issue 452)

    @Test func offsetZeroIsAcceptedWithTheRangeLimitFull() {
        var a = Assembler(maxRanges: 2)
        #expect(a.add(offset: 10, length: 1) == .stored)
        #expect(a.add(offset: 20, length: 1) == .stored)
        #expect(a.add(offset: 30, length: 1) == .rejected(.rangeLimit))
        #expect(a.counters.rejectedRangeLimit == 1)
        // Touching a stored range needs no new slot, so it is still accepted.
        #expect(a.add(offset: 21, length: 4) == .stored)
        #expect(a.ranges == [10..<11, 20..<25])
        // The next expected segment, not reaching any stored range.
        #expect(a.add(offset: 0, length: 5) == .advanced(5))
        #expect(a.ranges == [5..<6, 15..<20])
        // The next expected segment, reaching the first stored range.
        #expect(a.add(offset: 0, length: 5) == .advanced(6))
        #expect(a.ranges == [9..<14])
        #expect(a.add(offset: 20, length: 1) == .stored)      // a slot is free again
    }

    @Test func zeroRangeLimitStillDeliversInOrderData() {
        var a = Assembler(maxRanges: 0)
        #expect(a.add(offset: 5, length: 5) == .rejected(.rangeLimit))
        #expect(a.add(offset: 0, length: 5) == .advanced(5))
        #expect(a.add(offset: 0, length: 5) == .advanced(5))
        #expect(a.sackBlocks(base: SequenceNumber(0), maxBlocks: 4).isEmpty)
    }

    @Test func hostileTinySegmentsCannotExceedTheBound() {
        // A peer sends 100,000 one-byte segments at every other offset of a 1 MiB window.
        var a = Assembler(maxRanges: 8)
        var rng = SplitMix64(seed: 452)
        for _ in 0..<100_000 {
            _ = a.add(offset: 2 * rng.int(1..<(1 << 19)), length: 1)
            #expect(a.rangeCount <= 8)
        }
        #expect(a.rangeCount == 8)
        #expect(a.counters.rejectedRangeLimit > 99_000)
        #expect(a.checkInvariants(window: 1 << 20).isEmpty)
        // And the next expected byte still gets through.
        if case .advanced(let n) = a.add(offset: 0, length: 1) { #expect(n >= 1) } else { Issue.record("offset 0 refused") }
    }

    // MARK: - SACK blocks (RFC 2018 §4)

    @Test func sackBlocksPutTheMostRecentFirst() {
        var a = Assembler(maxRanges: 8)
        let rcvNxt = SequenceNumber(UInt32.max - 14)   // the blocks cross the 2^32 wrap
        _ = a.add(offset: 10, length: 5)
        _ = a.add(offset: 30, length: 5)
        _ = a.add(offset: 20, length: 5)
        let blocks = a.sackBlocks(base: rcvNxt, maxBlocks: 4)
        #expect(Array(blocks) == [
            SACKBlock(left: rcvNxt + 20, right: rcvNxt + 25),
            SACKBlock(left: rcvNxt + 30, right: rcvNxt + 35),
            SACKBlock(left: rcvNxt + 10, right: rcvNxt + 15),
        ])
        #expect(blocks[0].left.rawValue == 5)
        // Data merging [10, 15) with [20, 25): the merged block comes first.
        _ = a.add(offset: 15, length: 5)
        #expect(Array(a.sackBlocks(base: rcvNxt, maxBlocks: 4)) == [
            SACKBlock(left: rcvNxt + 10, right: rcvNxt + 25),
            SACKBlock(left: rcvNxt + 30, right: rcvNxt + 35),
        ])
        // A duplicate makes its block the most recent too.
        _ = a.add(offset: 31, length: 1)
        #expect(a.sackBlocks(base: rcvNxt, maxBlocks: 1).first == SACKBlock(left: rcvNxt + 30, right: rcvNxt + 35))
        // A segment that advances RCV.NXT is not reported; the rest keep their order.
        #expect(a.add(offset: 0, length: 10) == .advanced(25))
        #expect(Array(a.sackBlocks(base: rcvNxt + 25, maxBlocks: 4)) == [
            SACKBlock(left: rcvNxt + 30, right: rcvNxt + 35),
        ])
    }

    @Test func sackBlocksAreCappedAtFour() {
        var a = Assembler(maxRanges: 10)
        for i in 1...6 { _ = a.add(offset: 10 * i, length: 2) }
        let blocks = a.sackBlocks(base: SequenceNumber(1000), maxBlocks: 10)
        #expect(blocks.count == 4)
        #expect(blocks.map(\.left.rawValue) == [1060, 1050, 1040, 1030])
        #expect(a.sackBlocks(base: SequenceNumber(1000), maxBlocks: 3).count == 3)
        #expect(a.sackBlocks(base: SequenceNumber(1000), maxBlocks: -1).isEmpty)
    }

    // MARK: - Randomized against the bitmap model

    @Test func randomInsertsMatchTheBitmapModel() {
        for seed in UInt64(1)...40 {
            let failure = runAssemblerModel(seed: seed, steps: 400)
            #expect(failure == nil, "\(failure ?? "")")
            if failure != nil { break }
        }
    }

    @Test func ringAndAssemblerReassembleAShuffledStream() {
        for seed in UInt64(1)...10 {
            let failure = runReassembly(seed: seed, streamLength: 20_000)
            #expect(failure == nil, "\(failure ?? "")")
            if failure != nil { break }
        }
    }
}
