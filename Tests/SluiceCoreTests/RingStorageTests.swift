import Testing
@testable import SluiceCore

/// Rings take memory only while they hold data (issue 10, memory per connection): a ring's
/// storage is taken with its first byte and handed back when the connection finds it empty, to
/// the endpoint's bounded `RingStoragePool`.
@Suite struct RingStorageTests {
    static let ms = Instant.milliseconds

    // MARK: - ByteRing and its pool

    @Test func storageIsTakenWithTheFirstByteAndHandedBackWhenEmpty() {
        let pool = RingStoragePool(maxCached: 1)
        let ring = ByteRing(capacity: 8, pool: pool)
        #expect(!ring.holdsStorage)
        #expect(ring.read(maxCount: 4) == [])
        #expect(ring.discard(4) == 0)
        #expect(ring.commit(0) == 0)
        #expect(!ring.holdsStorage)   // nothing stored: nothing taken
        #expect(ring.write([1, 2, 3, 4, 5, 6]) == 6)
        #expect(ring.holdsStorage)
        ring.releaseStorage()         // not empty: kept
        #expect(ring.holdsStorage)
        #expect(ring.read(maxCount: 6) == [1, 2, 3, 4, 5, 6])
        ring.releaseStorage()
        #expect(!ring.holdsStorage)
        #expect(pool.cachedCount == 1)
        // The storage comes back from the pool; the bytes wrap around it as before.
        #expect(ring.write([7, 8, 9, 10, 11, 12, 13, 14]) == 8)
        #expect(pool.cachedCount == 0)
        #expect(ring.read(maxCount: 3) == [7, 8, 9])
        #expect(ring.write([15, 16, 17]) == 3)
        #expect(ring.read(maxCount: 8) == [10, 11, 12, 13, 14, 15, 16, 17])
    }

    @Test func outOfOrderBytesTakeStorageAndCommitNeedsIt() {
        let ring = ByteRing(capacity: 10)
        #expect(ring.write(at: 3, [4, 5]) == 2)
        #expect(ring.holdsStorage)
        #expect(ring.count == 0)
        #expect(ring.write(at: 0, [1, 2, 3]) == 3)
        #expect(ring.commit(5) == 5)
        #expect(ring.read(maxCount: 10) == [1, 2, 3, 4, 5])
    }

    @Test func thePoolKeepsAtMostItsBound() {
        let pool = RingStoragePool(maxCached: 2)
        let rings = (0..<5).map { _ in ByteRing(capacity: 64, pool: pool) }
        for r in rings { r.write([1]) }
        for r in rings {
            r.discard(1)
            r.releaseStorage()
            #expect(!r.holdsStorage)
        }
        #expect(pool.cachedCount == 2)   // the other three were freed
        #expect(pool.cachedBytes == 128)
        // A ring of another size allocates its own; one of the same size takes a kept buffer.
        let other = ByteRing(capacity: 32, pool: pool)
        other.write([1])
        #expect(pool.cachedCount == 2)
        rings[0].write([2])
        #expect(pool.cachedCount == 1)
        // A ring that goes away with storage hands it back too (within the bound).
        do {
            let r = ByteRing(capacity: 64, pool: pool)
            r.write([3])
            #expect(pool.cachedCount == 0)
        }
        #expect(pool.cachedCount == 1)
        do {
            let r = ByteRing(capacity: 64, pool: pool)
            r.write([3])
            let s = ByteRing(capacity: 64, pool: pool)
            s.write([3])
        }
        #expect(pool.cachedCount == 2)
        #expect(RingStoragePool(maxCached: -1).maxCached == 0)
        let none = RingStoragePool(maxCached: 0)
        let r = ByteRing(capacity: 16, pool: none)
        r.write([1])
        r.discard(1)
        r.releaseStorage()
        #expect(none.cachedCount == 0)
    }

    // MARK: - In a connection

    /// Never used, the connection holds no ring storage; each ring takes it for as long as it
    /// holds bytes: the receive ring until the application has read them all, the send ring
    /// until they are all acknowledged (kept while in flight, for a retransmission).
    @Test func aConnectionHoldsRingStorageOnlyWhileItHoldsData() {
        let (t, id) = EngineTest.makeEstablished()
        let e = t.endpoint
        #expect(e.ringsHoldingStorage == 0)
        t.send(Seg(flags: [.ack, .psh], seq: peerISS + 1, ack: ourISS + 1, window: 8192, payload: streamBytes(0..<100)),
               at: Self.ms(20))
        #expect(e.ringsHoldingStorage == 1)
        #expect(t.read(id, max: 40) == streamBytes(0..<40))
        #expect(e.ringsHoldingStorage == 1)
        #expect(t.read(id) == streamBytes(40..<100))
        #expect(e.ringsHoldingStorage == 0)
        #expect(e.ringPool.cachedCount == 1)
        t.expectTransmit(Seg(flags: .ack, seq: ourISS + 1, ack: peerISS + 101, window: 3996), at: Self.ms(21))

        #expect(t.write(id, streamBytes(0..<300)) == 300)
        #expect(e.ringsHoldingStorage == 1)
        #expect(e.ringPool.cachedCount == 0)   // the receive ring's buffer, reused
        t.expectTransmit(Seg(flags: [.ack, .psh], seq: ourISS + 1, ack: peerISS + 101, window: 3996,
                             payload: streamBytes(0..<300)), at: Self.ms(30))
        #expect(e.ringsHoldingStorage == 1)
        t.send(Seg(flags: .ack, seq: peerISS + 101, ack: ourISS + 151, window: 8192), at: Self.ms(40))
        #expect(e.ringsHoldingStorage == 1)
        t.send(Seg(flags: .ack, seq: peerISS + 101, ack: ourISS + 301, window: 8192), at: Self.ms(41))
        #expect(e.ringsHoldingStorage == 0)
        #expect(e.ringPool.cachedCount == 1)
        t.expectNothing(at: Self.ms(41))
    }

    /// Bytes held past a hole keep the receive ring's storage even when nothing is readable;
    /// once the hole fills and everything is read, it goes back.
    @Test func outOfOrderDataKeepsTheReceiveStorage() {
        let (t, id) = EngineTest.makeEstablished()
        let e = t.endpoint
        t.send(Seg(flags: .ack, seq: peerISS + 1, ack: ourISS + 1, window: 8192, payload: streamBytes(0..<100)),
               at: Self.ms(20))
        t.send(Seg(flags: .ack, seq: peerISS + 201, ack: ourISS + 1, window: 8192, payload: streamBytes(200..<300)),
               at: Self.ms(20))
        t.expectTransmit(Seg(flags: .ack, seq: ourISS + 1, ack: peerISS + 101, window: 3996), at: Self.ms(20))
        #expect(t.read(id) == streamBytes(0..<100))
        #expect(e.ringsHoldingStorage == 1)   // empty, but bytes 200..<300 wait past the hole
        t.send(Seg(flags: .ack, seq: peerISS + 101, ack: ourISS + 1, window: 8192, payload: streamBytes(100..<200)),
               at: Self.ms(30))
        t.expectTransmit(Seg(flags: .ack, seq: ourISS + 1, ack: peerISS + 301, window: 3796), at: Self.ms(30))
        #expect(t.read(id) == streamBytes(100..<300))
        #expect(e.ringsHoldingStorage == 0)
    }
}
