import Testing
import SluiceCore

@Suite struct PacerTests {
    /// 50 Mbit/s = 6 250 000 bytes/s: a 1460-byte segment every 233.6 µs after a 2-segment burst.
    @Test func fixedRateSpacesSegmentsExactly() {
        var p = Pacer(mode: .fixed(bytesPerSecond: 6_250_000), burstSegments: 2, burstTime: .zero)
        let t0 = Instant.seconds(1)
        #expect(p.isReady(at: t0))
        p.didSend(bytes: 1460, mss: 1460, at: t0)
        #expect(p.isReady(at: t0))          // the burst allowance: a second segment at once
        p.didSend(bytes: 1460, mss: 1460, at: t0)
        #expect(!p.isReady(at: t0))
        #expect(p.deadline(at: t0) == t0 + .nanoseconds(233_600))
        var now = t0 + .nanoseconds(233_600)
        var departures: [Int64] = []
        for _ in 0..<5 {
            #expect(p.isReady(at: now))
            p.didSend(bytes: 1460, mss: 1460, at: now)
            departures.append((now - t0).nanosecondsClamped)
            now = p.nextSendTime
        }
        #expect(departures == [233_600, 467_200, 700_800, 934_400, 1_168_000])
    }

    /// A sender that always has data sends at the rate on average, to within a segment.
    @Test func greedySenderAveragesTheRate() {
        var p = Pacer(mode: .fixed(bytesPerSecond: 1_000_003), burstSegments: 2)
        var now = Instant.zero
        var sent = 0
        while now < .seconds(2) {
            p.didSend(bytes: 1448, mss: 1448, at: now)
            sent += 1448
            now = max(now, p.nextSendTime)
        }
        let expected = 2 * 1_000_003
        #expect(abs(sent - expected) <= 3 * 1448)
    }

    @Test func burstAfterIdleIsBounded() {
        var p = Pacer(mode: .fixed(bytesPerSecond: 1_000_000), burstSegments: 3, burstTime: .zero)
        p.didSend(bytes: 1000, mss: 1000, at: .zero)
        // Idle for a second, then greedy: exactly 3 segments leave back to back.
        let later = Instant.seconds(1)
        var back2back = 0
        while p.isReady(at: later) {
            p.didSend(bytes: 1000, mss: 1000, at: later)
            back2back += 1
        }
        #expect(back2back == 3)
        #expect(p.nextSendTime == later + .milliseconds(1))
    }

    /// A run loop on a real clock wakes up late (here 80 µs after every release time) at
    /// 2 Gbit/s (250 MB/s: a 1448-byte segment every 5.79 µs). With the time allowance (500 µs of
    /// the rate) it catches up and sends at the rate; with a two-segment allowance alone it sent
    /// two segments per wake-up (36 MB/s, a seventh of the rate): the "pacing-limited" TUN runs.
    @Test func lateWakeupsCatchUpWithinTheBurstTime() {
        func achieved(burstTime: Duration) -> Double {
            var p = Pacer(mode: .fixed(bytesPerSecond: 250_000_000), burstSegments: 2, burstTime: burstTime)
            var now = Instant.seconds(1)
            var sent = 0
            let end = now + .milliseconds(10)
            while now < end {
                while p.isReady(at: now) {
                    p.didSend(bytes: 1448, mss: 1448, at: now)
                    sent += 1448
                }
                now = p.nextSendTime + .microseconds(80)    // the late wake-up
            }
            return Double(sent) / 0.010
        }
        let caughtUp = achieved(burstTime: Pacer.defaultBurstTime)
        // At most the rate plus the first burst (64 KiB, the cap) and one segment over 10 ms.
        #expect(caughtUp >= 0.99 * 250_000_000 && caughtUp <= (2_500_000 + 65_536 + 1448) / 0.010, "\(caughtUp)")
        let forfeited = achieved(burstTime: .zero)
        #expect(forfeited < 0.2 * 250_000_000, "\(forfeited)")
        // The catch-up burst is bounded: at most 500 µs of the rate (125 000 B) leaves at once
        // after an idle second, and never more than 64 KiB.
        var p = Pacer(mode: .fixed(bytesPerSecond: 100_000_000))
        p.didSend(bytes: 1448, mss: 1448, at: .zero)
        var burst = 0
        while p.isReady(at: .seconds(1)) {
            p.didSend(bytes: 1448, mss: 1448, at: .seconds(1))
            burst += 1448
        }
        #expect(burst >= 50_000 && burst <= 50_000 + 1448)          // 500 µs × 100 MB/s
        var fast = Pacer(mode: .fixed(bytesPerSecond: 1_000_000_000))
        fast.didSend(bytes: 1448, mss: 1448, at: .zero)
        burst = 0
        while fast.isReady(at: .seconds(1)) {
            fast.didSend(bytes: 1448, mss: 1448, at: .seconds(1))
            burst += 1448
        }
        #expect(burst >= 65_536 && burst <= 65_536 + 1448)          // capped at 64 KiB
    }

