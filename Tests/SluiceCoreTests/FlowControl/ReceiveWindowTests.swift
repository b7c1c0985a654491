import Testing
import SluiceCore
import SluiceRandom

@Suite struct WindowScaleTests {
    @Test func shiftIsTheSmallestThatCoversTheBuffer() {
        #expect(WindowScale.shift(forBufferSize: 1000) == 0)
        #expect(WindowScale.shift(forBufferSize: 65535) == 0)
        #expect(WindowScale.shift(forBufferSize: 65536) == 1)
        #expect(WindowScale.shift(forBufferSize: 256 * 1024) == 3)
        #expect(WindowScale.shift(forBufferSize: 16 * 1024 * 1024) == 9)
        #expect(WindowScale.shift(forBufferSize: 1 << 30) == 14)
        #expect(WindowScale.shift(forBufferSize: 1 << 40) == 14)   // RFC 7323 §2.3 cap
        #expect(WindowScale.clampReceived(15) == 14)
        #expect(WindowScale.clampReceived(7) == 7)
        #expect(WindowScale.bytes(field: 3, shift: 9) == 1536)
    }
}

@Suite struct ReceiveWindowTests {
    static let start = SequenceNumber(UInt32.max - 3000)   // crosses the 2^32 wrap in every test

    // MARK: - Advertised window = free space

    @Test func unscaledWindowIsTheFreeSpace() {
        var w = ReceiveWindow(capacity: 65535, shift: 0, mss: 1460, receiveNext: Self.start, synWindow: 65535)
        #expect(ReceiveWindow.synWindowField(freeSpace: 1 << 20, capacity: 1 << 20, shift: 5, mss: 1460) == 65535)
        #expect(ReceiveWindow.synWindowField(freeSpace: 65536, capacity: 65536, shift: 1, mss: 1460) == 65536 - 64)
        #expect(ReceiveWindow.synWindowField(freeSpace: 65535, capacity: 65535, shift: 0, mss: 1460) == 65535)
        #expect(w.advertise(receiveNext: Self.start, freeSpace: 65535) == (65535, 65535))
        // 1000 bytes arrive, unread: the window shrinks by exactly that, edge fixed.
        let nxt = Self.start + 1000
        #expect(w.advertise(receiveNext: nxt, freeSpace: 64535) == (64535, 64535))
        #expect(w.rightEdge == Self.start + 65535)
        #expect(w.acceptanceWindow(receiveNext: nxt) == 64535)
    }

    @Test func windowShrinksToZeroAsDataArrivesNeverByRetraction() {
        var w = ReceiveWindow(capacity: 10_000, shift: 0, mss: 1460, receiveNext: Self.start, synWindow: 10_000)
        var nxt = Self.start
        var free = 10_000
        let edge = w.rightEdge
        for _ in 0..<6 {   // 6 × 1460 = 8760, then 1240 more
            nxt += 1460; free -= 1460
            let (field, _) = w.advertise(receiveNext: nxt, freeSpace: free)
            #expect(Int(field) == free)
            #expect(w.rightEdge == edge)
        }
        nxt += 1240; free -= 1240
        #expect(w.advertise(receiveNext: nxt, freeSpace: free) == (0, 0))
        #expect(w.rightEdge == edge)
    }

    // MARK: - Receiver silly-window avoidance (RFC 9293 §3.8.6.2.2)

    @Test func edgeAdvancesOnlyByMinHalfBufferOrMSS() {
        var w = ReceiveWindow(capacity: 10_000, shift: 0, mss: 1460, receiveNext: Self.start, synWindow: 10_000)
        #expect(w.sillyWindowThreshold == 1460)
        let nxt = Self.start + 10_000   // full: nothing read
        #expect(w.advertise(receiveNext: nxt, freeSpace: 0) == (0, 0))
        // The application reads 1000 bytes: 1000 < 1460, the window stays shut.
        #expect(!w.shouldSendWindowUpdate(receiveNext: nxt, freeSpace: 1000))
        #expect(w.advertise(receiveNext: nxt, freeSpace: 1000) == (0, 0))
        // 459 more: 1459, still one short.
        #expect(w.advertise(receiveNext: nxt, freeSpace: 1459) == (0, 0))
        // One more byte: the whole free space opens at once, and at once (not delayed).
        #expect(w.shouldSendWindowUpdate(receiveNext: nxt, freeSpace: 1460))
        #expect(w.advertise(receiveNext: nxt, freeSpace: 1460) == (1460, 1460))
        #expect(w.rightEdge == nxt + 1460)
    }

