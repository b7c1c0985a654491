import Testing
import SluiceCore
import SluiceRandom

@Suite struct SACKScoreboardTests {
    /// mss 1000, ten segments outstanding: SND.UNA 1000, SND.MAX 11000.
    func makeBoard(maxRanges: Int = 8, sndUna: SequenceNumber = SequenceNumber(1000)) -> SACKScoreboard {
        var board = SACKScoreboard(maxRanges: maxRanges, mss: 1000, sndUna: sndUna)
        board.didSendNewData(upTo: sndUna + 10_000)
        return board
    }
    func blocks(_ pairs: [(UInt32, UInt32)]) -> SACKBlocks {
        SACKBlocks(pairs.map { SACKBlock(left: SequenceNumber($0.0), right: SequenceNumber($0.1)) })
    }
    let una = SequenceNumber(1000)

    @Test func nextSegmentSkipsWhatThePeerHolds() {
        var board = makeBoard()
        let u = board.update(ack: una, blocks: blocks([(7000, 11000), (5000, 6000), (2000, 4000)]), sndMax: una + 10_000)
        #expect(u.newlySACKed == 7000)
        #expect(board.sackedRanges.map { [$0.left.rawValue, $0.right.rawValue] } == [[2000, 4000], [5000, 6000], [7000, 11000]])
        // Every hole has three ranges or more than 2·SMSS SACKed above it: all are lost.
        #expect(board.isLost(SequenceNumber(1000)))
        #expect(board.isLost(SequenceNumber(6000)))
        #expect(board.pipe == 0)
        board.beginRecovery()
        #expect(board.nextSegment(sendableNewBytes: 0) == .retransmit(seq: SequenceNumber(1000), length: 1000, rule: 1))
        board.didRetransmit(from: SequenceNumber(1000), length: 1000)
        #expect(board.pipe == 1000)
        // Skips 2000..<4000, which the peer holds.
        #expect(board.nextSegment(sendableNewBytes: 0) == .retransmit(seq: SequenceNumber(4000), length: 1000, rule: 1))
        board.didRetransmit(from: SequenceNumber(4000), length: 1000)
        #expect(board.nextSegment(sendableNewBytes: 0) == .retransmit(seq: SequenceNumber(6000), length: 1000, rule: 1))
        board.didRetransmit(from: SequenceNumber(6000), length: 1000)
        #expect(board.pipe == 3000)
        // No hole left to repair: new data (rule 2) if any, else nothing.
        #expect(board.nextSegment(sendableNewBytes: 5000) == .newData(seq: SequenceNumber(11000), length: 1000))
        #expect(board.nextSegment(sendableNewBytes: 0) == .nothing)
    }

    @Test func aHoleWithLittleSACKedAboveIsNotLost() {
        var board = SACKScoreboard(maxRanges: 8, mss: 1000, sndUna: una)
        board.update(ack: una, blocks: blocks([(3000, 4000)]), sndMax: una + 4000)
        #expect(!board.isLost(SequenceNumber(1000)))     // one range, 1000 bytes above
        // In flight: the hole 1000..<3000 and 4000..<5000 (nothing SACKed above it).
        #expect(board.pipe == 3000)
        // Rule 2 (new data) comes before rule 3 (a hole not presumed lost).
        #expect(board.nextSegment(sendableNewBytes: 300) == .newData(seq: SequenceNumber(5000), length: 300))
        #expect(board.nextSegment(sendableNewBytes: 0) == .retransmit(seq: SequenceNumber(1000), length: 1000, rule: 3))
        // More than 2·SMSS SACKed above makes it lost.
        board.update(ack: una, blocks: blocks([(4000, 5000), (5000, 5001)]), sndMax: una + 10_000)
        #expect(board.sackedBytes == 2001)
        #expect(board.isLost(SequenceNumber(2999)))
        #expect(!board.isLost(SequenceNumber(3000)))
    }

    @Test func cumulativeAckForgetsWhatItCovers() {
        var board = makeBoard()
        board.update(ack: una, blocks: blocks([(2000, 3000), (4000, 6000)]), sndMax: una + 10_000)
        board.beginRecovery()
        board.didRetransmit(from: una, length: 1000)
        let u = board.update(ack: SequenceNumber(5000), blocks: SACKBlocks(), sndMax: una + 10_000)
        #expect(u.cumulativelyAcked == 4000)
        #expect(board.highAck == SequenceNumber(5000))
        #expect(board.sackedRanges == [SACKBlock(left: SequenceNumber(5000), right: SequenceNumber(6000))])
        #expect(board.retransmittedEnd == SequenceNumber(5000))
        #expect(board.checkInvariants().isEmpty)
    }

