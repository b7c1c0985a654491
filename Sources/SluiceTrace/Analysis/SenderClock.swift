import SluiceCore

/// The sender's own clock, read from the TSval of its TCP timestamps (RFC 7323 §3.2: "the
/// current value of the timestamp clock of the TCP sending the option"), to see how late its
/// packets reach the capture point.
///
/// A capture taken downstream of a queue (at the receiver, behind a slow link) sees the
/// sender's packets one queueing delay after they were sent, and that delay changes: while the
/// queue grows the capture sees the sender's moments stretched, while it drains compressed, and
/// the sender reacts to a receiver report one round trip *plus the queue* after the capture saw
/// it. Per packet, `capture time − TSval` is the one-way delay plus a constant offset between the
/// clocks; its smallest value is the delay without a queue, so the excess is the queueing delay
/// behind which the capture sees the sender now.
///
/// The timestamp clock is taken to tick once a millisecond (Linux since 4.13, FreeBSD, macOS,
/// and Sluice: RFC 7323 §5.4 allows 1 ms to 1 s); the readings carry up to one tick of rounding,
/// so changes smaller than `queueDeadBand` are ignored. At the end of the connection the clock's
/// rate is checked against the capture's (`isMillisecondClock`): a clock of another rate is
/// not used (`ConnectionAnalysis.finish` takes its corrections back).
struct SenderClock: Sendable {
    /// The first TSval seen and its capture time: readings are unwrapped relative to it.
    private var firstValue: UInt32? = nil
    private var firstTime: Int64 = 0
    private var lastValue: Int64 = 0
    private var lastTime: Int64 = 0
    /// Smallest `capture time − TSval` seen (ns): the one-way delay without a queue.
    private var minimumOffset: Int64 = .max
    /// The last reading's excess over `minimumOffset` (ns), with its rounding: at least the
    /// queueing delay, at most one tick more.
    private(set) var reading: Int64 = 0
    /// The queueing delay in force (ns): `reading`, moved only by steps of `queueDeadBand` or more.
    private(set) var queueDelay: Int64 = 0

    /// Notes a TSval of the sender seen at `time` (ns); returns how much the queueing delay in
    /// force changed (ns; 0 when it stays).
    mutating func note(_ value: UInt32, at time: Int64) -> Int64 {
        guard let first = firstValue else {
            firstValue = value
            firstTime = time
            lastTime = time
            minimumOffset = 0
            return 0
        }
        let ticks = Int64(Int32(bitPattern: value &- first))
        lastValue = ticks
        lastTime = time
        let offset = (time &- firstTime) &- ticks &* timestampTickNanoseconds
        if offset < minimumOffset {
            // A shorter delay than any before: the earlier readings were that much too low.
            queueDelay &+= minimumOffset &- offset
            minimumOffset = offset
        }
        reading = offset &- minimumOffset
        let change = reading &- queueDelay
        guard change >= queueDeadBand || change <= -queueDeadBand else { return 0 }
        queueDelay = reading
        return change
    }

    /// The clock ticked at about 1 kHz over the connection (`clockCheckMinimum` or longer), or
    /// the connection was too short to tell.
    var isMillisecondClock: Bool {
        let span = lastTime &- firstTime
        guard firstValue != nil, span >= clockCheckMinimum else { return true }
        let rate = Double(lastValue &* timestampTickNanoseconds) / Double(span)
        return rate >= 0.6 && rate <= 1.6
    }
}

/// One tick of the timestamp clock assumed (1 ms).
let timestampTickNanoseconds: Int64 = 1_000_000
/// Changes of the queueing delay smaller than this are rounding (one tick is 1 ms) and ignored.
let queueDeadBand: Int64 = 2_000_000
/// The shortest span over which the clock's rate is checked.
let clockCheckMinimum: Int64 = 2_000_000_000
