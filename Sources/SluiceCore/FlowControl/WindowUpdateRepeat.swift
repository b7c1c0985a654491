/// Repeats a window update that reopened a window the peer saw as closed, when no new data
/// follows it.
///
/// Window updates are not sent reliably (RFC 1122 §4.2.2.17, RFC 9293 §3.8.6.1): when the one
/// that reopens a zero window is lost, the sender learns of the open window only from its next
/// zero-window probe, a persist interval later (one RTO or more, backed off). The receiver knows
/// that it reopened the window and that data should follow within about one round trip, so when
/// nothing new arrives within `2 × SRTT` it sends the update again, up to `maxRepeats` times with
/// the interval doubling each time. Any new data (or the peer's FIN) ends it. No RFC asks for
/// this; it is the receiver-side counterpart of the persist timer, and cheap: at most
/// `maxRepeats` extra ACKs per reopened window.
///
/// A value type with no allocation: the connection keeps one (`FlowControlState.updateRepeat`).
public struct WindowUpdateRepeat: Hashable, Sendable {
    /// How many times an update is repeated (0: off).
    public var maxRepeats: Int
    /// When the next repetition is due; `nil` when none is pending.
    public private(set) var deadline: Instant? = nil
    /// Repetitions sent in total.
    public private(set) var repeatsSent: Int = 0
    private var interval: Duration = .zero
    private var remaining = 0

    public init(maxRepeats: Int = WindowUpdateRepeat.defaultMaxRepeats) {
        self.maxRepeats = max(0, maxRepeats)
    }

    /// A window update that reopened the window went out at `now`: the first repetition is due
    /// after `2 × smoothedRTT` (the RTO when there is no sample yet), at least `minimumInterval`.
    public mutating func reopened(at now: Instant, smoothedRTT: Duration?, rto: Duration) {
        guard maxRepeats > 0 else { return }
        interval = max(smoothedRTT.map { $0 * 2 } ?? rto, Self.minimumInterval)
        deadline = now + interval
        remaining = maxRepeats
    }

    /// New data (or a FIN) arrived, or the connection stopped receiving: no repetition is due.
    public mutating func cancel() {
        deadline = nil
        remaining = 0
    }

    /// Runs the timer at `now`. Returns true when the update is to be sent again now; the next
    /// one (if any remain) is due after twice the interval.
    public mutating func fire(at now: Instant) -> Bool {
        guard let due = deadline, due <= now, remaining > 0 else { return false }
        remaining -= 1
        repeatsSent += 1
        if remaining > 0 {
            interval = interval * 2
            deadline = now + interval
        } else {
            deadline = nil
        }
        return true
    }

    /// Two repetitions (after 2 and 6 SRTT) cover one or two more losses of the update without
    /// adding more than two ACKs per reopened window. Our choice.
    public static let defaultMaxRepeats = 2
    /// The shortest interval: 1 ms, the RTO's clock granularity (`RTTEstimator`), so a
    /// sub-millisecond SRTT does not repeat the update before the data can be on its way.
    public static let minimumInterval: Duration = .milliseconds(1)
}
