import Testing
import SluiceCore

@Suite struct ByteRingTests {
    @Test func writeReadAcrossTheWrap() {
        let ring = ByteRing(capacity: 8)
        #expect(ring.write([1, 2, 3, 4, 5, 6]) == 6)
        #expect(ring.read(maxCount: 4) == [1, 2, 3, 4])
        // Head at 4: these six bytes wrap after the fourth.
        #expect(ring.write([7, 8, 9, 10, 11, 12]) == 6)
        #expect(ring.count == 8)
        #expect(ring.freeSpace == 0)
        #expect(ring.write([13]) == 0)   // full: backpressure
        #expect(ring.peek(at: 1, maxCount: 100) == [6, 7, 8, 9, 10, 11, 12])
        #expect(ring.read(maxCount: 100) == [5, 6, 7, 8, 9, 10, 11, 12])
        #expect(ring.isEmpty)
    }

    @Test func writeAtStaysUnreadableUntilCommitted() {
        let ring = ByteRing(capacity: 10)
        #expect(ring.write([1, 2]) == 2)
        // Out of order: bytes 3...4 at offset 2 past the end, nothing at offset 0...1 yet.
        #expect(ring.write(at: 2, [30, 40]) == 2)
        #expect(ring.count == 2)
        #expect(ring.peek(at: 2, maxCount: 2) == [])
        #expect(ring.write(at: 0, [10, 20]) == 2)
        #expect(ring.commit(4) == 4)
        #expect(ring.read(maxCount: 10) == [1, 2, 10, 20, 30, 40])
    }

    @Test func writeAtIsClippedToFreeSpace() {
        let ring = ByteRing(capacity: 10)
        ring.write([0, 0, 0, 0])                          // free space 6
        #expect(ring.write(at: 4, [1, 2, 3, 4]) == 2)     // only offsets 4 and 5 fit
        #expect(ring.write(at: 6, [1]) == 0)              // at the end of the free space
        #expect(ring.write(at: -1, [1, 2]) == 0)          // before the end of the readable data
        #expect(ring.write(at: Int.max, [1]) == 0)
        #expect(ring.commit(100) == 6)                    // clipped to free space
        #expect(ring.count == 10)
        #expect(ring.peek(at: 8, maxCount: 5) == [1, 2])
    }

    @Test func hostileCountsAreClippedNotTrapped() {
        let ring = ByteRing(capacity: 4)
        ring.write([1, 2, 3])
        #expect(ring.discard(-5) == 0)
        #expect(ring.commit(-1) == 0)
        #expect(ring.peek(at: -1, maxCount: 2) == [])
        #expect(ring.peek(at: 3, maxCount: 2) == [])
        #expect(ring.peek(at: Int.min, maxCount: 2) == [])
        #expect(ring.discard(Int.max) == 3)
        #expect(ring.count == 0)
        #expect(ring.read(maxCount: 10) == [])
        let empty = ByteRing(capacity: -3)
        #expect(empty.capacity == 0)
        #expect(empty.write([1]) == 0)
        #expect(empty.write(at: 0, [1]) == 0)
        #expect(empty.commit(1) == 0)
    }

    @Test func discardReleasesAcknowledgedBytes() {
        // The send side: peek for (re)transmission at offsets from SND.UNA, discard on ACK.
        let ring = ByteRing(capacity: 6)
        ring.write([1, 2, 3, 4, 5, 6])
        #expect(ring.peek(at: 2, maxCount: 2) == [3, 4])
        #expect(ring.discard(4) == 4)
        #expect(ring.write([7, 8, 9]) == 3)
        #expect(ring.peek(at: 0, maxCount: 6) == [5, 6, 7, 8, 9])
    }

    @Test func randomOperationsMatchTheModel() {
        for seed in UInt64(1)...40 {
            let failure = runByteRingModel(seed: seed, steps: 500)
            #expect(failure == nil, "\(failure ?? "")")
            if failure != nil { break }
        }
    }
}