    @Test func timeoutClearsTheSACKedBits() {
        var board = makeBoard()
        board.update(ack: una, blocks: blocks([(2000, 3000)]), sndMax: una + 10_000)
        board.didRetransmit(from: una, length: 1000)
        board.onRetransmitTimeout()
        #expect(board.isEmpty)
        #expect(board.retransmittedEnd == una)
        #expect(board.pipe == 10_000)
    }

    // MARK: - Hostile SACK blocks

    @Test func hostileBlocksAreIgnoredAndCounted() {
        var board = makeBoard()
        let u = board.update(ack: una, blocks: blocks([
            (3000, 2000),     // inverted
            (500, 1000),      // below SND.UNA (stale or D-SACK)
            (10_000, 12_000), // beyond SND.MAX
            (500, 1500),      // straddles SND.UNA: clipped
        ]), sndMax: una + 10_000)
        #expect(u.ignoredBlocks == 3)
        #expect(board.counters.invalidBlocks == 1)
        #expect(board.counters.blocksBelowAck == 1)
        #expect(board.counters.blocksBeyondSent == 1)
        #expect(board.sackedRanges == [SACKBlock(left: una, right: SequenceNumber(1500))])
        // Overlapping and adjacent blocks merge.
        let v = board.update(ack: una, blocks: blocks([(1200, 2000), (2000, 2500), (1400, 1600)]), sndMax: una + 10_000)
        #expect(v.newlySACKed == 1000)
        #expect(board.sackedRanges == [SACKBlock(left: una, right: SequenceNumber(2500))])
        #expect(board.checkInvariants().isEmpty)
    }

    @Test func manyDisjointBlocksCannotExceedTheBound() {
        var board = SACKScoreboard(maxRanges: 6, mss: 1000, sndUna: SequenceNumber(UInt32.max - 50_000))
        let base = SequenceNumber(UInt32.max - 50_000)
        board.didSendNewData(upTo: base + 1_000_000)
        var rng = SplitMix64(seed: 6675)
        for _ in 0..<20_000 {
            var b = SACKBlocks()
            for _ in 0..<4 {
                let left = base + 2 * rng.int(1..<500_000)
                b.append(SACKBlock(left: left, right: left + 1))
            }
            board.update(ack: base, blocks: b, sndMax: base + 1_000_000)
            #expect(board.rangeCount <= 6)
        }
        #expect(board.counters.blocksDroppedRangeLimit > 70_000)
        #expect(board.checkInvariants().isEmpty)
    }

    // MARK: - Against an octet-level model of RFC 6675 §4

    @Test func randomUpdatesMatchTheOctetModel() {
        for seed in UInt64(1)...20 {
            let failure = runScoreboardModel(seed: seed, steps: 150)
            #expect(failure == nil, "\(failure ?? "")")
            if failure != nil { break }
        }
    }
}

/// RFC 6675 §4 taken literally, one flag per octet of [SND.UNA, SND.MAX).
struct ScoreboardOctetModel {
    var highAck: SequenceNumber
    var highData: SequenceNumber
    var retransmittedEnd: SequenceNumber
    var sacked: [Bool] = []   // index = octet - highAck
    let mss: Int

    func index(_ s: SequenceNumber) -> Int { s - highAck }

    var ranges: [SACKBlock] {
        var out: [SACKBlock] = []
        var i = 0
        while i < sacked.count {
            if sacked[i] {
                var j = i
                while j < sacked.count && sacked[j] { j += 1 }
                out.append(SACKBlock(left: highAck + i, right: highAck + j))
                i = j
            } else { i += 1 }
        }
        return out
    }

    mutating func update(ack: SequenceNumber, blocks: SACKBlocks, sndMax: SequenceNumber) {
        if sndMax.isAfter(highData) {
            sacked += Array(repeating: false, count: sndMax - highData)
            highData = sndMax
        }
        if ack.isAfter(highAck) && ack.isBeforeOrEqual(highData) {
            sacked.removeFirst(ack - highAck)
            highAck = ack
            if retransmittedEnd.isBefore(ack) { retransmittedEnd = ack }
        }
        for b in blocks where b.left.isBefore(b.right) && b.right.isAfter(highAck) && !b.right.isAfter(highData) && !b.left.isAfter(highData) {
            let l = b.left.isBefore(highAck) ? highAck : b.left
            for s in index(l)..<index(b.right) { sacked[s] = true }
        }
    }

    func isLost(_ seq: SequenceNumber) -> Bool {
        let k = index(seq)
        let above = ranges.filter { $0.left.isAfter(seq) }.count
        var bytes = 0
        for i in max(0, k + 1)..<max(max(0, k + 1), sacked.count) where sacked[i] { bytes += 1 }
        return above >= 3 || bytes > 2 * mss
    }

