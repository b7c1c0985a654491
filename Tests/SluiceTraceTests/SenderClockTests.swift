import Testing
@testable import SluiceTrace

/// The sender's clock read from its TSvals (`SenderClock`): the queueing delay behind which a
/// capture sees the sender, in steps of at least the dead band, and the clock-rate check.
@Suite struct SenderClockTests {
    static let ms: Int64 = 1_000_000

    /// TSvals 1 ms apart seen 1 ms apart: no queue. Then each packet is seen 3 ms later than
    /// the one before relative to its TSval: a queue builds and is reported; it drains back.
    @Test func queueBuildsAndDrains() {
        var clock = SenderClock()
        var changes: Int64 = 0
        for i in 0..<10 { changes += clock.note(5_000 + UInt32(i), at: Int64(i) * Self.ms) }
        #expect(changes == 0 && clock.queueDelay == 0)
        // Sent 1 ms apart, seen 4 ms apart: the queue grows by 3 ms a packet.
        for i in 1...10 { changes += clock.note(5_009 + UInt32(i), at: (9 + Int64(i) * 4) * Self.ms) }
        #expect(clock.queueDelay == 30 * Self.ms)
        #expect(changes == 30 * Self.ms)
        // The queue drains: the next packet is seen with no delay beyond the smallest.
        changes += clock.note(5_100, at: 100 * Self.ms)
        #expect(clock.queueDelay == 0)
        #expect(changes == 0)
    }

    /// A tick's rounding (the reading moves by less than the dead band) changes nothing.
    @Test func roundingWithinTheDeadBandIsIgnored() {
        var clock = SenderClock()
        var changes: Int64 = 0
        for i in 0..<100 {
            // Seen up to 0.9 ms after its tick, as a 1 ms clock rounds down.
            changes += clock.note(UInt32(i), at: Int64(i) * Self.ms + Int64((i * 37) % 10) * Self.ms / 10)
        }
        #expect(changes == 0 && clock.queueDelay == 0)
    }

    /// A clock of 250 Hz over three seconds is not a millisecond clock; one of 1 kHz is.
    @Test func clockRateIsChecked() {
        var slow = SenderClock(), fast = SenderClock()
        for i in 0...300 {
            _ = slow.note(UInt32(i * 10 / 4), at: Int64(i) * 10 * Self.ms)
            _ = fast.note(UInt32(i * 10), at: Int64(i) * 10 * Self.ms)
        }
        #expect(!slow.isMillisecondClock)
        #expect(fast.isMillisecondClock)
    }
}
