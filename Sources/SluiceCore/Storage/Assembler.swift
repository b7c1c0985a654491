/// What `Assembler.add(offset:length:)` did with a range of received bytes.
package enum AssemblerOutcome: Hashable, Sendable {
    /// `n > 0` bytes became contiguous at the front (the new data reached offset 0, possibly
    /// merging with stored ranges behind it). The caller commits `n` bytes in the receive ring
    /// and advances RCV.NXT by `n`; the assembler has already shifted itself by `n`.
    case advanced(Int)
    /// Stored out of order (new bytes above a hole, possibly merged with neighbours).
    /// RFC 5681 §4.2: the caller should ACK immediately (a duplicate ACK, with SACK blocks).
    case stored
    /// Nothing new: every byte was already held or already delivered (also for an empty range).
    case duplicate
    /// Not stored; the caller drops the segment's payload and counts the reason.
    case rejected(AssemblerRejection)
}

/// Why the assembler refused a range.
package enum AssemblerRejection: Hashable, Sendable {
    /// The range would need a new hole but `maxRanges` ranges are already stored.
    case rangeLimit
    /// `offset + length` overflows (a caller bug or a hostile value that escaped clipping).
    case invalidRange
}

/// Drop and duplicate counters of an `Assembler`, for the embedder's statistics.
package struct AssemblerCounters: Hashable, Sendable {
    package var duplicates: Int = 0
    package var rejectedRangeLimit: Int = 0
    package var rejectedInvalid: Int = 0
    package init() {}
}

