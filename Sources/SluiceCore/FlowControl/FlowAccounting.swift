/// Why the sender is not sending at this moment: four mutually exclusive states, checked in
/// this priority order (the idea of Linux's `tcp_info` chrono stats, `TCP_CHRONO_*`).
public enum SenderLimit: Int, Hashable, Sendable, CaseIterable {
    /// Data waits and the peer's window (SND.WND) is what stops it (RFC 9293 §3.8.6).
    case receiveWindow
    /// Data waits and the congestion window stops it (RFC 5681).
    case congestionWindow
    /// Data waits and the pacer holds it back.
    case pacing
    /// Nothing to send: the application has not written more (or a small segment waits for
    /// Nagle, which is also the application's doing).
    case application

    /// Classifies the sender at one instant, in priority order: receiver window first, then
    /// congestion window, then pacing, else the application.
    /// - Parameters:
    ///   - queued: bytes written and not yet sent.
    ///   - peerUsable: what the peer's window still admits (`SendWindow.peerUsable`).
    ///   - congestionUsable: `cwnd − bytes in flight`, not below 0.
    ///   - mss: a segment's size: a window that admits less than `min(queued, mss)` limits.
    ///   - pacerReady: the pacer lets a segment go now.
    @inlinable public static func classify(queued: Int, peerUsable: Int, congestionUsable: Int, mss: Int, pacerReady: Bool) -> SenderLimit {
        guard queued > 0 else { return .application }
        let want = min(queued, max(1, mss))
        if peerUsable < want { return .receiveWindow }
        if congestionUsable < want { return .congestionWindow }
        if !pacerReady { return .pacing }
        return .application
    }
}

/// Flow-control counters and durations of one connection, readable by the embedder through
/// `ConnectionStats.flow`.
public struct FlowStats: Hashable, Sendable {
    /// Episodes in which the peer's window was zero (SND.WND = 0), and their total time.
    public var zeroWindowEpisodes: Int = 0
    public var zeroWindowTime: Duration = .zero
    /// Episodes in which we advertised a zero window, and their total time.
    public var zeroWindowAdvertisedEpisodes: Int = 0
    public var zeroWindowAdvertisedTime: Duration = .zero
    /// Zero-window probes sent, and answered (an ACK after a probe).
    public var probesSent: Int = 0
    public var probesAnswered: Int = 0
    /// Window updates sent at once because a read opened the window (not behind the delayed-ACK
    /// timer).
    public var windowUpdatesSent: Int = 0
    /// Window updates sent again because no data followed one that reopened the window
    /// (`WindowUpdateRepeat`).
    public var windowUpdatesRepeated: Int = 0
    /// Times the advertised edge had to move left by less than one scaling unit
    /// (`ReceiveWindow.retractions`).
    public var windowRetractions: Int = 0
    /// Time the sender spent in each `SenderLimit` state.
    public var receiveWindowLimited: Duration = .zero
    public var congestionWindowLimited: Duration = .zero
    public var pacingLimited: Duration = .zero
    public var applicationLimited: Duration = .zero

    public init() {}

    /// The time spent in `limit`.
    public func time(in limit: SenderLimit) -> Duration {
        switch limit {
        case .receiveWindow: receiveWindowLimited
        case .congestionWindow: congestionWindowLimited
        case .pacing: pacingLimited
        case .application: applicationLimited
        }
    }
}

/// Keeps `FlowStats` up to date from what the engine observes, integrating durations over
/// virtual time. The engine calls `setSenderLimit(_:at:)` whenever it has finished sending what
/// it can (the state holds until the next call), `peerWindowChanged(isZero:at:)` on every
/// window it receives, and `advertisedWindow(isZero:at:)` on every window it sends.
public struct FlowAccounting: Hashable, Sendable {
    public private(set) var stats = FlowStats()

    private var limit: SenderLimit? = nil
    private var limitSince: Instant = .zero
    private var peerZeroSince: Instant? = nil
    private var advertisedZeroSince: Instant? = nil

    public init() {}

    /// The sender is in `newLimit` from `now` on (the previous state ends at `now`).
    public mutating func setSenderLimit(_ newLimit: SenderLimit, at now: Instant) {
        closeLimit(at: now)
        limit = newLimit
        limitSince = now
    }

    /// The connection stopped sending for good (closed): the current state ends at `now`.
    public mutating func stopSenderClock(at now: Instant) {
        closeLimit(at: now)
        limit = nil
        if let since = peerZeroSince {
            stats.zeroWindowTime += now - since
            peerZeroSince = nil
        }
        if let since = advertisedZeroSince {
            stats.zeroWindowAdvertisedTime += now - since
            advertisedZeroSince = nil
        }
    }

    /// The peer advertised a window; a zero one starts an episode, a non-zero one ends it.
    public mutating func peerWindowChanged(isZero: Bool, at now: Instant) {
        if isZero {
            if peerZeroSince == nil {
                peerZeroSince = now
                stats.zeroWindowEpisodes += 1
            }
        } else if let since = peerZeroSince {
            stats.zeroWindowTime += now - since
            peerZeroSince = nil
        }
    }

    /// We advertised a window; a zero one starts an episode, a non-zero one ends it.
    public mutating func advertisedWindow(isZero: Bool, at now: Instant) {
        if isZero {
            if advertisedZeroSince == nil {
                advertisedZeroSince = now
                stats.zeroWindowAdvertisedEpisodes += 1
            }
        } else if let since = advertisedZeroSince {
            stats.zeroWindowAdvertisedTime += now - since
            advertisedZeroSince = nil
        }
    }

    public mutating func probeSent() { stats.probesSent += 1 }
    public mutating func probeAnswered() { stats.probesAnswered += 1 }
    public mutating func windowUpdateSent() { stats.windowUpdatesSent += 1 }
    public mutating func windowUpdateRepeated() { stats.windowUpdatesRepeated += 1 }
    public mutating func setWindowRetractions(_ n: Int) { stats.windowRetractions = n }

    /// The stats as of `now`, with the open intervals counted up to `now`.
    public func snapshot(at now: Instant) -> FlowStats {
        var copy = self
        copy.stopSenderClock(at: now)
        return copy.stats
    }

    private mutating func closeLimit(at now: Instant) {
        guard let current = limit, limitSince < now else {
            limitSince = max(limitSince, now)
            return
        }
        let span = now - limitSince
        switch current {
        case .receiveWindow: stats.receiveWindowLimited += span
        case .congestionWindow: stats.congestionWindowLimited += span
        case .pacing: stats.pacingLimited += span
        case .application: stats.applicationLimited += span
        }
        limitSince = now
    }
}
