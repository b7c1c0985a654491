import SluiceCore

/// Why a direction's data was not moving, judged from what its sender could know
/// (`SenderView`), whichever end of the wire the capture was taken at.
package enum LimitCause: Int, CaseIterable, Sendable {
    /// The receiver's window, as the sender knew it, was zero or too small for another full
    /// segment (also while the sender probes after a window update it never saw).
    case rwndLimited
    /// Data in flight below the receiver's window: the sender waited for ACKs (congestion
    /// window, pacing, loss recovery, RTO; also ACKs lost after the capture point).
    case cwndLimited
    /// Nothing in flight: the sending application had nothing queued.
    case appLimited
    /// The trace cannot tell: the receiver's window scale is unknown and its raw window leaves
    /// less than a segment, or the trace ended while the sender was silent after a window update.
    case uncertain

    package var name: String {
        switch self {
        case .rwndLimited: "rwnd_limited"
        case .cwndLimited: "cwnd_limited"
        case .appLimited: "app_limited"
        case .uncertain: "uncertain"
        }
    }
}

/// Time charged to each `LimitCause`, stored inline (copied per new data segment for the
/// stalls, so no array and no allocation).
/// Nanoseconds, because `Duration` arithmetic is not inlined into this per-packet path.
package struct CauseTimes: Sendable {
    private var rwnd: Int64 = 0
    private var cwnd: Int64 = 0
    private var app: Int64 = 0
    private var uncertain: Int64 = 0
    package init() {}
    package subscript(_ i: Int) -> Duration { .nanoseconds(nanoseconds(i)) }
    package func nanoseconds(_ i: Int) -> Int64 {
        switch i {
        case LimitCause.rwndLimited.rawValue: rwnd
        case LimitCause.cwndLimited.rawValue: cwnd
        case LimitCause.appLimited.rawValue: app
        default: uncertain
        }
    }
    /// Adds `ns` nanoseconds (negative to take away) to `cause`.
    @inline(__always) package mutating func add(_ ns: Int64, to cause: LimitCause) {
        switch cause {
        case .rwndLimited: rwnd &+= ns
        case .cwndLimited: cwnd &+= ns
        case .appLimited: app &+= ns
        case .uncertain: uncertain &+= ns
        }
    }
    package var total: Duration { .nanoseconds(rwnd &+ cwnd &+ app &+ uncertain) }
    /// Takes `other`'s times away, cause by cause.
    mutating func subtract(_ other: CauseTimes) {
        rwnd &-= other.rwnd
        cwnd &-= other.cwnd
        app &-= other.app
        uncertain &-= other.uncertain
    }
}

/// Min, median and max of the windows one side advertised.
package struct WindowSummary: Sendable {
    package var samples: Int
    package var min: UInt64?
    package var median: UInt64?
    package var max: UInt64?
    /// The median is exact (else within `relativeError` below the true one).
    package var exact: Bool
    package var relativeError: Double
}

/// A period in which a direction sent no new data.
package struct Stall: Sendable {
    /// Frame and time of the last new data before the stall.
    package var startFrame: Int
    package var start: Instant
    /// Frame and time of the new data that ended it.
    package var endFrame: Int
    package var end: Instant
    package var cause: LimitCause
    package var duration: Duration { end - start }
}

/// A zero-window episode: from the first zero-window advertisement to the next non-zero one.
package struct ZeroWindowEpisode: Sendable {
    package var startFrame: Int
    package var start: Instant
    /// `nil` while open (or when the trace ended first).
    package var endFrame: Int?
    package var end: Instant?
    /// Probes the peer sent during the episode: one byte at the window edge (Wireshark's
    /// `zero_window_probe`), and Linux's empty segment at SND.UNA − 1.
    package var oneByteProbes = 0
    package var linuxProbes = 0
    /// Answers to the probes from the side that closed the window.
    package var probeAcks = 0
}

/// Summary statistics of RTT samples (nanoseconds).
package struct SampleStats: Sendable {
    package private(set) var count = 0
    package private(set) var sum: Double = 0
    package private(set) var min: Int64 = .max
    package private(set) var max: Int64 = .min
    package mutating func add(_ v: Int64) {
        count += 1
        sum += Double(v)
        if v < min { min = v }
        if v > max { max = v }
    }
    package var average: Double? { count > 0 ? sum / Double(count) : nil }
}