/// The reorder buffer's bookkeeping: which byte ranges above RCV.NXT have arrived out of order
/// (RFC 9293 §3.10.7.4: segments inside the window but not at RCV.NXT "may be held for later
/// processing"). The bytes themselves live in the receive `ByteRing` at their offsets; the
/// assembler only tracks ranges.
///
/// Offsets are relative to the next expected byte: offset 0 is RCV.NXT. The caller clips a
/// segment to the receive window first (so every stored range lies within it), stores its payload
/// with `ByteRing.write(at:_:)`, then calls `add(offset:length:)`.
///
/// **Bounds.** At most `maxRanges` disjoint ranges are stored (each one is a hole below it), in
/// fixed storage of `maxRanges` slots reserved once, when the first out-of-order range is stored
/// (a connection that never sees reordering holds none); nothing grows past it, whatever the
/// peer sends.
///
/// **The next expected segment is never refused** (the bug of smoltcp issue 452): data at offset
/// 0 needs no new range (it either stands alone and is delivered, or merges with the ranges it
/// reaches), so it is accepted even when the range limit is full.
///
/// **Policy when the limit is full**: a range that overlaps or touches a stored range is merged
/// (that never needs a slot); any other range not at offset 0 is *dropped* and counted
/// (`.rejected(.rangeLimit)`). We do not evict the highest stored range to make room for a lower
/// one: those bytes have already been reported in SACK blocks, and discarding them is reneging
/// (RFC 2018 §8), which a SACK sender only discovers at its retransmission timeout. The dropped
/// segment is retransmitted by the sender as recovery fills the holes below it, and progress is
/// guaranteed because offset 0 is always accepted.
///
/// Overlapping data is trimmed by merging ranges; the ring keeps whichever copy of a byte was
/// written last (TCP peers resend identical bytes).
///
/// A value type: a connection owns one and mutates it in place.
package struct Assembler: Sendable {
    /// One stored range, in absolute stream positions `[start, end)` (see `origin`).
    @usableFromInline
    struct Run: Hashable, Sendable {
        var start: Int
        var end: Int
        /// When data was last added to this range (for RFC 2018 §4 block order).
        var stamp: UInt64
    }

    /// The bound on stored out-of-order ranges.
    package let maxRanges: Int
    /// Fixed storage: `runs[0..<rangeCount]` are the ranges, sorted, disjoint, non-adjacent.
    /// Empty until the first range is stored, then `maxRanges` slots.
    private var runs: ContiguousArray<Run> = []
    /// The number of stored ranges.
    package private(set) var rangeCount: Int = 0
    /// The absolute stream position of offset 0 (RCV.NXT); grows with every advance. Absolute
    /// positions spare us shifting every range on each advance (an `Int` does not overflow:
    /// 2^63 bytes).
    private var origin: Int = 0
    /// Incremented on every `add`; the stamp of the most recent one.
    private var clock: UInt64 = 0
    /// Duplicate and drop counts.
    package private(set) var counters = AssemblerCounters()

    /// - Parameter maxRanges: the most out-of-order ranges (holes) to track; negative is 0.
    package init(maxRanges: Int) {
        self.maxRanges = Swift.max(0, maxRanges)
    }

    /// No out-of-order data is held.
    package var isEmpty: Bool { rangeCount == 0 }

    /// The stored ranges, relative to RCV.NXT, in order (allocates: for tests and diagnostics).
    package var ranges: [Range<Int>] {
        (0..<rangeCount).map { runs[$0].start - origin ..< runs[$0].end - origin }
    }

    /// Bytes held out of order (the sum of the ranges' lengths).
    package var bytesHeld: Int {
        var total = 0
        for i in 0..<rangeCount { total += runs[i].end - runs[i].start }
        return total
    }

    /// The offset just past the highest stored byte (0 when empty): the receiver's highest
    /// received sequence number is RCV.NXT + this.
    package var highestEnd: Int {
        rangeCount == 0 ? 0 : runs[rangeCount - 1].end - origin
    }

    /// Forgets every stored range (keeps the counters).
    package mutating func removeAll() { rangeCount = 0 }

    // MARK: - Adding data

    /// Records that bytes `[offset, offset + length)` (relative to RCV.NXT) have been stored.
    ///
    /// Bytes before offset 0 (already delivered) are trimmed; the remainder is merged with every
    /// stored range it overlaps or touches. See the type's documentation for the policy when
    /// the range limit is full; offset 0 is never refused.
    package mutating func add(offset: Int, length: Int) -> AssemblerOutcome {
        let (sum, overflow) = offset.addingReportingOverflow(length)
        guard !overflow else {
            counters.rejectedInvalid += 1
            return .rejected(.invalidRange)
        }
        // Trim what lies before RCV.NXT (already delivered) and ignore empty ranges.
        guard length > 0, sum > 0 else {
            counters.duplicates += 1
            return .duplicate
        }
        let start = origin + Swift.max(0, offset)
        let end = origin + sum
        clock &+= 1

        // lo: first range that ends at or after `start` (touches or overlaps from the left).
        // hi: first range that starts after `end` (beyond reach). Ranges lo..<hi are merged.
        var lo = 0
        while lo < rangeCount && runs[lo].end < start { lo += 1 }
        var hi = lo
        while hi < rangeCount && runs[hi].start <= end { hi += 1 }

        if lo < hi {
            if hi - lo == 1 && runs[lo].start <= start && runs[lo].end >= end {
                // Entirely held already. Its range still becomes the most recent (RFC 2018 §4:
                // the first block reports the segment that triggered this ACK).
                runs[lo].stamp = clock
                counters.duplicates += 1
                return .duplicate
            }
            runs[lo] = Run(start: Swift.min(start, runs[lo].start), end: Swift.max(end, runs[hi - 1].end), stamp: clock)
            removeRuns(lo + 1 ..< hi)
        } else if start == origin {
            // Next expected data that touches nothing stored: delivered directly, no slot needed.
            origin = end
            return .advanced(end - start)
        } else {
            guard rangeCount < maxRanges else {
                counters.rejectedRangeLimit += 1
                return .rejected(.rangeLimit)
            }
            insertRun(Run(start: start, end: end, stamp: clock), at: lo)
        }

        if lo == 0 && runs[0].start == origin {
            let advance = runs[0].end - origin
            origin = runs[0].end
            removeRuns(0 ..< 1)
            return .advanced(advance)
        }
        return .stored
    }

    // MARK: - SACK (RFC 2018 §4)

    /// Up to `min(maxBlocks, 4)` SACK blocks for the next ACK, with `base` = RCV.NXT.
    ///
    /// RFC 2018 §4: "The first SACK block ... MUST specify the contiguous block of data containing
    /// the segment which triggered this ACK, unless that segment advanced the Acknowledgment
    /// Number", and the others SHOULD repeat the most recently reported blocks. Blocks are
    /// ordered by when data last arrived in them, most recent first; since every ACK reports the
    /// most recent blocks first, this is also the order in which they were last reported, and a
    /// block that fell out of the list is one that saw no new data for several ACKs.
    package func sackBlocks(base: SequenceNumber, maxBlocks: Int) -> SACKBlocks {
        var blocks = SACKBlocks()
        let limit = Swift.min(Swift.max(0, maxBlocks), SACKBlocks.capacity, rangeCount)
        // Selection by descending stamp; stamps are unique, so "older than the last one taken"
        // is a strict bound. O(limit · rangeCount), no allocation.
        var below = UInt64.max
        for _ in 0..<limit {
            var best = -1
            for i in 0..<rangeCount where runs[i].stamp < below {
                if best < 0 || runs[i].stamp > runs[best].stamp { best = i }
            }
            guard best >= 0 else { break }
            below = runs[best].stamp
            blocks.append(SACKBlock(left: base + (runs[best].start - origin), right: base + (runs[best].end - origin)))
        }
        return blocks
    }

    // MARK: - Invariants

    /// Checks the structure and returns every violation found (empty when sound). Holds in
    /// release builds: tests and the harness call it after every step.
    /// - Parameter window: when given, every range must lie within `[0, window)` past RCV.NXT.
    package func checkInvariants(window: Int? = nil) -> [String] {
        var problems: [String] = []
        if rangeCount > maxRanges || rangeCount > runs.count {
            problems.append("range count \(rangeCount) exceeds bound \(maxRanges)")
            return problems
        }
        if !runs.isEmpty && runs.count != maxRanges {
            problems.append("storage holds \(runs.count) slots, bound is \(maxRanges)")
        }
        var previousEnd = origin
        for i in 0..<rangeCount {
            let r = runs[i]
            if r.start >= r.end {
                problems.append("range \(i) is empty or inverted: \(r.start - origin)..<\(r.end - origin)")
            }
            // A range at offset 0 should have been delivered; ranges must leave a hole between them.
            if r.start <= previousEnd {
                problems.append("range \(i) at \(r.start - origin) is not strictly after \(previousEnd - origin) (unsorted, overlapping, adjacent or not above RCV.NXT)")
            }
            if let window, r.end - origin > window {
                problems.append("range \(i) ends at \(r.end - origin), past the window \(window)")
            }
            previousEnd = r.end
        }
        return problems
    }

    // MARK: - Fixed storage

    private mutating func insertRun(_ run: Run, at index: Int) {
        if runs.isEmpty {   // the first range: the fixed storage is reserved now, once
            runs = ContiguousArray(repeating: run, count: maxRanges)
        }
        var i = rangeCount
        while i > index {
            runs[i] = runs[i - 1]
            i -= 1
        }
        runs[index] = run
        rangeCount += 1
    }

    private mutating func removeRuns(_ range: Range<Int>) {
        let n = range.count
        guard n > 0 else { return }
        var i = range.lowerBound
        while i + n < rangeCount {
            runs[i] = runs[i + n]
            i += 1
        }
        rangeCount -= n
    }
}
