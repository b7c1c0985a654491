/// What `SACKScoreboard.nextSegment(sendableNewBytes:)` chose (RFC 6675 §4 NextSeg()).
package enum NextSegment: Hashable, Sendable {
    /// Retransmit `length` bytes from `seq`: a hole presumed lost (rule 1) or, when nothing is
    /// lost and no new data may go, a hole not yet retransmitted (rule 3).
    case retransmit(seq: SequenceNumber, length: Int, rule: Int)
    /// Send up to `length` bytes of new data from HighData (= SND.MAX) (rule 2).
    case newData(seq: SequenceNumber, length: Int)
    /// Nothing to send (rule 5).
    case nothing
}

/// What one `update` learnt.
package struct ScoreboardUpdate: Hashable, Sendable {
    /// Bytes newly covered by the cumulative ACK.
    package var cumulativelyAcked: Int = 0
    /// Bytes newly SACKed (above SND.UNA): with SACK, an ACK with `newlySACKed > 0` counts as a
    /// duplicate ACK for loss detection (RFC 6675 §2 "DupAcks" note, §5).
    package var newlySACKed: Int = 0
    /// Blocks ignored (invalid, below SND.UNA, beyond SND.MAX, or no room).
    package var ignoredBlocks: Int = 0
    package init() {}
}

/// Why SACK blocks were ignored, counted.
package struct ScoreboardCounters: Hashable, Sendable {
    /// `left` not before `right`.
    package var invalidBlocks: Int = 0
    /// Entirely at or below SND.UNA (stale, or a D-SACK, RFC 2883, which we do not use).
    package var blocksBelowAck: Int = 0
    /// Reaching past SND.MAX: the peer claims data we never sent.
    package var blocksBeyondSent: Int = 0
    /// A new disjoint range with `maxRanges` already stored.
    package var blocksDroppedRangeLimit: Int = 0
    package init() {}
}