    @Test func smallBufferThresholdIsHalfTheBuffer() {
        var w = ReceiveWindow(capacity: 2000, shift: 0, mss: 1460, receiveNext: Self.start, synWindow: 2000)
        #expect(w.sillyWindowThreshold == 1000)
        let nxt = Self.start + 2000
        #expect(w.advertise(receiveNext: nxt, freeSpace: 999) == (0, 0))
        #expect(w.advertise(receiveNext: nxt, freeSpace: 1000) == (1000, 1000))
    }

    // MARK: - Window update when the application reads

    @Test func windowUpdateWhenTheWindowDoubles() {
        var w = ReceiveWindow(capacity: 100_000, shift: 0, mss: 1460, receiveNext: Self.start, synWindow: 100_000)
        // 80 000 bytes arrive, unread: window 20 000.
        let nxt = Self.start + 80_000
        #expect(w.advertise(receiveNext: nxt, freeSpace: 20_000) == (20_000, 20_000))
        // A read of 10 000: 30 000 is an SWS-worthy advance but not double: the next ACK carries it.
        #expect(!w.shouldSendWindowUpdate(receiveNext: nxt, freeSpace: 30_000))
        #expect(w.prospectiveWindow(receiveNext: nxt, freeSpace: 30_000) == 30_000)
        // A read of 20 000: 40 000 ≥ 2 × 20 000: send now.
        #expect(w.shouldSendWindowUpdate(receiveNext: nxt, freeSpace: 40_000))
        // Nothing changes: nothing to send.
        _ = w.advertise(receiveNext: nxt, freeSpace: 40_000)
        #expect(!w.shouldSendWindowUpdate(receiveNext: nxt, freeSpace: 40_000))
    }

    // MARK: - Window scaling (RFC 7323 §2)

    @Test func scaledWindowRoundsUpRatherThanMoveTheEdgeLeft() {
        let capacity = 16 * 1024 * 1024
        var w = ReceiveWindow(capacity: capacity, shift: 9, mss: 1460, receiveNext: Self.start, synWindow: 65535)
        #expect(w.roundingReserve == capacity / 16)
        // Grant: 15 MiB (16 MiB − the 1 MiB reserve), 30 720 units of 512 bytes.
        #expect(w.advertise(receiveNext: Self.start, freeSpace: capacity) == (30720, 15 * 1024 * 1024))
        let edge = w.rightEdge
        // 1000 bytes arrive, unread. Rounding the remaining 15 727 640 down would give 30 718
        // units, an edge 24 bytes to the left; rounding up gives 30 719 units, 488 to the right.
        let nxt = Self.start + 1000
        #expect(w.advertise(receiveNext: nxt, freeSpace: capacity - 1000) == (30719, 15_728_128))
        #expect(w.rightEdge == edge + 488)
        #expect(w.largestRightEdge == w.rightEdge)
        #expect(w.retractions == 0)
        // Still storable: the promise is within the free space.
        #expect(w.acceptanceWindow(receiveNext: nxt) <= capacity - 1000)
    }

    @Test func unscaledSYNWindowThenScaledGrant() {
        // RFC 7323 §2.2: the SYN's window is not scaled; the first ACK grants the buffer.
        var w = ReceiveWindow(capacity: 1 << 20, shift: 5, mss: 1460, receiveNext: Self.start, synWindow: 65535)
        #expect(w.rightEdge == Self.start + 65535)
        let (field, bytes) = w.advertise(receiveNext: Self.start, freeSpace: 1 << 20)
        #expect(field == UInt16(((1 << 20) - (1 << 20) / 1460 * 31) >> 5))
        #expect(bytes == Int(field) << 5)
    }