    var pipe: Int {
        var p = 0
        for i in 0..<sacked.count where !sacked[i] {
            let s = highAck + i
            if !isLost(s) { p += 1 }
            if s.isBefore(retransmittedEnd) { p += 1 }
        }
        return p
    }

    func nextSegment(sendableNewBytes: Int) -> NextSegment {
        let highestSacked = sacked.lastIndex(of: true).map { $0 + 1 } ?? 0
        func run(from i: Int) -> Int {
            var j = i
            while j < sacked.count && !sacked[j] && j - i < mss { j += 1 }
            return j - i
        }
        let start = max(0, index(retransmittedEnd))
        for i in start..<max(start, highestSacked) where !sacked[i] && isLost(highAck + i) {
            return .retransmit(seq: highAck + i, length: run(from: i), rule: 1)
        }
        if sendableNewBytes > 0 { return .newData(seq: highData, length: min(mss, sendableNewBytes)) }
        for i in start..<max(start, highestSacked) where !sacked[i] {
            return .retransmit(seq: highAck + i, length: run(from: i), rule: 3)
        }
        return .nothing
    }
}

/// Random ACKs, SACK blocks (some hostile) and retransmissions, compared with the octet model.
func runScoreboardModel(seed: UInt64, steps: Int) -> String? {
    var rng = SplitMix64(seed: seed)
    let start = SequenceNumber(UInt32(truncatingIfNeeded: rng.next()))
    let mss = rng.int(1...8)
    var board = SACKScoreboard(maxRanges: 64, mss: mss, sndUna: start)
    var model = ScoreboardOctetModel(highAck: start, highData: start, retransmittedEnd: start, mss: mss)
    var sndMax = start
    for step in 0..<steps {
        if rng.chance(40) { sndMax += rng.int(0...16) }
        let span = sndMax - model.highAck
        let ack = rng.chance(30) ? model.highAck + rng.int(-4...max(0, span / 3 + 4)) : model.highAck
        var blocks = SACKBlocks()
        for _ in 0..<rng.int(0...4) {
            let l = model.highAck + rng.int(-6...span + 6)
            blocks.append(SACKBlock(left: l, right: l + rng.int(-2...12)))
        }
        board.update(ack: ack, blocks: blocks, sndMax: sndMax)
        model.update(ack: ack, blocks: blocks, sndMax: sndMax)
        if rng.chance(10) { board.beginRecovery(); model.retransmittedEnd = model.highAck }
        if rng.chance(5) {
            board.onRetransmitTimeout()
            model.retransmittedEnd = model.highAck
            model.sacked = Array(repeating: false, count: model.sacked.count)
        }
        let sendable = rng.chance(50) ? 0 : rng.int(1...20)
        let choice = board.nextSegment(sendableNewBytes: sendable)
        let op = "seed \(seed) step \(step) (ack \(ack), blocks \(Array(blocks)), SND.MAX \(sndMax))"
        if board.sackedRanges != model.ranges { return "\(op): ranges \(board.sackedRanges), model \(model.ranges)" }
        if board.pipe != model.pipe { return "\(op): pipe \(board.pipe), model \(model.pipe)" }
        let expected = model.nextSegment(sendableNewBytes: sendable)
        if choice != expected { return "\(op): nextSegment \(choice), model \(expected)" }
        let probe = model.highAck + rng.int(-2...span + 2)
        if board.isLost(probe) != model.isLost(probe) { return "\(op): isLost(\(probe)) \(board.isLost(probe))" }
        let problems = board.checkInvariants()
        if !problems.isEmpty { return "\(op): invariants \(problems)" }
        // Act on the choice as the connection would.
        if case .retransmit(let seq, let length, _) = choice {
            board.didRetransmit(from: seq, length: length)
            let end = seq + length
            if end.isAfter(model.retransmittedEnd) && end.isBeforeOrEqual(model.highData) { model.retransmittedEnd = end }
        }
    }
    return nil
}

extension SACKScoreboardTests {
    @Test func endOfSACKedRangeNamesTheRangeHoldingAByte() {
        var board = makeBoard()
        board.update(ack: una, blocks: blocks([(2000, 3000)]), sndMax: una + 10_000)
        #expect(board.endOfSACKedRange(containing: SequenceNumber(2000)) == SequenceNumber(3000))
        #expect(board.endOfSACKedRange(containing: SequenceNumber(2999)) == SequenceNumber(3000))
        #expect(board.endOfSACKedRange(containing: SequenceNumber(3000)) == nil)
        #expect(board.endOfSACKedRange(containing: SequenceNumber(1999)) == nil)
    }
}