/// The sender's SACK scoreboard (RFC 6675 §3–§5): which bytes between SND.UNA (HighACK) and
/// SND.MAX (HighData + 1) the peer reported holding in SACK blocks (RFC 2018), and the rules
/// built on it: `isLost` (IsLost()), `pipe` (SetPipe()), `nextSegment` (NextSeg() rules 1–3).
///
/// Sequence names, as the RFC's octet-based variables translate here:
/// - `highAck` = SND.UNA (RFC's HighACK is the highest octet cumulatively acknowledged, i.e.
///   SND.UNA − 1; octets from `highAck` on are outstanding);
/// - `highData` = SND.MAX (the RFC's HighData is SND.MAX − 1);
/// - `retransmittedEnd` = one past the RFC's HighRxt (octets before it were retransmitted in
///   this recovery); it equals `highAck` when nothing has been.
///
/// **Bounds and hostile input.** At most `maxRanges` disjoint SACKed ranges are stored (fixed
/// storage of `maxRanges` slots, reserved when the first range is stored: a connection whose
/// peer never SACKs holds none). A block is ignored (and counted) when it is empty or inverted,
/// lies entirely at or below SND.UNA, or reaches past SND.MAX (RFC 2018 §3 blocks can only name
/// data that was sent); a block that starts below SND.UNA is clipped to it; overlapping and
/// adjacent blocks are merged. A new disjoint block with no room is dropped: forgetting SACK
/// information is always safe (at worst a byte the peer holds is resent).
///
/// DupThresh is 3 and rule (4) of NextSeg (the rescue retransmission) is not implemented.
package struct SACKScoreboard: Sendable {
    private struct Range: Hashable, Sendable {
        var left: SequenceNumber
        var right: SequenceNumber
    }

    /// The sender's SMSS, bytes (IsLost counts (DupThresh − 1)·SMSS bytes).
    package let mss: Int
    /// The bound on stored SACKed ranges.
    package let maxRanges: Int
    /// SND.UNA: the first unacknowledged byte.
    package private(set) var highAck: SequenceNumber
    /// SND.MAX: one past the highest byte sent.
    package private(set) var highData: SequenceNumber
    /// One past the highest byte retransmitted during this recovery (RFC 6675 HighRxt + 1).
    package private(set) var retransmittedEnd: SequenceNumber
    package private(set) var counters = ScoreboardCounters()

    /// Fixed storage: `runs[0..<rangeCount]`, sorted, disjoint, non-adjacent, within
    /// (highAck, highData]. Empty until the first range is stored, then `maxRanges` slots.
    private var runs: ContiguousArray<Range> = []
    /// The number of stored SACKed ranges.
    package private(set) var rangeCount = 0

    /// - Parameters:
    ///   - maxRanges: the most disjoint SACKed ranges to remember (negative is 0).
    ///   - mss: SMSS in bytes (at least 1).
    ///   - sndUna: SND.UNA now; SND.MAX is taken to be the same until `update` says otherwise.
    package init(maxRanges: Int, mss: Int, sndUna: SequenceNumber) {
        self.maxRanges = Swift.max(0, maxRanges)
        self.mss = Swift.max(1, mss)
        self.highAck = sndUna
        self.highData = sndUna
        self.retransmittedEnd = sndUna
    }

    /// No SACKed range is held.
    package var isEmpty: Bool { rangeCount == 0 }

    /// The SACKed ranges, lowest first (allocates: for tests and diagnostics).
    package var sackedRanges: [SACKBlock] {
        (0..<rangeCount).map { SACKBlock(left: runs[$0].left, right: runs[$0].right) }
    }

    /// Total bytes SACKed above SND.UNA.
    package var sackedBytes: Int {
        var total = 0
        for i in 0..<rangeCount { total += runs[i].right - runs[i].left }
        return total
    }

    /// One past the highest SACKed byte (`highAck` when nothing is SACKed).
    package var highestSACKed: SequenceNumber {
        rangeCount == 0 ? highAck : runs[rangeCount - 1].right
    }

    /// Whether the peer reported holding byte `seq` (RFC 6675 "SACKed").
    package func isSACKed(_ seq: SequenceNumber) -> Bool {
        for i in 0..<rangeCount where seq.isIn(runs[i].left, runs[i].right) { return true }
        return false
    }

    /// The end of the SACKed range holding byte `seq`, or nil when the peer did not report it.
    package func endOfSACKedRange(containing seq: SequenceNumber) -> SequenceNumber? {
        for i in 0..<rangeCount where seq.isIn(runs[i].left, runs[i].right) { return runs[i].right }
        return nil
    }

    // MARK: - Update (RFC 6675 §4 Update())

    /// Records an arriving ACK: the cumulative `ack` and its SACK blocks, with SND.MAX at the
    /// time it is processed.
    ///
    /// `ack` advances SND.UNA only when it lies in (SND.UNA, SND.MAX] (RFC 9293 §3.10.7.4 leaves
    /// other ACKs to the connection); ranges at or below the new SND.UNA are forgotten.
    @discardableResult
    package mutating func update(ack: SequenceNumber, blocks: SACKBlocks, sndMax: SequenceNumber) -> ScoreboardUpdate {
        var result = ScoreboardUpdate()
        if sndMax.isAfter(highData) { highData = sndMax }
        if ack.isAfter(highAck) && ack.isBeforeOrEqual(highData) {
            result.cumulativelyAcked = ack - highAck
            highAck = ack
            if retransmittedEnd.isBefore(ack) { retransmittedEnd = ack }
            dropBelow(ack)
        }
        for block in blocks {
            if !block.left.isBefore(block.right) {
                counters.invalidBlocks += 1
                result.ignoredBlocks += 1
            } else if block.right.isBeforeOrEqual(highAck) {
                counters.blocksBelowAck += 1
                result.ignoredBlocks += 1
            } else if block.right.isAfter(highData) || block.left.isAfter(highData) {
                counters.blocksBeyondSent += 1
                result.ignoredBlocks += 1
            } else {
                let left = block.left.isBefore(highAck) ? highAck : block.left
                if let added = insert(left: left, right: block.right) {
                    result.newlySACKed += added
                } else {
                    counters.blocksDroppedRangeLimit += 1
                    result.ignoredBlocks += 1
                }
            }
        }
        return result
    }

    /// Records that `length` bytes from `seq` were retransmitted during recovery (RFC 6675 §5
    /// step 3 and (C.2): HighRxt moves to the segment's last byte).
    package mutating func didRetransmit(from seq: SequenceNumber, length: Int) {
        guard length > 0 else { return }
        let end = seq + length
        if end.isAfter(retransmittedEnd) && end.isBeforeOrEqual(highData) { retransmittedEnd = end }
    }

    /// Records that new data up to `sndMax` was sent (RFC 6675 §5 (C.3)).
    package mutating func didSendNewData(upTo sndMax: SequenceNumber) {
        if sndMax.isAfter(highData) { highData = sndMax }
    }

    /// A new loss recovery phase starts: nothing has been retransmitted in it yet (HighRxt).
    package mutating func beginRecovery() {
        retransmittedEnd = highAck
    }

    /// The retransmission timer expired (RFC 6675 §5.1, RFC 2018 §8: "after a retransmit
    /// timeout the data sender SHOULD turn off all of the SACKed bits ... since the timeout
    /// might indicate that the data receiver has reneged"). Clears the SACKed ranges and HighRxt;
    /// later ACKs rebuild the scoreboard.
    package mutating func onRetransmitTimeout() {
        rangeCount = 0
        retransmittedEnd = highAck
    }

    /// Starts over at `sndUna` (a new connection, or a reset of the send state).
    package mutating func reset(sndUna: SequenceNumber) {
        rangeCount = 0
        highAck = sndUna
        highData = sndUna
        retransmittedEnd = sndUna
    }

    // MARK: - IsLost, SetPipe, NextSeg (RFC 6675 §4)

    /// RFC 6675 §4 IsLost(SeqNum): true when DupThresh discontiguous SACKed sequences (here:
    /// disjoint SACKed ranges) lie above `seq`, or more than (DupThresh − 1)·SMSS bytes above
    /// `seq` have been SACKed.
    package func isLost(_ seq: SequenceNumber) -> Bool {
        var rangesAbove = 0
        var bytesAbove = 0
        for i in 0..<rangeCount {
            let r = runs[i]
            if r.left.isAfter(seq) {
                rangesAbove += 1
                bytesAbove += r.right - r.left
            } else if r.right.isAfter(seq + 1) {
                bytesAbove += r.right - (seq + 1)
            }
        }
        return isLostRule(rangesAbove: rangesAbove, bytesAbove: bytesAbove)
    }

    /// RFC 6675 §4 SetPipe(): the sender's estimate of bytes in the network. For every byte in
    /// [SND.UNA, SND.MAX) that is not SACKed: +1 if it is not lost (IsLost false), and +1 if
    /// it was retransmitted in this recovery (at or below HighRxt).
    package var pipe: Int {
        var total = 0
        var holeStart = highAck
        var bytesAbove = sackedBytes
        for i in 0...rangeCount {
            let holeEnd = i < rangeCount ? runs[i].left : highData
            let length = holeEnd - holeStart
            if length > 0 {
                // Every byte of the hole below range i has the same ranges and bytes SACKed above.
                if !isLostRule(rangesAbove: rangeCount - i, bytesAbove: bytesAbove) { total += length }
                total += retransmittedBytes(holeStart, holeEnd)
            }
            if i < rangeCount {
                bytesAbove -= runs[i].right - runs[i].left
                holeStart = runs[i].right
            }
        }
        return total
    }

    /// RFC 6675 §4 NextSeg(), rules 1–3 and 5 (no rescue retransmission, rule 4).
    /// - Parameter sendableNewBytes: bytes of unsent data the application has queued and the
    ///   peer's window allows from SND.MAX (rule 2's condition).
    package func nextSegment(sendableNewBytes: Int) -> NextSegment {
        // Rule 1: the lowest unSACKed byte above HighRxt, below the highest SACKed byte, that
        // IsLost. Holes below range i share one IsLost answer; lost holes are the low ones.
        var holeStart = highAck
        var bytesAbove = sackedBytes
        var firstUnretransmitted: (SequenceNumber, Int)?
        for i in 0..<rangeCount {
            let holeEnd = runs[i].left
            let start = retransmittedEnd.isAfter(holeStart) ? retransmittedEnd : holeStart
            if start.isBefore(holeEnd) {
                let length = Swift.min(mss, holeEnd - start)
                if isLostRule(rangesAbove: rangeCount - i, bytesAbove: bytesAbove) {
                    return .retransmit(seq: start, length: length, rule: 1)
                }
                if firstUnretransmitted == nil { firstUnretransmitted = (start, length) }
            }
            bytesAbove -= runs[i].right - runs[i].left
            holeStart = runs[i].right
        }
        // Rule 2: new data, if any may be sent.
        if sendableNewBytes > 0 {
            return .newData(seq: highData, length: Swift.min(mss, sendableNewBytes))
        }
        // Rule 3: an unSACKed byte above HighRxt and below the highest SACKed byte, not lost.
        if let (seq, length) = firstUnretransmitted {
            return .retransmit(seq: seq, length: length, rule: 3)
        }
        return .nothing
    }

    // MARK: - Invariants

    /// Checks the structure; returns every violation (empty when sound). Holds in release builds.
    package func checkInvariants() -> [String] {
        var problems: [String] = []
        if rangeCount > maxRanges || rangeCount > runs.count || (!runs.isEmpty && runs.count != maxRanges) {
            problems.append("range count \(rangeCount) / storage \(runs.count) exceeds bound \(maxRanges)")
            return problems
        }
        if highData.isBefore(highAck) { problems.append("SND.MAX \(highData) before SND.UNA \(highAck)") }
        if retransmittedEnd.isBefore(highAck) || retransmittedEnd.isAfter(highData) {
            problems.append("HighRxt end \(retransmittedEnd) outside [\(highAck), \(highData)]")
        }
        var previous = highAck
        for i in 0..<rangeCount {
            let r = runs[i]
            if !r.left.isBefore(r.right) { problems.append("range \(i) \(r.left)-\(r.right) is empty or inverted") }
            if i > 0 ? !r.left.isAfter(previous) : r.left.isBefore(previous) {
                problems.append("range \(i) \(r.left)-\(r.right) not above \(previous) (unsorted, overlapping, adjacent or below SND.UNA)")
            }
            if r.right.isAfter(highData) { problems.append("range \(i) ends past SND.MAX \(highData)") }
            previous = r.right
        }
        return problems
    }

    // MARK: - Internals

    @inline(__always)
    private func isLostRule(rangesAbove: Int, bytesAbove: Int) -> Bool {
        rangesAbove >= CongestionControl.duplicateAckThreshold
            || bytesAbove > (CongestionControl.duplicateAckThreshold - 1) * mss
    }

    /// Bytes of [start, end) below `retransmittedEnd`.
    @inline(__always)
    private func retransmittedBytes(_ start: SequenceNumber, _ end: SequenceNumber) -> Int {
        let upper = retransmittedEnd.isBefore(end) ? retransmittedEnd : end
        return Swift.max(0, upper - start)
    }

    /// Forgets SACK information at or below `ack`.
    private mutating func dropBelow(_ ack: SequenceNumber) {
        var drop = 0
        while drop < rangeCount && runs[drop].right.isBeforeOrEqual(ack) { drop += 1 }
        removeRuns(0, count: drop)
        if rangeCount > 0 && runs[0].left.isBefore(ack) { runs[0].left = ack }
    }

    /// Merges [left, right) into the ranges; returns the bytes newly covered, or nil when it
    /// needs a new range and there is no room.
    private mutating func insert(left: SequenceNumber, right: SequenceNumber) -> Int? {
        var lo = 0
        while lo < rangeCount && runs[lo].right.isBefore(left) { lo += 1 }
        var hi = lo
        while hi < rangeCount && runs[hi].left.isBeforeOrEqual(right) { hi += 1 }
        if lo == hi {
            guard rangeCount < maxRanges else { return nil }
            if runs.isEmpty {   // the first range: the fixed storage is reserved now, once
                runs = ContiguousArray(repeating: Range(left: left, right: left), count: maxRanges)
            }
            var i = rangeCount
            while i > lo { runs[i] = runs[i - 1]; i -= 1 }
            runs[lo] = Range(left: left, right: right)
            rangeCount += 1
            return right - left
        }
        var covered = 0
        for i in lo..<hi { covered += runs[i].right - runs[i].left }
        let merged = Range(
            left: SequenceNumber.min(left, runs[lo].left),
            right: SequenceNumber.max(right, runs[hi - 1].right)
        )
        runs[lo] = merged
        removeRuns(lo + 1, count: hi - lo - 1)
        return (merged.right - merged.left) - covered
    }

    private mutating func removeRuns(_ start: Int, count n: Int) {
        guard n > 0 else { return }
        var i = start
        while i + n < rangeCount { runs[i] = runs[i + n]; i += 1 }
        rangeCount -= n
    }
}
