#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import SluiceCore

/// Follows one connection's `ConnectionStats` while it lives, so its report can be written after
/// the engine has released it, and computes the progress line's recent rate.
struct StatsTracker {
    private(set) var startedAt: Instant?
    private(set) var latest: ConnectionStats?
    private(set) var tuple: FourTuple?
    var advertisedWindow: Int { latest?.advertisedWindow ?? 0 }
    var peerWindow: Int { latest?.peerWindow ?? 0 }
    private var rateSampleAt: Instant?
    private var rateSampleBytes = 0
    private var rate: Double = 0
    private var bytes = 0

    mutating func start(at now: Instant) {
        if startedAt == nil { startedAt = now }
    }

    /// Remembers the latest statistics (`nil` once the engine has let the connection go).
    mutating func sample(_ stats: ConnectionStats?, tuple: FourTuple?, bytes: Int, at now: Instant) {
        if let stats { latest = stats }
        if let tuple { self.tuple = tuple }
        self.bytes = bytes
        guard let last = rateSampleAt else {
            rateSampleAt = now
            rateSampleBytes = bytes
            return
        }
        let elapsed = (now - last).secondsDouble
        if elapsed >= rateWindowSeconds {
            rate = Double(bytes - rateSampleBytes) * 8 / elapsed
            rateSampleAt = now
            rateSampleBytes = bytes
        }
    }

    /// Bits per second over the last rate window.
    func recentRate(at now: Instant) -> Double { rate }

    /// Fills the report's timing and flow-control fields from the last statistics.
    func fill(_ report: inout TransferReport, at now: Instant) {
        if let startedAt { report.seconds = (now - startedAt).secondsDouble }
        report.runQueueWaitSeconds = runQueueWaitSeconds()   // the run loop's thread calls this
        if let tuple {
            report.local = "\(tuple.local)"
            report.remote = "\(tuple.remote)"
        }
        guard let s = latest else { return }
        report.retransmittedBytes = s.bytesRetransmitted
        report.segmentsSent = s.segmentsSent
        report.segmentsReceived = s.segmentsReceived
        // Issue 5 item 7: the sender reports the peer's zero windows it met, the receiver the
        // zero windows it advertised.
        let flow = s.flow
        if report.role == .sender {
            report.zeroWindowEpisodes = flow.zeroWindowEpisodes
            report.zeroWindowSeconds = flow.zeroWindowTime.secondsDouble
        } else {
            report.zeroWindowEpisodes = flow.zeroWindowAdvertisedEpisodes
            report.zeroWindowSeconds = flow.zeroWindowAdvertisedTime.secondsDouble
        }
        report.probesSent = max(flow.probesSent, s.zeroWindowProbesSent)
        report.probesAnswered = flow.probesAnswered
        report.windowUpdatesSent = flow.windowUpdatesSent
        report.rwndLimitedSeconds = flow.receiveWindowLimited.secondsDouble
        report.cwndLimitedSeconds = flow.congestionWindowLimited.secondsDouble
        report.pacingLimitedSeconds = flow.pacingLimited.secondsDouble
        report.appLimitedSeconds = flow.applicationLimited.secondsDouble
        report.peakBufferBytes = report.role == .sender ? s.peakSendBufferBytes : s.peakReceiveBufferBytes
        report.smoothedRTTMilliseconds = s.smoothedRTT.map { $0.secondsDouble * 1000 }
    }
}

/// The progress line's rate is averaged over this long.
private let rateWindowSeconds = 0.5

/// How long the calling thread has waited on a run queue (runnable, not running) since it
/// started: the second field of `/proc/thread-self/schedstat`, in nanoseconds (Linux with
/// `CONFIG_SCHED_INFO`); `nil` where it cannot be read.
package func runQueueWaitSeconds() -> Double? {
    guard let file = fopen("/proc/thread-self/schedstat", "r") else { return nil }
    defer { fclose(file) }
    var line = [CChar](repeating: 0, count: 128)
    guard fgets(&line, Int32(line.count), file) != nil else { return nil }
    let text = String(decoding: line.prefix(while: { $0 != 0 && $0 != 10 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    let fields = text.split(separator: " ")
    guard fields.count >= 2, let waiting = UInt64(fields[1]) else { return nil }
    return Double(waiting) / 1e9
}