/// Everything measured about one direction of a connection: the packets its side sent, the
/// window its side advertised, and how its data moved.
package struct DirectionStats: Sendable {
    package var packets = 0
    package var dataPackets = 0
    /// Payload bytes, retransmissions included (throughput).
    package var bytes: UInt64 = 0
    /// Payload bytes beyond the highest sequence number sent before (goodput).
    package var uniqueBytes: UInt64 = 0
    package var firstTime: Instant? = nil
    package var lastTime: Instant? = nil
    package var firstDataTime: Instant? = nil
    package var lastDataTime: Instant? = nil
    package var events = EventCounts()
    /// The window this side advertised, scaled when the scale is known.
    package var advertisedWindow = ValueHistogram()
    package var sawSYN = false
    /// Wireshark's window-scale state for this side: the shift 0...14, -1 unknown (no SYN
    /// seen), -2 no scaling (SYNs seen without the option on both).
    package var windowScaleState = -1
    package var windowScaleOption: UInt8? = nil
    package var mssOption: UInt16? = nil
    package var maxPayload: UInt32 = 0
    /// Samples of the time from this side's segment to the ACK covering it (Wireshark's ack_rtt).
    package var rtt = SampleStats()
    /// Largest SND.NXT − SND.UNA seen (highest sequence sent minus the peer's highest ACK).
    package var maxBytesInFlight: UInt32 = 0

    // Sequence tracking at the capture point.
    package var sndNxt: UInt32? = nil
    /// Highest ACK this side sent (covering the peer's data).
    package var highestAck: UInt32? = nil
    /// Right edge this side last advertised (ACK + scaled window), and the largest one.
    package var rightEdge: UInt32? = nil
    package var maxRightEdge: UInt32? = nil
    package var lastWindowScaled: UInt64? = nil

    // Flow control.
    package var zeroWindowEpisodes: [ZeroWindowEpisode] = []
    package var zeroWindowEpisodeCount = 0
    package var zeroWindowTotal: Duration = .zero
    package var zeroWindowLongest: Duration = .zero
    package var openEpisode: ZeroWindowEpisode? = nil
    /// A Linux-style probe from this side not yet answered.
    package var pendingLinuxProbe = false

    // Who held this side's data back.
    package var limitTime = CauseTimes()
    package var accountingFrom: Instant? = nil
    package var currentCause: LimitCause = .appLimited
    /// What this side's sender could know of its receiver (`SenderView`).
    var view = SenderView()
    /// `cwnd_limited` time charged since this side's last new data.
    var cwndSinceNewData: Int64 = 0
    /// What the sender's clock took away from (or added to) each cause (`noteSenderClock`).
    var clockCorrections = CauseTimes()
    package var lastNewDataFrame = 0
    package var lastNewDataTime: Instant? = nil
    package var limitTimeAtLastNewData = CauseTimes()
    package var longestStalls: [Stall] = []

    /// The advertised-window statistics, frozen when the connection is retired.
    package var windowSummary: WindowSummary? = nil

    package init() {}

    /// Summarises the window histogram and releases its memory.
    mutating func freezeWindow() {
        let h = advertisedWindow
        windowSummary = WindowSummary(
            samples: h.count, min: h.count > 0 ? h.min : nil, median: h.median, max: h.count > 0 ? h.max : nil,
            exact: h.isExact, relativeError: h.relativeError)
        advertisedWindow = ValueHistogram()
    }

    /// Segment size used for window-full, tiny-segment and silly-window judgements: the
    /// smaller of the MSS the peer announced and the largest payload seen (TCP options such as
    /// timestamps make full segments shorter than the MSS; captures taken before segmentation
    /// offload show larger ones), else RFC 9293 §3.7.1's default 536.
    package func effectiveMSS(peerMSS: UInt16?) -> UInt32 {
        let announced = peerMSS.map(UInt32.init) ?? 0
        switch (announced > 0, maxPayload > 0) {
        case (true, true): return Swift.min(announced, maxPayload)
        case (true, false): return announced
        case (false, true): return maxPayload
        case (false, false): return 536
        }
    }

    /// `ConnectionAnalysis.cause(of:peer:)` for this direction.
    @inline(__always) func judgedCause(peerMSS: UInt16?) -> LimitCause {
        guard let nxt = sndNxt, !view.sentFIN else { return .appLimited }
        if view.believesClosed { return .rwndLimited }
        guard let report = view.known else { return .appLimited }
        if report.window == 0 { return .rwndLimited }
        let room = Int64(Int32(bitPattern: report.edge &- nxt))
        if room < Int64(effectiveMSS(peerMSS: peerMSS)) {
            return report.scaleKnown ? .rwndLimited : .uncertain
        }
        let inFlight = Int32(bitPattern: nxt &- report.ack)
        return inFlight > 0 ? .cwndLimited : .appLimited
    }

    /// Judges the cause from now on (`judgedCause`, inlined: a call to it from a value being
    /// mutated copied all of `DirectionStats`, 808 bytes, twice a packet; callgrind) and sets it.
    mutating func refreshCause(peerMSS: UInt16?) {
        setCause(judgedCause(peerMSS: peerMSS))
    }

    /// Charges `span` to the current cause.
    mutating func charge(_ span: Int64) {
        limitTime.add(span, to: currentCause)
        if view.idle && currentCause == .appLimited { view.idleTime &+= span }
        if currentCause == .cwndLimited { cwndSinceNewData &+= span }
    }

    /// The cause from now on; entering `app_limited` starts an idle spell of the sender's view.
    mutating func setCause(_ c: LimitCause) {
        if c == .appLimited && currentCause != .appLimited && !view.idle {
            view.idle = true
            view.idleTime = 0
            view.idleAfterOpening = currentCause == .rwndLimited
            view.idleTail = currentCause == .cwndLimited ? cwndSinceNewData : 0
        }
        currentCause = c
    }

    /// The sender's TSval `value` seen at `time` (`SenderClock`): when the queueing delay
    /// behind which the capture sees the sender changed, the span just charged was stretched
    /// (the queue grew) or compressed (it drained) by that much at the capture, not at the
    /// sender; the current cause gets the sender's span.
    mutating func noteSenderClock(_ value: UInt32, at time: Instant) {
        let change = view.clock.note(value, at: time.nanoseconds)
        guard change != 0, accountingFrom != nil else { return }
        limitTime.add(-change, to: currentCause)
        clockCorrections.add(-change, to: currentCause)
        if view.idle && currentCause == .appLimited { view.idleTime = Swift.max(0, view.idleTime &- change) }
        if currentCause == .cwndLimited { cwndSinceNewData = Swift.max(0, cwndSinceNewData &- change) }
    }

    /// The sender's clock did not tick once a millisecond (`SenderClock.isMillisecondClock`):
    /// its corrections are taken back.
    mutating func dropClockCorrectionsUnlessMillisecond() {
        guard !view.clock.isMillisecondClock else { return }
        limitTime.subtract(clockCorrections)
        clockCorrections = CauseTimes()
    }

    /// The data in flight after the sender's last new data was not waiting for ACKs: the
    /// application had nothing more queued (`SenderLimit.classify` in the engine says
    /// application when nothing is queued, whatever is in flight). `time` of that
    /// `cwnd_limited` time moves to `app_limited`.
    mutating func moveInFlightTimeToApp(_ time: Int64) {
        guard time > 0 else { return }
        limitTime.add(-time, to: .cwndLimited)
        limitTime.add(time, to: .appLimited)
    }

    /// The idle spell was not the application's: its time goes to `cause`, and it ends.
    mutating func moveIdleTime(to cause: LimitCause) {
        limitTime.add(-view.idleTime, to: .appLimited)
        limitTime.add(view.idleTime, to: cause)
        view.idleTime = 0
        view.idle = false
    }

    mutating func closeEpisode(frame: Int, time: Instant) {
        guard var e = openEpisode else { return }
        e.endFrame = frame
        e.end = time
        recordEpisode(e, duration: time - e.start)
        openEpisode = nil
    }

    mutating func recordEpisode(_ e: ZeroWindowEpisode, duration: Duration) {
        zeroWindowEpisodeCount += 1
        zeroWindowTotal += duration
        if duration > zeroWindowLongest { zeroWindowLongest = duration }
        if zeroWindowEpisodes.count < episodeListLimit { zeroWindowEpisodes.append(e) }
    }

    mutating func recordStall(_ s: Stall) {
        guard s.duration >= minimumStall else { return }
        if longestStalls.count < stallListLimit {
            longestStalls.append(s)
        } else if let i = longestStalls.indices.min(by: { longestStalls[$0].duration < longestStalls[$1].duration }),
                  longestStalls[i].duration < s.duration {
            longestStalls[i] = s
        } else {
            return
        }
        longestStalls.sort { $0.duration != $1.duration ? $0.duration > $1.duration : $0.startFrame < $1.startFrame }
    }
}

/// Zero-window episodes listed per direction (the count and durations cover all of them).
package let episodeListLimit = 100
/// Longest stalls kept per direction.
package let stallListLimit = 5
/// Gaps in new data shorter than this are not stalls (below timer and scheduling noise).
package let minimumStall: Duration = .milliseconds(1)
let minimumStallNanoseconds: Int64 = 1_000_000
/// `LimitCause.allCases`, built once (the synthesized property builds an array per call).
let limitCauses = LimitCause.allCases
