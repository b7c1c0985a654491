#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import SluiceCore

/// The drivers' clock: `CLOCK_MONOTONIC`, as a `SluiceCore.Instant` (nanoseconds since boot).
///
/// The core never reads a clock; the drivers read this one and pass `now` in. Monotonic, so a
/// wall-clock step (NTP, `date -s`) can neither fire nor stall a timer.
package struct MonotonicClock: Sendable {
    package init() {}

    package func now() -> Instant {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Instant(nanoseconds: Int64(ts.tv_sec) &* 1_000_000_000 &+ Int64(ts.tv_nsec))
    }
}

/// Wall-clock time in nanoseconds since the Unix epoch, for pcap timestamps only (readers expect
/// calendar time there). Never used for timers.
package func wallClockNanoseconds() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec) &* 1_000_000_000 &+ Int64(ts.tv_nsec)
}