    /// Many random arrive/read/advertise sequences at several shifts: the edge never moves left,
    /// every advance is a silly-window step (≥ threshold) or a rounding (< one unit), everything
    /// accepted fits in the buffer, and the field never overflows.
    @Test(arguments: [(65_536, 1), (256 * 1024, 3), (1 << 20, 5), (16 * 1024 * 1024, 9)])
    func scaledEdgeNeverMovesLeft(capacity: Int, shift: Int) {
        for seed in UInt64(1)...UInt64(60) {
            let failure = runRandomSequence(seed: seed, capacity: capacity, shift: shift, mss: 1460, steps: 3000)
            #expect(failure == nil, "seed \(seed) capacity \(capacity) shift \(shift): \(failure ?? "")")
            if failure != nil { return }
        }
    }

    /// A hostile peer sends 1-byte segments into a stalled reader at the largest shift: rounding
    /// up would creep without end, so the edge may move left by under one unit (counted), but
    /// never promises more than the buffer holds.
    @Test func subUnitSegmentsIntoStalledReaderStayWithinTheBuffer() {
        let capacity = 4 << 20
        let unit = 1 << 14
        var w = ReceiveWindow(capacity: capacity, shift: 14, mss: 1460, receiveNext: Self.start, synWindow: 65535)
        #expect(w.roundingReserve == 256 * 1024)
        var nxt = Self.start
        var free = capacity
        _ = w.advertise(receiveNext: nxt, freeSpace: free)
        var previousEdge = w.rightEdge
        for _ in 0..<300_000 {
            let room = w.acceptanceWindow(receiveNext: nxt)
            guard room > 0 else { break }
            nxt += 1; free -= 1
            _ = w.advertise(receiveNext: nxt, freeSpace: free)
            #expect(w.acceptanceWindow(receiveNext: nxt) <= free)
            #expect(previousEdge - w.rightEdge < unit)
            previousEdge = w.rightEdge
        }
        #expect(w.retractions > 0)
    }
}

/// Drives a `ReceiveWindow` with a sender that fills up to the largest edge and a reader that
/// reads random amounts at random times; returns a description of the first violated rule.
private func runRandomSequence(seed: UInt64, capacity: Int, shift: Int, mss: Int, steps: Int) -> String? {
    var rng = SplitMix64(seed: seed)
    let start = SequenceNumber(UInt32(truncatingIfNeeded: rng.next()))
    let syn = ReceiveWindow.synWindowField(freeSpace: capacity, capacity: capacity, shift: shift, mss: mss)
    var w = ReceiveWindow(capacity: capacity, shift: shift, mss: mss, receiveNext: start, synWindow: Int(syn))
    var nxt = start
    var unread = 0
    let unit = 1 << shift
    var previousEdge = w.rightEdge
    var stalled = false
    for step in 0..<steps {
        // The reader stalls and resumes now and then (so windows close and reopen).
        if rng.next() % 50 == 0 { stalled.toggle() }
        let action = rng.next() % 3
        if action < 2 {
            // Arrival of one or two segments of random size within what was advertised.
            let room = w.acceptanceWindow(receiveNext: nxt)
            let size = min(room, Int(rng.next() % UInt64(2 * mss)) + 1)
            if size > 0 {
                nxt += size
                unread += size
                if unread > capacity { return "step \(step): accepted more than the buffer holds" }
            }
        } else if !stalled && unread > 0 {
            let n = Int(rng.next() % UInt64(unread)) + 1
            unread -= n
        }
        let retractionsBefore = w.retractions
        let (field, bytes) = w.advertise(receiveNext: nxt, freeSpace: capacity - unread)
        if bytes != Int(field) << shift { return "step \(step): bytes \(bytes) != field \(field) << \(shift)" }
        let edge = w.rightEdge
        let advance = edge - previousEdge
        if advance < 0 && w.retractions == retractionsBefore {
            return "step \(step): edge moved left by \(-advance)"
        }
        if advance < 0 { return "step \(step): retraction of \(-advance) (reserve exhausted)" }
        if advance > 0 && advance < w.sillyWindowThreshold && advance >= unit {
            return "step \(step): edge advanced by \(advance), below the SWS threshold"
        }
        if w.acceptanceWindow(receiveNext: nxt) > capacity - unread {
            return "step \(step): promised \(w.acceptanceWindow(receiveNext: nxt)) with \(capacity - unread) free"
        }
        previousEdge = edge
    }
    return nil
}
