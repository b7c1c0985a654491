import SluiceCore

/// How evenly a sender paced, from its own capture (issue 10, `sluice-bench pacing`): the
/// payload bytes it sent in each bin of a fixed length, against rate × bin length.
///
/// Feed it the capture's segments in order (`add`), then ask for `result`. The bins start one
/// round trip after the sender's first data segment, the round trip being the time from its first
/// packet (the SYN) to the first packet heard from the peer (the SYN-ACK), so the start-up burst
/// is left out; they end at its last data segment, the last, partial bin left out. A segment
/// exactly on a boundary belongs to the later bin. Retransmissions count (they are bytes sent).
/// "One segment" is the largest payload the sender sent: its MSS in a bulk transfer.
package struct PacingBins: Sendable {
    /// The sender's address: its segments are binned, any other source is the peer.
    package let sender: IPv4Address
    private var firstSent: Instant?
    private var firstHeard: Instant?
    /// The sender's data segments: capture time and payload bytes.
    private var data: [(time: Instant, bytes: Int)] = []

    package init(sender: IPv4Address) {
        self.sender = sender
    }

    /// One packet of the capture, in capture order.
    package mutating func add(_ segment: TraceSegment) {
        if segment.source.address == sender {
            if firstSent == nil { firstSent = segment.time }
            if segment.length > 0 { data.append((segment.time, Int(segment.length))) }
        } else if firstHeard == nil {
            firstHeard = segment.time
        }
    }

    /// The bins against `rateBytesPerSecond` (payload bytes); `nil` when the capture has no
    /// handshake, no data, or less than one whole bin after the first round trip.
    package func result(rateBytesPerSecond: Double, binLength: Duration = .milliseconds(10)) -> Result? {
        guard let sent = firstSent, let heard = firstHeard, let first = data.first, let last = data.last,
              rateBytesPerSecond > 0, binLength > .zero else { return nil }
        let bin = binLength.nanosecondsClamped
        let start = first.time.nanoseconds + max(0, heard.nanoseconds - sent.nanoseconds)
        let count = last.time.nanoseconds > start ? Int((last.time.nanoseconds - start) / bin) : 0
        guard count > 0 else { return nil }
        var bins = [Int](repeating: 0, count: count)
        var segment = 0
        for d in data {
            segment = max(segment, d.bytes)
            guard d.time.nanoseconds >= start else { continue }
            let k = Int((d.time.nanoseconds - start) / bin)
            if k < count { bins[k] += d.bytes }
        }
        return Result(bins: bins, expectedBytes: rateBytesPerSecond * binLength.secondsDouble, segmentBytes: segment,
                      binLength: binLength)
    }

    /// Payload bytes per bin and how far they are from the rate.
    package struct Result: Sendable {
        /// Payload bytes the sender sent in each whole bin.
        package var bins: [Int]
        /// Rate × bin length.
        package var expectedBytes: Double
        /// The largest payload the sender sent (one full segment).
        package var segmentBytes: Int
        package var binLength: Duration

        /// The largest |bin − expected|, in bytes.
        package var maxDeviationBytes: Double {
            bins.map { abs(Double($0) - expectedBytes) }.max() ?? 0
        }
        /// `maxDeviationBytes` as a fraction of the expected bytes.
        package var maxDeviationFraction: Double { maxDeviationBytes / expectedBytes }
        /// How many bins deviate by more than `bytes`.
        package func binsOff(byMoreThan bytes: Double) -> Int {
            bins.count(where: { abs(Double($0) - expectedBytes) > bytes })
        }
        /// The payload rate over the bins, bytes per second.
        package var achievedBytesPerSecond: Double {
            Double(bins.reduce(0, +)) / (Double(bins.count) * binLength.secondsDouble)
        }
    }
}