    /// 10 Mbit/s (1.25 MB/s: a 1448-byte segment every 1.1584 ms). A sender whose data waited on
    /// the pacer alone (`hold()`) and whose run loop woke 3.5 ms late sends the four segments due
    /// by then at once; after the same gap spent idle (`release()`) it gets only the burst
    /// allowance, two. Woken 50 ms late, the catch-up stops at 10 ms of the rate: nine segments.
    @Test func backloggedSenderCatchesUpALateWakeup() {
        func segments(lateBy: Duration, backlogged: Bool) -> Int {
            var p = Pacer(mode: .fixed(bytesPerSecond: 1_250_000))
            var now = Instant.seconds(1)
            for _ in 0..<10 {
                while p.isReady(at: now) { p.didSend(bytes: 1448, mss: 1448, at: now) }
                now = p.nextSendTime
            }
            if backlogged { p.hold() } else { p.release() }
            #expect(p.backlogged == backlogged)
            let wake = p.nextSendTime + lateBy
            var n = 0
            while p.isReady(at: wake) {
                p.didSend(bytes: 1448, mss: 1448, at: wake)
                n += 1
            }
            #expect(!p.backlogged)   // caught up: the next wait is a new one
            return n
        }
        #expect(segments(lateBy: .microseconds(3500), backlogged: true) == 4)
        #expect(segments(lateBy: .microseconds(3500), backlogged: false) == 2)
        #expect(segments(lateBy: .milliseconds(50), backlogged: true) == 9)
        // An unpaced sender is never backlogged.
        var off = Pacer(mode: .off)
        off.hold()
        #expect(!off.backlogged)
    }

    @Test func automaticRateFollowsCwndOverSRTTWithLinuxRatios() {
        var p = Pacer(mode: .automatic())
        #expect(p.rate == nil)                                   // no RTT sample: unpaced
        p.updateRate(congestionWindow: 100_000, smoothedRTT: nil, inSlowStart: true)
        #expect(p.rate == nil)
        #expect(p.isReady(at: .zero))
        p.updateRate(congestionWindow: 100_000, smoothedRTT: .milliseconds(100), inSlowStart: true)
        #expect(p.rate == 2_000_000)                             // 2.0 × 100 000 B / 0.1 s
        p.updateRate(congestionWindow: 100_000, smoothedRTT: .milliseconds(100), inSlowStart: false)
        #expect(p.rate == 1_200_000)                             // 1.2 × …
        p.didSend(bytes: 1200, mss: 1200, at: .zero)
        p.didSend(bytes: 1200, mss: 1200, at: .zero)
        #expect(p.nextSendTime == .milliseconds(1))              // 1200 B at 1.2 MB/s
    }

    @Test func offNeverHolds() {
        var p = Pacer(mode: .off)
        p.updateRate(congestionWindow: 1000, smoothedRTT: .milliseconds(1), inSlowStart: false)
        for _ in 0..<100 { p.didSend(bytes: 1460, mss: 1460, at: .zero) }
        #expect(p.isReady(at: .zero))
        #expect(p.deadline(at: .zero) == nil)
    }
}
