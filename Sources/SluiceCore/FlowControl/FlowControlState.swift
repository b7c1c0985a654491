/// A connection's flow-control state in one place: the receive window, the sender's
/// silly-window/Nagle policy, the persist timer, the pacer and the accounting, plus the two
/// wake-ups they add to the connection's `nextDeadline`. The engine keeps one per connection
/// (`Connection.flow`); Engine/Connection+FlowControl.swift is the glue.
struct FlowControlState {
    /// Created when the connection is synchronized (RCV.NXT known and the shift negotiated).
    var receiveWindow: ReceiveWindow?
    /// The unscaled window our SYN or SYN-ACK carried (RFC 7323 §2.2).
    var synWindow = 0
    var sendPolicy: SenderSillyWindowAvoidance
    var persist: PersistTimer
    var pacer: Pacer
    var accounting = FlowAccounting()
    /// Repeats a window update that reopened the window while no data follows it.
    var updateRepeat: WindowUpdateRepeat
    /// The pacer holds a data segment until then.
    var pacerWakeup: Instant?
    /// Silly-window avoidance holds a small segment until then (the override timeout).
    var overrideWakeup: Instant?
    /// The end of the last segment shorter than the MSS we sent (Nagle in Minshall's form
    /// waits while it is unacknowledged).
    var smallSegmentEnd: SequenceNumber?
    /// The last time the connection was driven (for stats snapshots, which take no time).
    var lastSeen = Instant.zero

    init(config: FlowControlConfig, maxPersistInterval: Duration) {
        sendPolicy = SenderSillyWindowAvoidance(nagle: config.nagle, overrideTimeout: config.sillyWindowOverrideTimeout)
        persist = PersistTimer(style: config.zeroWindowProbeStyle, maxInterval: maxPersistInterval, userTimeout: config.userTimeout)
        pacer = Pacer(mode: config.pacing, burstSegments: config.pacingBurstSegments)
        updateRepeat = WindowUpdateRepeat(maxRepeats: config.windowUpdateRepeats)
    }

    /// The earliest of the flow-control wake-ups.
    var wakeup: Instant? {
        Connection.earlier(Connection.earlier(pacerWakeup, overrideWakeup), updateRepeat.deadline)
    }
}
